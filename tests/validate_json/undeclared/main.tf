output "a" {
  value = var.nope
}
output "b" {
  value = local.missing
}
output "c" {
  value = module.absent.x
}
