"""The server's per-command cost, without sockets: `Client.data_received` fed pipelined batches.

Question: what does the Python side of the server cost per command, apart from the kernel and the
event loop? redis-benchmark figures mix both and move with the machine's load; this isolates the
hot path so a change to it can be judged on its own.

Method. A real `Server` and `Client` with a transport that discards what it is given. Each case
is a batch of 16 identical-shape commands (what `redis-benchmark -P 16` sends per read), fed
again and again.

    python bench/hotpath.py                  # ns per command (best of 5), noisy on a busy machine
    python bench/hotpath.py --batch 1        # one command per read, as at redis-benchmark -c 50
    python bench/hotpath.py --callgrind      # instructions per command under valgrind: the same
                                             # figure whatever else the machine is doing

With --callgrind the script runs itself twice under `valgrind --tool=callgrind` (collecting only
inside the timed loop) with two iteration counts; the difference divided by the extra commands is
the cost per command, start-up and imports cancelled out. Hash randomisation is fixed so runs
repeat exactly.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

BATCH = 16  # commands per read: redis-benchmark -P 16 (--batch 1: the -c 50 case)


def make_cases(batch_size: int = BATCH) -> dict[str, bytes]:
    from kvstore.protocol.encoder import pack_command

    def batch(make) -> bytes:
        return b"".join(pack_command(*make(i)) for i in range(batch_size))

    return {
        "ping": batch(lambda i: ("PING",)),
        "get-miss": batch(lambda i: ("GET", b"key:%012d" % i)),
        "get-hit": batch(lambda i: ("GET", b"hit:%012d" % i)),
        "set": batch(lambda i: ("SET", b"key:%012d" % i, b"xxx")),
        "incr": batch(lambda i: ("INCR", b"ctr:%012d" % i)),
        "lpush": batch(lambda i: ("LPUSH", b"list", b"xxx")),
        "hset": batch(lambda i: ("HSET", b"hash", b"f:%d" % i, b"xxx")),
        "zadd": batch(lambda i: ("ZADD", b"zset", b"%d" % i, b"m:%d" % i)),
        # redis-benchmark's own shapes: the same member, score 0, again and again; a pop of
        # the zset that test left (empty after the first pop)
        "zadd-same": batch(lambda i: ("ZADD", b"myzset", b"0", b"element:__rand_int__")),
        "zpopmin": batch(lambda i: ("ZPOPMIN", b"myzset")),
        "mset": batch(lambda i: ("MSET", *[b"key:__rand_int__", b"xxx"] * 10)),
        "lpop": batch(lambda i: ("LPOP", b"mylist")),  # (make_client fills mylist)
        "rpop": batch(lambda i: ("RPOP", b"mylist")),
        "incr-same": batch(lambda i: ("INCR", b"counter:__rand_int__")),
        "hset-same": batch(lambda i: ("HSET", b"myhash", b"element:__rand_int__", b"xxx")),
        "sadd-same": batch(lambda i: ("SADD", b"myset", b"element:__rand_int__")),
        "xadd": batch(lambda i: ("XADD", b"mystream", b"*", b"myfield", b"myvalue")),
    }


class _Transport:
    def write(self, data) -> None:
        pass

    def get_extra_info(self, name):
        return None

    def is_closing(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return 0

    def set_write_buffer_limits(self, **limits) -> None:
        pass


def make_client():
    from kvstore.engine.values import List
    from kvstore.server.client import Client
    from kvstore.server.config import Config
    from kvstore.server.server import Log, Server

    config = Config()
    config.load_text("save \"\"")
    server = Server(config, Log("warning", os.devnull))
    client = Client(server)
    client.transport = _Transport()
    # No event loop here: each fed read is followed by the outbox's end-of-iteration flush.
    server.outbox.call_soon = lambda callback: None
    server.clients[client.id] = client
    for i in range(BATCH):
        server.ks.dbs[0].data[b"hit:%012d" % i] = b"xxx"
    # Enough for every timed pop of the lpop and rpop cases (5 rounds of 20,000 batches of 16).
    server.ks.dbs[0].data[b"mylist"] = List([b"xxx"]) * 2_000_000
    return client


def time_case(client, data: bytes, batch_size: int, rounds: int = 5, n: int = 20_000) -> float:
    """Best ns per command over `rounds` runs of n batches."""
    feed = client.data_received
    flush = client.server.outbox.flush
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(n):
            feed(data)
            flush()
        best = min(best, (time.perf_counter() - start) / n / batch_size * 1e9)
    return best


def run_loop(case: str, n: int, batch_size: int) -> None:
    """The body that runs under callgrind: warm up, then n batches inside exec()."""
    client = make_client()
    data = make_cases(batch_size)[case]
    feed = client.data_received
    flush = client.server.outbox.flush
    for _ in range(200):
        feed(data)
        flush()
    exec("for _ in range(n): feed(data); flush()", {"feed": feed, "flush": flush, "data": data,
                                                    "n": n})


def callgrind_instructions(case: str, n: int, batch_size: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            ["valgrind", "--tool=callgrind", "--collect-atstart=no",
             "--toggle-collect=builtin_exec", f"--callgrind-out-file={tmp}/cg.out",
             os.path.realpath(sys.executable), __file__, "--loop", case, str(n),
             "--batch", str(batch_size)],
            capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"},
            check=True).stderr
    m = re.search(r"Collected : (\d+)", out)
    if m is None:
        raise RuntimeError(f"no callgrind total in:\n{out}")
    return int(m.group(1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--callgrind", action="store_true", help="instructions per command")
    ap.add_argument("--cases", default="get-miss,get-hit,set,incr,lpush,hset,zadd")
    ap.add_argument("--batch", type=int, default=BATCH, help="commands per read")
    ap.add_argument("--loop", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.loop:
        run_loop(args.loop[0], int(args.loop[1]), args.batch)
        return
    cases = args.cases.split(",")
    if args.callgrind:
        print(f"{'case':10} {'instructions/command':>22}")
        for case in cases:
            low = callgrind_instructions(case, 1000, args.batch)
            high = callgrind_instructions(case, 3000, args.batch)
            print(f"{case:10} {(high - low) / 2000 / args.batch:22,.0f}", flush=True)
        return
    client = make_client()
    all_cases = make_cases(args.batch)
    print(f"{'case':10} {'ns/command':>12}")
    for case in cases:
        print(f"{case:10} {time_case(client, all_cases[case], args.batch):12,.0f}", flush=True)


if __name__ == "__main__":
    main()
