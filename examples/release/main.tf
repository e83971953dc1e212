# Releases of every tier of the reference Django topology, composed from local modules;
# needs no cloud account. Change `app_version` and the release ids and env files change;
# change nothing and a second plan says "No changes.".
variable "app_version" {
  type    = string
  default = "1.4.2"
}

locals {
  common = {
    DJANGO_SETTINGS_MODULE = "site.settings.production"
    REDIS_URL              = "redis://cache.internal:6379/0"
  }
  tiers = {
    app    = { GUNICORN_WORKERS = "4" }
    deploy = { DEPLOY_BRANCH = "main" }
    worker = { CELERY_CONCURRENCY = "2" }
  }
}

module "release" {
  source   = "../../modules/app-release"
  for_each = local.tiers

  app         = "site"
  tier        = each.key
  app_version = var.app_version
  settings    = merge(local.common, each.value)
  out_dir     = "${path.module}/out"
}

output "release_ids" {
  value = { for tier, r in module.release : tier => r.release_id }
}
