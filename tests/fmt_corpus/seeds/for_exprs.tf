locals {
  a = [for x in var.list: upper(x)]
  b = [for i,x in var.list: "${i}=${x}" if x!=""]
  c = {for k,v in var.map: k=>v}
  d = {for k,v in var.map: v=>k...}
  e = [for x in [1,2,3]: x*2]
  f = [ for x in var.l : x ]
  g = {
    for k, v in var.m :
    k => v
    if v != null
  }
}
