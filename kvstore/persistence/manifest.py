"""The multi-part AOF manifest (Redis 7's `appendonly.aof.manifest`).

The AOF directory (`appenddirname`, default "appendonlydir") holds one base file, any number of
incremental files, and the manifest that says which files make up the data set, in order:

    file appendonly.aof.2.base.kvs seq 2 type b
    file appendonly.aof.5.incr.aof seq 5 type i
    file appendonly.aof.6.incr.aof seq 6 type i

This is Redis 7's line format (`file <name> seq <n> type b|h|i`; `h` = history, a file waiting to
be deleted, which a loader skips). Ours differs in one place only: our base is a kvstore snapshot
(`.base.kvs`, see snapshot.py) where Redis's is an RDB; a RESP base (`.base.aof`, what Redis
writes with aof-use-rdb-preamble no) is read too.

The manifest is the single switch point of a rewrite: it is written to a temp file, fsynced,
renamed over the old one, and the directory is fsynced, so after a crash at any instant the
directory holds either the old manifest or the new one, and every file either names exists.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .snapshot import fsync_dir

BASE, HISTORY, INCR = "b", "h", "i"


class ManifestError(Exception):
    pass


@dataclass
class Entry:
    name: str
    seq: int
    type: str


@dataclass
class Manifest:
    """The manifest of one AOF directory. `base` may be None (no base yet); `incrs` in order."""

    filename: str = "appendonly.aof"
    base: Entry | None = None
    incrs: list[Entry] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.filename + ".manifest"

    def next_base(self, ext: str = "kvs") -> Entry:
        seq = self.base.seq + 1 if self.base else 1
        return Entry(f"{self.filename}.{seq}.base.{ext}", seq, BASE)

    def next_incr(self) -> Entry:
        seq = self.incrs[-1].seq + 1 if self.incrs else 1
        return Entry(f"{self.filename}.{seq}.incr.aof", seq, INCR)

    def files(self) -> list[Entry]:
        return ([self.base] if self.base else []) + list(self.incrs)

    def text(self) -> str:
        return "".join(f"file {e.name} seq {e.seq} type {e.type}\n" for e in self.files())

    def write(self, directory: str) -> None:
        """Switch the manifest atomically (temp file, fsync, rename, fsync of the directory)."""
        path = os.path.join(directory, self.name)
        tmp = os.path.join(directory, "temp-" + self.name)
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(self.text())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fsync_dir(directory)


# Redis's MANIFEST_MAX_LINE: a line, its newline included, longer than this is refused (so is a
# last line without a newline: Redis cannot tell it from a cut one).
MAX_LINE = 1024  # bytes


def parse(text: str, path: str = "manifest") -> Manifest:
    """Parse a manifest with Redis's rules (aofLoadManifestFromFile): '#' comment lines, keys in
    any order and any case, unknown keys ignored, at least the three known pairs; an empty file,
    a blank line, a too long line or an unknown type is refused with Redis's text."""
    if not text:
        raise ManifestError(f"Found an empty AOF manifest: {path}")
    m = Manifest()
    lines = text.split("\n")
    for n, line in enumerate(lines, 1):
        if n == len(lines) and not line:
            break  # (after the last newline)
        if line.startswith("#"):
            continue
        if n == len(lines) or len(line.encode()) + 1 > MAX_LINE:
            raise ManifestError(f"The AOF manifest file contains too long line: {path} line {n}")
        words = line.split()
        if len(words) < 6 or len(words) % 2:
            raise ManifestError(f"Invalid AOF manifest file format: {path} line {n}")
        kv = {k.lower(): v for k, v in zip(words[0::2], words[1::2])}
        try:
            entry = Entry(kv["file"], int(kv["seq"]), kv["type"][0])
        except (KeyError, ValueError):
            raise ManifestError(f"Invalid AOF manifest file format: {path} line {n}") from None
        if entry.seq == 0:
            raise ManifestError(f"Invalid AOF manifest file format: {path} line {n}")
        if "/" in entry.name:
            raise ManifestError(f"File can't be a path, just a filename: {path} line {n}")
        if entry.type == BASE:
            if m.base is not None:
                raise ManifestError(f"Found duplicate base file information: {path} line {n}")
            m.base = entry
        elif entry.type == INCR:
            if m.incrs and entry.seq <= m.incrs[-1].seq:
                raise ManifestError(f"Found a non-monotonic sequence number: {path} line {n}")
            m.incrs.append(entry)
        elif entry.type != HISTORY:
            raise ManifestError(f"Unknown AOF file type: {path} line {n}")
    return m


def read(directory: str, filename: str = "appendonly.aof") -> Manifest | None:
    """The manifest of `directory`, or None if there is none."""
    path = os.path.join(directory, filename + ".manifest")
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        return None
    m = parse(text, path)
    m.filename = filename
    return m
