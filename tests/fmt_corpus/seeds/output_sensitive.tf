output "secret" {
  value = "${var.secret}"
  sensitive = true
  description = "A secret"
  depends_on = [
    random_password.p
  ]
}
