# One reproducible release of an application tier.
variable "app" {
  type = string
}

variable "tier" {
  type = string
}

variable "app_version" {
  type = string
}

variable "settings" {
  type    = map(string)
  default = {}
}

variable "out_dir" {
  type = string
}

# A new build suffix exactly when the version changes.
resource "random_id" "build" {
  byte_length = 4
  keepers = {
    version = var.app_version
  }
}

resource "terraform_data" "release" {
  input = {
    app      = var.app
    tier     = var.tier
    version  = var.app_version
    settings = sha256(jsonencode(var.settings))
    build    = random_id.build.hex
  }
}

module "env" {
  source = "../env-file"
  path   = "${var.out_dir}/${var.tier}.env"
  env = merge(var.settings, {
    APP        = var.app
    TIER       = var.tier
    RELEASE_ID = "${var.app}-${var.app_version}-${random_id.build.hex}"
  })
}

output "release_id" {
  value = "${var.app}-${var.app_version}-${random_id.build.hex}"
}

output "env_file" {
  value = module.env.path
}
