locals {
  a = (
    var.x
    ? "yes"
    : "no"
  )
  b = var.x ? {
    a = 1
  } : {
    b = 2
  }
}
