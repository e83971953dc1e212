# OpenSSH's sshd for the SSH provisioner and ssh_* resource tests (issue 5). Debian's
# openssh-server is installed if /usr/sbin/sshd is missing, without starting the system
# service (a temporary policy-rc.d refuses it). Tests start private sshd instances on
# 127.0.0.1 with their own config, host keys and authorized_keys in a temp directory.
# Exports:
#   TERRANE_SSHD       the sshd binary
#   TERRANE_SSH_KEYGEN ssh-keygen (from openssh-client)
#   TERRANE_SSH_AGENT  ssh-agent
# Sourced by scripts/test.sh.
if [ ! -x /usr/sbin/sshd ]; then
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  policy=/usr/sbin/policy-rc.d
  policy_backup=""
  if [ -e "$policy" ]; then
    policy_backup="$(mktemp)"
    $sudo_cmd cp -p "$policy" "$policy_backup"
  fi
  printf '#!/bin/sh\nexit 101\n' | $sudo_cmd tee "$policy" >/dev/null
  $sudo_cmd chmod 0755 "$policy"
  sshd_install_rc=0
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -q openssh-server >&2 \
    || { $sudo_cmd apt-get update -q >&2 \
      && $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -q openssh-server >&2; } \
    || sshd_install_rc=$?
  if [ -n "$policy_backup" ]; then
    $sudo_cmd cp -p "$policy_backup" "$policy"
    rm -f "$policy_backup"
  else
    $sudo_cmd rm -f "$policy"
  fi
  [ "$sshd_install_rc" = 0 ] || { echo "setup: installing openssh-server failed" >&2; return 1; }
fi
# sshd refuses to start without its privilege separation directory.
[ -d /run/sshd ] || mkdir -p /run/sshd 2>/dev/null || sudo mkdir -p /run/sshd || true
export TERRANE_SSHD=/usr/sbin/sshd
export TERRANE_SSH_KEYGEN="$(command -v ssh-keygen)"
export TERRANE_SSH_AGENT="$(command -v ssh-agent)"
echo "sshd at $TERRANE_SSHD" >&2
