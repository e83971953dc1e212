locals {
  a = "${{a=1}}"
  b = "${ {a=1} }"
  c = "%{ if {a=1}.a == 1 }x%{ endif }"
  d = "${[1,2]}"
  e = "x${ "y" }z"
}
