#!/usr/bin/env python3
"""Write the benchmark configurations: deterministic, provider-free `.tf` inputs.

    python3 bench/gen.py OUTDIR [N ...] [--kinds K1,K2,...]

Default N: 100 1000 5000 10000. Default kinds: locals,modules,bigfile. Each (kind, N)
becomes the directory OUTDIR/<kind>_<N>, and its path is printed.

Kinds shared with Terraform (the bytes are identical to the team's reference generator,
`bench/check_gen.sh` verifies that):

  locals      N locals in one block; l_0 is a literal, each l_i (i >= 1) reads its
              binary-tree parent l_((i-1)/2) through split/upper/join/substr inside a
              for-expression with a filter, and its predecessor l_(i-1) through length.
              Outputs: the last local, and a map of lengths of five sampled locals.
  modules     N instances of the child module ./mod numbered 1..N as a binary heap; the
              instances of heap level L are one `module "lvlL"` call with for_each, and
              instance i takes `module.lvl(L-1)[k(i/2)].id` as its parent input (an
              instance of a call may not read a sibling instance, hence one call per
              level). Outputs: a merged map of every id, the sum of every `len`, the
              instance count.
  bigfile     one file of N string variables with a default, a description and a
              validation block (length + regex), and two outputs. Already in canonical
              `fmt` layout, so `fmt -check` succeeds.
  localstree  ablation: `locals` without the chain reference to l_(i-1).
  modulesflat ablation: `modules` where every parent input is a literal.

Kinds for terrane only:

  data        N `terraform_data` instances with dependencies between them: heap-numbered
              like `modules`, one resource block per heap level with for_each, and each
              instance's input reads its parent instance's output. (Terraform 1.0.3 has
              no terraform_data, so this kind is terrane's alone.)
  aws         N AWS resources for the emulator: one VPC and N-1 security groups in it
              (count), applied with the provider's endpoint taken from AWS_ENDPOINT_URL.
"""

import argparse
import os
import re

DEFAULT_NS = [100, 1000, 5000, 10000]
DEFAULT_KINDS = "locals,modules,bigfile"


def block(header, body_lines):
    """A block as lines: `header {`, the body, `}`, then a blank line."""
    return [header + " {"] + body_lines + ["}", ""]


def aligned(pairs, indent):
    """`name = value` lines with the `=` signs aligned, as `fmt` lays out a run of
    single-line attributes."""
    width = max(len(name) for name, _ in pairs)
    return ["%s%s = %s" % (indent, name.ljust(width), value) for name, value in pairs]


def text(lines):
    return "\n".join(lines)


def heap_levels(n):
    """Instances 1..n grouped by binary-heap level: [[1], [2, 3], [4..7], ...]."""
    levels, first = [], 1
    while first <= n:
        levels.append(list(range(first, min(2 * first - 1, n) + 1)))
        first *= 2
    return levels


# locals_N ---------------------------------------------------------------------------


def local_expr(i, chain=True):
    if i == 0:
        return '"seed-alpha-beta-gamma"'
    parent = (i - 1) // 2
    words = '[for s in split("-", local.l_%d) : upper(s) if length(s) > 0]' % parent
    tail = "-${length(local.l_%d)}" % (i - 1) if chain else ""
    return '"${substr(join("-", %s), 0, 40)}-%d%s"' % (words, i, tail)


def gen_locals(n, chain=True):
    lines = block("locals", aligned([("l_%d" % i, local_expr(i, chain)) for i in range(n)], "  "))
    lines += block('output "last"', ["  value = local.l_%d" % (n - 1)])
    picks = sorted({0, n // 4, n // 2, 3 * n // 4, n - 1})
    sample = ", ".join('"l_%d" = local.l_%d' % (i, i) for i in picks)
    lines += block(
        'output "sample_lengths"',
        ["  value = { for k, v in { %s } : k => length(v) }" % sample],
    )
    return {"main.tf": text(lines)}


def gen_localstree(n):
    return gen_locals(n, chain=False)


# modules_N --------------------------------------------------------------------------

CHILD_MODULE = text(
    block('variable "parent"', ["  type = string"])
    + block('variable "key"', ["  type = string"])
    + block(
        "locals",
        aligned(
            [
                ("a", "upper(var.parent)"),
                ("b", '"${var.key}-${substr(local.a, 0, 16)}"'),
                ("c", '[for s in split("-", local.b) : lower(s) if length(s) > 0]'),
                ("d", 'join("_", local.c)'),
                ("e", "length(local.d)"),
            ],
            "  ",
        ),
    )
    + block('output "id"', ['  value = "${var.key}:${substr(local.d, 0, 24)}"'])
    + block('output "len"', ["  value = local.e"])
    + block(
        'output "tags"',
        ["  value = {"]
        + aligned([("key", "var.key"), ("parent", "substr(var.parent, 0, 16)")], "    ")
        + ["  }"],
    )
)


def gen_modules(n, parent_of=None):
    if parent_of is None:
        parent_of = lambda level: "module.lvl%d[each.value].id" % (level - 1)
    levels = heap_levels(n)
    lines = []
    for level, members in enumerate(levels):
        if level == 0:
            body = aligned([("source", '"./mod"'), ("for_each", 'toset(["k1"])')], "  ")
            parent = '"root-seed-value"'
        else:
            keys = [("k%d" % i, '"k%d"' % (i // 2)) for i in members]
            body = ['  source = "./mod"', "  for_each = {"] + aligned(keys, "    ") + ["  }"]
            parent = parent_of(level)
        body += [""] + aligned([("key", "each.key"), ("parent", parent)], "  ")
        lines += block('module "lvl%d"' % level, body)
    calls = range(len(levels))
    ids = ", ".join("{ for k, m in module.lvl%d : k => m.id }" % c for c in calls)
    lens = ", ".join("[for m in module.lvl%d : m.len]" % c for c in calls)
    counts = " + ".join("length(module.lvl%d)" % c for c in calls)
    lines += block('output "ids"', ["  value = merge(%s)" % ids])
    lines += block('output "total_len"', ["  value = sum(concat(%s))" % lens])
    lines += block('output "instances"', ["  value = %s" % counts])
    return {"main.tf": text(lines), "mod/main.tf": CHILD_MODULE}


def gen_modulesflat(n):
    return gen_modules(n, parent_of=lambda level: '"flat-${each.value}"')


# bigfile_N --------------------------------------------------------------------------


def gen_bigfile(n):
    lines = []
    for i in range(n):
        condition = 'length(var.v_%d) > 0 && can(regex("^value-[0-9]+$", var.v_%d))' % (i, i)
        message = '"The v_%d value must look like \\"value-<digits>\\"."' % i
        description = '"Synthetic variable number %d used to benchmark HCL parsing."' % i
        body = aligned(
            [("type", "string"), ("default", '"value-%d"' % i), ("description", description)],
            "  ",
        )
        body += [""] + block(
            "  validation",
            aligned([("condition", condition), ("error_message", message)], "    "),
        )[:-1]
        body[-1] = "  }"
        lines += block('variable "v_%d"' % i, body)
    lines += block('output "first"', ["  value = var.v_0"])
    lines += block('output "last"', ["  value = var.v_%d" % (n - 1)])
    return {"main.tf": text(lines)}


# data_N (terrane only) --------------------------------------------------------------


def gen_data(n):
    lines = []
    levels = heap_levels(n)
    for level, members in enumerate(levels):
        if level == 0:
            body = ['  for_each = toset(["k1"])', "", '  input = "root-seed"']
        else:
            keys = [("k%d" % i, '"k%d"' % (i // 2)) for i in members]
            body = ["  for_each = {"] + aligned(keys, "    ") + ["  }", ""]
            body.append(
                '  input = "${each.key}<-${substr(terraform_data.lvl%d[each.value].output, 0, 24)}"'
                % (level - 1)
            )
        lines += block('resource "terraform_data" "lvl%d"' % level, body)
    counts = " + ".join("length(terraform_data.lvl%d)" % c for c in range(len(levels)))
    lines += block('output "instances"', ["  value = %s" % counts])
    return {"main.tf": text(lines)}


# aws_N (terrane only, against the emulator) -----------------------------------------


def gen_aws(n):
    lines = block('provider "aws"', ['  region = "us-east-1"'])
    lines += block(
        'resource "aws_vpc" "bench"',
        aligned([("cidr_block", '"10.42.0.0/16"')], "  "),
    )
    lines += block(
        'resource "aws_security_group" "bench"',
        aligned(
            [
                ("count", "%d" % (n - 1)),
                ("name", '"terrane-bench-${count.index}"'),
                ("description", '"terrane benchmark group ${count.index}"'),
                ("vpc_id", "aws_vpc.bench.id"),
            ],
            "  ",
        ),
    )
    return {"main.tf": text(lines)}


KINDS = {
    "locals": gen_locals,
    "modules": gen_modules,
    "bigfile": gen_bigfile,
    "localstree": gen_localstree,
    "modulesflat": gen_modulesflat,
    "data": gen_data,
    "aws": gen_aws,
}


def write_kind(outdir, kind, n):
    """Write OUTDIR/<kind>_<n> and return its path."""
    if kind not in KINDS:
        raise SystemExit("unknown kind %r (known: %s)" % (kind, ", ".join(KINDS)))
    if n < 1:
        raise SystemExit("N must be at least 1, got %d" % n)
    root = os.path.join(outdir, "%s_%d" % (kind, n))
    for rel, content in KINDS[kind](n).items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(content)
    return root


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("ns", nargs="*", type=int, default=DEFAULT_NS)
    ap.add_argument("--kinds", default=DEFAULT_KINDS)
    args = ap.parse_intermixed_args()
    for kind in args.kinds.split(","):
        for n in args.ns:
            print(write_kind(args.outdir, kind, n))


if __name__ == "__main__":
    main()
