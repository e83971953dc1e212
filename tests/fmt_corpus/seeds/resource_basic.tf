resource "aws_instance" "web" {
ami = "ami-123"
instance_type="t2.micro"
  tags = {
  Name = "web"
  Environment="prod"
  }
}
