"""kvstore-server vs redis-server under redis-benchmark, side by side.

Question: how close is the Python server to Redis, in throughput and in CPU per request?

Method. Both servers run at once, each pinned to core 0 (`taskset -c 0`), and redis-benchmark runs
pinned to core 1, so the load generator never steals the server's core. For every test and mode
the two servers are measured one after the other (interleaved, so drifts in machine load hit both)
and each figure is the median of `--rounds` runs. Modes: `-c 50` (many clients, no pipelining),
`-c 50 -P 16` (pipelining: the batching fast path), and `-c 1` (latency: p50 / p99 from
redis-benchmark's --csv). Server CPU per request comes from the scheduler's per-thread counters
(/proc/PID/task/*/schedstat, nanoseconds) read before and after each run. Tests whose commands kvstore does not have yet are reported as n/a.

    python bench/server.py [--quick] [--requests N] [--rounds R] [--tests set,get,...]
                           [--memory-keys 1000000] [--peer NAME PORT COMMAND ...]

`--peer` adds another server to the same interleaved runs, started with `taskset -c 0 COMMAND`
and reached on PORT: a pure-Python peer such as pydis (github.com/boramalper/pydis, which
listens on 7878), to check the issue's "ahead of the pure-Python peers" on this machine. A peer
that does not answer a test (pydis has no ZADD, closes the connection on commands it lacks) is
n/a for it: each test is first tried with 100 requests and a 10 s timeout.

Then each server, fresh, is loaded with the same 1M SETs of 100-byte values through
`redis-cli --pipe`, and its RSS growth per key is reported.

Prints a table and writes it as markdown to bench/results/server.md.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from ports import free_port, wait_port  # noqa: E402 (bench/ is the script's folder)

TESTS = ["ping_inline", "ping_mbulk", "set", "get", "incr", "lpush", "rpush", "lpop", "rpop",
         "sadd", "hset", "spop", "zadd", "zpopmin", "lrange_100", "mset"]
# Tests that are a command line rather than a redis-benchmark -t test (not run by default:
# `--tests eval_incr`): a one-line script around INCR measures the cost of running a script.
CUSTOM = {"eval_incr": ["EVAL", "return redis.call('incr', KEYS[1])", "1", "counter"],
          # (not a redis-benchmark test: what a stream producer sends, an auto-ID entry)
          "xadd": ["XADD", "mystream", "*", "myfield", "myvalue"]}
# redis-benchmark tests with other options (not run by default: `--tests set_4k`): (its arguments,
# its CSV row name). 4 KB values of its random letters: a pipelined read of long values.
VARIANTS = {"set_4k": (["-t", "set", "-d", "4096"], "SET"),
            "get_4k": (["-t", "get", "-d", "4096"], "GET")}
# Commands each test needs (to skip tests kvstore cannot run yet).
NEEDS = {"ping_inline": ["ping"], "ping_mbulk": ["ping"], "eval_incr": ["eval", "incr"],
         "set_4k": ["set"], "get_4k": ["get"],
         **{f"lrange_{n}": ["lpush", "lrange"] for n in (100, 300, 500, 600)}}
# The CSV row name of each test (lrange_300, _500 and _600: redis-benchmark's other list reads,
# not run by default).
ROW = {"ping_inline": "PING_INLINE", "ping_mbulk": "PING_MBULK", "mset": "MSET (10 keys)",
       **{f"lrange_{n}": f"LRANGE_{n} (first {n} elements)" for n in (100, 300, 500, 600)}}
MODES = [("c50", ["-c", "50"]), ("P16", ["-c", "50", "-P", "16"]), ("c1", ["-c", "1"])]
CLK_TCK = os.sysconf("SC_CLK_TCK")


def start_servers(workdir: str) -> dict[str, tuple[subprocess.Popen, int]]:
    servers = {}
    kv_port, redis_port = free_port(), free_port()
    common = ["--save", "", "--appendonly", "no", "--dir", workdir]
    kv = subprocess.Popen(["taskset", "-c", "0", sys.executable, "-m", "kvstore", "--port",
                           str(kv_port), "--loglevel", "warning", *common],
                          cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          env=dict(os.environ, PYTHONPATH=ROOT))
    rs = subprocess.Popen(["taskset", "-c", "0", "redis-server", "--port", str(redis_port),
                           *common], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    servers["kvstore"] = (kv, kv_port)
    servers["redis"] = (rs, redis_port)
    for _, port in servers.values():
        wait_port(port)
    return servers


# The scheduler's nanosecond CPU counters, where the kernel keeps them (CONFIG_SCHED_INFO).
SCHEDSTAT = os.path.exists("/proc/self/schedstat")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of every thread of `pid`. From /proc/PID/task/*/schedstat in
    nanoseconds: /proc/PID/stat's utime + stime count 10 ms ticks, 3% of a 0.3 s -P 16 run."""
    if not SCHEDSTAT:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14, 15)
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except FileNotFoundError:  # a thread that has just ended
            pass
    return total / 1e9


def run_one(port: int, pid: int, test: str, mode: list[str], n: int,
            timeout: float = 600) -> dict | None:
    what = CUSTOM[test] if test in CUSTOM else VARIANTS[test][0] if test in VARIANTS \
        else ["-t", test]
    cmd = ["taskset", "-c", "1", "redis-benchmark", "-p", str(port), "-n", str(n), "--csv", *mode,
           *what]
    before = cpu_seconds(pid)
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    cpu = cpu_seconds(pid) - before
    want = " ".join(CUSTOM[test]) if test in CUSTOM else VARIANTS[test][1] if test in VARIANTS \
        else ROW.get(test, test.upper())
    for row in csv.DictReader(io.StringIO(out.stdout)):
        if row.get("test") == want:
            return {"rps": float(row["rps"]), "p50": float(row["p50_latency_ms"]),
                    "p99": float(row["p99_latency_ms"]), "cpu_us": cpu / n * 1e6}
    return None


def start_peers(peers: list[list[str]], workdir: str) -> dict[str, tuple[subprocess.Popen, int]]:
    """Each peer's command, run in `workdir`: in the repository, `python -m kvstore` would import
    the checkout's kvstore ahead of a PYTHONPATH naming another tree (sys.path[0] is the working
    directory), and an A/B peer would run the code it is compared with."""
    started = {}
    for name, port, command in peers:
        proc = subprocess.Popen(["taskset", "-c", "0", *shlex.split(command)], cwd=workdir,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started[name] = (proc, int(port))
        wait_port(int(port), proc)
    return started


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def memory_per_key(keys: int) -> dict[str, float]:
    """RSS growth per key of each server, fresh, after `redis-cli --pipe` loads the same `keys`
    SETs of 100-byte values (distinct objects, as a real load has)."""
    per_key = {}
    with tempfile.TemporaryDirectory() as workdir:
        load = os.path.join(workdir, "load.resp")
        with open(load, "wb") as f:
            for i in range(keys):
                key, value = b"key:%07d" % i, b"%0100d" % i
                f.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$100\r\n%s\r\n" % (len(key), key, value))
        servers = start_servers(workdir)
        try:
            for name, (proc, port) in servers.items():
                before = rss_bytes(proc.pid)
                with open(load, "rb") as f:
                    subprocess.run(["redis-cli", "-p", str(port), "--pipe"], stdin=f,
                                   capture_output=True, check=True, timeout=600)
                size = subprocess.run(["redis-cli", "-p", str(port), "DBSIZE"],
                                      capture_output=True, text=True).stdout.strip()
                if size != str(keys):
                    raise RuntimeError(f"{name} holds {size} keys after loading {keys}")
                per_key[name] = (rss_bytes(proc.pid) - before) / keys
        finally:
            for proc, _ in servers.values():
                proc.terminate()
                proc.wait(10)
    return per_key


def available(tests: list[str]) -> set[str]:
    from kvstore.commands import COMMANDS

    return {t for t in tests if all(c.encode() in COMMANDS for c in NEEDS.get(t, [t]))}


def median_of(results: list[dict]) -> dict:
    return {k: statistics.median(r[k] for r in results) for k in results[0]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="-n 20000, 1 round")
    ap.add_argument("--requests", "-n", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--tests", default=",".join(TESTS))
    ap.add_argument("--memory-keys", type=int, default=1_000_000,
                    help="keys for the memory-per-key row (0: skip it)")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "server.md"))
    ap.add_argument("--peer", nargs=3, action="append", default=[],
                    metavar=("NAME", "PORT", "COMMAND"), help="another server to measure")
    args = ap.parse_args(argv)
    if args.quick:
        args.requests, args.rounds = 20_000, 1
    for tool in ("redis-server", "redis-benchmark", "taskset"):
        if shutil.which(tool) is None:
            print(f"{tool} is required", file=sys.stderr)
            return 1
    tests = args.tests.split(",")
    have = available(tests)
    results: dict[tuple[str, str, str], dict | None] = {}
    start = time.monotonic(), steal_seconds()
    with tempfile.TemporaryDirectory() as workdir:
        servers = start_servers(workdir)
        servers.update(start_peers(args.peer, workdir))
        peers = [name for name, _, _ in args.peer]
        try:
            for mode_name, mode in MODES:
                # Latency runs use one client: fewer requests keep them short. Pipelined runs go
                # ~8x faster: five times the requests keep them over a second.
                n = {"c1": max(args.requests // 5, 1000), "P16": args.requests * 5}.get(
                    mode_name, args.requests)
                for test in tests:
                    runs: dict[str, list] = {name: [] for name in servers}
                    able = {name for name in servers if name != "kvstore" or test in have}
                    for name in peers:
                        proc, port = servers[name]
                        if run_one(port, proc.pid, test, mode, 100, timeout=10) is None:
                            able.discard(name)
                    for _ in range(args.rounds):
                        for name, (proc, port) in servers.items():  # interleaved
                            if name in able:
                                r = run_one(port, proc.pid, test, mode, n)
                                if r is not None:
                                    runs[name].append(r)
                    for name in servers:
                        results[(mode_name, test, name)] = median_of(runs[name]) \
                            if runs[name] else None
                    print(f"  {mode_name:4} {test:12} done", file=sys.stderr)
        finally:
            for proc, _ in servers.values():
                proc.terminate()
                proc.wait(10)
    # This VM's host takes CPU time from it at some hours ("steal"): every server slows then,
    # and their ratios spread; the run says how much it lost.
    steal = (steal_seconds() - start[1], time.monotonic() - start[0])
    memory = memory_per_key(args.memory_keys) if args.memory_keys else None
    text = render(results, tests, args, memory, peers, steal)
    print(text)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(text)
    return 0


def steal_seconds() -> float:
    """CPU time the hypervisor took from this machine's CPUs so far (/proc/stat), in seconds."""
    with open("/proc/stat") as f:
        fields = f.readline().split()  # cpu user nice system idle iowait irq softirq steal
    return int(fields[8]) / os.sysconf("SC_CLK_TCK")


def render(results: dict, tests: list[str], args, memory: dict | None, peers: list[str],
           steal: tuple[float, float]) -> str:
    lines = [
        "# kvstore-server vs redis-server (redis-benchmark)",
        "",
        f"Each server pinned to core 0, redis-benchmark on core 1; -n {args.requests} "
        f"(-P 16: 5n, -c 1: n/5), median of {args.rounds} interleaved round(s). rps = requests/s; "
        "CPU = server CPU microseconds per request (user + system, from /proc); "
        "ratio = kvstore / redis" + (f"; vs {', '.join(peers)}: kvstore's CPU per request "
                                     "over the peer's (below 1: kvstore is ahead)"
                                     if peers else "") + ".",
        f"Host steal during the run: {steal[0]:.1f} s of CPU over {steal[1]:.0f} s.",
        "",
    ]
    for mode_name, title in (("c50", "-c 50"), ("P16", "-c 50 -P 16")):
        head = ("| test | kvstore rps | redis rps | rps ratio | kvstore CPU us/req | "
                "redis CPU us/req | CPU ratio |")
        rule = "|---|---:|---:|---:|---:|---:|---:|"
        for peer in peers:
            head += f" {peer} rps | {peer} CPU us/req | CPU vs {peer} |"
            rule += "---:|---:|---:|"
        lines += [f"## {title}", "", head, rule]
        for test in tests:
            k = results.get((mode_name, test, "kvstore"))
            r = results.get((mode_name, test, "redis"))
            if k is None or r is None:
                line = f"| {test} | n/a | {r['rps']:.0f} | | | | |" if r else \
                    f"| {test} | n/a | | | | | |"
            else:
                line = (f"| {test} | {k['rps']:.0f} | {r['rps']:.0f} | "
                        f"{k['rps'] / r['rps']:.0%} | {k['cpu_us']:.2f} | {r['cpu_us']:.2f} | "
                        f"{k['cpu_us'] / r['cpu_us']:.2f}x |")
            for peer in peers:
                q = results.get((mode_name, test, peer))
                if q is None:
                    line += " n/a | | |"
                else:
                    vs = f"{k['cpu_us'] / q['cpu_us']:.2f}x" if k else ""
                    line += f" {q['rps']:.0f} | {q['cpu_us']:.2f} | {vs} |"
            lines.append(line)
        lines.append("")
    lines += ["## -c 1 latency (ms)", "",
              "| test | kvstore p50 | redis p50 | kvstore p99 | redis p99 |",
              "|---|---:|---:|---:|---:|"]
    for test in tests:
        k = results.get(("c1", test, "kvstore"))
        r = results.get(("c1", test, "redis"))
        if k is None or r is None:
            lines.append(f"| {test} | n/a | | | |")
            continue
        lines.append(f"| {test} | {k['p50']:.3f} | {r['p50']:.3f} | {k['p99']:.3f} | "
                     f"{r['p99']:.3f} |")
    if memory:
        lines += ["", f"## Memory: {args.memory_keys:,} keys with 100-byte values "
                  "(RSS growth per key, loaded with redis-cli --pipe)", "",
                  "| kvstore | redis | ratio |", "|---:|---:|---:|",
                  f"| {memory['kvstore']:.0f} B | {memory['redis']:.0f} B | "
                  f"{memory['kvstore'] / memory['redis']:.2f}x |"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
