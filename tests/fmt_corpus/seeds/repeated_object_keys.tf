locals {
  m = { a = 1, a = 2 }
  n = {
    "k" = 1
    "k"  = 3
    b = 2
  }
  o = {
    x = { y = 1, y = 2 }
    x = "again"
  }
}
