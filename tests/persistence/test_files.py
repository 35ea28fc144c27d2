"""Persistence files: AOF truncation at every offset, corruption, snapshots, manifest, checker."""

from __future__ import annotations

import os
import shutil

import pytest

from kvstore.engine import Keyspace, ManualClock
from kvstore.engine.dump import write_rdb
from kvstore.persistence import AofError, SnapshotError, check, loader, snapshot
from kvstore.persistence import manifest as mf
from kvstore.persistence.aof import AofWriter

T0 = 1_700_000_000_000


def _commands() -> list[tuple[int, list[bytes]]]:
    """(db, argv) pairs touching every type, two databases and TTLs."""
    return [
        (0, [b"SET", b"s", b"v1"]),
        (0, [b"RPUSH", b"l", b"a", b"b", b"c"]),
        (1, [b"HSET", b"h", b"f1", b"x", b"f2", b"y"]),
        (1, [b"SADD", b"set", b"1", b"2", b"three"]),
        (0, [b"SET", b"ttl", b"t", b"PXAT", str(T0 + 10_000).encode()]),
        (0, [b"LPOP", b"l"]),
        (1, [b"DEL", b"set"]),
        (0, [b"SET", b"s", b"v2"]),
    ]


def _state(ks: Keyspace) -> dict:
    out = {}
    for db in ks.dbs:
        for k, v in db.data.items():
            out[(db.id, k)] = (type(v).__name__, sorted(v) if not isinstance(v, (bytes, dict))
                               else (dict(v) if isinstance(v, dict) else v), db.expires.get(k))
    return out


def _write_aof(path: str) -> list[int]:
    """Write the commands; returns the file offset after each record (SELECTs included)."""
    w = AofWriter(path, "no")
    ends = []
    for db, argv in _commands():
        w.feed(db, [argv])
        w.flush()
        ends.append(w.size)
    w.close()
    return ends


def _expected_after(n: int) -> dict:
    ks = Keyspace(clock=ManualClock(T0))
    r = loader.Replayer(ks)
    for db, argv in _commands()[:n]:
        r.apply([b"SELECT", str(db).encode()])
        r.apply(argv)
    return _state(ks)


def _aof_dir(tmp_path) -> tuple[str, str]:
    d = str(tmp_path / "appendonlydir")
    os.makedirs(d)
    m = mf.Manifest()
    m.incrs = [m.next_incr()]
    m.write(d)
    return d, os.path.join(d, m.incrs[0].name)


def test_truncation_at_every_offset_loads_a_consistent_prefix(tmp_path):
    d, incr = _aof_dir(tmp_path)
    ends = _write_aof(incr)
    data = open(incr, "rb").read()
    expected = {0: _expected_after(0)}
    for i in range(1, len(ends) + 1):
        expected[ends[i - 1]] = _expected_after(i)
    records, pos = [], 0
    while pos < len(data):
        pos = loader.scan(data, pos, 1)[0]
        records.append(pos)
    warnings = []
    for cut in range(len(data) + 1):
        with open(incr, "wb") as f:
            f.write(data[:cut])
        ks = Keyspace(clock=ManualClock(T0))
        loader.load_aof_dir(ks, d, "appendonly.aof", True, warnings.append)
        done = max([e for e in [0] + ends if e <= cut])  # last complete command
        assert _state(ks) == expected[done], cut
        # The tail was cut back to the last complete record (a lone SELECT is one).
        assert os.path.getsize(incr) == max(e for e in [0] + records if e <= cut), cut
    assert warnings  # a truncated tail is logged


def test_truncated_tail_refused_when_aof_load_truncated_is_no(tmp_path):
    d, incr = _aof_dir(tmp_path)
    ends = _write_aof(incr)
    os.truncate(incr, ends[-1] - 3)
    with pytest.raises(AofError) as err:
        loader.load_aof_dir(Keyspace(), d, "appendonly.aof", False)
    # The last SET starts after a SELECT 0 (the db changed): that is where the file breaks.
    assert err.value.offset == ends[-1] - len(b"*3\r\n$3\r\nSET\r\n$1\r\ns\r\n$2\r\nv2\r\n")
    assert "appendonly.aof.1.incr.aof" in str(err.value)


@pytest.mark.parametrize("garbage", [b"xx", b"*2\r\n$3\r\nDEL\r\n$1x\r\n", b"+OK\r\n",
                                     b"*1\r\n$7\r\nNOTACMD\r\n"])
def test_corruption_in_the_middle_names_file_and_offset(tmp_path, garbage):
    d, incr = _aof_dir(tmp_path)
    ends = _write_aof(incr)
    data = open(incr, "rb").read()
    with open(incr, "wb") as f:
        f.write(data[: ends[3]] + garbage + data[ends[3]:])
    with pytest.raises(AofError) as err:
        loader.load_aof_dir(Keyspace(clock=ManualClock(T0)), d, "appendonly.aof")
    assert err.value.offset == ends[3]
    assert f"appendonly.aof.1.incr.aof at offset {ends[3]}" in str(err.value)
    assert os.path.getsize(incr) == len(data) + len(garbage)  # never "fixed" silently


def test_truncated_file_that_is_not_the_last_is_refused(tmp_path):
    d, incr = _aof_dir(tmp_path)
    ends = _write_aof(incr)
    m = mf.read(d)
    second = m.next_incr()
    m.incrs.append(second)
    m.write(d)
    open(os.path.join(d, second.name), "wb").close()
    os.truncate(incr, ends[-1] - 1)
    with pytest.raises(AofError, match="not the last"):
        loader.load_aof_dir(Keyspace(), d, "appendonly.aof")


def _filled_keyspace() -> Keyspace:
    ks = Keyspace(clock=ManualClock(T0))
    r = loader.Replayer(ks)
    for db, argv in _commands():
        r.apply([b"SELECT", str(db).encode()])
        r.apply(argv)
    r.apply([b"SET", b"gone", b"x", b"PXAT", str(T0 - 1).encode()])  # already expired
    return ks


def test_snapshot_round_trip_and_expired_keys_skipped(tmp_path):
    ks = _filled_keyspace()
    path = str(tmp_path / "dump.kvs")
    snapshot.dump(ks, path)
    assert open(path, "rb").read(6) == b"KVSNAP"
    back = Keyspace(clock=ManualClock(T0))
    snapshot.apply(back, snapshot.load(path))
    live = {k: v for k, v in _state(ks).items() if k != (0, b"gone")}
    assert _state(back) == live
    later = Keyspace(clock=ManualClock(T0 + 20_000))  # the TTL key expired meanwhile
    snapshot.apply(later, snapshot.load(path))
    assert (0, b"ttl") not in _state(later)
    assert not [n for n in os.listdir(tmp_path) if n.startswith("temp-")]


def test_snapshot_checksum_mismatch_is_refused(tmp_path):
    path = str(tmp_path / "dump.kvs")
    snapshot.dump(_filled_keyspace(), path)
    data = bytearray(open(path, "rb").read())
    data[20] ^= 0x40
    open(path, "wb").write(bytes(data))
    with pytest.raises(SnapshotError, match="checksum mismatch") as err:
        list(snapshot.load(path))
    assert err.value.offset == len(data) - 8 and err.value.path == path
    open(path, "wb").write(b"NOTSNAP" + bytes(data[7:]))
    with pytest.raises(SnapshotError, match="bad magic"):
        list(snapshot.load(path))


def test_manifest_round_trip_and_errors():
    m = mf.Manifest()
    m.base = m.next_base()
    m.incrs = [m.next_incr()]
    m.incrs.append(m.next_incr())
    text = m.text()
    assert text == ("file appendonly.aof.1.base.kvs seq 1 type b\n"
                    "file appendonly.aof.1.incr.aof seq 1 type i\n"
                    "file appendonly.aof.2.incr.aof seq 2 type i\n")
    assert mf.parse(text).files() == m.files()
    # Redis's own manifest (an RDB base, a history entry) parses too.
    redis = "file appendonly.aof.3.base.rdb seq 3 type b\nfile x.aof seq 1 type h\n"
    assert mf.parse(redis).base.name == "appendonly.aof.3.base.rdb"
    with pytest.raises(mf.ManifestError):
        mf.parse("file a seq 1\n")
    with pytest.raises(mf.ManifestError):
        mf.parse("file a seq 2 type i\nfile b seq 1 type i\n")


def test_check_tool(tmp_path, capsys):
    d, incr = _aof_dir(tmp_path)
    ends = _write_aof(incr)
    assert check.main([d]) == 0
    os.truncate(incr, ends[-1] - 2)
    assert check.main([incr]) == 1
    cut = ends[-1] - 28  # the last SET record is 28 bytes
    assert f"truncated record at offset {cut}" in capsys.readouterr().out
    assert check.main(["--fix", os.path.join(d, "appendonly.aof.manifest")]) == 0
    assert os.path.getsize(incr) == cut
    assert check.main([d]) == 0
    snap = str(tmp_path / "any-name")
    snapshot.dump(_filled_keyspace(), snap)
    assert check.main([snap]) == 0
    assert "OK snapshot" in capsys.readouterr().out
    data = bytearray(open(snap, "rb").read())
    data[-1] ^= 1
    open(snap, "wb").write(bytes(data))
    assert check.main([snap]) == 1
    shutil.rmtree(d)
    # A Redis 7 AOF base with an RDB preamble: checked as one, never "fixed" to nothing.
    base = str(tmp_path / "appendonly.aof.1.base.rdb")
    with open(base, "wb") as f:
        write_rdb(_filled_keyspace(), f, 0)
    capsys.readouterr()
    assert check.main(["--fix", base]) == 0
    assert "OK RDB file" in capsys.readouterr().out
    data = bytearray(open(base, "rb").read())
    data[-1] ^= 1
    open(base, "wb").write(bytes(data))
    assert check.main(["--fix", base]) == 1
    assert "bad RDB file: wrong RDB checksum" in capsys.readouterr().out
    assert os.path.getsize(base) == len(data)


# -- a whole read logged as it came (AofWriter.log_batch) -------------------------------------

# (Not the canonical encoding: "XY" stands where "\r\n" would, which the parser skips unread.)
_READ = b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$2\r\nv1XY*3\r\n$4\r\nHSET\r\n$1\r\nh\r\n$1\r\nf\r\n"


def _batch() -> list[list[bytes]]:
    return [[b"SET", b"a", b"v1"], [b"HSET", b"h", b"f"]]


def _writer_in_db0(path: str) -> AofWriter:
    w = AofWriter(path, "no")
    w.feed(0, [[b"DEL", b"x"]])  # the file's SELECT 0 and a first record
    return w


def test_a_batch_logged_plain_is_written_as_the_bytes_it_was_read_from(tmp_path):
    w = _writer_in_db0(str(tmp_path / "f.aof"))
    start = len(w.buf)
    batch = _batch()
    w.plain += batch
    w.log_batch(_READ, batch)
    assert not w.plain and bytes(w.buf[start:]) == _READ


@pytest.mark.parametrize("case", ["other objects", "one more", "one less", "no read"])
def test_a_batch_not_logged_exactly_is_encoded(tmp_path, case):
    w = _writer_in_db0(str(tmp_path / "f.aof"))
    start = len(w.buf)
    batch = _batch()
    read = _READ
    if case == "other objects":  # equal commands, but not the ones this batch ran
        w.plain += _batch()
    elif case == "one more":  # e.g. a served BLPOP's pop, logged with the push
        w.plain += batch + [[b"LPOP", b"l"]]
    elif case == "one less":  # e.g. a SET NX that changed nothing
        w.plain += batch[:1]
    else:
        w.plain += batch
        read = None
    logged = list(w.plain)
    w.log_batch(read, batch)
    expected = bytearray()
    for argv in logged:
        expected += b"*%d\r\n" % len(argv) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a)
                                                     for a in argv)
    assert not w.plain and bytes(w.buf[start:]) == bytes(expected)


def test_plain_commands_are_encoded_before_any_other_record(tmp_path):
    w = _writer_in_db0(str(tmp_path / "f.aof"))
    w.plain.append([b"SET", b"k", b"1"])
    w.feed(1, [[b"DEL", b"k"]])
    w.plain.append([b"SET", b"k", b"2"])  # (the hook logs plain only in w.db: here 1)
    w.flush()
    w.close()
    ks = Keyspace()
    loader.replay_file(str(tmp_path / "f.aof"), loader.Replayer(ks), True, True, print)
    assert ks.dbs[0].data == {b"k": b"1"} and ks.dbs[1].data == {b"k": b"2"}


@pytest.mark.parametrize("reader", ["fast", "scan"])
def test_the_two_bytes_after_a_bulk_are_skipped_like_redis(tmp_path, reader):
    # hiredis (the server's request parser) skips them unread, as Redis does; a read logged as
    # it came may hold anything there, and must load back to the same commands.
    path = str(tmp_path / "f.aof")
    data = b"*3\r\n$3\r\nSET\r\n$1\r\nkXY$1\r\nv\r\n*2\r\n$3\r\nDEL\r\n$1\r\nx??"
    if reader == "scan":
        out: list = []
        assert loader.scan(data, 0, -1, out) == (len(data), 2, loader.OK)
        assert out == [[b"SET", b"k", b"v"], [b"DEL", b"x"]]
        return
    open(path, "wb").write(data)
    ks = Keyspace()
    assert loader.replay_file(path, loader.Replayer(ks), True, True, print) == 2
    assert ks.dbs[0].data == {b"k": b"v"}


def test_bytes_written_during_an_fsync_are_not_taken_for_synced(tmp_path, monkeypatch):
    # everysec: the fsync thread covers what was written when it began; a write landing while
    # it runs stays unsynced, so the next period fsyncs again instead of never.
    import kvstore.persistence.aof as aof

    w = AofWriter(str(tmp_path / "a.aof"), "no")
    w.feed(0, [[b"SET", b"k", b"1"]])
    w.flush()
    real = aof._fsync

    def fsync_while_the_loop_writes(fd):
        w.feed(0, [[b"SET", b"k", b"2"]])
        w.flush()
        real(fd)

    monkeypatch.setattr(aof, "_fsync", fsync_while_the_loop_writes)
    w.fsync()
    monkeypatch.setattr(aof, "_fsync", real)
    assert 0 < w.synced < w.total
    w.fsync()
    assert w.synced == w.total
    w.feed(0, [[b"SET", b"k", b"3"]])
    w.flush(fsync=True)
    assert w.synced == w.total
    w.close()
