foo "bar" {}
variable "a" {
  bogus = 1
}
output "o" {
  value = 1
  extra = 2
}
