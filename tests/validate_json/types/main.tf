variable "a" {
  type = lisst(string)
}
variable "b" {
  type = "strng"
}
