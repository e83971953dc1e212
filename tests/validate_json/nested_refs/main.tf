variable "known" {
  type = string
}
output "k" {
  value = var.knwon
}
locals {
  a = upper(var.known)
  b = lower(1, 2, 3)
  c = local.a + local.zz
}
output "o" {
  value = data.thing.missing.id
}
