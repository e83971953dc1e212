#!/usr/bin/env bash
# Records Terraform 1.0.3's `validate -json` for every configuration under
# tests/validate_json/ (as terraform.json next to its main.tf); tests/validate_json.rs
# compares terrane's diagnostics with them. Configurations whose resources need a provider
# Terraform would download are recorded too: Terraform's answer there is "Could not load
# plugin", which the test knows not to compare.
# Usage: TERRANE_TERRAFORM=/path/to/terraform bash scripts/validate-json-record.sh
set -euo pipefail
cd "$(dirname "$0")/.."
: "${TERRANE_TERRAFORM:?source scripts/setup/10-terraform.sh first}"
export CHECKPOINT_DISABLE=1
for dir in tests/validate_json/*/; do
  tmp="$(mktemp -d)"
  cp "$dir"/*.tf "$tmp"/
  (cd "$tmp" && "$TERRANE_TERRAFORM" validate -json -no-color > out.json) || true
  cp "$tmp/out.json" "$dir/terraform.json"
  rm -rf "$tmp"
done
