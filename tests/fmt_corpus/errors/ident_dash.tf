x = y- 1
