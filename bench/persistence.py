"""Durability costs: kvstore-server beside redis-server 7.0, same disk, same run.

1. SET throughput (redis-benchmark -c 50 -P 16) with appendfsync always / everysec / no and with
   persistence off, and always without pipelining; server pinned to core 0, redis-benchmark to
   core 1; rounds interleave servers and modes, medians reported.
2. Time to load 1M keys: from an AOF (the very same RESP file for both servers: a manifest with
   one incr file, what Redis 7 writes with aof-use-rdb-preamble no) and from a snapshot (ours:
   dump.kvs; Redis: dump.rdb made by SAVE). Load times are the servers' own log lines ("DB loaded
   from ..."), so Python's interpreter start-up is not counted against kvstore.
3. BGREWRITEAOF of 1M keys: duration (until INFO says it finished) and the longest pause a client
   sending PINGs back to back saw meanwhile.

    python bench/persistence.py [--keys 1000000] [--requests 300000] [--rounds 3]

Bars: everysec >= 90% of persistence off; always at -c 50 >= 50% of Redis's always; loads <= 3x
Redis's.
Writes bench/results/persistence.md.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from kvstore.persistence import manifest as mf  # noqa: E402
from ports import free_port, wait_port  # noqa: E402 (bench/ is the script's folder)
from kvstore.persistence.aof import AofWriter  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results", "persistence.md")


def start(kind: str, directory: str, args: list[str]) -> tuple[subprocess.Popen, int, str]:
    port = free_port()
    log = os.path.join(directory, "server.log")
    if kind == "redis":
        cmd = ["redis-server", "--port", str(port), "--dir", directory, "--logfile", log] + args
    else:
        cmd = [sys.executable, "-m", "kvstore", "--port", str(port), "--dir", directory,
               "--logfile", log] + args
    proc = subprocess.Popen(["taskset", "-c", "0"] + cmd, cwd=os.path.dirname(HERE),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, proc, timeout=600)
    return proc, port, log


def stop(proc: subprocess.Popen, port: int) -> None:
    subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"],
                   capture_output=True, timeout=60)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def persistence_args(mode: str) -> list[str]:
    if mode == "off":
        return ["--appendonly", "no", "--save", ""]
    return ["--appendonly", "yes", "--appendfsync", mode, "--save", "",
            "--aof-use-rdb-preamble", "no", "--auto-aof-rewrite-percentage", "0"]


def set_throughput(kind: str, mode: str, requests: int, pipeline: int = 16) -> float:
    d = tempfile.mkdtemp(prefix=f"bench-{kind}-")
    try:
        proc, port, _ = start(kind, d, persistence_args(mode))
        try:
            out = subprocess.run(
                ["taskset", "-c", "1", "redis-benchmark", "-p", str(port), "-t", "set",
                 "-n", str(requests), "-c", "50", "-P", str(pipeline), "-r", "1000000", "-q"],
                capture_output=True, text=True, timeout=900).stdout
        finally:
            stop(proc, port)
        m = re.search(r"SET: ([\d.]+) requests per second", out.replace("\r", "\n"))
        return float(m.group(1)) if m else 0.0
    finally:
        shutil.rmtree(d, ignore_errors=True)


def write_aof(directory: str, keys: int) -> None:
    """The same AOF for both servers: a Redis 7 manifest naming one RESP incr file."""
    aofdir = os.path.join(directory, "appendonlydir")
    os.makedirs(aofdir)
    m = mf.Manifest()
    m.incrs = [m.next_incr()]
    w = AofWriter(os.path.join(aofdir, m.incrs[0].name), "no")
    for i in range(keys):
        w.feed(0, [[b"SET", b"key:%d" % i, b"value:%d" % i]])
        if i % 10000 == 9999:
            w.flush()
    w.close()
    m.write(aofdir)


def loaded_seconds(log: str, timeout: float = 600) -> float:
    """The load time the server logged (Redis listens before it loads: wait for the line)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(log) as f:
            m = re.findall(r"DB loaded from (?:append only file|disk): ([\d.]+) seconds",
                           f.read())
        if m:
            return float(m[-1])
        time.sleep(0.05)
    return float("nan")


def load_times(kind: str, keys: int) -> tuple[float, float]:
    """(AOF load seconds, snapshot load seconds) of `keys` keys."""
    d = tempfile.mkdtemp(prefix=f"bench-load-{kind}-")
    try:
        write_aof(d, keys)
        proc, port, log = start(kind, d, persistence_args("everysec"))
        aof = loaded_seconds(log)
        subprocess.run(["redis-cli", "-p", str(port), "save"], capture_output=True, timeout=600)
        stop(proc, port)
        shutil.rmtree(os.path.join(d, "appendonlydir"))
        os.unlink(log)
        proc, port, log = start(kind, d, ["--appendonly", "no", "--save", "3600 1"])
        snap = loaded_seconds(log)
        stop(proc, port)
        return aof, snap
    finally:
        shutil.rmtree(d, ignore_errors=True)


def rewrite(kind: str, keys: int) -> tuple[float, float]:
    """(rewrite seconds, longest PING round trip in ms during it) with `keys` keys loaded."""
    d = tempfile.mkdtemp(prefix=f"bench-rw-{kind}-")
    try:
        write_aof(d, keys)
        proc, port, log = start(kind, d, persistence_args("everysec"))
        loaded_seconds(log)  # Redis accepts connections while still loading
        worst = [0.0]
        done = threading.Event()

        def pinger() -> None:
            s = socket.create_connection(("127.0.0.1", port))
            while not done.is_set():
                t = time.perf_counter()
                s.sendall(b"PING\r\n")
                s.recv(64)
                worst[0] = max(worst[0], time.perf_counter() - t)
            s.close()

        def info() -> str:
            return subprocess.run(["redis-cli", "-p", str(port), "info", "persistence"],
                                  capture_output=True, text=True).stdout

        th = threading.Thread(target=pinger)
        th.start()
        time.sleep(0.5)
        worst[0] = 0.0
        t0 = time.perf_counter()
        subprocess.run(["redis-cli", "-p", str(port), "bgrewriteaof"], capture_output=True)
        while True:
            text = info()
            if "aof_rewrite_in_progress:0" in text and "aof_rewrite_scheduled:0" in text:
                break
            time.sleep(0.01)
        elapsed = time.perf_counter() - t0
        done.set()
        th.join()
        stop(proc, port)
        return elapsed, worst[0] * 1000
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--requests", type=int, default=300_000)
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds; medians reported")
    args = ap.parse_args()
    rows = []
    # (mode, pipeline): every mode with -P 16, plus always without pipelining (the bar
    # is "always at -c 50"). Rounds interleave both servers and all modes, so drift in the
    # machine's speed hits every cell alike; the median of the rounds is reported.
    cells = [(m, 16) for m in ("off", "no", "everysec", "always")] + [("always", 1)]
    runs: dict = {}
    for r in range(args.rounds):
        for mode, pipeline in cells:
            for kind in ("kvstore", "redis"):
                rps = set_throughput(kind, mode, args.requests // (1 if pipeline > 1 else 4),
                                     pipeline)
                runs.setdefault((kind, mode, pipeline), []).append(rps)
                print(f"round {r + 1} SET {kind:8} appendfsync={mode:8} -P {pipeline:<3} "
                      f"{rps:>12,.0f} req/s", flush=True)
    tput = {key: statistics.median(v) for key, v in runs.items()}
    for mode, pipeline in cells:
        k, r = tput["kvstore", mode, pipeline], tput["redis", mode, pipeline]
        what = "persistence off" if mode == "off" else "appendfsync " + mode
        rows.append((f"SET req/s -c 50 -P {pipeline}, {what}", f"{k:,.0f}", f"{r:,.0f}",
                     f"{k / r:.2f}" if r else "-"))
    loads = {kind: load_times(kind, args.keys) for kind in ("kvstore", "redis")}
    rows.append((f"load {args.keys:,} keys from AOF (s)", f"{loads['kvstore'][0]:.2f}",
                 f"{loads['redis'][0]:.2f}", f"{loads['kvstore'][0] / loads['redis'][0]:.2f}"))
    rows.append((f"load {args.keys:,} keys from snapshot (s)", f"{loads['kvstore'][1]:.2f}",
                 f"{loads['redis'][1]:.2f}", f"{loads['kvstore'][1] / loads['redis'][1]:.2f}"))
    rw = {kind: rewrite(kind, args.keys) for kind in ("kvstore", "redis")}
    rows.append((f"BGREWRITEAOF of {args.keys:,} keys (s)", f"{rw['kvstore'][0]:.2f}",
                 f"{rw['redis'][0]:.2f}", f"{rw['kvstore'][0] / rw['redis'][0]:.2f}"))
    rows.append(("longest client pause during rewrite (ms)", f"{rw['kvstore'][1]:.1f}",
                 f"{rw['redis'][1]:.1f}", f"{rw['kvstore'][1] / max(rw['redis'][1], 1e-3):.2f}"))
    bars = [
        ("everysec >= 90% of persistence off (kvstore)",
         tput["kvstore", "everysec", 16] >= 0.9 * tput["kvstore", "off", 16]),
        ("always at -c 50 >= 50% of Redis's always",
         tput["kvstore", "always", 1] >= 0.5 * tput["redis", "always", 1]),
        ("AOF load <= 3x Redis's", loads["kvstore"][0] <= 3 * loads["redis"][0]),
        ("snapshot load <= 3x Redis's", loads["kvstore"][1] <= 3 * loads["redis"][1]),
    ]
    lines = ["| measure | kvstore | redis 7.0 | ratio |", "|---|---:|---:|---:|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    lines += ["", "| bar | met |", "|---|---|"] + [f"| {b} | {'yes' if ok else 'NO'} |"
                                                   for b, ok in bars]
    table = "\n".join(lines)
    print(table)
    load = os.getloadavg()
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w") as f:
        f.write(f"# Persistence benchmark\n\n`python bench/persistence.py --keys {args.keys} "
                f"--requests {args.requests} --rounds {args.rounds}` (medians), {time.strftime('%Y-%m-%d %H:%M')}, "
                f"{os.cpu_count()} CPUs, load average at the end {load[0]:.1f} (other jobs "
                f"were running: absolute numbers are noisy, ratios less so).\n\n{table}\n")


if __name__ == "__main__":
    main()
