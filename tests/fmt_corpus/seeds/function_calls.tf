locals {
  a = format("%s-%d",var.name,1)
  b = jsonencode({a=1,b=[1,2]})
  c = templatefile("${path.module}/t.tpl",{name="x"})
  d = try(var.a.b, null)
  e = can(regex("^a", var.s))
  f = coalesce(
    var.a,
    var.b,
  )
  g = length( var.list )
  h = element(var.l,0)
  i = join(",",[for s in var.l: upper(s)])
}
