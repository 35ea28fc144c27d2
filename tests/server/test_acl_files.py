"""ACL users from files, on kvstore and redis-server alike: `user` lines in the config file, an
`aclfile` read at start-up, ACL SAVE and ACL LOAD, what start-up refuses, CLIENT KILL USER and
redis.acl_check_cmd in scripts."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import free_port, require_binary

from .conftest import ROOT
from .helpers import Conn, err

KINDS = ["kvstore", "redis"]
ALICE = "user alice on >pw ~a:* +get"


def login(port: int, user: str, password: str = "pw") -> Conn:
    conn = Conn(port)
    assert conn("AUTH", user, password) == b"OK"
    return conn


def configured(kind: str, kv_factory, tmp_path, text: str):
    """(a server of `kind` started with a config file holding `text`, that file)."""
    conf = tmp_path / f"{kind}.conf"
    conf.write_text(text)
    return kv_factory(kind=kind, config_file=str(conf)), conf


@pytest.mark.parametrize("kind", KINDS)
def test_user_lines_of_the_config_file(kind, kv_factory, tmp_path):
    p, _ = configured(kind, kv_factory, tmp_path,
                      f"{ALICE}\nuser bob on nopass +@read -@dangerous ~*\n"
                      "user default on nopass ~* +@all\n")
    a = Conn(p.port)
    assert a("ACL", "USERS") == [b"alice", b"bob", b"default"]
    # a configured default user starts from a reset one: no channels, sanitize-payload
    assert a("ACL", "LIST")[2] == b"user default on nopass sanitize-payload ~* resetchannels +@all"
    assert err(a("SUBSCRIBE", "foo")) == ("NOPERM this user has no permissions to access one "
                                          "of the channels used as arguments")
    assert a("ACL", "LIST")[0].startswith(b"user alice on #")
    assert a("ACL", "LIST")[0].endswith(b" ~a:* resetchannels -@all +get")
    alice = login(p.port, "alice")
    assert alice("GET", "a:1") is None
    assert err(alice("GET", "b")) == ("NOPERM this user has no permissions to access one of "
                                      "the keys used as arguments")
    assert login(p.port, "bob", "anything")("DBSIZE") == 0


@pytest.mark.parametrize("kind", KINDS)
def test_acl_file_save_and_load(kind, kv_factory, tmp_path):
    acl = tmp_path / f"{kind}.acl"
    acl.write_text(f"{ALICE}\n")
    p = kv_factory("--aclfile", str(acl), kind=kind)
    a = Conn(p.port)
    assert a("ACL", "USERS") == [b"alice", b"default"]  # default: as it starts
    assert a("ACL", "SETUSER", "carol", "on", ">c", "+@hash", "~h:*") == b"OK"
    assert a("ACL", "SAVE") == b"OK"
    saved = acl.read_text().splitlines()
    assert [line.split()[1] for line in saved] == ["alice", "carol", "default"]
    assert saved[1].endswith(" ~h:* resetchannels -@all +@hash")
    assert saved[2] == "user default on nopass ~* &* +@all"

    assert a("ACL", "SETUSER", "alice", "+acl") == b"OK"
    alice = login(p.port, "alice")
    default = Conn(p.port)
    assert default("PING") == b"PONG"
    acl.write_text(f"{ALICE} +acl\nuser dave on >d allcommands allkeys\n")
    assert alice("ACL", "LOAD") == b"OK"  # then closed: its user was replaced by the file's
    assert alice.closed()
    assert a("ACL", "USERS") == [b"alice", b"dave", b"default"]
    assert default("PING") == b"PONG"  # the default user's connections stay
    assert login(p.port, "dave", "d")("SET", "x", "1") == b"OK"

    # A bad file: ACL LOAD fails with Redis's text and changes nothing.
    unchanged = "WARNING: ACL errors detected, no change to the previously active ACL rules " \
        "was performed"
    for text, error in [
            ("user eve on >e +nosuch\n", f"{acl}:1: Error in applying operation '+nosuch': "
                                         f"Unknown command or category name in ACL. "),
            ("user eve\n\n  \nuser bob #zz\n", f"{acl}:4: The password hash must be exactly 64 "
                                               "characters and contain only lowercase "
                                               "hexadecimal characters. "),
            ("bogus line\n", f"{acl}:1 should start with user keyword followed by the "
                             "username. "),
            ("user a on\nuser a off\n", "WARNING: Duplicate user 'a' found on line 2. ")]:
        acl.write_text(text)
        assert err(a("ACL", "LOAD")) == f"ERR {error}{unchanged}"
    acl.unlink()
    assert err(a("ACL", "LOAD")) == f"ERR Error loading ACLs, opening file '{acl}': No such " \
        "file or directory"
    assert a("ACL", "USERS") == [b"alice", b"dave", b"default"]


def _start_fails(kind: str, tmp_path, *args: str) -> str:
    """Start a server that must refuse to start; returns what it printed."""
    port = free_port()
    if kind == "kvstore":
        cmd = [sys.executable, "-m", "kvstore"]
    else:
        cmd = [require_binary("redis-server")]
    cmd += [*args, "--port", str(port), "--save", "", "--dir", str(tmp_path)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=30, cwd=ROOT,
                          env={"PYTHONPATH": ROOT, "PATH": "/usr/bin:/bin"})
    assert done.returncode != 0
    return done.stdout + done.stderr


@pytest.mark.parametrize("kind", KINDS)
def test_start_up_refuses_bad_users(kind, tmp_path):
    bad = tmp_path / "bad.conf"
    bad.write_text("user alice on +nosuch\n")
    out = _start_fails(kind, tmp_path, str(bad))
    assert "Error loading ACL rule '+nosuch' for the user named 'alice': Unknown command or " \
        "category name in ACL" in out
    bad.write_text("user alice on %X~a\n")
    assert "Error in user declaration 'alice': Syntax error" in _start_fails(kind, tmp_path,
                                                                             str(bad))

    both = tmp_path / "both.conf"
    both.write_text(f"{ALICE}\naclfile {tmp_path / 'users.acl'}\n")
    (tmp_path / "users.acl").write_text("")
    out = _start_fails(kind, tmp_path, str(both))
    assert "users defined in redis.conf and at the same setting an ACL file path" in out

    out = _start_fails(kind, tmp_path, "--aclfile", str(tmp_path / "missing.acl"))
    assert "Aborting Redis startup because of ACL errors" in out


@pytest.mark.parametrize("kind", KINDS)
def test_client_kill_user_and_acl_check_cmd(kind, kv_factory):
    p = kv_factory(kind=kind)
    a = Conn(p.port)
    assert a("ACL", "SETUSER", "alice", "on", ">pw", "~a:*", "+get", "+eval") == b"OK"
    first, second = login(p.port, "alice"), login(p.port, "alice")
    other = Conn(p.port)
    assert err(a("CLIENT", "KILL", "USER", "nobody")) == "ERR No such user 'nobody'"
    assert a("CLIENT", "KILL", "USER", "alice") == 2
    assert first.closed() and second.closed()
    assert other("PING") == b"PONG"

    alice = login(p.port, "alice")
    script = ("return {redis.acl_check_cmd('get', 'a:1'), redis.acl_check_cmd('get', 'b'), "
              "redis.acl_check_cmd('set', 'a:1', 'x')}")
    assert alice("EVAL", script, "0") == [1, None, None]  # Lua's false: a null
    assert a("EVAL", script, "0") == [1, 1, 1]


@pytest.mark.parametrize("kind", KINDS)
def test_config_rewrite_writes_the_users(kind, kv_factory, tmp_path):
    p, conf = configured(kind, kv_factory, tmp_path, f"# mine\n{ALICE}\nport 1\n")
    a = Conn(p.port)
    assert a("ACL", "SETUSER", "bob", "on", "nopass", "+@hash", "~h:*") == b"OK"
    assert a("ACL", "DELUSER", "alice") == 1
    assert a("CONFIG", "REWRITE") == b"OK"
    lines = conf.read_text().splitlines()
    assert lines[0] == "# mine"
    assert [line for line in lines if line.startswith("user ")] == [
        "user bob on nopass ~h:* resetchannels -@all +@hash",
        "user default on nopass ~* &* +@all"]
    assert lines.index("user bob on nopass ~h:* resetchannels -@all +@hash") == 1
