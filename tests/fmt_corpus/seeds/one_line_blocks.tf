resource "a" "b" {}
resource "a" "c" { }
resource "a" "d" { x = 1 }
resource "a" "e" {x=1}
locals { a = "${b}" }
variable "x" { type = string }
variable "y" {type="string"}
