"""What the operating system sees of a server, on kvstore and on redis-server: the title `ps`
shows (set-proc-title, proc-title-template; a forked child's) and the OOM score
(oom-score-adj, oom-score-adj-values) of the server, as a master or a replica, and of its
children. Linux only: both come from /proc."""

from __future__ import annotations

import os
import re
import signal
import socket
import threading

import pytest

from tests.conftest import free_port

from .helpers import Conn, err, wait_until

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/oom_score_adj"),
                                reason="needs Linux's /proc")

KINDS = ["kvstore", "redis"]
TEMPLATE = "{title} x {port} {config-file} {unixsocket} {server-mode} y"


def title_of(pid: int) -> str:
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().split(b"\0")[0].decode()


def oom_score(pid: int) -> int:
    with open(f"/proc/{pid}/oom_score_adj") as f:
        return int(f.read())


def children(pid: int) -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat", "rb") as f:
                    stat = f.read()
            except OSError:  # gone meanwhile
                continue
            if int(stat[stat.rindex(b")") + 2:].split()[1]) == pid:
                found.append(int(name))
    return found


def own_title(p) -> str:
    """{title} of the server itself: redis-server's argv[0]; kvstore's program name."""
    return p.args[0] if p.kind == "redis" else "kvstore-server"


def slow_bgsave(c: Conn, pid: int) -> int:
    """Start a BGSAVE that takes seconds (2,000 keys, 1 ms each) and return its child's pid."""
    c("DEBUG", "POPULATE", "2000")
    c("CONFIG", "SET", "rdb-key-save-delay", "1000")
    assert c("BGSAVE") == b"Background saving started"
    found: list[int] = []
    wait_until(lambda: found.extend(children(pid)) or found, timeout=10)
    return found[0]


def settled(read, expected) -> None:
    """`read()` gives `expected` (a child sets its title and score just after the fork)."""
    wait_until(lambda: read() == expected, timeout=10, what=lambda: f"{expected!r}, not {read()!r}")


def end_bgsave(c: Conn, child: int) -> None:
    os.kill(child, 9)  # (the server logs a failed save and goes on)
    wait_until(lambda: b"rdb_bgsave_in_progress:0" in c("INFO", "persistence"))


def move_port(c: Conn) -> tuple[Conn, int]:
    """CONFIG SET port to a free port: (a connection there, the port)."""
    port = free_port()
    assert c("CONFIG", "SET", "port", str(port)) == b"OK"
    c.close()
    return Conn(port), port


def bgsave_child_titled(c: Conn, pid: int, title: str) -> None:
    child = slow_bgsave(c, pid)
    settled(lambda: title_of(child), title)
    end_bgsave(c, child)


@pytest.mark.parametrize("kind", KINDS)
def test_title_is_the_program_and_the_address(kind, kv_factory):
    p = kv_factory("--bind", "127.0.0.1", kind=kind)
    assert title_of(p.proc.pid) == f"{own_title(p)} 127.0.0.1:{p.port}"


@pytest.mark.parametrize("kind", KINDS)
def test_title_template_port_change_and_child(kind, kv_factory):
    p = kv_factory("--bind", "127.0.0.1", "--proc-title-template", TEMPLATE, kind=kind)
    c = Conn(p.port)
    pid = p.proc.pid
    assert title_of(pid) == f"{own_title(p)} x {p.port} -   y"
    c, port = move_port(c)
    assert title_of(pid) == f"{own_title(p)} x {port} -   y"
    bgsave_child_titled(c, pid, f"redis-rdb-bgsave x {port} -   y")
    assert c("CONFIG", "SET", "proc-title-template", "{{{title}}} {port}") == b"OK"
    # (sdstemplate: "{{" is a brace, "}" is itself)
    assert title_of(pid) == f"{{{own_title(p)}}}}} {port}"


@pytest.mark.parametrize("kind", KINDS)
def test_set_proc_title_no_keeps_the_command_line_until_a_template_is_set(kind, kv_factory):
    p = kv_factory("--bind", "127.0.0.1", "--set-proc-title", "no", kind=kind)
    c = Conn(p.port)
    pid = p.proc.pid
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        assert f.read().split(b"\0")[:-1] == [a.encode() for a in p.args]
    c, port = move_port(c)
    assert "--set-proc-title" in open(f"/proc/{pid}/cmdline", "rb").read().decode()
    bgsave_child_titled(c, pid, f"redis-rdb-bgsave 127.0.0.1:{port}")  # (all the same)
    assert c("CONFIG", "SET", "proc-title-template", "{title} {port}") == b"OK"
    assert title_of(pid) == f"{own_title(p)} {port}"


@pytest.mark.parametrize("kind", KINDS)
def test_oom_score_follows_the_role_and_the_options(kind, kv_factory):
    base = oom_score(os.getpid())  # what the server starts with (it inherits ours)
    p = kv_factory("--oom-score-adj", "yes", "--oom-score-adj-values", "5 50 100", kind=kind)
    c = Conn(p.port)
    pid = p.proc.pid
    assert oom_score(pid) == min(1000, base + 5)
    assert c("CONFIG", "SET", "oom-score-adj", "absolute") == b"OK"
    assert oom_score(pid) == 5
    assert c("REPLICAOF", "127.0.0.1", str(free_port())) == b"OK"  # (nobody there)
    assert oom_score(pid) == 50
    assert c("REPLICAOF", "NO", "ONE") == b"OK"
    assert oom_score(pid) == 5
    child = slow_bgsave(c, pid)
    settled(lambda: oom_score(child), 100)
    end_bgsave(c, child)
    assert c("CONFIG", "SET", "oom-score-adj-values", "7 8 9") == b"OK"
    assert oom_score(pid) == 7
    assert c("CONFIG", "SET", "oom-score-adj", "no") == b"OK"
    assert oom_score(pid) == base  # the score before the server changed it
    assert c("CONFIG", "GET", "oom-score-adj") == [b"oom-score-adj", b"no"]


def test_oom_score_refused_as_redis(kv_factory):
    """A score /proc refuses (below what an unprivileged process may set; a privileged one may)
    gets the same reply, score and log lines on both servers."""
    seen = {}
    for kind in KINDS:
        p = kv_factory("--oom-score-adj", "absolute", "--oom-score-adj-values", "10 20 30",
                       kind=kind)
        c = Conn(p.port)
        reply = c("CONFIG", "SET", "oom-score-adj-values", "-1000 0 0")
        replies = [err(reply) or reply, oom_score(p.proc.pid),
                   c("CONFIG", "GET", "oom-score-adj-values")]
        lines = [line.split(" # ", 1)[1] for line in p.output().splitlines()
                 if " # " in line and "oom" in line]
        seen[kind] = (replies, lines)
    assert seen["kvstore"] == seen["redis"]
    replies, lines = seen["kvstore"]
    if replies[0] == b"OK":  # a privileged process
        assert replies[1] == -1000
    else:
        assert replies[0] == ("ERR CONFIG SET failed (possibly related to argument "
                              "'oom-score-adj-values') - Failed to set current "
                              "oom_score_adj. Check server logs.")
        assert replies[1:] == [10, [b"oom-score-adj-values", b"10 20 30"]]
        assert any(line.startswith("Unable to write oom_score_adj") for line in lines)


@pytest.mark.parametrize("kind", KINDS)
def test_debugging_session_child_has_the_child_score_and_the_parent_title(kind, kv_factory):
    p = kv_factory("--oom-score-adj", "absolute", "--oom-score-adj-values", "5 50 100", kind=kind)
    c = Conn(p.port)
    pid = p.proc.pid
    assert c("SCRIPT", "DEBUG", "YES") == b"OK"
    c.send(Conn.encode("EVAL", "return 1", "0"))
    assert b"Stopped at 1" in c.reply()[0]  # the forked session's first words
    [child] = children(pid)
    assert oom_score(child) == 100 and oom_score(pid) == 5
    assert title_of(child) == title_of(pid)


@pytest.mark.skipif(os.geteuid() != 0 or os.path.exists("/dev/log"),
                    reason="needs to stand in for the syslog daemon at /dev/log (root, none there)")
@pytest.mark.parametrize("kind", KINDS)
def test_syslog_gets_each_line_with_ident_facility_and_level(kind, kv_factory):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("/dev/log")
    got: list[bytes] = []

    def listen() -> None:  # as a daemon does, at once: a sender blocks once 10 datagrams wait
        while not got or not got[-1].endswith(b"ready to exit, bye bye..."):
            got.append(sock.recv(65536))

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    try:
        p = kv_factory("--syslog-enabled", "yes", "--syslog-ident", "kv-test",
                       "--syslog-facility", "local3", "--loglevel", "verbose", kind=kind)
        p.proc.send_signal(signal.SIGTERM)
        assert p.proc.wait(10) == 0
        listener.join(10)
        assert not listener.is_alive()
    finally:
        sock.close()
        os.unlink("/dev/log")
    # "<facility * 8 + level>Mmm dd hh:mm:ss ident[pid]: text", a line's text alone
    # (Redis logs from its signal handler without syslog: the SIGTERM line is left out)
    lines = {}
    for datagram in got:
        m = re.fullmatch(rb"<(\d+)>\w{3} [ \d]\d \d\d:\d\d:\d\d ([^:]+): (.*)", datagram)
        assert m, datagram
        lines[m.group(3).decode()] = (int(m.group(1)), m.group(2).decode())
    ident = f"kv-test[{p.proc.pid}]"
    local3 = 19 * 8
    assert lines["Server initialized"] == (local3 + 4, ident)  # warning
    assert lines["User requested shutdown..."] == (local3 + 4, ident)
    assert lines["Redis is now ready to exit, bye bye..."] == (local3 + 4, ident)
    assert any(text.startswith("Ready to accept connections") and level == (local3 + 5, ident)
               for text, level in lines.items())
    for verbose in ("Accepted 127.0.0.1:", "Client closed connection id="):  # (conftest's INFO)
        assert any(text.startswith(verbose) and level == (local3 + 6, ident)
                   for text, level in lines.items()), verbose
    assert "Server initialized" in p.output()  # the log file has them all the same


def cpus_of(pid: int) -> str:
    with open(f"/proc/{pid}/status") as f:
        return next(line.split()[1] for line in f if line.startswith("Cpus_allowed_list:"))


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rindex(b")") + 2:][:1] != b"Z"  # (a zombie has ended)


@pytest.mark.parametrize("kind", KINDS)
def test_a_save_child_ends_soon_after_its_server_is_killed(kind, kv_factory):
    # integration/replication's "replication child dies when parent is killed": Redis's child
    # exits once it cannot report to its parent (0.9 s here); ours saved on (10 s, or for ever
    # under a longer rdb-key-save-delay)
    p = kv_factory(kind=kind)
    c = Conn(p.port)
    c("DEBUG", "POPULATE", "10000")
    c("CONFIG", "SET", "rdb-key-save-delay", "1000")  # a save of 10 s
    assert c("BGSAVE") == b"Background saving started"
    found: list[int] = []
    wait_until(lambda: found.extend(children(p.proc.pid)) or found, timeout=10)
    os.kill(p.proc.pid, signal.SIGKILL)
    p.proc.wait()
    try:
        wait_until(lambda: not any(map(_running, found)), timeout=5, what="the child's end")
    finally:
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2 or not {0, 1} <= os.sched_getaffinity(0),
                    reason="needs CPUs 0 and 1")
@pytest.mark.parametrize("kind", KINDS)
def test_cpulists_pin_the_server_and_its_children(kind, kv_factory):
    p = kv_factory("--server_cpulist", "1", "--bgsave_cpulist", "0-1:2", kind=kind)
    c = Conn(p.port)
    pid = p.proc.pid
    assert cpus_of(pid) == "1"
    child = slow_bgsave(c, pid)
    settled(lambda: cpus_of(child), "0")
    end_bgsave(c, child)


@pytest.mark.skipif(not {0, 1} <= os.sched_getaffinity(0), reason="needs CPUs 0 and 1")
def test_cpulist_reading_as_redis(kv_factory):
    """Odd lists pin the same CPUs on both servers: a step past the range, and none at all for
    a list Redis cannot read (a missing number, a range going down, trailing text) or CPUs
    the kernel refuses."""
    lists = ["1,0", "0-1:3", "0-", "x", "1-0", "0,x,1", "1a", "1-3a", "1,x", "7"]
    seen = {}
    for kind in KINDS:
        got = []
        for i, cpulist in enumerate(lists):
            p = kv_factory("--server_cpulist", cpulist, kind=kind)
            got.append(cpus_of(p.proc.pid))
            p.stop()
        seen[kind] = got
    assert seen["kvstore"] == seen["redis"]
    everything = cpus_of(os.getpid())
    assert seen["kvstore"] == ["0-1", "0", *[everything] * 8]


OOM_VALUES_WARNING = ("The oom-score-adj-values configuration may not work for non-privileged "
                      "processes! Please consult the documentation.")


@pytest.mark.parametrize("kind", KINDS)
def test_oom_values_a_replica_or_child_would_lower_are_warned_of_at_start(kind, kv_factory):
    warned = kv_factory("--oom-score-adj-values", "10 5 30", kind=kind)
    assert re.search(rf":C .* # {re.escape(OOM_VALUES_WARNING)}\n", warned.output())
    plain = kv_factory("--oom-score-adj-values", "0 200 800", kind=kind)
    assert OOM_VALUES_WARNING not in plain.output()
