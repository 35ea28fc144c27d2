"""The cyclic GC around a load: off while the data set is read, and the server freezes what it
loaded, so later full collections do not traverse (and pause for) the whole data set."""

from __future__ import annotations

import gc

import kvstore
from kvstore.persistence import loader

from .test_reply_order import running_server


def _hashes(path: str, n: int = 2000) -> None:
    s = kvstore.open(path=path, appendfsync="no")
    for i in range(n):
        s.hset(b"h:%d" % i, b"f", b"v")
    s.close()


def test_a_load_runs_with_the_gc_off_and_turns_it_back_on(tmp_path, monkeypatch):
    _hashes(str(tmp_path))
    seen = []
    real = loader.replay_file

    def replay(*args, **kwargs):
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(loader, "replay_file", replay)
    assert gc.isenabled()
    s = kvstore.open(path=str(tmp_path), appendfsync="no")
    try:
        assert seen == [False] and gc.isenabled()
        assert s.hget("h:1999", "f") == b"v"
    finally:
        s.close()


def test_the_server_freezes_the_data_set_it_loaded(tmp_path):
    _hashes(str(tmp_path))
    gc.unfreeze()
    try:
        with running_server(tmp_path, "no"):
            assert gc.get_freeze_count() > 2000 and gc.isenabled()
    finally:
        gc.unfreeze()
