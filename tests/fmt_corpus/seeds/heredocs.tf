locals {
  a = <<EOT
hello
  world ${var.x}
   indented   text   
EOT
  b = <<-EOT
    stripped
      more
    EOT
  c = <<EOF
${ upper( "x" ) } and %{ if true }yes%{ endif }
EOF
  d   = "after"
}
output "o" {
value = <<-JSON
  {"a": 1}
  JSON
}
