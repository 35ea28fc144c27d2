"""`kvstore-check-aof [--fix] PATH`: check an AOF directory, manifest, AOF file or snapshot.

PATH may be an AOF directory (its manifest is read), a manifest, a single RESP `.aof` file, a
snapshot (recognised by its KVSNAP magic, whatever its name) or a Redis RDB file (its REDIS magic:
the preamble of a Redis 7 AOF base). For each file it prints OK or the byte offset of the first
bad record. `--fix` truncates a RESP file to its last valid record (what redis-check-aof --fix
does, without the confirmation prompt); a snapshot or an RDB file cannot be fixed.
Exit status: 0 when everything is (now) valid, 1 otherwise.
"""

from __future__ import annotations

import argparse
import mmap
import os
import sys

from ..engine import rdb
from . import manifest as mf
from . import snapshot
from .loader import OK, TRUNCATED, is_rdb, scan


def check_resp(path: str, fix: bool) -> bool:
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size == 0:
            print(f"{path}: OK (empty)")
            return True
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            end, count, state = scan(buf)
    if state == OK:
        print(f"{path}: OK ({count} commands, {size} bytes)")
        return True
    what = "truncated record" if state == TRUNCATED else "invalid record"
    print(f"{path}: {what} at offset {end} (after {count} valid commands; "
          f"{size - end} bytes would be discarded)")
    if fix:
        os.truncate(path, end)
        print(f"{path}: fixed, truncated to {end} bytes")
        return True
    return False


def check_snapshot(path: str) -> bool:
    try:
        snapshot.verify(path)
        n = sum(1 for r in snapshot.load(path, check=False) if r[2] != snapshot.REPL_RECORD)
    except snapshot.SnapshotError as exc:
        print(f"{path}: {exc} (offset {exc.offset})")
        return False
    except Exception as exc:  # noqa: BLE001 - any decoding failure is a bad snapshot
        print(f"{path}: undecodable snapshot body: {exc}")
        return False
    print(f"{path}: OK snapshot ({n} keys)")
    return True


def check_rdb(path: str) -> bool:
    """A Redis RDB file (an AOF base's preamble): its format and checksum, read whole."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        n = sum(1 for record in rdb.read_file(data) if record[0] == "key")
    except rdb.RdbFormatError as exc:
        print(f"{path}: bad RDB file: {exc}")
        return False
    print(f"{path}: OK RDB file ({n} keys)")
    return True


def is_snapshot(path: str) -> bool:
    with open(path, "rb") as f:
        return f.read(len(snapshot.MAGIC)) == snapshot.MAGIC


def check_path(path: str, fix: bool = False) -> bool:
    """Check PATH (see the module docstring). Returns True when valid."""
    if os.path.isdir(path):
        names = [n for n in os.listdir(path) if n.endswith(".manifest")
                 and not n.startswith("temp-")]
        if not names:
            print(f"{path}: no manifest found")
            return False
        path = os.path.join(path, names[0])
    if path.endswith(".manifest"):
        directory = os.path.dirname(path)
        try:
            with open(path, encoding="utf-8") as f:
                m = mf.parse(f.read(), path)
        except (OSError, mf.ManifestError) as exc:
            print(f"{path}: {exc}")
            return False
        files = m.files()
        ok = True
        for i, entry in enumerate(files):
            p = os.path.join(directory, entry.name)
            if not os.path.exists(p):
                print(f"{p}: missing (named in the manifest)")
                ok = False
                continue
            # Only the last file may be cut back; earlier ones are reported, never truncated.
            ok = check_file(p, fix and i == len(files) - 1) and ok
        return ok
    return check_file(path, fix)


def check_file(path: str, fix: bool) -> bool:
    if is_snapshot(path):
        return check_snapshot(path)
    return check_rdb(path) if is_rdb(path) else check_resp(path, fix)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="kvstore-check-aof", description=__doc__.splitlines()[0])
    ap.add_argument("--fix", action="store_true", help="truncate a bad tail")
    ap.add_argument("path")
    args = ap.parse_args(argv)
    if not os.path.exists(args.path):
        print(f"Cannot open file: {args.path}", file=sys.stderr)
        return 1
    return 0 if check_path(args.path, args.fix) else 1


if __name__ == "__main__":
    sys.exit(main())
