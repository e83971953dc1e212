# A small web topology on AWS: a VPC with a public and a private subnet, an internet
# gateway, route tables, security groups with their rules, one instance per tier
# (lb, app, cache, db-primary, db-replica, deploy) and a versioned media bucket with a
# policy and a public access block. See README.md for running it against real AWS or
# against the moto emulator.

variable "region" {
  type    = string
  default = "us-east-1"
}

variable "name" {
  type    = string
  default = "terrane-demo"
}

variable "instance_type" {
  type    = string
  default = "t3.micro"
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project = var.name
    }
  }
}

data "aws_availability_zones" "available" {
  state = "available"
}

data "aws_ami" "base" {
  owners      = ["099720109477"]
  most_recent = true

  filter {
    name   = "name"
    values = ["ubuntu/images/hvm-ssd/ubuntu-*-amd64-server-*"]
  }
}

locals {
  az = data.aws_availability_zones.available.names[0]
  tiers = {
    lb         = { subnet = "public", groups = ["web"] }
    app        = { subnet = "private", groups = ["internal"] }
    cache      = { subnet = "private", groups = ["internal"] }
    db-primary = { subnet = "private", groups = ["internal", "db"] }
    db-replica = { subnet = "private", groups = ["internal", "db"] }
    deploy     = { subnet = "public", groups = ["web", "internal"] }
  }
  groups = {
    web      = aws_security_group.web.id
    internal = aws_security_group.internal.id
    db       = aws_security_group.db.id
  }
}

resource "aws_vpc" "main" {
  cidr_block           = "10.20.0.0/16"
  enable_dns_hostnames = true
  tags                 = { Name = var.name }
}

resource "aws_subnet" "public" {
  vpc_id                  = aws_vpc.main.id
  cidr_block              = "10.20.1.0/24"
  availability_zone       = local.az
  map_public_ip_on_launch = true
  tags                    = { Name = "${var.name}-public" }
}

resource "aws_subnet" "private" {
  vpc_id            = aws_vpc.main.id
  cidr_block        = "10.20.2.0/24"
  availability_zone = local.az
  tags              = { Name = "${var.name}-private" }
}

resource "aws_internet_gateway" "gw" {
  vpc_id = aws_vpc.main.id
  tags   = { Name = var.name }
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.main.id

  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.gw.id
  }

  tags = { Name = "${var.name}-public" }
}

resource "aws_route_table" "private" {
  vpc_id = aws_vpc.main.id
  tags   = { Name = "${var.name}-private" }
}

resource "aws_route_table_association" "public" {
  subnet_id      = aws_subnet.public.id
  route_table_id = aws_route_table.public.id
}

resource "aws_route_table_association" "private" {
  subnet_id      = aws_subnet.private.id
  route_table_id = aws_route_table.private.id
}

resource "aws_security_group" "web" {
  name        = "${var.name}-web"
  description = "HTTP(S) from anywhere"
  vpc_id      = aws_vpc.main.id
}

resource "aws_security_group" "internal" {
  name        = "${var.name}-internal"
  description = "Traffic inside the VPC"
  vpc_id      = aws_vpc.main.id
}

resource "aws_security_group" "db" {
  name        = "${var.name}-db"
  description = "PostgreSQL from the app tier"
  vpc_id      = aws_vpc.main.id
}

resource "aws_vpc_security_group_ingress_rule" "web_https" {
  security_group_id = aws_security_group.web.id
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
  description       = "HTTPS"
}

resource "aws_vpc_security_group_ingress_rule" "web_http" {
  security_group_id = aws_security_group.web.id
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = "0.0.0.0/0"
  description       = "HTTP"
}

resource "aws_vpc_security_group_ingress_rule" "internal_all" {
  security_group_id = aws_security_group.internal.id
  ip_protocol       = "-1"
  cidr_ipv4         = aws_vpc.main.cidr_block
}

resource "aws_vpc_security_group_ingress_rule" "db_postgres" {
  security_group_id            = aws_security_group.db.id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.internal.id
}

resource "aws_vpc_security_group_egress_rule" "all" {
  for_each = toset(["web", "internal", "db"])

  security_group_id = local.groups[each.key]
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_instance" "tier" {
  for_each = local.tiers

  ami           = data.aws_ami.base.id
  instance_type = var.instance_type
  subnet_id     = each.value.subnet == "public" ? aws_subnet.public.id : aws_subnet.private.id
  vpc_security_group_ids = [for g in each.value.groups : local.groups[g]]
  user_data = "#!/bin/sh\necho ${each.key} > /etc/terrane-tier\n"

  tags = { Name = "${var.name}-${each.key}", Tier = each.key }
}

resource "aws_s3_bucket" "media" {
  bucket        = "${var.name}-media"
  force_destroy = true
}

resource "aws_s3_bucket_versioning" "media" {
  bucket = aws_s3_bucket.media.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_public_access_block" "media" {
  bucket                  = aws_s3_bucket.media.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_policy" "media" {
  bucket = aws_s3_bucket.media.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [aws_s3_bucket.media.arn, "${aws_s3_bucket.media.arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })
}

output "vpc_id" {
  value = aws_vpc.main.id
}

output "lb_public_ip" {
  value = aws_instance.tier["lb"].public_ip
}

output "private_ips" {
  value = { for k, i in aws_instance.tier : k => i.private_ip }
}

output "media_bucket" {
  value = aws_s3_bucket.media.bucket
}
