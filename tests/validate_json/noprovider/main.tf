resource "aws_foo" "a" {
  x = 1
  y = 2
}
resource "aws_foo" "b" {
  z = aws_foo.a.x
}
output "o" {
  value = aws_foo.a.y
}
