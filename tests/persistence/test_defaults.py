"""A server started with no persistence option behaves as redis-server does with its defaults:
save points on, a snapshot in the working directory that SAVE, SHUTDOWN and SIGTERM write and
the next start loads, and CONFIG SET appendonly yes turning an AOF on. Servers started in one
directory all run, as redis-servers do; only an AOF is kept to one process (kvstore's lock)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
import redis

from tests.conftest import NO_RETRY, free_port, require_binary, wait_for_port
from tests.server.helpers import wait_until

from .test_server import _PROCS, _reap_servers  # noqa: F401 (the fixture kills what is left)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

KINDS = ["kvstore", "redis"]


def _launch(kind: str, cwd, *extra: str):
    """The server of `kind` in `cwd` with only a port (and `extra`) given: its own defaults."""
    port = free_port()
    exe = [sys.executable, "-m", "kvstore"] if kind == "kvstore" else \
        [require_binary("redis-server")]
    with open(os.path.join(cwd, f"{kind}-{port}.log"), "w") as log:
        proc = subprocess.Popen([*exe, "--port", str(port), *extra], cwd=cwd, stdout=log,
                                stderr=subprocess.STDOUT, env=dict(os.environ, PYTHONPATH=ROOT))
    _PROCS.append(proc)
    wait_for_port(port, proc, timeout=30)
    return proc, redis.Redis(port=port, retry=NO_RETRY)


def _aof_ready(r: redis.Redis) -> bool:
    info = r.info("persistence")
    return info["aof_enabled"] == 1 and not info["aof_rewrite_in_progress"] \
        and not info["aof_rewrite_scheduled"]


@pytest.mark.parametrize("kind", KINDS)
def test_defaults_save_at_shutdown_and_sigterm_and_load_at_start(kind, tmp_path):
    proc, r = _launch(kind, tmp_path)
    assert r.config_get("save") == {"save": "3600 1 300 100 60 10000"}
    r.set("saved", "1")
    assert r.save() is True
    r.set("at-shutdown", "2")
    r.shutdown()  # (redis-py takes the closed connection as the expected reply)
    assert proc.wait(20) == 0
    proc, r = _launch(kind, tmp_path)
    assert r.mget("saved", "at-shutdown") == [b"1", b"2"]
    r.set("at-sigterm", "3")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(20) == 0
    proc, r = _launch(kind, tmp_path)
    assert r.mget("saved", "at-shutdown", "at-sigterm") == [b"1", b"2", b"3"]


@pytest.mark.parametrize("kind", KINDS)
def test_config_set_appendonly_on_a_default_server_survives_kill_9(kind, tmp_path):
    proc, r = _launch(kind, tmp_path)
    r.set("before", "1")
    assert r.config_set("appendfsync", "always") and r.config_set("appendonly", "yes")
    wait_until(lambda: _aof_ready(r), what="the AOF's first rewrite")
    r.set("after", "2")
    proc.kill()
    proc.wait(10)
    proc, r = _launch(kind, tmp_path, "--appendonly", "yes")
    assert r.mget("before", "after") == [b"1", b"2"]


@pytest.mark.parametrize("kind", KINDS)
def test_servers_started_in_one_directory_all_run(kind, tmp_path):
    _, first = _launch(kind, tmp_path)
    _, second = _launch(kind, tmp_path)
    first.set("k", "first")
    assert second.get("k") is None and first.get("k") == b"first"


def test_an_aof_is_kept_to_one_server(tmp_path):
    _, plain = _launch("kvstore", tmp_path)
    _, logging = _launch("kvstore", tmp_path, "--appendonly", "yes")
    port = free_port()
    out = subprocess.run([sys.executable, "-m", "kvstore", "--port", str(port), "--appendonly",
                          "yes"], cwd=tmp_path, capture_output=True, text=True, timeout=30,
                         env=dict(os.environ, PYTHONPATH=ROOT))
    assert out.returncode == 1
    assert "directory is locked by another process" in out.stdout + out.stderr
    with pytest.raises(redis.ResponseError, match="Unable to turn on AOF"):
        plain.config_set("appendonly", "yes")
    assert plain.config_get("appendonly") == {"appendonly": "no"}
    logging.set("k", "v")
    assert logging.config_set("appendonly", "no") and logging.config_set("appendonly", "yes")


@pytest.mark.parametrize("kind", KINDS)
def test_snapshots_follow_dir_and_dbfilename_set_at_run_time(kind, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    proc, r = _launch(kind, first, "--enable-protected-configs", "yes")
    r.set("k", "v")
    assert r.config_set("dir", str(second)) and r.config_set("dbfilename", "snap.rdb")
    assert r.save() is True
    assert os.path.exists(second / "snap.rdb")
    r.shutdown(nosave=True)
    assert proc.wait(20) == 0
    proc, r = _launch(kind, second, "--dbfilename", "snap.rdb")
    assert r.get("k") == b"v"


def _changes(r: redis.Redis) -> int:
    return r.info("persistence")["rdb_changes_since_last_save"]


@pytest.mark.parametrize("kind", KINDS)
def test_flushall_saves_the_empty_data_set_under_save_rules(kind, tmp_path):
    """Redis's flushAllDataAndResetRDB: with save rules, FLUSHALL saves at once (so a restart
    does not bring the flushed keys back) and leaves no change unsaved; without them it counts
    the keys it removed, as FLUSHDB does (none for an empty database)."""
    proc, r = _launch(kind, tmp_path, "--save", "")
    r.mset({"a": 1, "b": 2})
    assert _changes(r) == 2
    r.flushdb()
    r.flushdb()
    assert _changes(r) == 4
    r.set("c", 3)
    r.flushall()
    assert _changes(r) == 6 and r.info("persistence")["rdb_saves"] == 0
    r.shutdown(nosave=True)
    assert proc.wait(20) == 0

    proc, r = _launch(kind, tmp_path, "--save", "3600 1")
    r.mset({"a": 1, "b": 2})
    assert r.save()
    r.set("c", 3)
    r.flushall()
    info = r.info("persistence")
    # (rdb_saves counts SAVE and BGSAVE commands, not FLUSHALL's save)
    assert info["rdb_changes_since_last_save"] == 0 and info["rdb_saves"] == 1
    proc.kill()  # no save at exit: what FLUSHALL saved is what the next start loads
    proc.wait(20)
    proc, r = _launch(kind, tmp_path, "--save", "3600 1")
    assert r.dbsize() == 0
    r.shutdown(nosave=True)
    assert proc.wait(20) == 0


@pytest.mark.parametrize("kind", KINDS)
def test_flushall_stops_a_bgsave_in_progress(kind, tmp_path):
    """The BGSAVE would write the data FLUSHALL removed: Redis kills it (killRDBChild), with
    no failure in INFO and no temp file left."""
    proc, r = _launch(kind, tmp_path, "--save", "", "--rdb-key-save-delay", "1000000")
    r.mset({f"k{i}": i for i in range(100)})  # 100 s of saving
    assert r.bgsave()
    assert r.info("persistence")["rdb_bgsave_in_progress"] == 1
    r.flushall()
    wait_until(lambda: r.info("persistence")["rdb_bgsave_in_progress"] == 0,
               what="the BGSAVE to be stopped")
    info = r.info("persistence")
    assert info["rdb_last_bgsave_status"] == "ok" and info["rdb_saves"] == 1
    wait_until(lambda: not [n for n in os.listdir(tmp_path) if n.startswith("temp-")],
               what="the temp file to go")
    r.shutdown(nosave=True)
    assert proc.wait(20) == 0


@pytest.mark.parametrize("kind", KINDS)
def test_shutdown_stops_a_bgsave_and_leaves_no_temp_file(kind, tmp_path):
    """Redis's prepareForShutdown kills the saving child and removes its temp file
    ("Temp rdb will be deleted if we use bg_unlink when shutdown"); kvstore left it."""
    proc, r = _launch(kind, tmp_path, "--save", "", "--rdb-key-save-delay", "1000000")
    r.mset({f"k{i}": i for i in range(20)})
    assert r.bgsave()
    temps = lambda: [n for n in os.listdir(tmp_path) if n.startswith("temp-")]  # noqa: E731
    wait_until(temps, what="the child's temp file")
    r.shutdown(nosave=True)
    assert proc.wait(20) == 0
    assert not temps()
    log = next(p for p in tmp_path.iterdir() if p.name.endswith(".log")).read_text()
    assert "There is a child saving an .rdb. Killing it!" in log
