#!/usr/bin/env bash
# Check that bench/gen.py writes byte-identical inputs to a reference generator (the
# team's original gen.py), for every shared kind and several N, including the corner
# cases N = 1, 2, 3 and 7 (heap levels partly and exactly filled).
#   bash bench/check_gen.sh PATH/TO/REFERENCE/gen.py
set -euo pipefail
ref="${1:?usage: check_gen.sh REFERENCE_GEN_PY}"
ours="$(dirname "$0")/gen.py"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
kinds=locals,modules,bigfile,localstree,modulesflat
ns=(1 2 3 7 100 1000 5000 10000)
python3 "$ref" "$tmp/ref" "${ns[@]}" --kinds "$kinds" >/dev/null
python3 "$ours" "$tmp/ours" "${ns[@]}" --kinds "$kinds" >/dev/null
diff -r "$tmp/ref" "$tmp/ours"
echo "identical: kinds $kinds, N ${ns[*]} ($(find "$tmp/ours" -name '*.tf' | wc -l) files)"
