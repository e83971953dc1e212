a=1
bb  =  2
ccc    = "${x}"
dddd = <<EOT
text
EOT
eeeee = [
1,
]
f = 1 # c
