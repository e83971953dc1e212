locals {
  a = [for x in [1,2]: x]
  b = [for x in[1,2]: x]
  c = [for k, v in {a=1}: v]
  in = 1
  d = in
  e = [for x in (y): x]
}
