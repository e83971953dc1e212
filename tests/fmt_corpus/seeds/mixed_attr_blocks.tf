resource "a" "b" {
  a = 1
  block {
    b = 2
  }
  cc = 3
  ddd = 4
  block2 {}
  e = 5
}
