#!/usr/bin/env bash
# The project's test command: installs what the tests need on a fresh machine, then runs
# the whole suite. Today the suite needs only the Rust toolchain; the AWS (moto), SSH
# (openssh-server) and Terraform-oracle steps are added here as those issues land.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked --all-targets 2>/dev/null || cargo build --all-targets
cargo test --no-fail-fast
