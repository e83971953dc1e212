variable "l" {
  type    = list(object({ id = string }))
  default = []
}
variable "i" {
  type    = number
  default = 0
}
locals {
  m = { a = 1 }
}
output "empty_string" {
  value = upper("a", "")
}
output "template" {
  value = upper("a", "x${var.i}y")
}
output "interp_first" {
  value = upper("a", "${var.i}y")
}
output "wrap" {
  value = upper("a", "${var.i}")
}
output "negative" {
  value = upper("a", -1)
}
output "parens" {
  value = upper("a", (1 + 2))
}
output "binary" {
  value = upper("a", 1 + 2)
}
output "splat" {
  value = upper("a", var.l[*].id)
}
output "legacy_splat" {
  value = upper("a", var.l.*.id)
}
output "tuple" {
  value = upper("a", [1])
}
output "conditional" {
  value = upper("a", var.i > 0 ? 1 : 2)
}
output "heredoc" {
  value = upper("a", <<EOT
hello
EOT
  )
}
output "call" {
  value = upper("a", lower("b"))
}
output "for" {
  value = upper("a", { for k, v in local.m : k => v })
}
output "index" {
  value = upper("a", var.l[var.i])
}
output "index_attr" {
  value = upper("a", var.l[var.i].id)
}
output "traversal" {
  value = upper("a", local.m.a)
}
output "not_enough" {
  value = join(",")
}
output "bad_tuple" {
  value = upper([1, 2])
}
output "bad_for" {
  value = upper([for x in [1] : x])
}
output "bad_cond" {
  value = upper(true ? {} : {})
}
output "bad_parens" {
  value = upper(({}))
}
output "bad_not" {
  value = upper(!true)
}
output "call_failed" {
  value = element([], 0)
}
output "many_templates" {
  value = upper("a", "b", "c")
}
