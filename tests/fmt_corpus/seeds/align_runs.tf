locals {
  a = 1
  bbbbbb = 2
  cc = 3

  dddddddddd = 4
  e = 5
  # comment breaks the run
  ffff = 6
  nested = {
    x = 1
    yyyyy = 2
  }
  after = 7
}
