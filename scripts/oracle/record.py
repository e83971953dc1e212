#!/usr/bin/env python3
"""Records what Terraform 1.0.3's `console` prints for every expression in
tests/lang_differential/exprs/*.txt, into tests/lang_differential/expected.jsonl.

Usage: TERRANE_TERRAFORM=/path/to/terraform python3 scripts/oracle/record.py [--new]
(`--new` runs only expressions expected.jsonl has no answer for and keeps the rest.)
(`source scripts/setup/10-terraform.sh` installs the oracle and sets the variable.)

Piped `terraform console` prints only the last result and stops at the first error, so
each expression runs in its own process (about 70 ms each), several at a time. Each
process runs in a fresh copy of tests/lang_differential/fixtures with no configuration
and no state (`-state` points outside the copy, so the oracle writes nothing into it). A line of the output is one case:
  {"expr": ..., "file": ..., "out": <stdout exactly>}             the expression worked
  {"expr": ..., "file": ..., "error": <summary>, "detail": ...}     it failed (exit 1)
"""
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
CORPUS = os.path.join(ROOT, "tests", "lang_differential")


def cases():
    """(file, expression) for every unique expression, in file order."""
    seen = set()
    out = []
    exprs_dir = os.path.join(CORPUS, "exprs")
    for name in sorted(os.listdir(exprs_dir)):
        if not name.endswith(".txt"):
            continue
        with open(os.path.join(exprs_dir, name), encoding="utf-8") as fh:
            for line in fh:
                line = line.rstrip("\n")
                if not line.strip() or line.startswith("#") or line in seen:
                    continue
                seen.add(line)
                out.append((name, line))
    return out


def run_one(tf, expr):
    with tempfile.TemporaryDirectory(prefix="terrane-oracle-") as tmp:
        work = os.path.join(tmp, "w")
        shutil.copytree(os.path.join(CORPUS, "fixtures"), work)
        env = dict(os.environ, CHECKPOINT_DISABLE="1", TF_IN_AUTOMATION="1",
                   HOME=tmp, TF_CLI_CONFIG_FILE=os.devnull)
        # The state and its lock go outside the fixture copy, so that
        # `fileset(".", "**")` lists only the fixtures.
        state = os.path.join(tmp, "state", "terraform.tfstate")
        p = subprocess.run([tf, "console", "-no-color", "-state=" + state], input=expr + "\n", cwd=work,
                           env=env, capture_output=True, text=True, timeout=60)
    return parse(p.returncode, p.stdout, p.stderr)


def parse(rc, stdout, stderr):
    if rc == 0:
        return {"out": stdout}
    m = re.search(r"^Error: (.*)$", stderr, re.M)
    if not m:
        raise RuntimeError(f"exit {rc} without an error summary: {stderr!r}")
    # The detail is what follows the source excerpt (or the summary) up to the end.
    rest = stderr[m.end():]
    rest = re.sub(r"^\s*on <console-input> line \d+:\n  \(source code not available\)\n", "", rest)
    return {"error": m.group(1), "detail": rest.strip()}


def main():
    tf = os.environ.get("TERRANE_TERRAFORM")
    if not tf:
        sys.exit("TERRANE_TERRAFORM is not set: source scripts/setup/10-terraform.sh first")
    all_cases = cases()
    path = os.path.join(CORPUS, "expected.jsonl")
    known = {}
    if "--new" in sys.argv[1:] and os.path.exists(path):
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                known[rec["expr"]] = {k: v for k, v in rec.items() if k not in ("expr", "file")}
    todo = [c for c in all_cases if c[1] not in known]
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
        fresh = dict(zip((c[1] for c in todo), ex.map(lambda c: run_one(tf, c[1]), todo)))
    results = [known.get(expr) or fresh[expr] for _, expr in all_cases]
    with open(path, "w", encoding="utf-8") as fh:
        for (name, expr), res in zip(all_cases, results):
            fh.write(json.dumps(dict({"expr": expr, "file": name}, **res), ensure_ascii=False) + "\n")
    print(f"recorded {len(todo)} new of {len(all_cases)} cases into {os.path.relpath(path, ROOT)}")


if __name__ == "__main__":
    main()
