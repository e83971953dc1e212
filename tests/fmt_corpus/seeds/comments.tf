# file header comment
// slash comment
/* block
   comment */
resource "a" "b" { # trailing on header
  x = 1 # one
  yyy = 2 // two
  zz = "three" /* three */
  /* leading */ w = 4
  # own line
  list = [
    1, # first
    2, // second
    3 /* third */,
  ]
}
variable "v" {
  default = 1     #   spaced   comment   
}
