"""The data set's loading at start-up, on kvstore-server and redis-server side by side.

Both listen while they load: a client gets LOADING for all but the commands flagged loading
(INFO, CONFIG, SELECT, MULTI, SUBSCRIBE, PUBLISH, SHUTDOWN...), INFO says how far the load is,
and SIGTERM or SHUTDOWN stops the server there without saving: the file on disk keeps the whole
data set. `key-load-delay` (Redis's debugging config, microseconds per key loaded) makes a load
last long enough to look at; a load's length is the delay's lower bound, never a guess. The
clients are served every loading-process-events-interval-bytes of file (SLOW: the least).
"""

from __future__ import annotations

import hashlib
import os
import signal

import pytest

from kvstore.server.loading import LOADING_TEXT

from .conftest import start
from .helpers import Conn, err, wait_until

KEYS = 2000
SLOW = ("--loading-process-events-interval-bytes", "1024", "--key-load-delay")


def _info(c: Conn) -> dict[str, str]:
    return dict(line.split(":", 1) for line in c("INFO", "persistence").decode().splitlines()
                if ":" in line)


def _loading(c: Conn) -> bool:
    return _info(c)["loading"] == "1"


def _data_files(directory) -> dict[str, str]:
    """name -> sha1 of each data file (snapshot, AOF directory) under `directory`."""
    found = {}
    for root, _, names in os.walk(directory):
        for name in names:
            if name.endswith((".rdb", ".kvs", ".aof", ".manifest")):
                with open(os.path.join(root, name), "rb") as f:
                    found[os.path.relpath(os.path.join(root, name), directory)] = \
                        hashlib.sha1(f.read()).hexdigest()
    return found


def _saved(kind: str, tmp_path, aof: bool) -> list[str]:
    """Write KEYS keys into `tmp_path` (a snapshot, or with `aof` an AOF directory whose base
    holds them) with a server of `kind`; returns the options that load them again."""
    persistence = ["--appendonly", "yes"] if aof else []
    p = start(kind, tmp_path, *persistence)
    try:
        c = Conn(p.port)
        assert c("DEBUG", "POPULATE", str(KEYS)) == b"OK"
        if aof:
            c("BGREWRITEAOF")
            wait_until(lambda: _info(c)["aof_rewrite_in_progress"] == "0"
                       and _info(c)["aof_rewrite_scheduled"] == "0", what="the rewrite")
        else:
            assert c("SAVE") == b"OK"
        c.close()
    finally:
        assert p.stop() == 0
    return persistence


@pytest.mark.parametrize("kind", ["kvstore", "redis"])
def test_a_client_gets_loading_meanwhile_then_the_data_set(kind, tmp_path):
    _saved(kind, tmp_path, aof=False)
    # 2,000 keys at 1 ms each: the load lasts 2 s at least
    p = start(kind, tmp_path, *SLOW, "1000", loaded=False)
    try:
        c, sub = Conn(p.port, timeout=10), Conn(p.port, timeout=10)
        info = _info(c)
        assert info["loading"] == "1"
        assert int(info["loading_total_bytes"]) > 0
        assert 0 <= float(info["loading_loaded_perc"]) <= 100
        assert int(info["loading_start_time"]) > 0 and "loading_eta_seconds" in info
        for argv in (["PING"], ["GET", "key:1"], ["DBSIZE"], ["SET", "k", "v"],
                     ["EVAL", "return 1", "0"], ["FLUSHALL"]):
            assert err(c(*argv)) == LOADING_TEXT, argv
        assert c("CONFIG", "GET", "key-load-delay") == [b"key-load-delay", b"1000"]
        assert c("SELECT", "0") == b"OK"
        assert c("ECHO", "hi") == b"hi"
        assert c("MULTI") == b"OK"
        assert err(c("GET", "key:1")) == LOADING_TEXT
        assert err(c("EXEC")).startswith("EXECABORT")
        assert sub("SUBSCRIBE", "ch") == [b"subscribe", b"ch", 1]
        assert c("PUBLISH", "ch", "during") == 1
        assert sub.reply() == [b"message", b"ch", b"during"]
        assert _loading(c)  # all of it was answered while loading

        wait_until(lambda: not _loading(c), timeout=60, what="the load to end")
        # The connections made meanwhile go on as any other
        assert c("DBSIZE") == KEYS
        assert c("GET", "key:1") == b"value:1"
        assert c("PUBLISH", "ch", "after") == 1
        assert sub.reply() == [b"message", b"ch", b"after"]
        assert int(_info(c)["rdb_last_load_keys_loaded"]) == KEYS
    finally:
        p.stop()


def _stopped_while_loading(kind, tmp_path, aof: bool, stop) -> None:
    """Start a load of at least 20 s with save points set, stop it with `stop(proc, conn)`: the
    server exits 0 at once, without writing, and a restart has every key."""
    persistence = _saved(kind, tmp_path, aof)
    before = _data_files(tmp_path)
    assert before
    p = start(kind, tmp_path, *persistence, "--save", "3600 1", *SLOW, "10000", loaded=False)
    try:
        c = Conn(p.port, timeout=10)
        assert _loading(c)
        stop(p, c)
        assert p.proc.wait(10) == 0
    finally:
        p.stop()
    assert _data_files(tmp_path) == before  # not saved, rewritten or cut
    p = start(kind, tmp_path, *persistence)
    try:
        assert Conn(p.port)("DBSIZE") == KEYS
    finally:
        p.stop()


@pytest.mark.parametrize("aof", [False, True], ids=["snapshot", "aof"])
@pytest.mark.parametrize("kind", ["kvstore", "redis"])
def test_sigterm_during_the_load_exits_without_saving(kind, aof, tmp_path):
    def sigterm(p, c):
        p.proc.send_signal(signal.SIGTERM)
        assert c.closed(10)

    _stopped_while_loading(kind, tmp_path, aof, sigterm)
    logs = "".join(open(tmp_path / name, errors="replace").read()
                   for name in os.listdir(tmp_path) if name.endswith(".log"))
    assert "Received shutdown signal during loading, scheduling shutdown." in logs


@pytest.mark.parametrize("kind", ["kvstore", "redis"])
def test_shutdown_during_the_load_exits_without_saving(kind, tmp_path):
    def shutdown(p, c):
        c.send(Conn.encode("SHUTDOWN", "SAVE"))  # (no save is possible: NOSAVE is forced)
        assert c.closed(10)

    _stopped_while_loading(kind, tmp_path, False, shutdown)




@pytest.mark.parametrize("kind", ["kvstore", "redis"])
def test_config_set_during_the_load(kind, tmp_path):
    """appendonly may not change while loading (Redis's DENY_LOADING_CONFIG); another option
    set meanwhile is in force once the data set is in."""
    _saved(kind, tmp_path, aof=False)
    p = start(kind, tmp_path, *SLOW, "500", loaded=False)
    try:
        c = Conn(p.port, timeout=10)
        assert _loading(c)
        assert err(c("CONFIG", "SET", "maxmemory", "0", "appendonly", "yes")) == LOADING_TEXT
        assert c("CONFIG", "SET", "save", "1 1") == b"OK"  # (started with none)
        assert _loading(c)
        wait_until(lambda: not _loading(c), timeout=60, what="the load to end")
        assert _info(c)["aof_enabled"] == "0"
        assert c("SET", "after", "1") == b"OK"
        wait_until(lambda: _info(c)["rdb_changes_since_last_save"] == "0", timeout=10,
                   what="the save point set during the load to save")
    finally:
        assert p.stop() == 0


def test_the_client_library_retries_loading_then_raises_busy_loading(tmp_path):
    """LOADING is redis-py's BusyLoadingError, a ConnectionError that its retries cover: so it
    is in clients/ (sync and asyncio)."""
    import asyncio

    import clients
    from clients.pool import Retry

    _saved("kvstore", tmp_path, aof=False)
    p = start("kvstore", tmp_path, *SLOW, "2000", loaded=False)
    try:
        with pytest.raises(clients.BusyLoadingError) as caught:
            clients.Client(port=p.port, retry=Retry(retries=2)).get("key:1")
        assert isinstance(caught.value, clients.ConnectionError)
        assert str(caught.value) == LOADING_TEXT

        async def later():
            a = clients.AsyncClient(port=p.port, retry=Retry(retries=2))
            try:
                with pytest.raises(clients.BusyLoadingError):
                    await a.get("key:1")
            finally:
                await a.aclose()

        asyncio.run(later())
        patient = clients.Client(port=p.port, retry=Retry(retries=10_000, base=0.05, cap=0.05))
        assert patient.get("key:1") == b"value:1"  # retried until the load ended
    finally:
        p.stop()
