#!/usr/bin/env python3
"""Builds the `terrane fmt` corpus and records Terraform 1.0.3's output for it.

Inputs: hand-written seeds (tests/fmt_corpus/seeds/*.tf) and broken files
(tests/fmt_corpus/errors/*.tf). Each seed is also mangled in fixed, deterministic ways
(squashed or deepened indentation, tabs, CRLF, extra spaces, trailing whitespace, blank
lines, a byte order mark, comments at line ends, ...), so the corpus covers every syntax
form under odd spacing.

For every case NAME it writes tests/fmt_corpus/cases/NAME.in (the input) and either
NAME.out (exactly what `terraform fmt` wrote into the file) or NAME.err (Terraform refused
the input; the file holds Terraform's error summary lines). tests/fmt_corpus.rs checks
terrane against these files, so `cargo test` needs no Terraform.

Usage: TERRANE_TERRAFORM=/path/to/terraform-1.0.3 python3 scripts/fmt-corpus.py
(scripts/setup/10-terraform.sh installs the oracle and exports the variable).
"""
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
CORPUS = os.path.join(ROOT, "tests", "fmt_corpus")


def read(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8")


def lines_keep(s):
    return s.splitlines(keepends=True)


def squash(s):
    return "".join(l.lstrip(" \t") for l in lines_keep(s))


def deepen(s):
    return "".join("      " + l if l.strip() else l for l in lines_keep(s))


def tabs(s):
    out = []
    for l in lines_keep(s):
        n = len(l) - len(l.lstrip(" "))
        out.append("\t" * (n // 2) + " " * (n % 2) + l[n:])
    return "".join(out)


def crlf(s):
    return s.replace("\r\n", "\n").replace("\n", "\r\n")


def trailing_ws(s):
    return "".join(l[:-1] + "   \n" if l.endswith("\n") else l + "  " for l in lines_keep(s))


def blank_lines(s):
    return s.replace("\n", "\n\n")


def no_final_newline(s):
    return s.rstrip("\n")


def bom(s):
    return "\ufeff" + s


def compact(s):
    return s.replace(" = ", "=").replace(", ", ",").replace(" : ", ":").replace(" ? ", "?")


def wide(s):
    return s.replace(" = ", "   =   ").replace(", ", " ,  ").replace("(", "( ").replace(")", " )")


def random_spaces(seed):
    def f(s):
        rnd = random.Random(seed)
        return re.sub(" ", lambda _m: " " * rnd.randint(1, 4), s)
    return f


def inner_padding(s):
    s = re.sub(r"([\[{(])(?=\S)", r"\1 ", s)
    return re.sub(r"(?<=\S)([\]})])", r" \1", s)


def line_comments(s):
    out = []
    for i, l in enumerate(lines_keep(s)):
        body = l.rstrip("\r\n")
        if body.rstrip().endswith(("{", "}", ",", "]", ")", '"')) or re.search(r"\d$", body.rstrip()):
            mark = "#" if i % 2 else "//"
            out.append(body + " " * (i % 3) + f" {mark} note {i}" + l[len(body):])
        else:
            out.append(l)
    return "".join(out)


def block_comments(s):
    return re.sub(r"^(\s*)(\w+) =", lambda m: f"{m.group(1)}/* c */ {m.group(2)} =", s, flags=re.M)


def indent_shuffle(s):
    out = []
    for i, l in enumerate(lines_keep(s)):
        out.append(" " * ((i * 7) % 5) + l.lstrip(" ") if l.strip() else l)
    return "".join(out)


MUTATIONS = [
    ("squash", squash),
    ("deepen", deepen),
    ("tabs", tabs),
    ("crlf", crlf),
    ("trailing_ws", trailing_ws),
    ("blank_lines", blank_lines),
    ("no_final_newline", no_final_newline),
    ("bom", bom),
    ("compact", compact),
    ("wide", wide),
    ("random_spaces_1", random_spaces(1)),
    ("random_spaces_2", random_spaces(2)),
    ("inner_padding", inner_padding),
    ("line_comments", line_comments),
    ("block_comments", block_comments),
    ("indent_shuffle", indent_shuffle),
    ("crlf_squash", lambda s: crlf(squash(s))),
    ("tabs_trailing", lambda s: trailing_ws(tabs(s))),
]


def cases():
    seeds = sorted(f for f in os.listdir(os.path.join(CORPUS, "seeds")) if f.endswith(".tf"))
    for f in seeds:
        src = read(os.path.join(CORPUS, "seeds", f))
        base = f[:-3]
        yield base, src
        for name, mut in MUTATIONS:
            yield f"{base}__{name}", mut(src)
    for f in sorted(os.listdir(os.path.join(CORPUS, "errors"))):
        if f.endswith(".tf"):
            yield "error__" + f[:-3], read(os.path.join(CORPUS, "errors", f))


def main():
    tf = os.environ.get("TERRANE_TERRAFORM")
    if not tf:
        sys.exit("TERRANE_TERRAFORM is not set: source scripts/setup/10-terraform.sh first")
    out_dir = os.path.join(CORPUS, "cases")
    shutil.rmtree(out_dir, ignore_errors=True)
    os.makedirs(out_dir)
    env = dict(os.environ, CHECKPOINT_DISABLE="1", NO_COLOR="1")
    n_out = n_err = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, src in cases():
            data = src.encode("utf-8")
            with open(os.path.join(out_dir, name + ".in"), "wb") as f:
                f.write(data)
            case = os.path.join(tmp, "case.tf")
            with open(case, "wb") as f:
                f.write(data)
            r = subprocess.run([tf, "fmt", "-no-color", "-list=false", case], cwd=tmp, env=env,
                               capture_output=True)
            if r.returncode == 0:
                with open(case, "rb") as f:
                    result = f.read()
                with open(os.path.join(out_dir, name + ".out"), "wb") as f:
                    f.write(result)
                n_out += 1
            else:
                summaries = [l.strip() for l in r.stderr.decode("utf-8", "replace").splitlines()
                             if l.strip().startswith("Error: ")]
                with open(os.path.join(out_dir, name + ".err"), "w") as f:
                    f.write("\n".join(summaries) + "\n")
                n_err += 1
    print(f"recorded {n_out} formatted cases and {n_err} rejected inputs in {out_dir}")


if __name__ == "__main__":
    main()
