"""Connection commands: PING ECHO QUIT RESET HELLO AUTH and CLIENT.

These act on the connection (`ctx.client`, a `kvstore.server.client.Client`), which the server
attaches to each connection's Context. In the embedded store `ctx.client` is None: commands that
only make sense on a connection then answer as a fresh default connection would.
"""

from __future__ import annotations

import time

from ..errors import SYNTAX, CommandError, c_text, subcommand_syntax
from ..numbers import INT64_MAX
from ..replies import OK, PONG, Status, Verbatim
from ..version import REDIS_VERSION
from .args import to_int
from .table import (
    ADMIN, ALLOW_BUSY, FAST, LOADING, NO_AUTH, NOSCRIPT, STALE, Context, RunReplies, command,
    container, run_handler,
)

# Connection commands that run whatever state the server or client is in
_ANYTIME = NO_AUTH | NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY

WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."
AUTH_NOPASS = ("ERR AUTH <password> called without any password configured for the default "
               "user. Are you sure your configuration is correct?")
HELLO_NOAUTH = ("NOAUTH HELLO must be called with the client already authenticated, otherwise "
                "the HELLO AUTH <user> <pass> option can be used to authenticate the "
                "client and select the RESP protocol version at the same time")
BAD_NAME = "ERR Client names cannot contain spaces, newlines or special characters."
RESET = Status("RESET")


def _nopass(ctx: Context) -> bool:
    """AUTH <password> with no password for the default user to check."""
    client = ctx.client
    return client is None or client.server.acl.default.nopass


def _authenticate(ctx: Context, user: bytes | None, password: bytes, command: bytes) -> None:
    """AUTH's and HELLO's check: the connection runs as that user from now on. A refusal
    (WRONGPASS) goes to the ACL log, as Redis logs it (its object: the command's name as
    typed)."""
    client = ctx.client
    if client is None:
        return
    acl = client.server.acl
    found = acl.authenticate(b"default" if user is None else user, password)
    if found is None:
        acl.failed_auth(b"default" if user is None else user, c_text(command),
                        "multi" if ctx.in_multi else "toplevel", client.info_line())
        raise CommandError(WRONGPASS)
    client.authenticate(found)


@command("ping", -1, FAST, group="connection")
def ping(ctx: Context, argv: list[bytes]):
    """PING [message]"""
    if len(argv) > 2:
        raise CommandError("ERR wrong number of arguments for 'ping' command")
    return PONG if len(argv) == 1 else argv[1]


_PONGS = RunReplies(b"+PONG\r\n")


@run_handler("ping")
def ping_run(ctx: Context, argvs: list[list[bytes]], append) -> int:
    # PING without a message (a subscribed RESP2 client, whose PING replies differently, never
    # gets here: its state sends every command to the slow path)
    if len(argvs[0]) != 1:
        return 0
    name = argvs[0][0]
    done = 0
    for argv in argvs:
        if argv[0] != name or len(argv) != 1:
            break
        done += 1
    append(_PONGS[done])
    return done


@command("echo", 2, FAST | LOADING | STALE, group="connection")
def echo(ctx: Context, argv: list[bytes]):
    """ECHO message"""
    return argv[1]


@command("quit", -1, _ANYTIME, group="connection")
def quit_(ctx: Context, argv: list[bytes]):
    """QUIT"""
    if ctx.client is not None:
        ctx.client.close_after_reply()
    return OK


@command("reset", 1, _ANYTIME, group="connection")
def reset(ctx: Context, argv: list[bytes]):
    """RESET"""
    ctx.select(0)
    ctx.resp = ctx.conn_resp = 2
    client = ctx.client
    if client is not None:
        from ..server.client import DROP_LAST, REPLY_OFF, SKIP_NEXT

        client.state &= ~(REPLY_OFF | SKIP_NEXT | DROP_LAST)
        client.name = b""
        client.no_evict = client.no_touch = False
        if client.monitor:
            client.server.remove_monitor(client)
        client.server.tracking.disable(client)
        from ..server.states import reset_client  # leave MULTI, unwatch, unsubscribe

        reset_client(client)
        client.deauthenticate()
    return RESET


@command("auth", -2, _ANYTIME, group="connection")
def auth(ctx: Context, argv: list[bytes]):
    """AUTH [username] password"""
    if len(argv) > 3:
        raise CommandError(SYNTAX)
    if len(argv) == 2 and _nopass(ctx):
        raise CommandError(AUTH_NOPASS)
    _authenticate(ctx, argv[1] if len(argv) == 3 else None, argv[-1], argv[0])
    return OK


@command("hello", -1, _ANYTIME, group="connection")
def hello(ctx: Context, argv: list[bytes]):
    """HELLO [protover [AUTH username password] [SETNAME clientname]]"""
    proto = ctx.resp
    if len(argv) >= 2:
        proto = to_int(argv[1], "ERR Protocol version is not an integer or out of range")
        if proto < 2 or proto > 3:
            raise CommandError("NOPROTO unsupported protocol version")
    # Options take effect in order, as Redis 7.0 applies them: a SETNAME before a failed AUTH
    # or a bad option still names the connection.
    client = ctx.client
    i = 2
    while i < len(argv):
        opt = argv[i].lower()
        left = len(argv) - i - 1
        if opt == b"auth" and left >= 2:
            _authenticate(ctx, argv[i + 1], argv[i + 2], argv[0])
            i += 3
        elif opt == b"setname" and left >= 1:
            _check_name(argv[i + 1])
            if client is not None:
                client.name = argv[i + 1]
            i += 2
        else:
            opt_text = c_text(argv[i])
            raise CommandError(f"ERR Syntax error in HELLO option '{opt_text}'")
    if client is not None and not client.authenticated:
        raise CommandError(HELLO_NOAUTH)
    ctx.resp = ctx.conn_resp = proto
    if client is not None and (client.subs or client.psubs or client.ssubs):
        from .pubsub import update_mode  # HELLO 2 with subscriptions: RESP2's subscribed mode

        update_mode(client, ctx)
    return {
        b"server": b"redis", b"version": REDIS_VERSION.encode(), b"proto": proto,
        b"id": client.id if client is not None else 0, b"mode": b"standalone",
        b"role": b"master", b"modules": [],
    }


def _check_name(name: bytes) -> None:
    if any(c < 33 or c > 126 for c in name):
        raise CommandError(BAD_NAME)


# -- CLIENT ---------------------------------------------------------------------------------------

container("client", -2, NOSCRIPT | LOADING | STALE, group="connection")

_CLIENT_HELP = [
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR", "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME", "    Return the name of the current connection.",
    "ID", "    Return the ID of the current connection.",
    "INFO", "    Return information about the current client connection.",
    "KILL <ip:port>", "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "    * ID <client-id>",
    "      Kill connections by client id.",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "    * ID <client-id> [<client-id> ...]",
    "      Return clients with specified IDs only.",
    "UNPAUSE", "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)", "    Control the replies sent to the current connection.",
    "SETNAME <name>", "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]", "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO", "    Report tracking status for the current connection.",
    "SETINFO <option> <value>",
    "    Set client meta attr. Options are:",
    "    * LIB-NAME: the client lib name.",
    "    * LIB-VER: the client lib version.",
    "NO-EVICT (ON|OFF)", "    Protect current client connection from eviction.",
    "NO-TOUCH (ON|OFF)",
    "    Will not touch LRU/LFU stats when this mode is on.",
    "HELP", "    Prints this help.",
]

_CLIENT_TYPES = {b"normal", b"master", b"replica", b"slave", b"pubsub"}


def _server_clients(ctx: Context) -> list:
    client = ctx.client
    return list(client.server.clients.values()) if client is not None else []


@command("client|help", 2, LOADING | STALE, group="connection")
def client_help(ctx: Context, argv: list[bytes]):
    """CLIENT HELP"""
    return [Status(line) for line in _CLIENT_HELP]


@command("client|id", 2, NOSCRIPT | LOADING | STALE, group="connection")
def client_id(ctx: Context, argv: list[bytes]):
    """CLIENT ID"""
    return ctx.client.id if ctx.client is not None else 0


@command("client|setname", 3, NOSCRIPT | LOADING | STALE, group="connection")
def client_setname(ctx: Context, argv: list[bytes]):
    """CLIENT SETNAME connection-name"""
    _check_name(argv[2])
    if ctx.client is not None:
        ctx.client.name = argv[2]
    return OK


@command("client|getname", 2, NOSCRIPT | LOADING | STALE, group="connection")
def client_getname(ctx: Context, argv: list[bytes]):
    """CLIENT GETNAME"""
    client = ctx.client
    return client.name if client is not None and client.name else None


@command("client|setinfo", 4, NOSCRIPT | LOADING | STALE, group="connection")
def client_setinfo(ctx: Context, argv: list[bytes]):
    """CLIENT SETINFO <LIB-NAME libname | LIB-VER libver>"""
    attr = argv[2].lower()
    if attr not in (b"lib-name", b"lib-ver"):
        raise CommandError(f"ERR Unrecognized option '{c_text(argv[2])}'")
    value = argv[3]
    if any(c < 33 or c > 126 for c in value):
        raise CommandError(f"ERR {attr.decode()} cannot contain spaces, newlines or special "
                           "characters.")
    client = ctx.client
    if client is not None:
        if attr == b"lib-name":
            client.lib_name = value.decode()
        else:
            client.lib_ver = value.decode()
    return OK


def _text(ctx: Context, data: bytes) -> bytes:
    """A human-readable report: a verbatim string in RESP3, as Redis's addReplyVerbatim."""
    return Verbatim(data) if ctx.resp == 3 else data


@command("client|info", 2, NOSCRIPT | LOADING | STALE, group="connection")
def client_info(ctx: Context, argv: list[bytes]):
    """CLIENT INFO"""
    if ctx.client is None:
        return _text(ctx, b"")
    return _text(ctx, (ctx.client.info_line(argv) + "\n").encode())


def _client_type(raw: bytes) -> str:
    t = raw.lower()
    if t not in _CLIENT_TYPES:
        raise CommandError(f"ERR Unknown client type '{c_text(raw)}'")
    return "replica" if t == b"slave" else t.decode()


@command("client|list", -2, ADMIN | NOSCRIPT | LOADING | STALE, group="connection")
def client_list(ctx: Context, argv: list[bytes]):
    """CLIENT LIST [TYPE <NORMAL | MASTER | REPLICA | PUBSUB>] [ID client-id [client-id ...]]"""
    clients = _server_clients(ctx)
    if len(argv) == 4 and argv[2].lower() == b"type":
        kind = _client_type(argv[3])
        clients = [c for c in clients if c.type_name() == kind]
    elif len(argv) >= 4 and argv[2].lower() == b"id":
        # In the order asked, as often as asked (Redis looks each one up)
        by_id = {c.id: c for c in clients}
        ids = [to_int(raw, "ERR Invalid client ID") for raw in argv[3:]]
        clients = [by_id[i] for i in ids if i in by_id]
    elif len(argv) != 2:
        raise CommandError(SYNTAX)
    return _text(ctx, "".join(c.info_line(argv if c is ctx.client else None) + "\n"
                              for c in clients).encode())


@command("client|kill", -3, ADMIN | NOSCRIPT | LOADING | STALE, group="connection")
def client_kill(ctx: Context, argv: list[bytes]):
    """CLIENT KILL <ip:port | <[ID client-id] | [TYPE <NORMAL | MASTER | SLAVE | REPLICA |
    PUBSUB>] | [USER username] | [ADDR ip:port] | [LADDR ip:port] | [SKIPME <YES | NO>]>
    [...]>"""
    clients = _server_clients(ctx)
    me = ctx.client
    if len(argv) == 3:  # the old form: CLIENT KILL addr:port
        addr = argv[2].decode("utf-8", "replace")
        victims = [c for c in clients if c.addr == addr]
        if not victims:
            raise CommandError("ERR No such client")
        _kill(victims, me)
        return OK
    if len(argv) % 2:
        raise CommandError(SYNTAX)
    skipme = True
    # One test per filter, a repeated one replacing the earlier (Redis keeps one id, one
    # type... and the last given wins)
    tests = {}
    for i in range(2, len(argv), 2):
        opt, val = argv[i].lower(), argv[i + 1]
        if opt == b"id":
            cid = to_int(val, _BAD_CLIENT_ID)
            if cid <= 0:
                raise CommandError(_BAD_CLIENT_ID)
            tests[opt] = lambda c, cid=cid: c.id == cid
        elif opt == b"type":
            kind = _client_type(val)
            tests[opt] = lambda c, kind=kind: c.type_name() == kind
        elif opt == b"addr":
            tests[opt] = lambda c, a=val.decode("utf-8", "replace"): c.addr == a
        elif opt == b"laddr":
            tests[opt] = lambda c, a=val.decode("utf-8", "replace"): c.laddr == a
        elif opt == b"user":
            from .acl import registry

            user = registry(ctx).users.get(val)
            if user is None:
                raise CommandError(f"ERR No such user '{c_text(val)}'")
            tests[opt] = lambda c, user=user: c.user is user
        elif opt == b"skipme":
            if val.lower() not in (b"yes", b"no"):
                raise CommandError(SYNTAX)
            skipme = val.lower() == b"yes"
        else:
            raise CommandError(SYNTAX)
    victims = [c for c in clients
               if all(t(c) for t in tests.values()) and not (skipme and c is me)]
    _kill(victims, me)
    return len(victims)


_BAD_CLIENT_ID = "ERR client-id should be greater than 0"


def _kill(victims: list, me) -> None:
    for c in victims:
        if c is me:
            c.close_after_reply()  # Redis lets the killing client read its reply first
        else:
            c.kill()


def _on_off(raw: bytes) -> bool:
    v = raw.lower()
    if v == b"on":
        return True
    if v == b"off":
        return False
    raise CommandError(SYNTAX)


@command("client|no-evict", 3, ADMIN | NOSCRIPT | LOADING | STALE, group="connection")
def client_no_evict(ctx: Context, argv: list[bytes]):
    """CLIENT NO-EVICT <ON | OFF>"""
    flag = _on_off(argv[2])
    if ctx.client is not None:
        ctx.client.no_evict = flag
    return OK


@command("client|no-touch", 3, NOSCRIPT | LOADING | STALE, group="connection")
def client_no_touch(ctx: Context, argv: list[bytes]):
    """CLIENT NO-TOUCH <ON | OFF>"""
    flag = _on_off(argv[2])
    if ctx.client is not None:
        ctx.client.no_touch = flag
    return OK


@command("client|reply", 3, NOSCRIPT | LOADING | STALE, group="connection")
def client_reply(ctx: Context, argv: list[bytes]):
    """CLIENT REPLY <ON | OFF | SKIP>"""
    mode = argv[2].lower()
    if mode not in (b"on", b"off", b"skip"):
        raise CommandError(SYNTAX)
    client = ctx.client
    if client is None:
        return OK
    from ..server.client import DROP_LAST, REPLY_OFF, SKIP_NEXT

    if mode == b"on":
        client.state &= ~(REPLY_OFF | SKIP_NEXT | DROP_LAST)
    elif mode == b"off":
        client.state |= REPLY_OFF | DROP_LAST
    else:
        client.state |= SKIP_NEXT | DROP_LAST
    return OK


@command("client|pause", -3, ADMIN | NOSCRIPT | LOADING | STALE, group="connection")
def client_pause(ctx: Context, argv: list[bytes]):
    """CLIENT PAUSE timeout [WRITE | ALL]

    Redis checks the mode first, then the timeout, and adds "now" to the timeout in an int64
    that wraps: a timeout past the year 292 million ends in the past and pauses nothing.
    """
    if len(argv) > 4:
        raise subcommand_syntax(argv)
    write_only = False
    if len(argv) == 4:
        mode = argv[3].lower()
        if mode not in (b"write", b"all"):
            raise CommandError("ERR CLIENT PAUSE mode must be WRITE or ALL")
        write_only = mode == b"write"
    ms = to_int(argv[2], "ERR timeout is not an integer or out of range")
    if ms < 0:
        raise CommandError("ERR timeout is negative")
    now_ms = int(time.time() * 1000)
    if ms and ms + now_ms <= INT64_MAX and ctx.client is not None:
        ctx.client.server.pause((ms + now_ms) / 1000.0, write_only)
    return OK


@command("client|unpause", 2, ADMIN | NOSCRIPT | LOADING | STALE, group="connection")
def client_unpause(ctx: Context, argv: list[bytes]):
    """CLIENT UNPAUSE"""
    if ctx.client is not None:
        ctx.client.server.unpause()
    return OK


