# Optional object attributes (an experiment in Terraform 1.0.3: no defaults, null when
# absent).
terraform {
  experiments = [module_variable_optional_attrs]
}

variable "obj" {
  type = object({
    a = string
    b = optional(number)
    c = optional(list(string))
  })
  default = { a = "x" }
}

variable "objs" {
  type = list(object({
    name = string
    port = optional(number)
  }))
  default = [{ name = "a" }, { name = "b", port = 80 }]
}

output "obj" {
  value = var.obj
}

output "objs" {
  value = var.objs
}
