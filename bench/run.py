#!/usr/bin/env python3
"""Run terrane and Terraform side by side on the generated benchmark inputs.

    python3 bench/run.py [--kinds locals,modules,bigfile] [--ns 100,1000,5000,10000]
                         [--commands validate,plan,apply,replan,fmt] [--runs 3]
                         [--budget SECONDS] [--timeout SECONDS] [--tools terrane,terraform]
                         [--no-build] [--workdir DIR] [--json FILE]

Builds terrane in release mode (`cargo build --release`), generates every (kind, N)
input with bench/gen.py into a copy per tool, and for each command runs the tools in
alternation after one warm-up each: A B (warm-up), then A B A B ... `--runs` times. Each
run is one child process; its wall time is measured around fork/exec/wait and its peak
RSS is the child's `ru_maxrss` from wait4. The report gives medians and the ratios
Terraform/terrane (so "60x" means terrane is 60 times faster, or uses 60 times less
memory), then terrane's cost per N between successive N (linearity).

Commands: `validate`; `plan` with no state; `apply -auto-approve` from an empty state
(the state is removed before each run, untimed); `replan`, a second plan with the state
the last apply left; `fmt -check`. A command that fails is reported as failed (with the
first line of its error), e.g. a `fmt` that is not implemented.

Terraform is `$TERRANE_TERRAFORM`, else /work/tools/terraform-1.0.3/terraform, else
`terraform` on PATH; when none is there it is reported as absent and terrane's figures
are still given. `terraform init` runs once per input directory (untimed; no providers,
so it stays offline).

`--budget S`: when a command's warm-up suggests that `--runs` runs would take more than S
seconds for that tool, fewer runs (at least one) are made, and the report says how many.
`--timeout S` kills a run after S seconds and reports it as a timeout.

The `aws` kind (terrane only) applies N resources against an AWS emulator (moto) given by
TERRANE_MOTO_ENDPOINT; see `--aws-*` options and docs/BENCHMARKS.md.
"""

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import gen  # noqa: E402  (bench/gen.py, next to this file)

ALL_COMMANDS = ["validate", "plan", "apply", "replan", "fmt"]
TERRANE_ONLY_KINDS = {"data", "aws"}


class Tool:
    def __init__(self, name, exe):
        self.name = name
        self.exe = exe
        self.extra = []  # flags added to plan/apply/destroy (e.g. -parallelism for aws)

    def argv(self, command):
        flags = {
            "validate": ["validate", "-no-color"],
            "plan": ["plan", "-input=false", "-no-color"],
            "replan": ["plan", "-input=false", "-no-color"],
            "apply": ["apply", "-auto-approve", "-input=false", "-no-color"],
            "fmt": ["fmt", "-check"],
        }[command]
        if command in ("plan", "replan", "apply"):
            flags = flags + self.extra
        return [self.exe] + flags

    def reset_state(self, d, env=None, destroy=False):
        """Remove every state file this tool keeps in d (untimed). With destroy, first
        destroy what the state holds (the aws kind: the emulator keeps the objects)."""
        if destroy and os.path.exists(os.path.join(d, "state", "terraform.tfstate")):
            subprocess.run([self.exe, "destroy", "-auto-approve", "-input=false", "-no-color"] + self.extra,
                           cwd=d, env=env, stdout=subprocess.DEVNULL, check=False)
        if self.name == "terrane":
            shutil.rmtree(os.path.join(d, "state"), ignore_errors=True)
        else:
            for f in ("terraform.tfstate", "terraform.tfstate.backup"):
                p = os.path.join(d, f)
                if os.path.exists(p):
                    os.remove(p)


def find_terraform():
    for cand in (os.environ.get("TERRANE_TERRAFORM"), "/work/tools/terraform-1.0.3/terraform"):
        if cand and os.access(cand, os.X_OK):
            return cand
    return shutil.which("terraform")


def run_once(argv, cwd, env, timeout):
    """Run argv in cwd; return dict(wall, rss_kb, code, err) with the child's peak RSS
    from wait4 and the wall time around spawn and reaping."""
    out_path = os.path.join(cwd, ".bench-out")
    err_path = os.path.join(cwd, ".bench-err")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                             stdout=out, stderr=err, start_new_session=True)
        timed_out = []

        def kill():
            timed_out.append(True)
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, kill) if timeout else None
        if timer:
            timer.start()
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        if timer:
            timer.cancel()
        p.returncode = os.waitstatus_to_exitcode(status)
    res = {"wall": wall, "rss_kb": ru.ru_maxrss, "code": p.returncode, "err": None}
    if timed_out:
        res["err"] = "timeout after %ss" % timeout
    elif p.returncode != 0:
        with open(err_path, errors="replace") as f:
            lines = [l.strip() for l in f if l.strip() and set(l.strip()) - set("│╷╵ ")]
        with open(out_path, errors="replace") as f:
            lines += [l.strip() for l in f if l.strip()]
        res["err"] = "exit %d: %s" % (p.returncode, (lines[:2] and " / ".join(lines[:2])) or "")
    return res


def prepare(tool, kind, n, root, env):
    d = os.path.join(root, tool.name)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "%s_%d" % (kind, n))
    shutil.rmtree(path, ignore_errors=True)
    gen.write_kind(d, kind, n)
    if tool.name == "terraform":
        r = subprocess.run([tool.exe, "init", "-input=false", "-no-color"], cwd=path, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            raise SystemExit("terraform init failed in %s:\n%s" % (path, r.stderr))
    return path


def measure(tools, dirs, command, args, env, log):
    """Warm-up then alternate; returns {tool: {"runs": [...], "error": str|None}}."""
    results = {t.name: {"runs": [], "error": None} for t in tools}
    active = list(tools)

    def one(tool):
        d = dirs[tool.name]
        if command in ("plan", "apply"):
            tool.reset_state(d, env, destroy=args.destroy_between)
        return run_once(tool.argv(command), d, env, args.timeout)

    planned = {}
    for t in active:  # warm-up, one each, in the same alternation
        r = one(t)
        if r["err"]:
            results[t.name]["error"] = r["err"]
        planned[t.name] = args.runs
        if args.budget and r["wall"] * args.runs > args.budget:
            planned[t.name] = max(1, int(args.budget // max(r["wall"], 1e-9)))
    active = [t for t in active if not results[t.name]["error"]]
    for i in range(max([planned[t.name] for t in active] or [0])):
        for t in active:
            if i >= planned[t.name] or results[t.name]["error"]:
                continue
            r = one(t)
            if r["err"]:
                results[t.name]["error"] = r["err"]
            else:
                results[t.name]["runs"].append(r)
    for t in tools:
        rs = results[t.name]["runs"]
        msg = results[t.name]["error"] or "median %.4fs, %d MB over %d runs" % (
            statistics.median(r["wall"] for r in rs), statistics.median(r["rss_kb"] for r in rs) // 1024, len(rs))
        log("    %-9s %-8s %s" % (t.name, command, msg))
    return results


def summarize(res):
    if res is None:
        return None
    rs = res["runs"]
    if res["error"] or not rs:
        return {"error": res["error"] or "no runs"}
    return {
        "wall_s": statistics.median(r["wall"] for r in rs),
        "rss_mb": statistics.median(r["rss_kb"] for r in rs) / 1024.0,
        "runs": len(rs),
        "walls": [round(r["wall"], 5) for r in rs],
    }


def fmt_time(s):
    if s is None:
        return "—"
    if "error" in s:
        e = s["error"]
        if e.startswith("timeout"):
            return "timeout"
        return "not implemented" if "not implemented" in e else "failed"
    w = s["wall_s"]
    return "%.0f ms" % (w * 1000) if w >= 0.1 else "%.1f ms" % (w * 1000)


def fmt_mem(s):
    if s is None or "error" in s:
        return "—"
    return "%.0f MB" % s["rss_mb"] if s["rss_mb"] >= 10 else "%.1f MB" % s["rss_mb"]


def ratio(a, b, key):
    if not a or not b or "error" in a or "error" in b:
        return "—"
    return "%.0fx" % (b[key] / a[key]) if b[key] / a[key] >= 10 else "%.1fx" % (b[key] / a[key])


def report(rows, tools_present):
    out = []
    out.append("| input | command | terrane time | Terraform time | speed-up | terrane peak RSS | Terraform peak RSS | memory ratio | runs (terrane/TF) |")
    out.append("|---|---|---:|---:|---:|---:|---:|---:|---|")
    for row in rows:
        a, b = row["terrane"], row.get("terraform")
        if b is not None:
            tf_cell = fmt_time(b)
        elif row["kind"] in TERRANE_ONLY_KINDS:
            tf_cell = "n/a"
        elif "terraform" not in tools_present:
            tf_cell = "absent"
        else:
            tf_cell = "not run"
        runs = "%s/%s" % (a.get("runs", "-") if a else "-", b.get("runs", "-") if b else "-")
        out.append("| %s_%d | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            row["kind"], row["n"], row["command"], fmt_time(a), tf_cell, ratio(a, b, "wall_s"),
            fmt_mem(a), fmt_mem(b), ratio(a, b, "rss_mb"), runs))
    notes = sorted({"%s %s_%d %s: %s" % (t, r["kind"], r["n"], r["command"], r[t]["error"])
                    for r in rows for t in ("terrane", "terraform") if r.get(t) and "error" in r[t]})
    if notes:
        out.append("")
        out.append("Failures:")
        out += ["- " + n for n in notes]
    # Linearity: terrane's time per N unit between successive N of the same kind/command.
    out.append("")
    out.append("terrane, growth with N: time per 1,000 units of N (median wall / N × 1000), and the "
               "ratio of each step's time/N to the previous step's (1.0 = linear):")
    out.append("")
    out.append("| input | command | " + " | ".join(["N=%d" % n for n in sorted({r['n'] for r in rows})]) + " |")
    ns = sorted({r["n"] for r in rows})
    out.append("|---|---|" + "---:|" * len(ns))
    groups = {}
    for r in rows:
        groups.setdefault((r["kind"], r["command"]), {})[r["n"]] = r["terrane"]
    for (kind, command), byn in groups.items():
        cells, prev = [], None
        for n in ns:
            s = byn.get(n)
            if not s or "error" in s:
                cells.append("—")
                prev = None
                continue
            per = s["wall_s"] / n * 1000 * 1000  # ms per 1,000 units of N
            step = " (×%.2f)" % (per / prev) if prev else ""
            cells.append("%.2f ms%s" % (per, step))
            prev = per
        out.append("| %s | %s | %s |" % (kind, command, " | ".join(cells)))
    return "\n".join(out)


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            mem = "%.0f GB" % (int(f.readline().split()[1]) / 1024 / 1024)
    except OSError:
        pass
    return "%s, %d cores, %s RAM, %s %s, load %s" % (
        cpu, os.cpu_count() or 0, mem, platform.system(), platform.release(),
        " ".join("%.2f" % x for x in os.getloadavg()))


AWS_PROBE = r"""
import statistics, sys, time, boto3
ec2 = boto3.client("ec2", endpoint_url=sys.argv[1], region_name="us-east-1")
vpc = ec2.create_vpc(CidrBlock="10.43.0.0/16")["Vpc"]["VpcId"]
times = []
for i in range(int(sys.argv[2])):
    t0 = time.perf_counter()
    ec2.create_security_group(GroupName="latency-probe-%d" % i, Description="probe", VpcId=vpc)
    times.append(time.perf_counter() - t0)
for g in ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["SecurityGroups"]:
    if g["GroupName"] != "default":
        ec2.delete_security_group(GroupId=g["GroupId"])
ec2.delete_vpc(VpcId=vpc)
print(statistics.median(times))
"""


def aws_latency(endpoint, samples=50):
    """Median seconds of one CreateSecurityGroup round trip against the emulator, timed
    with boto3 from moto's own virtualenv, one call at a time: the emulator's latency in
    the floor N x latency / parallelism. None when it cannot be measured."""
    server = os.environ.get("TERRANE_MOTO_SERVER")
    py = os.path.join(os.path.dirname(server), "python") if server else None
    if not py or not os.access(py, os.X_OK):
        return None
    r = subprocess.run([py, "-c", AWS_PROBE, endpoint, str(samples)], capture_output=True, text=True)
    if r.returncode != 0:
        print("latency probe failed: %s" % (r.stderr.strip().splitlines() or [""])[-1], file=sys.stderr)
        return None
    return float(r.stdout.strip())


def main():
    ap = argparse.ArgumentParser(description="terrane vs Terraform benchmarks")
    ap.add_argument("--kinds", default="locals,modules,bigfile,data")
    ap.add_argument("--ns", default="100,1000,5000,10000")
    ap.add_argument("--commands", default=",".join(ALL_COMMANDS))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--budget", type=float, default=0, help="seconds per tool and command; 0 = no limit")
    ap.add_argument("--timeout", type=float, default=0, help="seconds per run; 0 = none")
    ap.add_argument("--tools", default="terrane,terraform")
    ap.add_argument("--tf-ns", help="the N at which Terraform runs too (default: every N)")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--terrane", default=os.path.join(REPO, "target", "release", "terrane"))
    ap.add_argument("--workdir", default=os.path.join(REPO, "target", "bench"))
    ap.add_argument("--json", help="write the raw results here")
    ap.add_argument("--aws-parallelism", type=int, default=10)
    ap.add_argument("--report", nargs="+", metavar="JSON",
                    help="print the report of earlier --json files (rows merged in order) and stop")
    args = ap.parse_args()
    if args.report:
        rows, present = [], set()
        for path in args.report:
            with open(path) as f:
                data = json.load(f)
            rows += data["rows"]
            present |= set(data["tools"])
        print(report(rows, present))
        return
    log = lambda m: print(m, file=sys.stderr, flush=True)

    if not args.no_build and "terrane" in args.tools.split(","):
        log("== cargo build --release")
        subprocess.run(["cargo", "build", "--release", "--bin", "terrane"], cwd=REPO, check=True)
    env = dict(os.environ, CHECKPOINT_DISABLE="1", TF_IN_AUTOMATION="1", NO_COLOR="1")
    tools = []
    for name in args.tools.split(","):
        if name == "terrane":
            if not os.access(args.terrane, os.X_OK):
                raise SystemExit("no terrane binary at %s" % args.terrane)
            tools.append(Tool("terrane", os.path.abspath(args.terrane)))
        elif name == "terraform":
            exe = find_terraform()
            if exe:
                tools.append(Tool("terraform", exe))
            else:
                log("Terraform: absent (set TERRANE_TERRAFORM); terrane's figures only")
        else:
            raise SystemExit("unknown tool %r" % name)
    present = [t.name for t in tools]
    commands = args.commands.split(",")
    for c in commands:
        if c not in ALL_COMMANDS:
            raise SystemExit("unknown command %r (known: %s)" % (c, ", ".join(ALL_COMMANDS)))
    ns = [int(x) for x in args.ns.split(",")]
    tf_ns = [int(x) for x in args.tf_ns.split(",")] if args.tf_ns else None
    log("== machine: " + machine())
    rows = []
    aws_floor = {}
    for kind in args.kinds.split(","):
        for n in ns:
            these = [t for t in tools if t.name == "terrane" or
                     (kind not in TERRANE_ONLY_KINDS and (not tf_ns or n in tf_ns))]
            dirs = {t.name: prepare(t, kind, n, args.workdir, env) for t in these}
            log("== %s_%d" % (kind, n))
            kind_env = dict(env)
            args.destroy_between = kind == "aws"
            if kind == "aws":
                ep = os.environ.get("TERRANE_MOTO_ENDPOINT")
                if not ep:
                    log("   skipped: TERRANE_MOTO_ENDPOINT is not set (start moto: scripts/setup/20-moto.sh)")
                    continue
                kind_env["AWS_ENDPOINT_URL"] = ep
                for t in these:
                    t.extra = ["-parallelism=%d" % args.aws_parallelism]
                lat = aws_latency(ep)
                if lat is not None:
                    floor = n * lat / args.aws_parallelism
                    aws_floor[n] = (lat, floor)
                    log("   emulator latency %.1f ms; floor for %d resources at parallelism %d: %.2f s"
                        % (lat * 1000, n, args.aws_parallelism, floor))
            for command in commands:
                if kind == "aws" and command == "fmt":
                    continue
                res = measure(these, dirs, command, args, kind_env, log)
                rows.append({"kind": kind, "n": n, "command": command,
                             "terrane": summarize(res.get("terrane")),
                             "terraform": summarize(res.get("terraform"))})
            for t in these:
                t.reset_state(dirs[t.name], kind_env, destroy=args.destroy_between)
                t.extra = []
    text = report(rows, present)
    for n, (lat, floor) in sorted(aws_floor.items()):
        applied = next((r["terrane"] for r in rows if r["kind"] == "aws" and r["n"] == n
                        and r["command"] == "apply"), None)
        got = "%.2f s, %.2fx the floor" % (applied["wall_s"], applied["wall_s"] / floor) \
            if applied and "error" not in applied else "apply failed"
        text += ("\n\naws_%d: emulator latency %.1f ms (median CreateSecurityGroup), floor N x latency"
                 " / parallelism = %d x %.1f ms / %d = %.2f s; terrane apply: %s"
                 % (n, lat * 1000, n, lat * 1000, args.aws_parallelism, floor, got))
    print("Machine: " + machine())
    print("Tools: " + ", ".join("%s (%s)" % (t.name, t.exe) for t in tools))
    print()
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine(), "tools": {t.name: t.exe for t in tools}, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
