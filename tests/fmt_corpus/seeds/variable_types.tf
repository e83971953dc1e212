variable "a" {
  type = "string"
}
variable "b" {
  type = "list"
}
variable "c" {
  type = "map"
}
variable "d" {
  type = list
}
variable "e" {
  type = map
}
variable "f" {
  type = set
}
variable "g" {
  type = list(string)
}
variable "h" {
  type = object({a=string, b=list(number)})
}
variable "i" {
  type = "number"
}
variable "j" {
  type = "${string}"
}
variable "k" {
  type = map(object({
    a = optional(string)
  }))
}
resource "x" "y" {
  type = "string"
}
module "m" {
  type = "list"
}
