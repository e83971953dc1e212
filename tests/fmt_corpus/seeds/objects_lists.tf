locals {
  empty_list = []
  empty_map = {}
  spaced_empty = [ ]
  spaced_map = { }
  list = [1,2,3]
  list2 = [ 1 , 2 , 3 ]
  multi = [
  "a",
        "b",
  "c"
  ]
  obj = {a=1,b=2}
  obj2 = { a = 1, b = 2 }
  obj3 = {
  a = 1
  bb = 2
  "quoted key" = 3
  (var.k) = 4
  }
  obj_colon = { a: 1, b: 2 }
  nested = [{a=[1,{b=2}]}]
  tuple_of_obj = [
    {
      name = "x"
      value = 1
    },
    {
      name = "yy"
      value = 22
    },
  ]
}
