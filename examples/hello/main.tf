# A runnable example that needs no cloud account: terraform_data, random and local_file.
variable "greeting" {
  type    = string
  default = "hello"
}

locals {
  name = "${var.greeting}-terrane"
}

resource "random_id" "suffix" {
  byte_length = 4
}

resource "terraform_data" "app" {
  input = {
    name   = local.name
    suffix = random_id.suffix.hex
  }
}

resource "local_file" "motd" {
  filename = "${path.module}/out/motd.txt"
  content  = "Welcome to ${terraform_data.app.output.name} (${random_id.suffix.hex})\n"
}

output "motd_path" {
  value = local_file.motd.filename
}
