locals {
  a = "${var.a}"
  b = "${ var.b }"
  c = "prefix-${var.c}"
  d = "${var.d}-suffix"
  e = "${var.e}${var.f}"
  f = "%{ if var.x }yes%{ else }no%{ endif }"
  g = "%{for s in var.list}${s}, %{endfor}"
  h = "${~ var.h ~}"
  i = "$${literal}"
  j = "%%{literal}"
  k = "${func("${inner}")}"
  l = "${ { a = 1 } }"
  m = "${
    var.m
  }"
  n = "a\"b\\c\n\t"
  o = ""
  p = "${var.p}" # comment
}
