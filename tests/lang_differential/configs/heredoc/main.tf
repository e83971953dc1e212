# Heredocs (plain and indented), template directives with strip markers.
locals {
  name  = "world"
  items = ["a", "b", "c"]
}

output "plain" {
  value = <<EOT
hello ${local.name}
  indented
EOT
}

output "stripped" {
  value = <<-EOT
    hello ${local.name}
      more
    EOT
}

output "directives" {
  value = <<-EOT
    %{ for i, x in local.items ~}
    ${i}=${x}
    %{ endfor ~}
    %{ if local.name == "world" ~}
    yes
    %{~ else ~}
    no
    %{~ endif }
    done
    EOT
}

output "inline" {
  value = "a %{ if true }b%{ else }c%{ endif } d %{~ for x in [1, 2] ~} ${x} %{~ endfor ~} e"
}

output "nested" {
  value = "%{ for k, v in { x = [1, 2], y = [] } }${k}:%{ for n in v }${n}%{ endfor };%{ endfor }"
}
