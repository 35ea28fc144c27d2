"""ACL for the default user, on kvstore and redis-server alike: introspection, passwords set
by requirepass or ACL SETUSER, the ACL log of failed authentications."""

from __future__ import annotations

import hashlib

import pytest

from .helpers import Conn, err


def sha(text: str) -> bytes:
    return hashlib.sha256(text.encode()).hexdigest().encode()


@pytest.fixture
def a(server):
    conn = Conn(server.port)
    yield conn
    conn("ACL", "SETUSER", "default", "nopass")
    conn("CONFIG", "SET", "requirepass", "")
    conn("ACL", "LOG", "RESET")
    conn.close()


def test_the_default_user(a):
    assert a("ACL", "WHOAMI") == b"default"
    assert a("ACL", "USERS") == [b"default"]
    assert a("ACL", "LIST") == [b"user default on nopass ~* &* +@all"]
    assert a("ACL", "GETUSER", "default") == [
        b"flags", [b"on", b"nopass"], b"passwords", [], b"commands", b"+@all", b"keys", b"~*",
        b"channels", b"&*", b"selectors", []]
    assert a("ACL", "GETUSER", "nobody") is None
    assert a("ACL", "DRYRUN", "default", "get", "k") == b"OK"
    assert err(a("ACL", "DRYRUN", "default", "get")) == \
        "ERR wrong number of arguments for 'get' command"
    assert err(a("ACL", "DRYRUN", "nobody", "get", "k")) == "ERR User 'nobody' not found"
    assert err(a("ACL", "DRYRUN", "default", "nosuch")) == "ERR Command 'nosuch' not found"
    assert err(a("ACL", "DELUSER", "default")) == "ERR The 'default' user cannot be removed"
    assert a("ACL", "DELUSER", "x", "y") == 0
    assert err(a("ACL", "LOAD")).startswith("ERR This Redis instance is not configured to use "
                                            "an ACL file.")
    assert len(a("ACL", "CAT")) == 21
    assert {b"eval", b"function|load", b"script|kill"} <= set(a("ACL", "CAT", "scripting"))
    assert err(a("ACL", "CAT", "nosuch")) == "ERR Unknown category 'nosuch'"
    # names read as C strings, up to a NUL: in lookups (a category) and in error texts
    assert set(a("ACL", "CAT", b"string\0x")) == set(a("ACL", "CAT", "string"))
    assert err(a("ACL", "CAT", b"no\0such")) == "ERR Unknown category 'no'"
    assert err(a("ACL", "DRYRUN", b"no\0body", "get", "k")) == "ERR User 'no' not found"
    assert err(a("ACL", "DRYRUN", "default", b"nos\0uch")) == "ERR Command 'nos' not found"
    assert err(a("ACL", "SETUSER", "u", b"fo\0o")) == \
        "ERR Error in ACL SETUSER modifier 'fo': Syntax error"
    assert err(a("ACL", "SETUSER", "u", b"(~x\0", "y")) == \
        "ERR Unmatched parenthesis in acl selector starting at '(~x'."
    assert len(a("ACL", "GENPASS")) == 64 and len(a("ACL", "GENPASS", "5")) == 2
    assert err(a("ACL", "GENPASS", "0")).startswith("ERR ACL GENPASS argument must be")


def test_passwords_from_requirepass_and_setuser(a, server):
    a("CONFIG", "SET", "requirepass", "one")
    assert a("ACL", "LIST") == [b"user default on #" + sha("one") + b" ~* &* +@all"]
    assert a("ACL", "SETUSER", "default", ">two", "~*", "allcommands") == b"OK"
    assert a("ACL", "GETUSER", "default")[1:4] == [[b"on"], b"passwords",
                                                   [sha("one"), sha("two")]]
    fresh = Conn(server.port)
    assert err(fresh("PING")) == "NOAUTH Authentication required."
    assert fresh("AUTH", "two") == b"OK" and fresh("AUTH", "default", "one") == b"OK"
    assert a("ACL", "SETUSER", "default", "<one") == b"OK"
    assert err(fresh("AUTH", "one")) == \
        "WRONGPASS invalid username-password pair or user is disabled."
    assert err(a("ACL", "SETUSER", "default", "<one")) == (
        "ERR Error in ACL SETUSER modifier '<one': The password you are trying to remove from "
        "the user does not exist")
    assert err(a("ACL", "SETUSER", "default", "#abc")).startswith(
        "ERR Error in ACL SETUSER modifier '#abc': The password hash must be exactly 64")
    assert err(a("ACL", "SETUSER", "default", "bogus")) == \
        "ERR Error in ACL SETUSER modifier 'bogus': Syntax error"
    assert a("ACL", "SETUSER", "default", "nopass") == b"OK"
    assert Conn(server.port)("PING") == b"PONG"
    fresh.close()


def test_failed_authentications_are_logged_and_grouped(a):
    a("CONFIG", "SET", "requirepass", "pw")
    a("AUTH", "pw")
    a("ACL", "LOG", "RESET")
    for _ in range(2):
        a("auth", "wrong")
    a("AUTH", "bob", "x")
    a("HELLO", "2", "AUTH", "default", "bad")  # the object: the command as typed
    log = [dict(zip(e[::2], e[1::2])) for e in a("ACL", "LOG")]
    assert [(e[b"count"], e[b"object"], e[b"username"], e[b"context"], e[b"reason"])
            for e in log] == [(1, b"HELLO", b"default", b"toplevel", b"auth"),
                              (1, b"AUTH", b"bob", b"toplevel", b"auth"),
                              (2, b"auth", b"default", b"toplevel", b"auth")]
    assert b"cmd=auth " in log[1][b"client-info"]
    assert len(a("ACL", "LOG", "1")) == 1
    assert a("ACL", "LOG", "RESET") == b"OK" and a("ACL", "LOG") == []
