"""Redis's own test suite (tests/ of its source tree, run by `runtest` in external-server mode)
against kvstore-server and redis-server, one unit at a time, each on a fresh server; prints
each unit's counts and the tests that pass on redis-server but not on kvstore.

    apt-get source --download-only redis    # Debian's 7.0.15 (needs a deb-src line), then:
    tar xzf redis_7.0.15.orig.tar.gz
    python -m tests.compat.redis_suite redis-7.0.15 [unit/type/list unit/multi ...]

External mode skips the tests tagged external:skip (those that start servers of their own).
With `--spawn`, runtest starts the servers itself instead, in its normal mode, from a copy of
the tree whose src/redis-server is kvstore-server (or redis-server): those tests run too, more
slowly (pick units). `--skip` names tests to leave out: one that stops its unit on kvstore by
an error the harness cannot catch hides every later test of the unit. External mode takes
about 10 minutes for every unit.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

from tests.conftest import free_port, wait_for_port

# Not meaningful against kvstore: a dict's rehashing state (DEBUG HTSTATS-KEY).
DEFAULT_SKIPS = ["SRANDMEMBER with a dict containing long chain"]
_RESULT = re.compile(rb"^\[(ok|err|exception|ignore|skip)\]: (.*?)(?: in tests/\S+| \(\d+ ms\))?$",
                     re.M)
_COLOR = re.compile(rb"\x1b\[[0-9;]*m")


def units_of(source: str) -> list[str]:
    with open(os.path.join(source, "tests", "test_helper.tcl"), "rb") as f:
        text = f.read().decode()
    block = text.split("set ::all_tests {", 1)[1].split("}", 1)[0]
    return block.split()


def start(kind: str, port: int, workdir: str) -> subprocess.Popen:
    opts = ["--port", str(port), "--save", "", "--dir", workdir, "--enable-debug-command", "yes",
            "--enable-protected-configs", "yes"]
    if kind == "kvstore":
        cmd = [sys.executable, "-m", "kvstore", *opts]
        env = dict(os.environ, PYTHONPATH=os.getcwd())
    else:
        cmd = ["redis-server", *opts, "--enable-module-command", "yes"]
        env = None
    log = open(os.path.join(workdir, "server.log"), "wb")
    proc = subprocess.Popen(cmd, cwd=workdir, stdout=log, stderr=subprocess.STDOUT, env=env)
    wait_for_port(port)
    return proc


def spawn_tree(source: str, kind: str) -> str:
    """A copy of the tree's runtest and tests/ whose src/ holds what runtest starts: a server
    of `kind` as src/redis-server, and the installed redis-cli, redis-benchmark..."""
    tree = tempfile.mkdtemp(prefix=f"suite-tree-{kind}-")
    shutil.copytree(os.path.join(source, "tests"), os.path.join(tree, "tests"))
    shutil.copy2(os.path.join(source, "runtest"), tree)
    src = os.path.join(tree, "src")
    os.mkdir(src)
    for tool in ("redis-cli", "redis-benchmark", "redis-check-aof", "redis-check-rdb"):
        path = shutil.which(tool)
        if path:
            os.symlink(path, os.path.join(src, tool))
    server = os.path.join(src, "redis-server")
    if kind == "kvstore":
        with open(server, "w") as f:
            f.write(f"#!/bin/sh\nexec env PYTHONPATH={shlex.quote(os.getcwd())} "
                    f"{shlex.quote(sys.executable)} -m kvstore \"$@\"\n")
        os.chmod(server, 0o755)
    else:
        os.symlink(shutil.which("redis-server") or "redis-server", server)
    return tree


def run_unit(source: str, kind: str, unit: str, skipfile: str,
             spawned: bool = False) -> dict[str, str]:
    """{test name: ok | err | exception | ...} of one unit on a fresh server of `kind`, or, if
    `spawned`, on the servers runtest starts from `source` (a `spawn_tree`)."""
    # (runtest's own ports: its default base, 21111; one of ours from free_port could sit
    # where it also wants the port 10000 above, past 65535)
    args = ["./runtest", "--timeout", "120", "--single", unit, "--skipfile", skipfile]
    proc = workdir = None
    if spawned:
        args += ["--clients", "1"]
    else:
        port = free_port()
        workdir = tempfile.mkdtemp(prefix=f"suite-{kind}-")
        proc = start(kind, port, workdir)
        args += ["--host", "127.0.0.1", "--port", str(port)]
    try:
        out = subprocess.run(args, cwd=source, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, timeout=1800).stdout
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout or b""
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()
            shutil.rmtree(workdir, ignore_errors=True)
    results: dict[str, str] = {}
    for status, name in _RESULT.findall(_COLOR.sub(b"", out)):
        # (a unit may run a test twice under one name: scripting.tcl, for EVAL and FCALL)
        name = name.decode(errors="replace")
        key, n = name, 1
        while key in results:
            n += 1
            key = f"{name} (#{n})"
        results[key] = status.decode()
    if not results:  # (kept to look at: why the harness ran nothing)
        with tempfile.NamedTemporaryFile("wb", prefix=f"suite-{kind}-", suffix=".log",
                                         delete=False) as f:
            f.write(out)
        print(f"  ({unit} on {kind}: no test reported, runtest's output in {f.name})",
              flush=True)
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("source", help="a Redis source tree (its tests/ and runtest)")
    ap.add_argument("units", nargs="*", help="units to run (default: all of test_helper.tcl)")
    ap.add_argument("--skip", action="append", default=[], help="a test name to leave out")
    ap.add_argument("--spawn", action="store_true",
                    help="runtest's normal mode: it starts the servers (tests tagged "
                         "external:skip run too)")
    args = ap.parse_args()
    source = os.path.abspath(args.source)
    trees = {kind: spawn_tree(source, kind) for kind in ("redis", "kvstore")} if args.spawn \
        else {"redis": source, "kvstore": source}
    with tempfile.NamedTemporaryFile("w", suffix=".skip", delete=False) as f:
        f.write("\n".join(DEFAULT_SKIPS + args.skip) + "\n")
        skipfile = f.name
    began = time.monotonic()
    worse = []
    print(f"{'unit':34} {'redis ok':>8} {'kvstore ok':>10} {'kv not ok':>10}")
    for unit in args.units or units_of(source):
        redis = run_unit(trees["redis"], "redis", unit, skipfile, args.spawn)
        kv = run_unit(trees["kvstore"], "kvstore", unit, skipfile, args.spawn)
        bad = sorted(t for t, s in redis.items() if s == "ok" and kv.get(t) != "ok")
        worse += [(unit, t, kv.get(t, "not run")) for t in bad]
        ok = sum(s == "ok" for s in kv.values())
        print(f"{unit:34} {sum(s == 'ok' for s in redis.values()):8} {ok:10} {len(bad):10}",
              flush=True)
    print(f"\n{len(worse)} tests pass on redis-server and not on kvstore "
          f"({time.monotonic() - began:.0f} s):")
    for unit, test, status in worse:
        print(f"  {unit}: {test} [{status}]")
    os.unlink(skipfile)
    if args.spawn:
        for tree in trees.values():
            shutil.rmtree(tree, ignore_errors=True)


if __name__ == "__main__":
    main()
