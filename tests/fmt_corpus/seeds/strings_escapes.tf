locals {
  a = "tab\there"
  b = "unicode \u00e9 \U0001F600"
  c = "quote \" and backslash \\"
  d = "dollar $ alone and % alone"
  e = "$$ and %% and $${x} and %%{y}"
  f = "trailing backslash \\"
}
