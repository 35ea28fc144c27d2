"""Redis's own test suite (tests/ of its source tree, run by `runtest` in external-server mode)
against kvstore-server and redis-server, one unit at a time, each on a fresh server; prints
each unit's counts and the tests that pass on redis-server but not on kvstore.

    apt-get source --download-only redis    # Debian's 7.0.15 (needs a deb-src line), then:
    tar xzf redis_7.0.15.orig.tar.gz
    python -m tests.compat.redis_suite redis-7.0.15 [unit/type/list unit/multi ...]

External mode skips the tests tagged external:skip (those that start servers of their own).
`--skip` names tests to leave out: one that stops its unit on kvstore by an error the harness
cannot catch hides every later test of the unit. Takes about 20 minutes for every unit.
"""

from __future__ import annotations

import argparse
import os
import re
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


def run_unit(source: str, kind: str, unit: str, skipfile: str) -> dict[str, str]:
    """{test name: ok | err | exception | ...} of one unit on a fresh server of `kind`."""
    port = free_port()
    workdir = tempfile.mkdtemp(prefix=f"suite-{kind}-")
    proc = start(kind, port, workdir)
    try:
        out = subprocess.run(
            # (runtest's own ports: its default base, 21111; one of ours from free_port could
            # sit where it also wants the port 10000 above, past 65535)
            ["./runtest", "--host", "127.0.0.1", "--port", str(port), "--timeout", "120",
             "--single", unit, "--skipfile", skipfile],
            cwd=source, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=900).stdout
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout or b""
    finally:
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
    args = ap.parse_args()
    source = os.path.abspath(args.source)
    with tempfile.NamedTemporaryFile("w", suffix=".skip", delete=False) as f:
        f.write("\n".join(DEFAULT_SKIPS + args.skip) + "\n")
        skipfile = f.name
    began = time.monotonic()
    worse = []
    print(f"{'unit':34} {'redis ok':>8} {'kvstore ok':>10} {'kv not ok':>10}")
    for unit in args.units or units_of(source):
        redis = run_unit(source, "redis", unit, skipfile)
        kv = run_unit(source, "kvstore", unit, skipfile)
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


if __name__ == "__main__":
    main()
