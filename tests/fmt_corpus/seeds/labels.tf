resource aws_instance web {}
resource "aws_instance"   "web2"   {}
resource /* c1 */ "a" /* c2 */ "b" /* c3 */ {}
resource "a" "b\u0041" {}
resource "a" "" {}
resource "a" "with space" {}
resource "a" "esc\"q" {}
resource "a" "50%" {}
resource "a" "a$b" {}
provider aws {}
