"""ACL users other than `default`, on kvstore and redis-server alike: ACL SETUSER rules and how
ACL LIST / GETUSER describe them, SETUSER errors, AUTH and HELLO AUTH, NOPERM for commands, keys
and channels (top level, MULTI/EXEC, EVAL), ACL DRYRUN, ACL LOG, selectors, and what
disconnects a user's clients (ACL DELUSER, revoked channels)."""

from __future__ import annotations

import hashlib

import pytest

from .helpers import Conn, err

WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."
NOPERM_KEY = "NOPERM this user has no permissions to access one of the keys used as arguments"
NOPERM_CHANNEL = ("NOPERM this user has no permissions to access one of the channels used as "
                  "arguments")
CHANGED = ("NOPERM ACLs rules changed between the moment the transaction was accumulated and "
           "the EXEC call. This command is no longer allowed for the following reason: ")


def sha(text: str) -> bytes:
    return hashlib.sha256(text.encode()).hexdigest().encode()


def noperm(cmd: str) -> str:
    return f"NOPERM this user has no permissions to run the '{cmd}' command"


def setuser_error(rule: str, why: str) -> str:
    return f"ERR Error in ACL SETUSER modifier '{rule}': {why}"


UNKNOWN = "Unknown command or category name in ACL"


def getuser(conn, name) -> dict:
    reply = conn("ACL", "GETUSER", name)
    return dict(zip(reply[::2], reply[1::2]))


def listed(conn, name: str) -> bytes | None:
    """The ACL LIST line of user `name`."""
    for line in conn("ACL", "LIST"):
        if line.split(b" ")[1] == name.encode():
            return line
    return None


def log(conn, count: int = 50) -> list[tuple]:
    """ACL LOG entries, newest first, as (count, reason, context, object, username)."""
    out = []
    for e in conn("ACL", "LOG", str(count)):
        d = dict(zip(e[::2], e[1::2]))
        out.append((d[b"count"], d[b"reason"].decode(), d[b"context"].decode(),
                    d[b"object"].decode(), d[b"username"].decode()))
    return out


@pytest.fixture
def a(server):
    """An admin connection (the default user), on a flushed keyspace and empty ACL log; after
    the test every user but `default` is deleted and the log is reset."""
    conn = Conn(server.port)
    conn("FLUSHALL")
    conn("ACL", "LOG", "RESET")
    yield conn
    users = conn("ACL", "USERS")
    users = [u for u in users if u != b"default"] if isinstance(users, list) else []
    if users:
        conn("ACL", "DELUSER", *users)
    conn("ACL", "LOG", "RESET")
    conn.close()


@pytest.fixture
def login(server, a):
    """login(user, password="pw") -> a new connection authenticated as `user`; all closed at
    the end of the test."""
    conns: list[Conn] = []

    def factory(user: str, password: str = "pw", protocol: int | None = None) -> Conn:
        conn = Conn(server.port)
        conns.append(conn)
        if protocol is None:
            assert conn("AUTH", user, password) == b"OK"
        else:
            assert isinstance(conn("HELLO", str(protocol), "AUTH", user, password), (dict, list))
        return conn

    yield factory
    for conn in conns:
        conn.close()


# -- 1. describing users --------------------------------------------------------------------

def test_a_new_user_without_rules_and_acl_users_sorted(a):
    assert a("ACL", "SETUSER", "bare") == b"OK"
    assert listed(a, "bare") == b"user bare off resetchannels -@all"
    assert a("ACL", "GETUSER", "bare") == [
        b"flags", [b"off"], b"passwords", [], b"commands", b"-@all", b"keys", b"", b"channels",
        b"", b"selectors", []]
    for name in ("zeta", "alpha", "mid"):
        assert a("ACL", "SETUSER", name) == b"OK"
    assert a("ACL", "USERS") == [b"alpha", b"bare", b"default", b"mid", b"zeta"]
    assert a("ACL", "LIST") == [
        b"user alpha off resetchannels -@all", b"user bare off resetchannels -@all",
        b"user default on nopass ~* &* +@all", b"user mid off resetchannels -@all",
        b"user zeta off resetchannels -@all"]
    assert a("ACL", "SETUSER", "bare") == b"OK"  # again: no change
    assert listed(a, "bare") == b"user bare off resetchannels -@all"


def test_describe_password_keys_and_one_command(a):
    assert a("ACL", "SETUSER", "cache", "on", ">pw", "~cached:*", "+get") == b"OK"
    assert listed(a, "cache") == b"user cache on #" + sha("pw") + \
        b" ~cached:* resetchannels -@all +get"
    assert a("ACL", "GETUSER", "cache") == [
        b"flags", [b"on"], b"passwords", [sha("pw")], b"commands", b"-@all +get", b"keys",
        b"~cached:*", b"channels", b"", b"selectors", []]


@pytest.mark.parametrize("rules, described", [
    (["+@all", "-debug"], "+@all -debug"),
    (["-@all", "+@read", "-keys"], "-@all +@read -keys"),
    (["+@hash", "+@set", "-hset"], "-@all +@set +@hash -hset"),  # categories in Redis's order
    (["+@hash", "-@hash"], "-@all"),
    (["+@all", "-@hash"], "+@all -@hash"),
    (["+config|get"], "-@all +config|get"),
    (["+config|get", "+config"], "-@all +config"),
    (["+config", "-config|set"], "-@all +config -config|set"),
    (["+config|get", "-config"], "-@all"),
    (["+@all", "-config|set"], "+@all -config|set"),
    (["+acl|whoami", "+@admin"], "-@all +@admin +acl|whoami"),
    (["+select|0"], "-@all +select|0"),
    (["+select|0", "+select|1"], "-@all +select|0 +select|1"),
    (["+select|0", "+select"], "-@all +select"),
    (["+select|0", "+select|1", "-select"], "-@all"),
    (["+@all", "-select", "+select|0"], "+@all -select +select|0"),
    (["+get", "-get", "+get"], "-@all +get"),
    (["+get", "+@read"], "-@all +@read"),
    (["+get", "-@read"], "-@all"),
    (["allcommands"], "+@all"),
    (["allcommands", "nocommands"], "-@all"),
])
def test_describe_command_rules(a, rules, described):
    assert a("ACL", "SETUSER", "cmdrules", *rules) == b"OK"
    assert getuser(a, "cmdrules")[b"commands"] == described.encode()
    assert listed(a, "cmdrules") == b"user cmdrules off resetchannels " + described.encode()


def test_describe_key_and_channel_patterns(a):
    cases = [
        (["%R~r:*", "%W~w:*", "%RW~rw:*"], b"%R~r:* %W~w:* ~rw:*", b"",
         b"user kp off %R~r:* %W~w:* ~rw:* resetchannels -@all"),
        (["allkeys", "resetkeys", "~a"], b"~a", b"", b"user kp off ~a resetchannels -@all"),
        (["~a", "~b", "~a"], b"~a ~b", b"", b"user kp off ~a ~b resetchannels -@all"),
        (["%R~x", "~x"], b"~x", b"", b"user kp off ~x resetchannels -@all"),
        (["~x", "%R~x"], b"~x", b"", b"user kp off ~x resetchannels -@all"),
        (["allkeys"], b"~*", b"", b"user kp off ~* resetchannels -@all"),
        (["&news.*", "allchannels"], b"", b"&*", b"user kp off &* -@all"),
        (["&a", "&b"], b"", b"&a &b", b"user kp off resetchannels &a &b -@all"),
        (["allchannels", "resetchannels", "&z"], b"", b"&z",
         b"user kp off resetchannels &z -@all"),
    ]
    for rules, keys, channels, line in cases:
        a("ACL", "DELUSER", "kp")
        assert a("ACL", "SETUSER", "kp", *rules) == b"OK", rules
        u = getuser(a, "kp")
        assert (u[b"keys"], u[b"channels"]) == (keys, channels), rules
        assert listed(a, "kp") == line, rules


def test_describe_passwords_nopass_resetpass_and_reset(a):
    assert a("ACL", "SETUSER", "pwu", "nopass") == b"OK"
    assert getuser(a, "pwu")[b"flags"] == [b"off", b"nopass"]
    assert listed(a, "pwu") == b"user pwu off nopass resetchannels -@all"
    assert a("ACL", "SETUSER", "pwu", ">y") == b"OK"  # a password clears nopass
    assert getuser(a, "pwu")[b"flags"] == [b"off"]
    assert a("ACL", "SETUSER", "pwu", "resetpass", ">a", ">b", ">a") == b"OK"
    assert getuser(a, "pwu")[b"passwords"] == [sha("a"), sha("b")]
    assert listed(a, "pwu") == b"user pwu off #%s #%s resetchannels -@all" % (sha("a"), sha("b"))
    assert a("ACL", "SETUSER", "pwu", "<a", "#" + sha("c").decode()) == b"OK"
    assert getuser(a, "pwu")[b"passwords"] == [sha("b"), sha("c")]
    assert a("ACL", "SETUSER", "pwu", "!" + sha("b").decode()) == b"OK"
    assert getuser(a, "pwu")[b"passwords"] == [sha("c")]
    assert a("ACL", "SETUSER", "pwu", "nopass", "resetpass") == b"OK"
    u = getuser(a, "pwu")
    assert (u[b"flags"], u[b"passwords"]) == ([b"off"], [])
    assert a("ACL", "SETUSER", "pwu", "on", ">x", "~k", "&c", "+get", "(~s +set)") == b"OK"
    assert a("ACL", "SETUSER", "pwu", "reset") == b"OK"
    assert listed(a, "pwu") == b"user pwu off sanitize-payload resetchannels -@all"
    assert a("ACL", "GETUSER", "pwu") == [
        b"flags", [b"off", b"sanitize-payload"], b"passwords", [], b"commands", b"-@all",
        b"keys", b"", b"channels", b"", b"selectors", []]


def test_rules_accumulate_over_several_setuser_calls(a):
    for rules in (["on"], [">pw"], ["~k1"], ["+get"], ["&ch"], ["~k2", "+@hash"],
                  ["(~s +incr)"]):
        assert a("ACL", "SETUSER", "acc", *rules) == b"OK"
    assert listed(a, "acc") == (b"user acc on #" + sha("pw") + b" ~k1 ~k2 resetchannels &ch "
                                b"-@all +@hash +get (~s resetchannels -@all +incr)")
    assert a("ACL", "SETUSER", "acc", "+set") == b"OK"
    # several single commands: Redis lists them in its command table's hash order
    tokens = getuser(a, "acc")[b"commands"].split()
    assert tokens[:2] == [b"-@all", b"+@hash"] and sorted(tokens[2:]) == [b"+get", b"+set"]


def test_selectors_described_and_cleared(a):
    assert a("ACL", "SETUSER", "sel", "(~sel:* +set)") == b"OK"
    assert listed(a, "sel") == b"user sel off resetchannels -@all (~sel:* resetchannels -@all +set)"
    assert getuser(a, "sel")[b"selectors"] == [
        [b"commands", b"-@all +set", b"keys", b"~sel:*", b"channels", b""]]
    assert a("ACL", "SETUSER", "sel", "(+get ~q &c)", "(", "~x", "+get)") == b"OK"
    assert getuser(a, "sel")[b"selectors"] == [
        [b"commands", b"-@all +set", b"keys", b"~sel:*", b"channels", b""],
        [b"commands", b"-@all +get", b"keys", b"~q", b"channels", b"&c"],
        [b"commands", b"-@all +get", b"keys", b"~x", b"channels", b""]]
    assert listed(a, "sel") == (
        b"user sel off resetchannels -@all (~sel:* resetchannels -@all +set) "
        b"(~q resetchannels &c -@all +get) (~x resetchannels -@all +get)")
    assert a("ACL", "SETUSER", "sel", "on", "nopass", "clearselectors") == b"OK"
    assert listed(a, "sel") == b"user sel on nopass resetchannels -@all"
    assert getuser(a, "sel")[b"selectors"] == []


# -- 2. ACL SETUSER errors --------------------------------------------------------------------

@pytest.mark.parametrize("rules, message", [
    (["+nosuch"], setuser_error("+nosuch", UNKNOWN)),
    (["+@nosuch"], setuser_error("+@nosuch", UNKNOWN)),
    (["-@nosuch"], setuser_error("-@nosuch", UNKNOWN)),
    (["+config|nosuch"], setuser_error("+config|nosuch", UNKNOWN)),
    (["-select|0"], setuser_error("-select|0", UNKNOWN)),
    (["bogus"], setuser_error("bogus", "Syntax error")),
    (["%X~a"], setuser_error("%X~a", "Syntax error")),
    (["+select|"], setuser_error("+select|", "Syntax error")),
    (["+config|get|x"], setuser_error("+config|get|x", "Allowing first-arg of a subcommand is "
                                                       "not supported")),
    (["#abc"], setuser_error("#abc", "The password hash must be exactly 64 characters and "
                                     "contain only lowercase hexadecimal characters")),
    (["#" + "g" * 64], setuser_error("#" + "g" * 64, "The password hash must be exactly 64 "
                                     "characters and contain only lowercase hexadecimal "
                                     "characters")),
    (["<pw"], setuser_error("<pw", "The password you are trying to remove from the user does "
                                   "not exist")),
    (["!" + "a" * 64], setuser_error("!" + "a" * 64, "The password you are trying to remove "
                                     "from the user does not exist")),
    (["allkeys", "~x"], setuser_error("~x", "Adding a pattern after the * pattern (or the "
                                      "'allkeys' flag) is not valid and does not have any "
                                      "effect. Try 'resetkeys' to start with an empty list of "
                                      "patterns")),
    (["~*", "%R~x"], setuser_error("%R~x", "Adding a pattern after the * pattern (or the "
                                   "'allkeys' flag) is not valid and does not have any "
                                   "effect. Try 'resetkeys' to start with an empty list of "
                                   "patterns")),
    (["allchannels", "&x"], setuser_error("&x", "Adding a pattern after the * pattern (or the "
                                          "'allchannels' flag) is not valid and does not have "
                                          "any effect. Try 'resetchannels' to start with an "
                                          "empty list of channels")),
    (["(~x"], "ERR Unmatched parenthesis in acl selector starting at '(~x'."),
    (["(~x", "+get"], "ERR Unmatched parenthesis in acl selector starting at '(~x'."),
    (["(~x +get"], "ERR Unmatched parenthesis in acl selector starting at '(~x +get'."),
    (["(on)"], setuser_error("(on)", "Syntax error")),
    (["(+nosuch)"], setuser_error("(+nosuch)", UNKNOWN)),
])
def test_setuser_errors(a, rules, message):
    assert err(a("ACL", "SETUSER", "bad", *rules)) == message
    assert a("ACL", "GETUSER", "bad") is None  # not created


def test_a_failing_setuser_applies_none_of_its_rules(a):
    assert a("ACL", "SETUSER", "keep", "on", ">pw", "~a", "+get") == b"OK"
    before = listed(a, "keep")
    assert err(a("ACL", "SETUSER", "keep", "off", ">pw2", "~b", "+set", "+nosuch")) == \
        setuser_error("+nosuch", UNKNOWN)
    assert err(a("ACL", "SETUSER", "keep", "resetkeys", "(~x")) == \
        "ERR Unmatched parenthesis in acl selector starting at '(~x'."
    assert err(a("ACL", "SETUSER", "keep", "allkeys", "~x")).startswith(
        "ERR Error in ACL SETUSER modifier '~x': Adding a pattern")
    assert listed(a, "keep") == before
    assert a("ACL", "USERS") == [b"default", b"keep"]


# -- 3. AUTH and HELLO AUTH -------------------------------------------------------------------

def test_auth_with_username(a, server):
    a("ACL", "SETUSER", "alice", "on", ">pw", "+acl|whoami")
    a("ACL", "SETUSER", "offuser", "off", ">pw", "+@all", "~*")
    c = Conn(server.port)
    try:
        assert err(c("AUTH", "alice", "bad")) == WRONGPASS
        assert err(c("AUTH", "offuser", "pw")) == WRONGPASS  # a disabled user
        assert err(c("AUTH", "nobody", "pw")) == WRONGPASS
        assert err(c("AUTH", "alice", "pw", "x")) == "ERR syntax error"
        assert c("ACL", "WHOAMI") == b"default"
        assert c("AUTH", "alice", "pw") == b"OK"
        assert c("ACL", "WHOAMI") == b"alice"
        assert err(c("AUTH", "alice", "bad")) == WRONGPASS  # still alice
        assert c("ACL", "WHOAMI") == b"alice"
        assert c("AUTH", "default", "anything") == b"OK"  # default is nopass
        assert c("ACL", "WHOAMI") == b"default"
    finally:
        c.close()


def test_hello_auth_with_username(a, server):
    a("ACL", "SETUSER", "hal", "on", ">pw", "+@all", "~*")
    a("ACL", "SETUSER", "hoff", "off", ">pw", "+@all", "~*")
    c = Conn(server.port)
    try:
        assert err(c("HELLO", "3", "AUTH", "hal", "bad")) == WRONGPASS
        assert err(c("HELLO", "3", "AUTH", "hoff", "pw")) == WRONGPASS
        assert err(c("HELLO", "3", "AUTH", "hal")) == "ERR Syntax error in HELLO option 'AUTH'"
        reply = c("HELLO", "3", "AUTH", "hal", "pw", "SETNAME", "n1")
        assert reply[b"proto"] == 3 and reply[b"server"] == b"redis"
        assert c("ACL", "WHOAMI") == b"hal"
        assert c("CLIENT", "GETNAME") == b"n1"
    finally:
        c.close()


def test_nopass_user_accepts_any_password(a, login):
    a("ACL", "SETUSER", "free", "on", "nopass", "+acl|whoami")
    assert login("free", "anything")("ACL", "WHOAMI") == b"free"
    assert login("free", "")("ACL", "WHOAMI") == b"free"


def test_commands_always_allowed_for_a_user_without_commands(a, login):
    a("ACL", "SETUSER", "none", "on", "nopass", "-@all")
    c = login("none")
    assert err(c("PING")) == noperm("ping")
    assert err(c("ACL", "WHOAMI")) == noperm("acl|whoami")
    assert err(c("MULTI")) == noperm("multi")
    assert err(c("EXEC")) == ("EXECABORT Transaction discarded because of: "
                              + noperm("exec"))
    assert c("AUTH", "none", "x") == b"OK"
    reply = c("HELLO", "2")
    assert reply[4:6] == [b"proto", 2]
    assert c("HELLO", "2", "AUTH", "none", "y")[4:6] == [b"proto", 2]


# -- 4. enforcement at top level --------------------------------------------------------------

def test_denied_commands_and_subcommands(a, login):
    a("ACL", "SETUSER", "cuser", "on", ">pw", "~*", "+get", "+config|get", "+acl|whoami")
    c = login("cuser")
    assert c("GET", "k") is None
    assert err(c("SET", "k", "v")) == noperm("set")
    assert err(c("set", "k", "v")) == noperm("set")
    assert isinstance(c("CONFIG", "GET", "maxmemory"), list)
    assert err(c("CONFIG", "SET", "maxmemory", "0")) == noperm("config|set")
    assert err(c("ACL", "LIST")) == noperm("acl|list")
    assert err(c("CLIENT", "INFO")) == noperm("client|info")
    assert c("ACL", "WHOAMI") == b"cuser"
    a("ACL", "SETUSER", "fa", "on", ">pw", "-@all", "+select|1")
    f = login("fa")
    assert f("SELECT", "1") == b"OK"
    assert err(f("SELECT", "2")) == noperm("select")


def test_read_and_write_key_patterns(a, login):
    a("ACL", "SETUSER", "rw", "on", ">pw", "+@all", "%R~r:*", "%W~w:*", "~rw:*")
    a("SET", "r:1", "v")
    c = login("rw")
    assert c("GET", "r:1") == b"v"  # read-only pattern: reading is allowed
    assert err(c("SET", "r:1", "x")) == NOPERM_KEY
    assert err(c("DEL", "r:1")) == NOPERM_KEY
    assert c("SET", "w:1", "v") == b"OK"  # write-only pattern: writing is allowed
    assert err(c("GET", "w:1")) == NOPERM_KEY
    assert c("APPEND", "w:1", "z") == 2  # writes without returning data
    assert c("STRLEN", "w:1") == 2  # reads no data: any matching pattern will do
    assert c("EXISTS", "w:1") == 1
    assert c("SET", "rw:1", "v") == b"OK" and c("GET", "rw:1") == b"v"
    assert err(c("GET", "other")) == NOPERM_KEY
    assert err(c("EXISTS", "other")) == NOPERM_KEY
    assert c("DEL", "w:1") == 1


def test_commands_with_several_keys(a, login):
    a("ACL", "SETUSER", "multi_k", "on", ">pw", "+@all", "%R~r:*", "%W~w:*", "~rw:*")
    a("SET", "r:1", "1")
    c = login("multi_k")
    assert err(c("MSET", "rw:1", "a", "x:1", "b")) == NOPERM_KEY
    assert c("MSET", "rw:1", "a", "w:2", "b") == b"OK"
    assert err(c("MGET", "rw:1", "w:2")) == NOPERM_KEY
    assert c("MGET", "rw:1", "r:1") == [b"a", b"1"]
    assert a("EXISTS", "x:1") == 0


def test_copy_rename_and_lmove_source_and_destination(a, login):
    a("ACL", "SETUSER", "mover", "on", ">pw", "+@all", "%R~r:*", "%W~w:*", "~rw:*")
    a("SET", "r:1", "v")
    a("SET", "w:1", "v")
    c = login("mover")
    assert c("COPY", "r:1", "w:3") == 1  # source read, destination written
    assert err(c("COPY", "w:1", "r:3")) == NOPERM_KEY
    assert err(c("COPY", "rw:1", "r:3")) == NOPERM_KEY
    assert err(c("RENAME", "r:1", "w:4")) == NOPERM_KEY  # the source is deleted: needs write
    assert err(c("RENAME", "w:1", "rw:1")) == NOPERM_KEY  # ... and read
    c("SET", "rw:1", "v")
    assert c("RENAME", "rw:1", "w:4") == b"OK"
    a("LPUSH", "w:l", "x")
    assert err(c("LMOVE", "w:l", "rw:l", "LEFT", "RIGHT")) == NOPERM_KEY
    assert log(a) == [(1, "key", "toplevel", "w:l", "mover"),
                      (2, "key", "toplevel", "w:1", "mover"),  # COPY's, then RENAME's
                      (1, "key", "toplevel", "r:1", "mover"),
                      (1, "key", "toplevel", "r:3", "mover")]


def test_channels_publish_and_subscribe(a, login):
    a("ACL", "SETUSER", "chan", "on", ">pw", "+@all", "~*", "&news.*", "&lit")
    c = login("chan")
    assert c("PUBLISH", "news.a", "m") == 0
    assert c("PUBLISH", "lit", "m") == 0
    assert err(c("PUBLISH", "other", "m")) == NOPERM_CHANNEL
    assert c("SPUBLISH", "news.b", "m") == 0
    assert err(c("SPUBLISH", "zzz", "m")) == NOPERM_CHANNEL
    s = login("chan")
    assert err(s("SUBSCRIBE", "other")) == NOPERM_CHANNEL
    assert err(s("SUBSCRIBE", "news.a", "other")) == NOPERM_CHANNEL  # none subscribed
    assert s("SUBSCRIBE", "news.a") == [b"subscribe", b"news.a", 1]
    assert s("PSUBSCRIBE", "news.*") == [b"psubscribe", b"news.*", 2]  # literally a pattern
    assert err(s("PSUBSCRIBE", "news.a*")) == NOPERM_CHANNEL  # matched, but not literally
    assert err(s("PSUBSCRIBE", "li*")) == NOPERM_CHANNEL
    assert s("PSUBSCRIBE", "lit") == [b"psubscribe", b"lit", 3]
    assert err(s("SSUBSCRIBE", "other")) == NOPERM_CHANNEL
    assert s("UNSUBSCRIBE", "zzz") == [b"unsubscribe", b"zzz", 3]
    assert [e[3] for e in log(a)] == ["other", "li*", "news.a*", "zzz"]
    assert log(a)[0] == (4, "channel", "toplevel", "other", "chan")


# -- 5. MULTI / EXEC --------------------------------------------------------------------------

def test_denied_commands_inside_multi_abort_exec(a, login):
    a("ACL", "SETUSER", "tx", "on", ">pw", "+@all", "-set", "~k*")
    c = login("tx")
    assert c("MULTI") == b"OK"
    assert c("GET", "k1") == b"QUEUED"
    assert err(c("SET", "k1", "v")) == noperm("set")
    assert err(c("GET", "zz")) == NOPERM_KEY
    assert err(c("EXEC")) == "EXECABORT Transaction discarded because of previous errors."
    assert log(a) == [(1, "key", "multi", "zz", "tx"), (1, "command", "multi", "set", "tx")]


def test_permissions_revoked_between_queueing_and_exec(a, login):
    a("ACL", "SETUSER", "tx2", "on", ">pw", "+@all", "~k*", "&c*")
    c = login("tx2")
    assert c("MULTI") == b"OK"
    for cmd in (("GET", "k1"), ("INCR", "k2"), ("PUBLISH", "c1", "m"), ("SET", "k3", "v")):
        assert c(*cmd) == b"QUEUED"
    a("ACL", "SETUSER", "tx2", "-incr", "resetkeys", "~k1", "~k2", "resetchannels")
    reply = c("EXEC")
    assert reply[0] is None
    assert [err(r) for r in reply[1:]] == [
        CHANGED + "no permission to execute the command or subcommand",
        CHANGED + "no permission to access one of the channels used as arguments",
        CHANGED + "no permission to touch the specified keys"]
    assert a("EXISTS", "k2", "k3") == 0
    assert log(a) == [(1, "key", "multi", "k3", "tx2"), (1, "channel", "multi", "c1", "tx2"),
                      (1, "command", "multi", "incr", "tx2")]


# -- 6. EVAL ----------------------------------------------------------------------------------

def script_error(message: str, script: str) -> str:
    return (f"ERR {message} script: {hashlib.sha1(script.encode()).hexdigest()}, "
            f"on @user_script:1.")


def test_eval_calling_a_denied_command(a, login):
    a("ACL", "SETUSER", "lua", "on", ">pw", "+eval", "+get", "~k*")
    c = login("lua")
    s = "return redis.call('set','k1','v')"
    assert err(c("EVAL", s, "1", "k1")) == \
        script_error("The user executing the script can't run this command or subcommand", s)
    assert err(c("EVAL", "return redis.pcall('set','k1','v')", "1", "k1")) == \
        "ERR The user executing the script can't run this command or subcommand"
    s = "return redis.call('publish','ch','m')"
    assert err(c("EVAL", s, "0")) == \
        script_error("The user executing the script can't run this command or subcommand", s)
    assert c("EVAL", "return redis.call('get','k1')", "0") is None
    assert a("EXISTS", "k1") == 0
    assert log(a) == [(1, "command", "lua", "publish", "lua"), (2, "command", "lua", "set", "lua")]


def test_eval_with_a_denied_key_and_eval_itself_denied(a, login):
    a("ACL", "SETUSER", "lua2", "on", ">pw", "+eval", "+get", "~k*")
    a("ACL", "SETUSER", "noeval", "on", ">pw", "+@all", "-eval", "~*")
    c = login("lua2")
    # a declared key is checked before the script runs
    assert err(c("EVAL", "return redis.call('get','zz')", "1", "zz")) == NOPERM_KEY
    s = "return redis.call('get','zz')"
    assert err(c("EVAL", s, "0")) == script_error(
        "The user executing the script can't access at least one of the keys mentioned in the "
        "command arguments", s)
    assert err(c("EVAL", "return redis.pcall('get','zz')", "0")) == (
        "ERR The user executing the script can't access at least one of the keys mentioned in "
        "the command arguments")
    assert err(login("noeval")("EVAL", "return 1", "0")) == noperm("eval")
    assert log(a) == [(1, "command", "toplevel", "eval", "noeval"),
                      (2, "key", "lua", "zz", "lua2"), (1, "key", "toplevel", "zz", "lua2")]


# -- 7. ACL DRYRUN ----------------------------------------------------------------------------

def test_dryrun(a):
    a("ACL", "SETUSER", "dr", "on", "nopass", "+get", "+config|get", "~k1", "&c1", "+publish",
      "+subscribe", "+select|1")
    assert a("ACL", "DRYRUN", "dr", "get", "k1") == b"OK"
    assert a("ACL", "DRYRUN", "dr", "GET", "k1") == b"OK"
    assert a("ACL", "DRYRUN", "dr", "config", "get", "a") == b"OK"
    assert a("ACL", "DRYRUN", "dr", "select", "1") == b"OK"
    assert a("ACL", "DRYRUN", "dr", "publish", "c1", "m") == b"OK"
    # denials are bulk strings, not errors
    assert a("ACL", "DRYRUN", "dr", "set", "k1", "v") == \
        b"This user has no permissions to run the 'set' command"
    assert a("ACL", "DRYRUN", "dr", "config", "set", "a", "b") == \
        b"This user has no permissions to run the 'config|set' command"
    assert a("ACL", "DRYRUN", "dr", "select", "2") == \
        b"This user has no permissions to run the 'select' command"
    assert a("ACL", "DRYRUN", "dr", "get", "k2") == \
        b"This user has no permissions to access the 'k2' key"
    assert a("ACL", "DRYRUN", "dr", "publish", "c2", "m") == \
        b"This user has no permissions to access the 'c2' channel"
    assert a("ACL", "DRYRUN", "dr", "subscribe", "c1", "c2") == \
        b"This user has no permissions to access the 'c2' channel"
    assert err(a("ACL", "DRYRUN", "dr", "get")) == "ERR wrong number of arguments for 'get' command"
    assert err(a("ACL", "DRYRUN", "dr", "config", "nosuch")) == "ERR Command 'config' not found"
    assert err(a("ACL", "DRYRUN", "dr")) == "ERR wrong number of arguments for 'acl|dryrun' command"
    assert err(a("ACL", "DRYRUN", "nobody", "get", "k1")) == "ERR User 'nobody' not found"
    assert log(a) == []  # a dry run logs nothing


# -- 8. ACL LOG -------------------------------------------------------------------------------

def test_acl_log_entries_and_grouping(a, server, login):
    a("ACL", "SETUSER", "lg", "on", ">pw", "+get", "+publish", "~k", "&c")
    c = login("lg")
    assert err(c("SET", "k", "v")) == noperm("set")
    assert err(c("GET", "other")) == NOPERM_KEY
    assert err(c("PUBLISH", "nope", "m")) == NOPERM_CHANNEL
    assert err(c("AUTH", "lg", "bad")) == WRONGPASS
    assert err(c("GET", "other")) == NOPERM_KEY  # grouped, moved to the front
    assert log(a) == [(2, "key", "toplevel", "other", "lg"), (1, "auth", "toplevel", "AUTH", "lg"),
                      (1, "channel", "toplevel", "nope", "lg"),
                      (1, "command", "toplevel", "set", "lg")]
    entry = a("ACL", "LOG", "1")[0]
    assert entry[::2] == [b"count", b"reason", b"context", b"object", b"username",
                          b"age-seconds", b"client-info"]
    assert b" user=lg " in entry[13] and b" cmd=get " in entry[13]
    h = Conn(server.port)
    try:
        assert err(h("HELLO", "3", "AUTH", "lg", "bad")) == WRONGPASS
        assert err(h("HELLO", "3", "AUTH", "nobody", "pw")) == WRONGPASS
    finally:
        h.close()
    assert log(a, 2) == [(1, "auth", "toplevel", "HELLO", "nobody"),
                         (1, "auth", "toplevel", "HELLO", "lg")]
    assert len(a("ACL", "LOG")) == 6


# -- 9. ACL DELUSER ---------------------------------------------------------------------------

def test_deluser_disconnects_the_users_clients(a, login):
    for name in ("gone", "gone2", "stays"):
        a("ACL", "SETUSER", name, "on", ">pw", "+@all", "~*")
    c1, c2, c3, other = login("gone"), login("gone"), login("gone2"), login("stays")
    assert a("ACL", "DELUSER", "gone", "nobody", "gone2") == 2
    assert c1.closed() and c2.closed() and c3.closed()
    assert other("PING") == b"PONG"
    assert a("ACL", "USERS") == [b"default", b"stays"]
    assert a("ACL", "DELUSER", "gone") == 0
    # deleting one's own user: the reply, then the connection is closed
    assert other("ACL", "DELUSER", "stays") == 1
    assert other.closed()
    assert a("ACL", "USERS") == [b"default"]


# -- 10. CLIENT LIST / INFO -------------------------------------------------------------------

def test_client_list_and_info_show_the_user(a, login):
    a("ACL", "SETUSER", "cli", "on", ">pw", "+@all", "~*")
    c = login("cli")
    assert c("CLIENT", "SETNAME", "bee") == b"OK"
    info = dict(f.split("=", 1) for f in c("CLIENT", "INFO").decode().split())
    assert info["user"] == "cli" and info["name"] == "bee"
    rows = [dict(f.split("=", 1) for f in line.split())
            for line in a("CLIENT", "LIST").decode().splitlines()]
    users = {r["name"]: r["user"] for r in rows}
    assert users["bee"] == "cli"
    me = [r for r in rows if r["cmd"] == "client|list"]
    assert [r["user"] for r in me] == ["default"]
    assert c("AUTH", "default", "x") == b"OK"
    assert dict(f.split("=", 1) for f in c("CLIENT", "INFO").decode().split())["user"] == \
        "default"


# -- 11. selectors ----------------------------------------------------------------------------

def test_a_selector_grants_what_the_root_denies(a, login):
    a("ACL", "SETUSER", "sl", "on", "nopass", "-@all", "+get", "~a*", "(+set ~b*)")
    c = login("sl")
    assert c("GET", "a1") is None
    assert c("SET", "b1", "v") == b"OK"
    assert err(c("SET", "a1", "v")) == NOPERM_KEY
    assert err(c("GET", "b1")) == NOPERM_KEY
    assert err(c("SET", "c1", "v")) == NOPERM_KEY
    assert err(c("MGET", "a1", "b1")) == noperm("mget")
    assert a("ACL", "DRYRUN", "sl", "SET", "b1", "v") == b"OK"
    assert a("ACL", "DRYRUN", "sl", "SET", "a1", "v") == \
        b"This user has no permissions to access the 'a1' key"
    assert a("ACL", "DRYRUN", "sl", "GET", "b1") == \
        b"This user has no permissions to access the 'b1' key"
    assert log(a) == [(1, "command", "toplevel", "mget", "sl"), (1, "key", "toplevel", "c1", "sl"),
                      (1, "key", "toplevel", "b1", "sl"), (1, "key", "toplevel", "a1", "sl")]


def test_the_most_relevant_error_among_selectors(a, login):
    # command < key < channel: the error reported is the "furthest" any selector got
    a("ACL", "SETUSER", "pr", "on", "nopass", "-@all", "+get", "~a*", "(+publish &c)",
      "(+set ~b*)")
    c = login("pr")
    assert c("PUBLISH", "c", "m") == 0
    assert err(c("PUBLISH", "d", "m")) == NOPERM_CHANNEL
    assert err(c("SET", "a1", "v")) == NOPERM_KEY
    assert err(c("INCR", "a1")) == noperm("incr")
    assert a("ACL", "DRYRUN", "pr", "publish", "d", "m") == \
        b"This user has no permissions to access the 'd' channel"
    assert log(a) == [(1, "command", "toplevel", "incr", "pr"), (1, "key", "toplevel", "a1", "pr"),
                      (1, "channel", "toplevel", "d", "pr")]


# -- 12. changing an authenticated user ------------------------------------------------------

def test_revoking_channels_disconnects_subscribers(a, login):
    a("ACL", "SETUSER", "ps", "on", ">pw", "+@all", "~*", "resetchannels", "&news", "&other")
    sub = login("ps")
    assert sub("SUBSCRIBE", "news") == [b"subscribe", b"news", 1]
    psub = login("ps")
    assert psub("PSUBSCRIBE", "other") == [b"psubscribe", b"other", 1]
    idle = login("ps")
    assert a("ACL", "SETUSER", "ps", "resetchannels", "&news") == b"OK"
    assert psub.closed()
    assert sub("PING") == [b"pong", b""]  # still subscribed
    # neither losing commands nor losing the root's channels while a selector allows the
    # channel disconnects it
    assert a("ACL", "SETUSER", "ps", "-@all", "(&news +get)", "resetchannels") == b"OK"
    assert a("PUBLISH", "news", "m") == 1
    assert sub.read_raw(until=b"m\r\n") == b"*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$1\r\nm\r\n"
    assert a("ACL", "SETUSER", "ps", "clearselectors") == b"OK"
    assert sub.closed()
    assert a("PUBLISH", "news", "m") == 0
    assert err(idle("PING")) == noperm("ping")  # not subscribed: still connected


def test_revoking_every_channel_disconnects_subscribers(a, login):
    a("ACL", "SETUSER", "allch", "on", ">pw", "+@all", "~*", "allchannels")
    psub = login("allch")
    assert psub("PSUBSCRIBE", "foo") == [b"psubscribe", b"foo", 1]
    kept = login("allch")
    assert kept("PSUBSCRIBE", "bar") == [b"psubscribe", b"bar", 1]
    assert a("ACL", "SETUSER", "allch", "resetchannels", "&bar") == b"OK"
    assert psub.closed()
    assert kept("PING") == [b"pong", b""]


def test_a_debug_subcommand_as_a_first_argument(a, login):
    a("ACL", "SETUSER", "dbg", "on", ">pw", "~*", "-@all", "+set", "+debug|object")
    c = login("dbg")
    assert c("SET", "k", "v") == b"OK"
    assert c("DEBUG", "OBJECT", "k").startswith(b"Value at:")
    # refused by ACL before anything looks at the subcommand, one Redis does not have either
    assert err(c("DEBUG", "NOSUCH")) == noperm("debug")
    assert a("ACL", "DRYRUN", "dbg", "DEBUG", "NOSUCH") == \
        b"This user has no permissions to run the 'debug' command"


def test_disabling_or_changing_a_user_keeps_its_connections(a, login):
    a("ACL", "SETUSER", "chg", "on", ">pw", "+@all", "~*")
    c = login("chg")
    assert a("ACL", "SETUSER", "chg", "off") == b"OK"
    assert c("PING") == b"PONG"
    assert a("ACL", "SETUSER", "chg", "resetpass") == b"OK"
    assert c("ACL", "WHOAMI") == b"chg"
    assert a("ACL", "SETUSER", "chg", "reset") == b"OK"
    assert err(c("PING")) == noperm("ping")
    assert a("ACL", "SETUSER", "chg", "+ping") == b"OK"
    assert c("PING") == b"PONG"


def test_sort_by_and_get_need_every_key(a, login):
    a("RPUSH", "k:list", "2", "1")
    a("MSET", "w_1", "9", "w_2", "8")
    a("ACL", "SETUSER", "sorter", "on", ">pw", "+sort", "+sort_ro", "~k:*")
    a("ACL", "SETUSER", "sorter2", "on", ">pw", "+sort", "allkeys")
    c = login("sorter")
    assert c("SORT", "k:list") == [b"1", b"2"]
    assert c("SORT", "k:list", "BY", "nosort") == [b"2", b"1"]
    assert err(c("SORT", "k:list", "BY", "w_*")) == \
        "ERR BY option of SORT denied due to insufficient ACL permissions."
    assert err(c("SORT_RO", "k:list", "GET", "#")) == \
        "ERR GET option of SORT denied due to insufficient ACL permissions."
    assert login("sorter2")("SORT", "k:list", "BY", "w_*", "GET", "#") == [b"2", b"1"]
    # A selector's `*` pattern with read access is every key too, a write-only one is not
    # (Redis's acl-v2.tcl "Test sort with ACL permissions")
    a("ACL", "SETUSER", "sorter3", "on", ">pw", "(+sort ~k:list %W~*)")
    c3 = login("sorter3")
    assert err(c3("SORT", "k:list", "BY", "w_*")) == \
        "ERR BY option of SORT denied due to insufficient ACL permissions."
    a("ACL", "SETUSER", "sorter3", "(+sort ~k:list %R~*)")
    assert c3("SORT", "k:list", "BY", "w_*", "GET", "#") == [b"2", b"1"]


def test_odd_rules(a):
    # an empty rule does nothing; `%` needs a permission; `%R` without `~` is the empty pattern
    assert a("ACL", "SETUSER", "odd", "", "on", "") == b"OK"
    assert err(a("ACL", "SETUSER", "odd", "%~z")) == setuser_error("%~z", "Syntax error")
    assert err(a("ACL", "SETUSER", "odd", "%")) == setuser_error("%", "Syntax error")
    assert a("ACL", "SETUSER", "odd", "%R", "%rw~q", "&") == b"OK"
    assert listed(a, "odd") == b"user odd on %R~ ~q resetchannels & -@all"
    # a `(` inside an open selector starts another: the error names the last one opened
    assert err(a("ACL", "SETUSER", "odd", "(~a", "(+get", "on")) == \
        "ERR Unmatched parenthesis in acl selector starting at '(+get'."
    assert a("ACL", "SETUSER", "odd", "(~a", "(+get", "~b)") == b"OK"
    assert listed(a, "odd").endswith(b" (~b resetchannels -@all +get)")
