resource "a" "b" {
  l1 {
    l2 {
      l3 {
        l4 {
          l5 {
            x = 1
            yy = { a = { b = { c = [1, [2, [3]]] } } }
          }
        }
      }
    }
  }
}
