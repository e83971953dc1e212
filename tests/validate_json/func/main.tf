output "a" {
  value = nofunc(1)
}
output "b" {
  value = upper("a", "b")
}
output "c" {
  value = upper({})
}
