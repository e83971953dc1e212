locals {
  arith = 1+2*3-4/5%6
  neg = -1
  neg2 = 5 - -3
  negs = [-1, - 2, (-3)]
  cmp = a==b&&c!=d||e<f&&g>=h
  not = !a
  notnot = ! ! b
  cond = a?b:c
  cond2 = a ? b : c ? d : e
  paren = (a+b)*c
  index = list[0]
  index2 = map["key"]
  attr = a.b.c
  splat = a[*].b
  splat2 = a.*.b
  legacy_index = a.0.b
  call = max(1,2,3)
  call2 = concat(a,b...)
  call3 = foo( )
  nested_call = lookup(merge(a,b),"k",null)
  num = 1.5e+10
  bools = [true,false,null]
}
