# Splat expressions over lists, tuples, sets, single objects and null.
locals {
  objs = [{ a = 1, b = "x" }, { a = 2, b = "y" }]
  obj  = { a = 1 }
}

output "tuple_splat" {
  value = local.objs[*].a
}

output "list_splat" {
  value = tolist(local.objs)[*].b
}

output "set_splat" {
  value = toset([{ a = 1 }, { a = 2 }])[*].a
}

output "single_splat" {
  value = local.obj[*].a
}

output "null_splat" {
  value = length(null[*])
}

output "legacy_splat" {
  value = local.objs.*.b
}

output "splat_index" {
  value = local.objs[*]["b"]
}
