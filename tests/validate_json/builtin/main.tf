resource "random_pet" "p" {
  lenght = 2
  nope {}
}
resource "terraform_data" "d" {
  wrong = 1
}
resource "local_file" "f" {
  filename = "x"
  contnt = "y"
}
