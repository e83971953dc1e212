# A twelve-factor environment file: KEY=value lines, sorted by key, private to its owner.
variable "path" {
  type        = string
  description = "Where to write the file."
}

variable "env" {
  type        = map(string)
  description = "The variables to write."
}

resource "local_sensitive_file" "env" {
  filename        = var.path
  file_permission = "0600"
  content         = join("", [for k in sort(keys(var.env)) : "${k}=${var.env[k]}\n"])
}

output "path" {
  value = local_sensitive_file.env.filename
}

output "keys" {
  value = sort(keys(var.env))
}
