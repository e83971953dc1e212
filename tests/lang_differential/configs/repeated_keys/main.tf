# An object constructor may repeat a key: the last value wins.
locals {
  m = {
    a = 1
    b = 2
    a = 3
  }
  q = { "x" = "one", "x" = "two", y = "three" }
}

output "m" {
  value = local.m
}

output "q" {
  value = local.q
}

output "inline" {
  value = { name = "first", name = "second" }.name
}
