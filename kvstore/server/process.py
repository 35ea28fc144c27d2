"""What the operating system sees of the server process: its OOM score, title and CPUs.

`oom-score-adj` / `oom-score-adj-values` set /proc/self/oom_score_adj as Redis's setOOMScoreAdj:
one value for a master, one for a replica, one for a forked child (a snapshot, a rewrite, a
debugging session), relative to the score the process had before the first change ("yes",
"relative") or as given ("absolute"); "no" puts the first score back.

`set-proc-title` / `proc-title-template` rewrite the command line `ps` shows, as Redis's
redisSetProcTitle: "{title} {listen-addr} {server-mode}" gives `kvstore-server 127.0.0.1:6379`,
and a child is titled by its job (`redis-rdb-bgsave 127.0.0.1:6379`, Redis's names, so that
what watches a Redis host's processes sees ours alike). Python keeps its own copy of the
arguments, so the title is written over the original ones (their place is in /proc/self/stat),
cut to their length: the kernel shows the command line from there.

`server_cpulist`, `bgsave_cpulist` and `aof_rewrite_cpulist` pin the server's thread (once it
has loaded its data) and the children, as Redis's setcpuaffinity: a list it cannot read, or
one the kernel refuses, changes nothing.
"""

from __future__ import annotations

import ctypes
import os
import re
import signal
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .server import Server

OOM_SCORE_PATH = "/proc/self/oom_score_adj"
MASTER, REPLICA, CHILD = 0, 1, 2  # oom-score-adj-values' order

_DIGITS = re.compile(r"[0-9]+")
CPU_SETSIZE = 1024  # glibc's cpu_set_t: CPU_SET ignores higher numbers

# Each kind of forked child: its title, as Redis names it (None: the parent's stays, as for a
# debugging session), and the option listing its CPUs
_CHILDREN = {
    "bgsave": ("redis-rdb-bgsave", "bgsave_cpulist"),
    "aof": ("redis-aof-rewrite", "aof_rewrite_cpulist"),
    "sync": ("redis-rdb-to-slaves", "bgsave_cpulist"),  # (a replica's file)
    "ldb": (None, None),
}


_PR_SET_PDEATHSIG = 1


def _die_with(parent: int) -> None:
    """Have the kernel kill this forked child when its parent ends. Redis's save and sync
    children exit once they cannot report to their parent (within about a second): ours went on
    after a kill -9 of the server, for as long as their save took (rdb-key-save-delay: for
    ever). Linux only; the server forks from its loop's thread, whose end is the process's."""
    try:
        prctl = ctypes.CDLL(None).prctl
    except (OSError, AttributeError):
        return
    prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # it ended before the call
        os._exit(1)


def parse_cpulist(text: str) -> set[int]:
    """The CPUs of a cpulist ("0-3", "0,2", "0-7:2"), as Redis's cpuset_parse reads it, quirks
    included; none when it finds a number missing where one is due, a range going down, or
    something after its last number."""
    cpus: set[int] = set()

    def after(pos: int, sep: str) -> int:  # next_token: past the next `sep`, or -1
        found = text.find(sep, pos) if pos >= 0 else -1
        return found + 1 if found >= 0 else -1

    def number(pos: int) -> tuple[int, int] | None:  # next_num: (value, end)
        m = _DIGITS.match(text, pos) if pos >= 0 else None
        return (int(m.group()), m.end()) if m else None

    q = 0
    while q >= 0:
        p, q = q, after(q, ",")
        read = number(p)
        if read is None:
            return set()
        first, end = read
        last, step = first, 1
        dash, comma = after(end, "-"), after(end, ",")
        if dash >= 0 and (comma < 0 or dash < comma):
            read = number(dash)
            if read is None:
                return set()
            last, end = read
            colon = after(end, ":") if end < len(text) else -1
            if colon >= 0 and (comma < 0 or colon < comma):
                read = number(colon)
                if read is None or read[0] == 0:
                    return set()
                step, end = read
        if first > last:
            return set()
        cpus.update(range(first, min(last, CPU_SETSIZE - 1) + 1, step))
    return cpus if end == len(text) else set()


def pin(cpulist: str) -> None:
    """Pin the calling thread to `cpulist`'s CPUs (nothing for an empty list, or when the
    kernel refuses them, as Redis)."""
    if cpulist:
        try:
            os.sched_setaffinity(0, parse_cpulist(cpulist))
        except (OSError, ValueError, OverflowError):
            pass


def _argv_area() -> tuple[int, int] | None:
    """(address, size) of the process's original argument strings, or None where /proc does not
    say (then the title stays as it is)."""
    try:
        with open("/proc/self/stat", "rb") as f:
            stat = f.read()
        fields = stat[stat.rindex(b")") + 2:].split()
        start, end = int(fields[45]), int(fields[46])  # arg_start, arg_end (fields 48, 49)
    except (OSError, ValueError, IndexError):
        return None
    return (start, end - start) if end > start else None


def warn_of_oom_values(config, log) -> None:
    """Redis's warning, whenever the values are set (a config file's included), when a replica
    or a child would get a lower score than a master: an unprivileged process cannot lower it."""
    low, mid, high = config["oom-score-adj-values"]
    if mid < low or high < mid:
        log.warning("The oom-score-adj-values configuration may not work for non-privileged "
                    "processes! Please consult the documentation.")


def server_title() -> str:
    """{title} of the server itself: the program's name as run (kvstore-server), as Redis's is
    its argv[0]."""
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return name if name and name != "__main__.py" else "kvstore-server"


class ProcessControls:
    """The OOM score and title of the process a `Server` runs in: made by the program
    (main.py), never for a server embedded in another process, whose title and score it has no
    business changing."""

    def __init__(self, server: "Server") -> None:
        self.server = server
        self.pid = os.getpid()  # (made after daemonize's fork)
        self.title = server_title()
        self._area = _argv_area()
        # The score before kvstore changed it, while it has (Redis's oom_score_adj_base and
        # oom_score_adjusted_by_redis in one)
        self._base_score: int | None = None

    def attach(self) -> None:
        """Follow the options from now on (CONFIG SET fails, as Redis's, when the score cannot
        be written)."""
        cfg = self.server.config
        for name in ("oom-score-adj", "oom-score-adj-values"):
            cfg.on_change(name, lambda _v, name=name: self._oom_option_set(name))
        cfg.on_change("proc-title-template", lambda _v: self.set_title())

    # -- OOM score -----------------------------------------------------------------------------

    def set_oom_score(self, process_class: int | None = None) -> bool:
        """Write the score for `process_class` (None: this server's role). False, logged, when
        /proc refuses."""
        cfg = self.server.config
        log = self.server.log
        if process_class is None:
            process_class = REPLICA if self.server.master_link is not None else MASTER
        mode = cfg["oom-score-adj"]
        if mode != "no":
            if self._base_score is None:
                try:
                    with open(OOM_SCORE_PATH) as f:
                        self._base_score = int(f.read().strip() or 0)
                except (OSError, ValueError) as exc:
                    log.warning("Unable to read oom_score_adj: %s",
                                getattr(exc, "strerror", None) or exc)
                    return False
            value = cfg["oom-score-adj-values"][process_class]
            if mode != "absolute":  # "yes" or "relative"
                value += self._base_score
            value = max(-1000, min(1000, value))
        elif self._base_score is not None:
            value, self._base_score = self._base_score, None
        else:
            return True
        try:
            with open(OOM_SCORE_PATH, "w") as f:
                f.write(f"{value}\n")
        except OSError as exc:
            log.warning("Unable to write oom_score_adj: %s", exc.strerror or exc)
            return False
        return True

    def _oom_option_set(self, name: str) -> None:
        from .config import ConfigError

        if name == "oom-score-adj-values":
            warn_of_oom_values(self.server.config, self.server.log)
        if not self.set_oom_score():
            self.server.log.warning("Failed applying new configuration. Possibly related to new "
                                    "%s setting. Restoring previous settings.", name)
            raise ConfigError("Failed to set current oom_score_adj. Check server logs.")

    # -- title ---------------------------------------------------------------------------------

    def expand(self, title: str) -> str:
        """proc-title-template expanded (Redis's sdstemplate: `{{` is a brace, the variables
        are known, config.py checked it), blanks at the ends trimmed."""
        cfg = self.server.config
        port = cfg["port"]
        binds = cfg["bind"].split()
        values = {
            "title": title,
            "listen-addr": f"{binds[0] if binds else '*'}:{port}" if port
            else f"unixsocket:{cfg['unixsocket']}",
            "server-mode": "[cluster]" if cfg["cluster-enabled"] else "",
            "config-file": cfg.config_file or "-",
            "port": str(port),
            "tls-port": str(cfg["tls-port"]),
            "unixsocket": cfg["unixsocket"],
        }
        template = cfg["proc-title-template"]
        out = []
        i = 0
        while (j := template.find("{", i)) >= 0:
            out.append(template[i:j])
            if template[j + 1:j + 2] == "{":
                out.append("{")
                i = j + 2
                continue
            k = template.index("}", j + 1)
            out.append(values[template[j + 1:k]])
            i = k + 1
        out.append(template[i:])
        return "".join(out).strip(" ")

    def set_title(self, title: str | None = None) -> None:
        """Show the template with `title` (None: the server's own) as the command line."""
        if self._area is None:
            return
        address, size = self._area
        text = self.expand(self.title if title is None else title)
        data = text.encode("utf-8", "surrogateescape")[:size - 1].ljust(size, b"\0")
        ctypes.memmove(address, data, size)

    # -- forked children -----------------------------------------------------------------------

    def in_child(self, kind: str) -> None:
        """In a child of `kind` (_CHILDREN) just forked: its score, title and CPUs, and, but for
        a debugging session's, its end with the server's."""
        if kind != "ldb":
            _die_with(self.pid)
        self.server.log.role = "C"  # as Redis's children's log lines
        self.set_oom_score(CHILD)
        title, cpulist = _CHILDREN[kind]
        if title is not None:
            self.set_title(title)
        if cpulist is not None:
            pin(self.server.config[cpulist])
