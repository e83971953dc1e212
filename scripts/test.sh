#!/usr/bin/env bash
# The project's test command (README, CI): installs and starts what the tests need on a
# fresh machine, then runs the whole suite.
#
# Each external dependency has one script in scripts/setup/ (moto's AWS emulator,
# OpenSSH's sshd, the Terraform 1.0.3 oracle, ...). They are sourced in name order; each
# installs its tool under $TERRANE_TEST_TOOLS if missing, may start a server, exports the
# variables the tests read to find it, and registers its cleanup with `on_exit`.
# Under CI (CI=true) a test whose server is missing fails; it never skips.
set -euo pipefail
cd "$(dirname "$0")/.."

export TERRANE_TEST_TOOLS="${TERRANE_TEST_TOOLS:-$PWD/.test-tools}"
mkdir -p "$TERRANE_TEST_TOOLS"

CLEANUPS=()
on_exit() { CLEANUPS+=("$1"); }
run_cleanups() {
  local i
  for ((i = ${#CLEANUPS[@]} - 1; i >= 0; i--)); do eval "${CLEANUPS[$i]}" || true; done
}
trap run_cleanups EXIT

for setup in scripts/setup/*.sh; do
  [ -e "$setup" ] || continue
  echo "== setup: $setup" >&2
  # shellcheck source=/dev/null
  source "$setup"
done

cargo build --locked --all-targets 2>/dev/null || cargo build --all-targets
cargo test --no-fail-fast "$@"
