locals {
  a = [[
    1, 2
  ], [3]]
  b = merge({
    a = 1
  }, {
    b = 2
  })
  c = f(
    1,
    2,
  )
  d = [
    for x in y : {
      a = x
    }
  ]
  e = (
    1 + 2
  )
}
