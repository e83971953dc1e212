locals {
  a = a+b
  b = a  +  b
  c = a*b/c%d
  d = a<b
  e = a>b
  f = a<=b
  g = a>=b
  h = a==b
  i = a!=b
  j = a&&b
  k = a||b
  l = a ? b : c
  m = (a)+(b)
  n = f(a)+g(b)
  o = [a]+[b]
}
