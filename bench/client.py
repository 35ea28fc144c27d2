"""Client throughput: kvstore's clients (clients.Client / AsyncClient) vs redis-py with hiredis.

The question: is our client at least as fast as redis-py on the same server? Each row times the
same workload through both clients against the same server process: single commands (SET then
GET, one round trip each) and pipelines of 100 (50 SET + 50 GET, transaction=False), sync and
asyncio, one connection, sequential (no concurrency: a round trip is measured, not the server's
parallelism). Servers: `python -m kvstore` and `redis-server`, pinned to core 0; this process
(the clients) is pinned to core 1. Best of REPEATS runs of OPS operations.

    python bench/client.py              # prints the table, writes bench/results/client.md
    python bench/client.py --quick      # fewer operations
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import redis  # noqa: E402
import redis.asyncio  # noqa: E402

from clients import AsyncClient, Client  # noqa: E402
from kvstore.protocol import READER_IMPL  # noqa: E402
from ports import free_port, wait_port  # noqa: E402 (bench/ is the script's folder)

VALUE = b"x" * 32
NOTES = [
    "Notes:",
    "- Both clients use the same hiredis reader; the difference is per-call overhead: our",
    "  execute_command is a pool pop/push with one poll(0) staleness check, one pack_command,",
    "  one sendall and one recv; our asyncio connection is an asyncio.Protocol that parses in",
    "  data_received and wakes one future (redis-py's asyncio client goes through",
    "  StreamReader, locks and more awaits).",
    "- Absolute numbers depend on the machine's load (a shared 2-core VM here: other test",
    "  suites ran at the same time); compare the ratios of one run, not runs with each other.",
]
PIPE = 100


def start_server(kind: str, workdir: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    if kind == "kvstore":
        cmd = [sys.executable, "-m", "kvstore"]
    else:
        cmd = ["redis-server"]
    cmd = ["taskset", "-c", "0", *cmd, "--port", str(port), "--save", "", "--appendonly", "no",
           "--dir", workdir]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=dict(os.environ, PYTHONPATH=ROOT))
    try:
        wait_port(port, timeout=20)
    except RuntimeError:
        proc.kill()
        raise RuntimeError(f"{kind} did not start") from None
    return proc, port


# -- workloads: each returns the number of operations done -------------------------------------

def sync_single(c, ops: int) -> int:
    set_, get = c.set, c.get
    for i in range(ops // 2):
        set_("bench:k", VALUE)
        get("bench:k")
    return ops // 2 * 2


def sync_pipeline(c, ops: int) -> int:
    n = ops // PIPE
    keys = [f"bench:{i}" for i in range(PIPE // 2)]
    for _ in range(n):
        p = c.pipeline(transaction=False)
        for k in keys:
            p.set(k, VALUE)
        for k in keys:
            p.get(k)
        p.execute()
    return n * PIPE


async def async_single(c, ops: int) -> int:
    set_, get = c.set, c.get
    for i in range(ops // 2):
        await set_("bench:k", VALUE)
        await get("bench:k")
    return ops // 2 * 2


async def async_pipeline(c, ops: int) -> int:
    n = ops // PIPE
    keys = [f"bench:{i}" for i in range(PIPE // 2)]
    for _ in range(n):
        p = c.pipeline(transaction=False)
        for k in keys:
            p.set(k, VALUE)
        for k in keys:
            p.get(k)
        await p.execute()
    return n * PIPE


def best_rate(run, repeats: int) -> float:
    best = 0.0
    for _ in range(repeats):
        t0 = time.perf_counter()
        done = run()
        best = max(best, done / (time.perf_counter() - t0))
    return best


def measure(port: int, ops: dict[str, int], repeats: int) -> list[tuple[str, float, float]]:
    rows = []
    ours, theirs = Client(port=port), redis.Redis(port=port)
    for c in (ours, theirs):
        c.ping()
    for label, fn, n in (("sync GET/SET", sync_single, ops["single"]),
                         ("sync pipeline x100", sync_pipeline, ops["pipe"])):
        r_ours = best_rate(lambda: fn(ours, n), repeats)
        r_theirs = best_rate(lambda: fn(theirs, n), repeats)
        rows.append((label, r_ours, r_theirs))
    ours.close()
    theirs.close()

    async def amain():
        a_ours, a_theirs = AsyncClient(port=port), redis.asyncio.Redis(port=port)
        out = []
        for label, fn, n in (("async GET/SET", async_single, ops["single"]),
                             ("async pipeline x100", async_pipeline, ops["pipe"])):
            rates = []
            for c in (a_ours, a_theirs):
                best = 0.0
                for _ in range(repeats):
                    t0 = time.perf_counter()
                    done = await fn(c, n)
                    best = max(best, done / (time.perf_counter() - t0))
                rates.append(best)
            out.append((label, *rates))
        await a_ours.aclose()
        await a_theirs.aclose()
        return out

    rows += asyncio.run(amain())
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "client.md"))
    args = ap.parse_args()
    ops = {"single": 4000, "pipe": 20000} if args.quick else {"single": 20000, "pipe": 100000}
    repeats = 2 if args.quick else 3
    try:
        os.sched_setaffinity(0, {1})
    except (AttributeError, OSError):
        pass
    lines = [
        "# Client throughput: kvstore clients vs redis-py (hiredis)",
        "",
        f"`python bench/client.py{' --quick' if args.quick else ''}`: servers on core 0, "
        f"clients on core 1, one connection, sequential; best of {repeats}. "
        f"Reply reader: {READER_IMPL}; redis-py {redis.__version__}. "
        "Ratio = ours / redis-py (bar: >= 1.00).",
        "",
        "| server | workload | ours ops/s | redis-py ops/s | ratio |",
        "|---|---|---:|---:|---:|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("kvstore", "redis"):
            workdir = os.path.join(tmp, kind)
            os.makedirs(workdir)
            proc, port = start_server(kind, workdir)
            try:
                for label, r_ours, r_theirs in measure(port, ops, repeats):
                    line = (f"| {kind}-server | {label} | {r_ours:,.0f} | {r_theirs:,.0f} | "
                            f"{r_ours / r_theirs:.2f} |")
                    print(line, flush=True)
                    lines.append(line)
            finally:
                proc.kill()
                proc.wait()
    lines += ["", *NOTES]
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
