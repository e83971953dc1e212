terraform {
required_version = ">= 1.0"
  required_providers {
    random = {
      source = "hashicorp/random"
      version = "~> 3.0"
    }
  }
}
provider "aws" {
  region = "us-east-1"
}
module "m" {
  source = "./mod"
  count = 2
}
data "x" "y" {}
resource "a" "b" {
  lifecycle {
    create_before_destroy = true
    ignore_changes = [tags,]
  }
  dynamic "ingress" {
    for_each = var.rules
    content {
      from_port = ingress.value.from
      to_port = ingress.value.to
    }
  }
  depends_on = [a.b, c.d]
}
