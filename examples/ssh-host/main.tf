# Configure a web server over SSH: write an nginx site, enable it, and reload nginx when
# the site changes. Point it at any Debian/Ubuntu VM with nginx installed:
#
#   terrane apply -var host=203.0.113.10 -var user=admin -var private_key_path=~/.ssh/id_ed25519
#
# The host key is trusted on first use and recorded in the state; later runs refuse a
# host whose key changed. Set `host_key` to pin it up front instead.

variable "host" {
  type        = string
  description = "Address of the VM."
}

variable "port" {
  type    = number
  default = 22
}

variable "user" {
  type    = string
  default = "root"
}

variable "private_key_path" {
  type        = string
  description = "SSH private key file (leave empty to use ssh-agent)."
  default     = ""
}

variable "host_key" {
  type        = string
  description = "The VM's public host key or SHA256 fingerprint, to pin it (optional)."
  default     = null
}

variable "nginx_dir" {
  type    = string
  default = "/etc/nginx"
}

variable "server_name" {
  type    = string
  default = "example.com"
}

variable "reload_command" {
  type    = string
  default = "nginx -t && systemctl reload nginx"
}

locals {
  connection = {
    host        = var.host
    port        = var.port
    user        = var.user
    private_key = var.private_key_path == "" ? null : file(pathexpand(var.private_key_path))
    host_key    = var.host_key
  }
  site = <<-EOT
    server {
        listen 80;
        server_name ${var.server_name};
        root /var/www/${var.server_name};

        location / {
            try_files $uri $uri/ =404;
        }
    }
  EOT
}

data "ssh_host" "web" {
  connection {
    host        = local.connection.host
    port        = local.connection.port
    user        = local.connection.user
    private_key = local.connection.private_key
    host_key    = local.connection.host_key
  }
}

resource "ssh_file" "site" {
  path    = "${var.nginx_dir}/sites-available/${var.server_name}.conf"
  content = local.site
  mode    = "0644"

  connection {
    host        = local.connection.host
    port        = local.connection.port
    user        = local.connection.user
    private_key = local.connection.private_key
    host_key    = local.connection.host_key
  }
}

resource "ssh_exec" "enable_and_reload" {
  commands = [
    "mkdir -p ${var.nginx_dir}/sites-enabled",
    "ln -sf ${ssh_file.site.path} ${var.nginx_dir}/sites-enabled/${var.server_name}.conf",
    var.reload_command,
  ]
  # Reload whenever terrane writes the site file (a config change or a drift correction).
  triggers = {
    site = ssh_file.site.revision
  }
  # A site that is no longer enabled is seen at the next plan and enabled again.
  check = "test -L ${var.nginx_dir}/sites-enabled/${var.server_name}.conf"
  destroy_commands = [
    "rm -f ${var.nginx_dir}/sites-enabled/${var.server_name}.conf",
    var.reload_command,
  ]

  connection {
    host        = local.connection.host
    port        = local.connection.port
    user        = local.connection.user
    private_key = local.connection.private_key
    host_key    = local.connection.host_key
  }
}

output "os" {
  value = "${data.ssh_host.web.os_id} ${data.ssh_host.web.os_version} (${data.ssh_host.web.hostname})"
}

output "host_key_fingerprint" {
  value = ssh_file.site.host_key_fingerprint
}

output "reload_output" {
  value = ssh_exec.enable_and_reload.stdout
}
