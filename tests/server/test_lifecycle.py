"""kvstore-specific server behaviour: start-up, config files, logs, shutdown, unix sockets."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from kvstore.server.config import Config, ConfigError, parse_memory
from kvstore.server.config_lines import FatalConfigError, parse_command_line, split_args
from kvstore.server.server import Log, Server, run
from tests.conftest import free_port, require_binary, wait_for_port

from .conftest import ROOT, start
from .helpers import Conn, err, wait_until


def test_startup_log_lines(kv_factory):
    p = kv_factory()
    # The port accepts just before the last start-up line is written: wait for that line.
    deadline = time.monotonic() + 10
    while "Ready to accept connections" not in p.output() and time.monotonic() < deadline:
        time.sleep(0.01)
    out = p.output()
    pid = p.proc.pid
    assert f"{pid}:C " in out and f"pid={pid}" in out
    assert f"{pid}:M " in out and "# Server initialized" in out
    assert "* Ready to accept connections tcp" in out
    assert f"port={p.port}" in out


@pytest.mark.parametrize("kind", ["kvstore", "redis"])
def test_always_show_logo_prints_the_port_and_the_pid(kv_factory, kind):
    """always-show-logo yes: the logo, with the 'Port:' and 'PID:' lines Redis's own test
    harness waits for, instead of the one-line form (the log is no terminal here)."""
    p = kv_factory("--always-show-logo", "yes", kind=kind)
    wait_until(lambda: "Ready to accept connections" in p.output(), what="start-up")
    out = p.output()
    assert f"Port: {p.port}" in out and f"PID: {p.proc.pid}" in out
    assert "Running mode=standalone" not in out


@pytest.mark.parametrize("kind", ["kvstore", "redis"])
def test_the_watchdog_logs_where_a_stalled_loop_is(kv_factory, kind):
    # watchdog-period (ms): a command that holds the loop past it leaves the stack in the log
    # (Redis: its C stack, here the Python one, which names the command's function), and the
    # server goes on.
    p = kv_factory(kind=kind)
    c = Conn(p.port)
    assert c("CONFIG", "SET", "watchdog-period", "200") == b"OK"
    assert c("DEBUG", "SLEEP", "1") == b"OK"
    stalled = "debugCommand" if kind == "redis" else "in debug_sleep"
    wait_until(lambda: stalled in p.output(), what="the watchdog's stack trace")
    assert c("CONFIG", "SET", "watchdog-period", "0") == b"OK"
    assert c("PING") == b"PONG"
    c.close()


@pytest.mark.parametrize("how", ["shutdown", "SIGTERM", "SIGINT"])
def test_shutdown_exits_zero_with_redis_logs(kv_factory, how):
    p = kv_factory()
    c = Conn(p.port)
    c("SET", "k", "v")
    if how == "shutdown":
        c.send(Conn.encode("SHUTDOWN", "NOSAVE"))
        assert c.read_raw(timeout=5) == b""  # no reply: the connection just closes
    else:
        p.proc.send_signal(getattr(signal, how))
    assert p.proc.wait(10) == 0
    out = p.output()
    if how != "shutdown":
        assert f"Received {how} scheduling shutdown..." in out
    assert "# User requested shutdown..." in out
    assert "# Redis is now ready to exit, bye bye..." in out


def test_shutdown_finishes_the_batch_in_hand(kv_factory):
    p = kv_factory()
    c = Conn(p.port)
    c.send(Conn.encode("ECHO", "before") + Conn.encode("SHUTDOWN") + Conn.encode("ECHO", "x"))
    assert c.read_raw(timeout=5) == b"$6\r\nbefore\r\n"
    assert p.proc.wait(10) == 0


def test_config_file_with_quotes_comments_and_include(tmp_path, kv_factory):
    inc = tmp_path / "extra.conf"
    inc.write_text("maxclients 77\n")
    conf = tmp_path / "kv.conf"
    conf.write_text(
        "# a comment\n\n"
        "requirepass \"pa ss\\x21\"\n"
        "timeout 0   # not a comment in redis.conf: would be an error, so none here\n"
        .replace("   # not a comment in redis.conf: would be an error, so none here", "")
        + f"include {inc}\n"
        "maxmemory-policy allkeys-lru\n"
        "save 900 1\nsave 300 10\n"
        "client-output-buffer-limit pubsub 64mb 16mb 90\n"
    )
    p = kv_factory(config_file=str(conf))
    c = Conn(p.port)
    assert err(c("PING")) == "NOAUTH Authentication required."
    assert c("AUTH", "pa ss!") == b"OK"
    get = lambda name: c("CONFIG", "GET", name)[1]
    assert get("maxclients") == b"77"
    assert get("maxmemory-policy") == b"allkeys-lru"
    assert get("save") == b""  # the test fixture passes --save "" after the file
    assert get("client-output-buffer-limit").endswith(b"pubsub 67108864 16777216 90")
    assert get("port") == str(p.port).encode()  # the command line wins over the file


def test_config_rewrite(tmp_path, kv_factory):
    conf = tmp_path / "rw.conf"
    conf.write_text("# keep me\nmaxclients 50\n")
    p = kv_factory(config_file=str(conf))
    c = Conn(p.port)
    c("CONFIG", "SET", "maxclients", "60", "slowlog-max-len", "7")
    assert c("CONFIG", "REWRITE") == b"OK"
    text = conf.read_text()
    assert "# keep me" in text and "maxclients 60" in text and "slowlog-max-len 7" in text
    assert "maxclients 50" not in text


def test_config_rewrite_writes_replicaof_as_redis_reads_it(tmp_path, kv_factory):
    # `replicaof <masterip> <masterport>` is two arguments: quoted as one, redis-server could
    # not read the file back
    conf = tmp_path / "replica.conf"
    conf.write_text("# a replica\n")
    p = kv_factory(config_file=str(conf))
    c = Conn(p.port)
    assert c("REPLICAOF", "127.0.0.1", "1") == b"OK" and c("CONFIG", "REWRITE") == b"OK"
    assert "\nreplicaof 127.0.0.1 1\n" in conf.read_text()
    p.stop()
    c = Conn(kv_factory(config_file=str(conf)).port)  # the file as rewritten
    assert c("ROLE")[:3] == [b"slave", b"127.0.0.1", 1]
    assert c("REPLICAOF", "NO", "ONE") == b"OK" and c("CONFIG", "REWRITE") == b"OK"
    assert "replicaof" not in conf.read_text()


def test_config_rewrite_without_file(kv_factory):
    c = Conn(kv_factory().port)
    assert err(c("CONFIG", "REWRITE")) == "ERR The server is running without a config file"


DEBIAN_CONF = "/etc/redis/redis.conf"


def test_the_distributions_redis_conf_loads(tmp_path, kv_factory):
    # An operator points kvstore at the redis.conf their package installed. Its lines are
    # read as Redis reads them; where it runs is the command line's (daemonize, dir, files).
    if not os.access(DEBIAN_CONF, os.R_OK):
        if os.environ.get("KVSTORE_CI"):
            pytest.fail(f"{DEBIAN_CONF} (from apt's redis-server) is not readable under CI")
        pytest.skip(f"{DEBIAN_CONF} is not here (apt-get install redis-server)")
    conf = tmp_path / "redis.conf"
    conf.write_text(open(DEBIAN_CONF).read())
    p = kv_factory("--daemonize", "no", "--logfile", "", "--pidfile", str(tmp_path / "x.pid"),
                   config_file=str(conf))
    c = Conn(p.port)
    assert c("PING") == b"PONG"
    assert c("CONFIG", "GET", "replica-priority") == [b"replica-priority", b"100"]
    assert c("CONFIG", "GET", "daemonize") == [b"daemonize", b"no"]


@pytest.mark.parametrize("kind", ["kvstore", "redis"])
def test_daemonize_yes_runs_in_the_background(tmp_path, kind):
    """The distribution's redis.conf says `daemonize yes`: the command returns at once and the
    server runs on, its pid in the pidfile, which a shutdown removes."""
    exe = [sys.executable, "-m", "kvstore"] if kind == "kvstore" else \
        [require_binary("redis-server")]
    port = free_port()
    pidfile = tmp_path / "server.pid"
    conf = tmp_path / "redis.conf"
    conf.write_text("daemonize yes\n")
    out = subprocess.run([*exe, str(conf), "--port", str(port), "--save", "", "--dir",
                          str(tmp_path), "--logfile", str(tmp_path / "server.log"),
                          "--pidfile", str(pidfile)],
                         capture_output=True, text=True, cwd=ROOT, timeout=20,
                         env=dict(os.environ, PYTHONPATH=ROOT))
    assert out.returncode == 0, out.stdout + out.stderr
    wait_for_port(port)
    c = Conn(port)
    try:
        pid = int(pidfile.read_text())
        assert b"process_id:%d\r\n" % pid in c("INFO", "server")
        assert c("CONFIG", "GET", "daemonize") == [b"daemonize", b"yes"]
    finally:
        c.send(Conn.encode("SHUTDOWN", "NOSAVE"))
        assert c.closed()
    wait_until(lambda: not pidfile.exists(), what="the pidfile to go")


def test_an_unwritable_pidfile_is_a_warning(tmp_path, kv_factory):
    p = kv_factory("--pidfile", str(tmp_path / "no" / "such" / "dir.pid"))
    assert Conn(p.port)("PING") == b"PONG"
    assert "Failed to write PID file: No such file or directory" in p.output()


def test_bad_config_is_fatal(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("maxclients abc\n")
    out = subprocess.run([sys.executable, "-m", "kvstore", str(conf)], capture_output=True,
                         text=True, cwd=ROOT, timeout=20)
    assert out.returncode == 1
    assert "FATAL CONFIG FILE ERROR" in out.stderr and "maxclients abc" in out.stderr
    out = subprocess.run([sys.executable, "-m", "kvstore", "--nosuchoption", "1"],
                         capture_output=True, text=True, cwd=ROOT, timeout=20)
    assert out.returncode == 1 and "Bad directive" in out.stderr


def test_version_flag():
    out = subprocess.run([sys.executable, "-m", "kvstore", "--version"], capture_output=True,
                         text=True, cwd=ROOT, timeout=20)
    assert out.returncode == 0 and "kvstore server v=" in out.stdout


def test_unix_socket(tmp_path, kv_factory):
    path = str(tmp_path / "kv.sock")
    p = kv_factory("--unixsocket", path)
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.sendall(b"PING\r\n*2\r\n$6\r\nCLIENT\r\n$4\r\nINFO\r\n")
    data = b""
    while b"\n\r\n" not in data:
        data += s.recv(4096)
    assert data.startswith(b"+PONG\r\n") and f"addr={path}:0".encode() in data
    assert "Ready to accept connections unix" in p.output()


def test_loglevel_and_logfile(tmp_path, kv_factory):
    logfile = tmp_path / "kv.log"
    p = kv_factory("--loglevel", "warning", "--logfile", str(logfile))
    Conn(p.port)("PING")
    p.stop()
    text = logfile.read_text()
    assert "bye bye" in text and "DB loaded from disk" not in text  # notice lines filtered


def test_run_in_process_with_shutdown_event_and_hooks():
    config = Config()
    port = free_port()
    config.set("port", str(port), startup=True)
    server = Server(config, Log("warning"))
    calls = []
    server.on_shutdown.append(lambda: calls.append("flushed"))
    holder = {}

    def target():
        async def main():
            holder["loop"] = asyncio.get_running_loop()
            holder["event"] = asyncio.Event()
            return await server.serve(holder["event"])

        import uvloop

        holder["code"] = asyncio.run(main(), loop_factory=uvloop.new_event_loop) \
            if sys.version_info >= (3, 12) else uvloop.run(main())

    t = threading.Thread(target=target)
    t.start()
    wait_for_port(port)
    c = Conn(port)
    assert c("SET", "a", "1") == b"OK"
    holder["loop"].call_soon_threadsafe(holder["event"].set)
    t.join(10)
    assert not t.is_alive() and holder["code"] == 0 and calls == ["flushed"]
    assert c.closed()


def test_run_function_with_event_from_thread():
    config = Config()
    port = free_port()
    config.set("port", str(port), startup=True)
    server = Server(config, Log("warning"))
    result = {}
    t = threading.Thread(target=lambda: result.setdefault(
        "code", run(server=server, install_signals=False)))
    t.start()
    wait_for_port(port)
    assert Conn(port)("PING") == b"PONG"
    Conn(port).send(Conn.encode("SHUTDOWN"))
    t.join(10)
    assert result["code"] == 0


# -- config parsing (unit) ----------------------------------------------------------------------

def test_split_args_like_sdssplitargs():
    assert split_args('a "b c" \'d e\' "\\x41\\n"') == ["a", "b c", "d e", "A\n"]
    assert split_args("  ") == []
    assert split_args("'it\\'s'") == ["it's"]
    for bad in ('"abc', "'abc", '"a"b'):
        with pytest.raises(ValueError):
            split_args(bad)


def test_parse_memory_units():
    assert parse_memory("100") == 100
    assert parse_memory("1k") == 1000 and parse_memory("1kb") == 1024
    assert parse_memory("2GB") == 2 * 1024 ** 3 and parse_memory("1m") == 1000 ** 2
    assert parse_memory("") == 0 and parse_memory("kb") == 0  # memtoull reads no digits as 0
    for bad in ("1x", "-1", "1.5mb", " 10", "10 ", "\u0661"):  # (an Arabic-Indic 1)
        with pytest.raises(ConfigError):
            parse_memory(bad)


def test_command_line_parsing():
    path, stdin, options = parse_command_line(["my.conf", "--port", "7000", "--save", "",
                                               "--bind", "127.0.0.1", "::1"])
    assert path == "my.conf" and not stdin
    assert options == 'port "7000" \nsave "" \nbind "127.0.0.1" "::1" '
    with pytest.raises(FatalConfigError):
        Config().load_text("nosuch 1")


def test_config_file_save_lines(tmp_path):
    cfg = Config()
    cfg.load_text("save 900 1\nsave 300 10\n")
    assert cfg.text("save") == "900 1 300 10"


def test_config_get_globs_and_aliases():
    cfg = Config()
    assert cfg.matching("maxmemory") == {"maxmemory": "0"}
    assert "hash-max-ziplist-entries" in cfg.matching("hash-max-*")
    cfg.set("hash-max-ziplist-entries", "7")
    assert cfg["hash-max-listpack-entries"] == 7


def test_ports_and_pid_helpers_exist():
    assert os.getpid() > 0 and time.time() > 0


@pytest.mark.parametrize("kind", ["kvstore", "redis"])
def test_listening_nowhere_is_fatal(tmp_path, kind):
    exe = [sys.executable, "-m", "kvstore"] if kind == "kvstore" else \
        [require_binary("redis-server")]
    for args in (["--port", "0"], ["--port", str(free_port()), "--bind", ""]):
        out = subprocess.run([*exe, *args, "--save", "", "--dir", str(tmp_path)],
                             capture_output=True, text=True, cwd=ROOT, timeout=20)
        assert out.returncode == 1
        assert "Configured to not listen anywhere, exiting." in out.stdout


@pytest.mark.parametrize("sig", [signal.SIGALRM, signal.SIGHUP], ids=["SIGALRM", "SIGHUP"])
@pytest.mark.parametrize("kind", ["kvstore", "redis"])
def test_sigalrm_and_sighup_do_not_stop_the_server(kv_factory, kind, sig):
    p = kv_factory(kind=kind)
    c = Conn(p.port)
    c.send(Conn.encode("DEBUG", "SLEEP", "0.2"))
    os.kill(p.proc.pid, sig)
    assert c.reply() == b"OK"
    assert c("PING") == b"PONG"


@pytest.mark.parametrize("kind", ["kvstore", "redis"])
def test_watchdog_period_is_a_hidden_config(kv_factory, kind):
    c = Conn(kv_factory(kind=kind).port)
    assert c("CONFIG", "SET", "watchdog-period", "200") == b"OK"
    assert c("CONFIG", "GET", "watchdog-period") == [b"watchdog-period", b"200"]
    assert c("CONFIG", "GET", "watchdog*") == []
    c("CONFIG", "SET", "watchdog-period", "0")


@pytest.mark.parametrize("kind", ["kvstore", "redis"])
def test_a_shutdown_whose_final_save_fails_is_refused(tmp_path, kind):
    from .conftest import start

    p = start(kind, tmp_path, "--save", "900 1", "--dbfilename", "snap.db")
    try:
        (tmp_path / "snap.db").mkdir()  # where the final save must write: it fails
        c = Conn(p.port)
        c("SET", "k", "v")
        c.send(Conn.encode("SHUTDOWN") + Conn.encode("GET", "k"))
        assert err(c.reply()) == "ERR Errors trying to SHUTDOWN. Check logs."
        assert c.reply() == b"v"  # then what followed it: still serving, data in hand
        p.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10  # refused twice: SHUTDOWN's, then SIGTERM's
        while p.output().count("Errors trying to shut down the server") < 2:
            assert time.monotonic() < deadline, p.output()
            time.sleep(0.01)
        assert c("GET", "k") == b"v"
        assert "Error trying to save the DB, can't exit." in p.output()
        assert not [f for f in os.listdir(tmp_path) if f.startswith("temp-")]
        c.send(Conn.encode("SHUTDOWN", "NOSAVE"))
        assert p.proc.wait(10) == 0
    finally:
        p.stop()


@pytest.mark.parametrize("kind", ["kvstore", "redis"])
def test_shutdown_on_sigterm_and_sigint_choose_the_final_save(tmp_path, kind):
    """shutdown-on-sigterm / shutdown-on-sigint give the signal SHUTDOWN's flags: `save` writes
    a snapshot without save points, `nosave` none despite them."""
    cases = ((signal.SIGTERM, "shutdown-on-sigterm", "save", "", True),
             (signal.SIGINT, "shutdown-on-sigint", "nosave force", "3600 1", False))
    for sig, option, flags, save_points, saved in cases:
        d = tmp_path / f"{option}-{flags.replace(' ', '-')}"
        d.mkdir()
        p = start(kind, d, "--save", save_points, f"--{option}", flags)
        try:
            c = Conn(p.port)
            assert c("CONFIG", "GET", option) == [option.encode(), flags.encode()]
            assert c("SET", "k", "v") == b"OK"
            p.proc.send_signal(sig)
            assert p.proc.wait(10) == 0
        finally:
            p.stop()
        assert any(name.startswith("dump.") for name in os.listdir(d)) == saved, option


@pytest.mark.parametrize("kind", ["kvstore", "redis"])
def test_supervised_systemd_notifies_loading_ready_and_stopping(tmp_path, kind):
    """Debian's redis-server.service is Type=notify with --supervised systemd: systemd waits
    for READY=1 on NOTIFY_SOCKET."""
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(15)
    exe = [sys.executable, "-m", "kvstore"] if kind == "kvstore" else \
        [require_binary("redis-server")]
    port = free_port()
    proc = subprocess.Popen([*exe, "--port", str(port), "--save", "", "--dir", str(tmp_path),
                             "--supervised", "systemd"], cwd=ROOT,
                            env=dict(os.environ, NOTIFY_SOCKET=path, PYTHONPATH=ROOT),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        got = [sock.recv(4096)]
        while got[-1] != b"READY=1\n":
            got.append(sock.recv(4096))
        c = Conn(port)
        assert b"process_supervised:systemd\r\n" in c("INFO", "server")
        c.send(Conn.encode("SHUTDOWN", "NOSAVE"))
        got.append(sock.recv(4096))
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        sock.close()
    assert got == [b"STATUS=Redis is loading...\n", b"STATUS=Ready to accept connections\n",
                   b"READY=1\n", b"STOPPING=1\n"]


@pytest.mark.parametrize("kind", ["kvstore", "redis"])
def test_a_second_sigint_during_the_final_save_exits_at_once(tmp_path, kind):
    """Redis's "Temp rdb will be deleted in signal handle": SIGINT starts a shutdown that saves
    (20 keys at 0.1 s each: rdb-key-save-delay), a second one exits there, status 1, with the
    half-written file removed and no snapshot."""
    p = start(kind, tmp_path, "--save", "3600 1", "--rdb-key-save-delay", "100000")
    try:
        c = Conn(p.port)
        for i in range(20):
            assert c("SET", i, i) == b"OK"
        p.proc.send_signal(signal.SIGINT)
        wait_until(lambda: any(name.startswith("temp-") for name in os.listdir(tmp_path)),
                   what="the final save to begin")
        p.proc.send_signal(signal.SIGINT)
        assert p.proc.wait(10) == 1
    finally:
        p.stop()
    assert not [name for name in os.listdir(tmp_path) if name.startswith(("temp-", "dump."))]
    assert "You insist... exiting now." in p.output()
