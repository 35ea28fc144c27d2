"""Where a request's server CPU goes: the kernel, the interpreter, uvloop, hiredis, libc.

Question: bench/server.py gives each server's CPU time per request; how much of it is Python we
could still cut, and how much is the kernel's work for the same syscalls, which a Python server
cannot avoid? The split tells which part of a gap to pydis or to redis-server is ours.

Method. Each server pinned to core 0 as in bench/server.py, redis-benchmark on core 1. During one
run per test and mode, `perf record -e cpu-clock` samples the server (a software clock: this VM
has no hardware counters); `perf report --sort dso` shares the run's CPU time per request (from
/proc, as bench/server.py measures it) among the libraries the samples fell in.

    python bench/cpu_split.py --tests set,get [--peer pydis 7878 "python /tmp/pydis/run.py"]

Needs `perf` (Debian: linux-perf) and permission to trace the servers (root, or
kernel.perf_event_paranoid <= 1).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server import MODES, cpu_seconds, run_one, start_peers, start_servers  # noqa: E402

# perf's object names -> the columns they count in
GROUPS = [("kernel", re.compile(r"\[kernel")), ("python", re.compile(r"libpython|python3")),
          ("uvloop", re.compile(r"^loop\.cpython")), ("hiredis", re.compile(r"^hiredis")),
          ("libc", re.compile(r"^libc\.|\[vdso\]"))]
COLUMNS = [name for name, _ in GROUPS] + ["other"]


def dso_shares(data: str) -> dict[str, float]:
    """Share of the samples in `data` per column of GROUPS."""
    out = subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort", "dso",
                          "--stdio"], capture_output=True, text=True, check=True).stdout
    shares = dict.fromkeys(COLUMNS, 0.0)
    for line in out.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+(\S+)", line)
        if m is None:
            continue
        share, dso = float(m.group(1)) / 100, m.group(2)
        column = next((name for name, pattern in GROUPS if pattern.search(dso)), "other")
        shares[column] += share
    return shares


def measure(pid: int, port: int, test: str, mode: list[str], n: int, tmp: str) -> dict | None:
    """One redis-benchmark run under perf: CPU us per request, split by column."""
    data = os.path.join(tmp, f"{pid}-{test}.data")
    perf = subprocess.Popen(["perf", "record", "-q", "-e", "cpu-clock", "-F", "2000", "-p",
                             str(pid), "-o", data], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        result = run_one(port, pid, test, mode, n)
    finally:
        perf.send_signal(signal.SIGINT)
        perf.wait(30)
    if result is None:
        return None
    shares = dso_shares(data)
    return {"cpu_us": result["cpu_us"], **{k: v * result["cpu_us"] for k, v in shares.items()}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tests", default="set,get")
    ap.add_argument("--requests", "-n", type=int, default=200_000)
    ap.add_argument("--peer", nargs=3, action="append", default=[],
                    metavar=("NAME", "PORT", "COMMAND"), help="another server to measure")
    args = ap.parse_args(argv)
    if shutil.which("perf") is None:
        ap.error("perf is not installed (Debian: apt-get install linux-perf)")
    tests = args.tests.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        servers = start_servers(tmp)
        servers.update(start_peers(args.peer, tmp))
        try:
            print("CPU microseconds per request, split by where the samples fell "
                  f"(perf cpu-clock; -n {args.requests}, -P 16: 5n).\n")
            print("| server | test | mode | CPU us/req | " + " | ".join(COLUMNS) + " |")
            print("|---|---|---|" + "---:|" * (len(COLUMNS) + 1))
            for test in tests:
                for mode_name, mode in MODES[:2]:
                    n = args.requests * (5 if mode_name == "P16" else 1)
                    for name, (proc, port) in servers.items():
                        cpu_seconds(proc.pid)  # (a server that died fails here, not in perf)
                        row = measure(proc.pid, port, test, mode, n, tmp)
                        if row is None:
                            print(f"| {name} | {test} | {mode_name} | failed |")
                            continue
                        cells = " | ".join(f"{row[c]:.2f}" for c in COLUMNS)
                        print(f"| {name} | {test} | {mode_name} | {row['cpu_us']:.2f} | {cells} |",
                              flush=True)
        finally:
            for proc, _ in servers.values():
                proc.terminate()
                proc.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
