#!/usr/bin/env python3
"""Records what Terraform 1.0.3 outputs for each configuration in
tests/lang_differential/configs/*/ (language features that do not fit on one console
line: heredocs, template directives with strip markers, splats, optional attributes),
into configs/NAME/expected.json.

Usage: TERRANE_TERRAFORM=/path/to/terraform python3 scripts/oracle/record_configs.py

Each configuration is copied to a temporary directory and run with `terraform apply
-auto-approve` (no providers; the state file lives outside the copy), then
`terraform output -json`.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
CONFIGS = os.path.join(ROOT, "tests", "lang_differential", "configs")


def run(tf, args, cwd, env):
    p = subprocess.run([tf] + args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise RuntimeError(f"terraform {' '.join(args)} failed in {cwd}:\n{p.stdout}\n{p.stderr}")
    return p.stdout


def main():
    tf = os.environ.get("TERRANE_TERRAFORM")
    if not tf:
        sys.exit("TERRANE_TERRAFORM is not set: source scripts/setup/10-terraform.sh first")
    for name in sorted(os.listdir(CONFIGS)):
        src = os.path.join(CONFIGS, name)
        if not os.path.isdir(src):
            continue
        with tempfile.TemporaryDirectory(prefix="terrane-oracle-") as tmp:
            work = os.path.join(tmp, "w")
            shutil.copytree(src, work, ignore=shutil.ignore_patterns("expected.json"))
            env = dict(os.environ, CHECKPOINT_DISABLE="1", TF_IN_AUTOMATION="1",
                       HOME=tmp, TF_CLI_CONFIG_FILE=os.devnull,
                       TF_DATA_DIR=os.path.join(tmp, "data"))
            state = "-state=" + os.path.join(tmp, "terraform.tfstate")
            run(tf, ["apply", "-auto-approve", "-input=false", "-no-color", state], work, env)
            out = run(tf, ["output", "-json", state], work, env)
        with open(os.path.join(src, "expected.json"), "w", encoding="utf-8") as fh:
            json.dump(json.loads(out), fh, indent=2, ensure_ascii=False, sort_keys=True)
            fh.write("\n")
        print(f"recorded {name}")


main()
