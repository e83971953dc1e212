locals {
  a = 1 # one
  bbb = 2 # two
  cc = "three" # three
  d = [1, 2] # four

  e = 1 # after blank
  ffff = 2 # aligned with e
}
resource "x" "y" {
  a = 1 # c
  block { # opening
  } # closing
  b = 2 # d
}
