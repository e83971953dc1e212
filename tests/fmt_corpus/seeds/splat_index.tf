locals {
  a = var.list[*].id
  b = var.list [0]
  c = var.map ["k"]
  d = f()[0]
  e = [1,2][0]
  f = {a=1}["a"]
  g = var.x.y[0].z
  h = var.list[*]
  i = aws_instance.web.*.id
  j = (a)[0]
  k = "str"[0]
}
