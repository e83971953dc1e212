resource "a" "b" {
x = {
y = {
z = [
1,
2
]
}
}
}
      locals {
            a = 1
                  }
