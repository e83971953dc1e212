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
    grows = [r for r in rows if r["kind"] != "aws"]  # one N only: no growth to show
    ns = sorted({r["n"] for r in grows})
    out.append("| input | command | " + " | ".join(["N=%d" % n for n in ns]) + " | largest N / N=1000 |")
    out.append("|---|---|" + "---:|" * (len(ns) + 1))
    groups = {}
    for r in grows:
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
        # The whole range from 1,000 up: less sensitive to one noisy median than the steps.
        ok = {n: s for n, s in byn.items() if s and "error" not in s}
        top = max(ok) if ok else None
        if 1000 in ok and top and top > 1000:
            cells.append("×%.2f" % ((ok[top]["wall_s"] / top) / (ok[1000]["wall_s"] / 1000)))
        else:
            cells.append("—")
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
import json, statistics, sys, threading, time, boto3
from botocore.config import Config
endpoint, samples, n, par = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def client():
    return boto3.client("ec2", endpoint_url=endpoint, region_name="us-east-1",
                        config=Config(max_pool_connections=par * 2, retries={"max_attempts": 1}))
ec2 = client()
vpc = ec2.create_vpc(CidrBlock="10.43.0.0/16")["Vpc"]["VpcId"]
everything = ["0.0.0.0/0"]
def one_group(c, name, times=None):
    # The calls terrane's aws_security_group create makes, in its order.
    steps = [
        ("CreateSecurityGroup", lambda: c.create_security_group(
            GroupName=name, Description="probe", VpcId=vpc,
            TagSpecifications=[{"ResourceType": "security-group", "Tags": [{"Key": "terrane:token", "Value": name}]}])["GroupId"]),
    ]
    t0 = time.perf_counter(); gid = steps[0][1](); t1 = time.perf_counter()
    c.revoke_security_group_egress(GroupId=gid, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    t2 = time.perf_counter()
    c.describe_security_groups(GroupIds=[gid])
    t3 = time.perf_counter()
    if times is not None:
        times["CreateSecurityGroup"].append(t1 - t0)
        times["RevokeSecurityGroupEgress"].append(t2 - t1)
        times["DescribeSecurityGroups"].append(t3 - t2)
    return gid
times = {"CreateSecurityGroup": [], "RevokeSecurityGroupEgress": [], "DescribeSecurityGroups": []}
for i in range(samples):
    one_group(ec2, "latency-probe-%d" % i, times)
# The emulator's own throughput: the same n groups made by `par` threads (the client
# side's best case; the floor on a machine where the emulator does not scale).
names = ["throughput-probe-%d" % i for i in range(n)]
lock = threading.Lock()
def worker():
    c = client()
    while True:
        with lock:
            if not names:
                return
            name = names.pop()
        one_group(c, name)
t0 = time.perf_counter()
ts = [threading.Thread(target=worker) for _ in range(par)]
for t in ts: t.start()
for t in ts: t.join()
wall = time.perf_counter() - t0
for g in ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["SecurityGroups"]:
    if g["GroupName"] != "default":
        ec2.delete_security_group(GroupId=g["GroupId"])
ec2.delete_vpc(VpcId=vpc)
print(json.dumps({"median": {k: statistics.median(v) for k, v in times.items()}, "parallel_wall": wall}))
"""


def aws_probe(endpoint, n, parallelism, samples=50):
    """The emulator's latency, timed with boto3 from moto's own virtualenv: the median of
    each call terrane makes to create one security group (CreateSecurityGroup,
    RevokeSecurityGroupEgress, DescribeSecurityGroups), one call at a time, `samples`
    groups; and the wall time of making n such groups from `parallelism` threads (what the
    emulator itself sustains). None when it cannot be measured."""
    server = os.environ.get("TERRANE_MOTO_SERVER")
    py = os.path.join(os.path.dirname(server), "python") if server else None
    if not py or not os.access(py, os.X_OK):
        return None
    r = subprocess.run([py, "-c", AWS_PROBE, endpoint, str(samples), str(n), str(parallelism)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        print("latency probe failed: %s" % (r.stderr.strip().splitlines() or [""])[-1], file=sys.stderr)
        return None
    return json.loads(r.stdout.strip())


def moto_api(endpoint, what):
    import urllib.request
    req = urllib.request.Request("%s/moto-api/recorder/%s" % (endpoint, what),
                                 method="GET" if what == "download-recording" else "POST")
    with urllib.request.urlopen(req, timeout=30) as f:
        return f.read().decode()


def recorded_calls(tool, d, env, endpoint):
    """Runs one apply (untimed) with moto's request recorder on and returns {Action: count}
    of the EC2 calls it made (then destroys what it made). None if the recorder is off."""
    import urllib.parse
    try:
        moto_api(endpoint, "reset-recording")
        moto_api(endpoint, "start-recording")
    except OSError:
        return None
    tool.reset_state(d, env, destroy=True)
    run_once(tool.argv("apply"), d, env, 0)
    moto_api(endpoint, "stop-recording")
    counts = {}
    for line in moto_api(endpoint, "download-recording").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        body = rec.get("body") or ""
        if rec.get("body_encoded"):
            import base64
            body = base64.b64decode(body).decode(errors="replace")
        q = urllib.parse.parse_qs(body) if "Action=" in body else urllib.parse.parse_qs(
            urllib.parse.urlparse(rec.get("url", "")).query)
        action = (q.get("Action") or ["%s %s" % (rec.get("method"), urllib.parse.urlparse(rec.get("url", "")).path)])[0]
        counts[action] = counts.get(action, 0) + 1
    moto_api(endpoint, "reset-recording")
    tool.reset_state(d, env, destroy=True)
    return counts


def aws_report(n, f, rows):
    applied = next((r["terrane"] for r in rows if r["kind"] == "aws" and r["n"] == n
                    and r["command"] == "apply"), None)
    ok = applied and "error" not in applied
    lat = ", ".join("%s %.1f ms" % (k, v * 1000) for k, v in f["latency_s"].items())
    added = f.get("added_latency_ms") or 0
    out = ("aws_%d%s: calls of one apply: %s.\nEmulator latency per security group (median, one call"
           " at a time): %s = %.1f ms. Floor N x latency / parallelism = %d x %.1f ms / %d = %.2f s."
           "\nThe emulator itself making the same %d groups from %d boto3 threads: %.2f s."
           % (n, " with %g ms added to every call" % added if added else "",
              ", ".join("%s %d" % kv for kv in sorted((f["calls"] or {}).items())) or "not recorded",
              lat, f["per_resource_s"] * 1000, n, f["per_resource_s"] * 1000, f["parallelism"],
              f["floor_s"], n, f["parallelism"], f["emulator_parallel_s"]))
    if f.get("chain_s"):
        out += ("\nThe dependency chain (the VPC's calls, then one group's) takes at least %.2f s"
                " on its own." % f["chain_s"])
    if ok:
        out += ("\nterrane apply: %.2f s = %.2fx the floor, %.2fx the emulator's own parallel time."
                % (applied["wall_s"], applied["wall_s"] / f["floor_s"], applied["wall_s"] / f["emulator_parallel_s"]))
    else:
        out += "\nterrane apply failed: %s" % (applied or {}).get("error")
    return out


_MOTO = []


def aws_endpoint(workdir, log):
    """A private moto server (TERRANE_MOTO_SERVER) started for the benchmark, so that
    other users of a shared emulator neither load it nor see its recordings; else the
    shared TERRANE_MOTO_ENDPOINT."""
    if _MOTO:
        return _MOTO[0][0]
    server = os.environ.get("TERRANE_MOTO_SERVER")
    if not server:
        return os.environ.get("TERRANE_MOTO_ENDPOINT")
    import socket
    import urllib.request
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    d = os.path.join(workdir, "moto")
    os.makedirs(d, exist_ok=True)
    env = dict(os.environ, MOTO_RECORDER_FILEPATH=os.path.join(d, "recording"))
    log_f = open(os.path.join(d, "server.log"), "wb")
    p = subprocess.Popen([server, "-H", "127.0.0.1", "-p", str(port)], cwd=d, env=env,
                         stdout=log_f, stderr=log_f, start_new_session=True)
    ep = "http://127.0.0.1:%d" % port
    for _ in range(150):
        try:
            urllib.request.urlopen(ep + "/moto-api/data.json", timeout=1)
            break
        except OSError:
            if p.poll() is not None:
                raise SystemExit("moto exited; see %s" % os.path.join(d, "server.log"))
            time.sleep(0.2)
    _MOTO.append((ep, p))
    log("   private moto server at %s (pid %d)" % (ep, p.pid))
    return ep


def latency_proxy(upstream, latency_ms, log):
    """bench/latency_proxy.py in front of `upstream`, holding each request latency_ms;
    returns its endpoint. Stopped with the private moto at the end of the run."""
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "latency_proxy.py"), upstream, str(latency_ms)],
                         stdout=subprocess.PIPE, text=True, start_new_session=True)
    line = p.stdout.readline().strip()
    if not line.startswith("listening on "):
        raise SystemExit("latency proxy did not start: %r" % line)
    ep = line[len("listening on "):]
    _MOTO.append((ep, p))
    log("   latency proxy at %s: every call held %g ms, then sent to %s" % (ep, latency_ms, upstream))
    return ep


def main():
    ap = argparse.ArgumentParser(description="terrane vs Terraform benchmarks")
    ap.add_argument("--kinds", default="locals,modules,bigfile,data")
    ap.add_argument("--ns", default="100,1000,5000,10000")
    ap.add_argument("--commands", default=",".join(ALL_COMMANDS))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--budget", type=float, default=0, help="seconds per tool and command; 0 = no limit")
    ap.add_argument("--timeout", type=float, default=0, help="seconds per run; 0 = none")
    ap.add_argument("--tools", default="terrane,terraform")
    ap.add_argument("--tf-ns", help="the N at which Terraform runs too, N or KIND:N, comma-separated (default: every N)")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--terrane", default=os.path.join(REPO, "target", "release", "terrane"))
    ap.add_argument("--workdir", default=os.path.join(REPO, "target", "bench"))
    ap.add_argument("--json", help="write the raw results here")
    ap.add_argument("--aws-parallelism", type=int, default=10)
    ap.add_argument("--aws-latency", type=float, default=0,
                    help="ms added to every emulator call by bench/latency_proxy.py (0 = moto alone)")
    ap.add_argument("--report", nargs="+", metavar="JSON",
                    help="print the report of earlier --json files (rows merged in order) and stop")
    args = ap.parse_args()
    if args.report:
        rows, present, aws = [], set(), {}
        for path in args.report:
            with open(path) as f:
                data = json.load(f)
            rows += data["rows"]
            present |= set(data["tools"])
            aws.update({int(n): v for n, v in data.get("aws", {}).items()})
        text = report(rows, present)
        for n, f in sorted(aws.items()):
            text += "\n\n" + aws_report(n, f, rows)
        print(text)
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
    # --tf-ns: entries N (every kind) or KIND:N (that kind only).
    tf_ns = [x if ":" in x else int(x) for x in args.tf_ns.split(",")] if args.tf_ns else None
    log("== machine: " + machine())
    rows = []
    aws_floor = {}
    for kind in args.kinds.split(","):
        for n in ns:
            these = [t for t in tools if t.name == "terrane" or
                     (kind not in TERRANE_ONLY_KINDS and (not tf_ns or n in tf_ns or "%s:%d" % (kind, n) in tf_ns))]
            dirs = {t.name: prepare(t, kind, n, args.workdir, env) for t in these}
            log("== %s_%d" % (kind, n))
            kind_env = dict(env)
            args.destroy_between = kind == "aws"
            if kind == "aws":
                ep = aws_endpoint(args.workdir, log)
                if not ep:
                    log("   skipped: neither TERRANE_MOTO_SERVER nor TERRANE_MOTO_ENDPOINT is set"
                        " (scripts/setup/20-moto.sh installs and starts moto)")
                    continue
                # moto's own API (the recorder) is asked directly; the AWS calls go
                # through the latency proxy when there is one.
                calls_ep = latency_proxy(ep, args.aws_latency, log) if args.aws_latency > 0 else ep
                kind_env["AWS_ENDPOINT_URL"] = calls_ep
                for t in these:
                    t.extra = ["-parallelism=%d" % args.aws_parallelism]
                calls = recorded_calls(these[0], dirs[these[0].name], kind_env, ep)
                if calls:
                    log("   calls of one apply: %s" % json.dumps(calls, sort_keys=True))
                probe = aws_probe(calls_ep, n, args.aws_parallelism)
                if probe is not None:
                    per = sum(probe["median"].values())
                    floor = n * per / args.aws_parallelism
                    # The floor ignores dependencies: the calls made before the first
                    # group can start (the VPC's), then one group's three, in a row.
                    sg = {"CreateSecurityGroup", "RevokeSecurityGroupEgress", "DescribeSecurityGroups"}
                    chain = (sum(c for a, c in (calls or {}).items() if a not in sg) + 3) * per / 3
                    aws_floor[n] = {"calls": calls, "latency_s": probe["median"], "per_resource_s": per,
                                    "floor_s": floor, "emulator_parallel_s": probe["parallel_wall"],
                                    "parallelism": args.aws_parallelism, "added_latency_ms": args.aws_latency,
                                    "chain_s": chain if calls else None}
                    log("   emulator latency per resource %.1f ms (%s); floor for %d resources at"
                        " parallelism %d: %.2f s; the emulator itself, %d threads: %.2f s"
                        % (per * 1000, ", ".join("%s %.1f ms" % (k, v * 1000) for k, v in probe["median"].items()),
                           n, args.aws_parallelism, floor, args.aws_parallelism, probe["parallel_wall"]))
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
    for n, f in sorted(aws_floor.items()):
        text += "\n\n" + aws_report(n, f, rows)
    print("Machine: " + machine())
    print("Tools: " + ", ".join("%s (%s)" % (t.name, t.exe) for t in tools))
    print()
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine(), "tools": {t.name: t.exe for t in tools}, "rows": rows,
                       "aws": {str(n): v for n, v in aws_floor.items()}}, f, indent=1)


if __name__ == "__main__":
    try:
        main()
    finally:
        for _, p in _MOTO:
            p.terminate()
            p.wait()
