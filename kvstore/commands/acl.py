"""ACL (Redis 7.0 `acl.c`) for the one user kvstore has, the default user (server/acl.py).

What reads ACLs answers as Redis does for a default user with full access: WHOAMI, USERS, LIST,
GETUSER, CAT (from the command table's categories), DRYRUN, GENPASS, LOG (failed AUTHs),
DELUSER, LOAD and SAVE (there is no ACL file). SETUSER takes the default user's password rules
(>pw <pw #digest !digest nopass resetpass) and the rules that keep full access (on ~* allkeys
&* allchannels +@all allcommands, the payload sanitizing flags); a rule that would restrict a
user, or another user, is refused: kvstore checks no command, key or channel permission.
"""

from __future__ import annotations

import re
import secrets

from ..errors import CommandError, subcommand_syntax
from ..replies import OK, Status
from .args import to_int
from .table import ADMIN, LOADING, NOSCRIPT, STALE, COMMANDS, Context, command, container

_FLAGS = ADMIN | NOSCRIPT | LOADING | STALE
_CATEGORIES = ("keyspace", "read", "write", "set", "sortedset", "list", "hash", "string",
               "bitmap", "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow",
               "blocking", "dangerous", "connection", "transaction", "scripting")
_NO_ACL_FILE = ("ERR This Redis instance is not configured to use an ACL file. You may want to "
                "specify users via the ACL SETUSER command and then issue a CONFIG REWRITE "
                "(assuming you have a Redis configuration file set) in order to store users in "
                "the Redis configuration.")
_NO_SUCH_PASSWORD = "The password you are trying to remove from the user does not exist"
_BAD_DIGEST = ("The password hash must be exactly 64 characters and contain only lowercase "
               "hexadecimal characters")
_DIGEST = re.compile(rb"[0-9a-f]{64}")
# Rules that leave the default user as it is: all access, and flags kvstore does not act on.
_FULL_ACCESS = {b"on", b"~*", b"allkeys", b"%rw~*", b"&*", b"allchannels", b"+@all",
                b"allcommands", b"sanitize-payload", b"skip-sanitize-payload"}


def _user(ctx: Context):
    from ..server.acl import DefaultUser

    client = ctx.client
    server = getattr(client, "server", None)
    return server.acl if server is not None else DefaultUser()


def _known(name: bytes) -> bool:
    return name == b"default"


container("acl", -2, group="server")


@command("acl|whoami", 2, NOSCRIPT | LOADING | STALE, group="server")
def acl_whoami(ctx: Context, argv: list[bytes]):
    """ACL WHOAMI"""
    return b"default"


@command("acl|users", 2, _FLAGS, group="server")
def acl_users(ctx: Context, argv: list[bytes]):
    """ACL USERS"""
    return [b"default"]


@command("acl|list", 2, _FLAGS, group="server")
def acl_list(ctx: Context, argv: list[bytes]):
    """ACL LIST"""
    return [_user(ctx).describe().encode()]


@command("acl|getuser", 3, _FLAGS, group="server")
def acl_getuser(ctx: Context, argv: list[bytes]):
    """ACL GETUSER username"""
    if not _known(argv[2]):
        return None
    user = _user(ctx)
    flags = [b"on", b"nopass"] if user.nopass else [b"on"]
    return {b"flags": flags, b"passwords": [p.encode() for p in user.passwords],
            b"commands": b"+@all", b"keys": b"~*", b"channels": b"&*", b"selectors": []}


@command("acl|setuser", -3, _FLAGS, group="server")
def acl_setuser(ctx: Context, argv: list[bytes]):
    """ACL SETUSER username [rule [rule ...]]"""
    name = argv[2].decode("utf-8", "surrogateescape")
    if not _known(argv[2]):
        raise CommandError(f"ERR kvstore has the default user only: it cannot create '{name}'")
    user = _user(ctx)
    passwords, nopass = list(user.passwords), user.nopass
    from ..server.acl import digest

    for rule in argv[3:]:
        low = rule.lower()
        if low in _FULL_ACCESS:
            continue
        text = rule.decode("utf-8", "surrogateescape")
        if rule[:1] in (b">", b"#"):
            value = digest(rule[1:]) if rule[:1] == b">" else rule[1:].decode("latin-1")
            if rule[:1] == b"#" and not _DIGEST.fullmatch(rule[1:]):
                raise CommandError(f"ERR Error in ACL SETUSER modifier '{text}': {_BAD_DIGEST}")
            if value not in passwords:
                passwords.append(value)
            nopass = False
        elif rule[:1] in (b"<", b"!"):
            value = digest(rule[1:]) if rule[:1] == b"<" else rule[1:].decode("latin-1")
            if rule[:1] == b"!" and not _DIGEST.fullmatch(rule[1:]):
                raise CommandError(f"ERR Error in ACL SETUSER modifier '{text}': {_BAD_DIGEST}")
            if value not in passwords:
                raise CommandError(f"ERR Error in ACL SETUSER modifier '{text}': "
                                   f"{_NO_SUCH_PASSWORD}")
            passwords.remove(value)
        elif low == b"nopass":
            passwords, nopass = [], True
        elif low == b"resetpass":
            passwords, nopass = [], False
        elif low in (b"off", b"reset", b"resetkeys", b"resetchannels", b"nocommands") or \
                rule[:1] in (b"~", b"%", b"&", b"+", b"-", b"("):
            raise CommandError(f"ERR Error in ACL SETUSER modifier '{text}': kvstore checks no "
                               "permissions, so the default user keeps full access")
        else:
            raise CommandError(f"ERR Error in ACL SETUSER modifier '{text}': Syntax error")
    user.passwords, user.nopass = passwords, nopass  # all rules valid: apply them together
    return OK


@command("acl|deluser", -3, _FLAGS, group="server")
def acl_deluser(ctx: Context, argv: list[bytes]):
    """ACL DELUSER username [username ...]"""
    if any(name == b"default" for name in argv[2:]):
        raise CommandError("ERR The 'default' user cannot be removed")
    return 0


@command("acl|cat", -2, NOSCRIPT | LOADING | STALE, group="server")
def acl_cat(ctx: Context, argv: list[bytes]):
    """ACL CAT [category]"""
    from .admin import _categories, _listed

    if len(argv) == 2:
        return [c.encode() for c in _CATEGORIES]
    if len(argv) > 3:
        raise subcommand_syntax(argv)
    name = argv[2].decode("utf-8", "surrogateescape")
    if name.lower() not in _CATEGORIES:
        raise CommandError(f"ERR Unknown category '{name}'")
    cat = "@" + name.lower()
    return [c.name.encode() for c in _listed() if cat in _categories(c)]


@command("acl|dryrun", -4, _FLAGS, group="server")
def acl_dryrun(ctx: Context, argv: list[bytes]):
    """ACL DRYRUN username command [arg [arg ...]]"""
    if not _known(argv[2]):
        raise CommandError(f"ERR User '{argv[2].decode('utf-8', 'surrogateescape')}' not found")
    sub = argv[3:]
    cmd = COMMANDS.get(sub[0].lower())
    if cmd is not None and cmd.subcommands:
        cmd = cmd.subcommands.get(sub[1].lower()) if len(sub) > 1 else None
    if cmd is None:
        raise CommandError(f"ERR Command '{sub[0].decode('utf-8', 'surrogateescape')}' "
                           "not found")
    if cmd.arity > 0 and cmd.arity != len(sub) or len(sub) < -cmd.arity:
        raise CommandError(f"ERR wrong number of arguments for '{cmd.name}' command")
    return OK  # the default user may run everything


@command("acl|genpass", -2, NOSCRIPT | LOADING | STALE, group="server")
def acl_genpass(ctx: Context, argv: list[bytes]):
    """ACL GENPASS [bits]"""
    if len(argv) > 3:
        raise subcommand_syntax(argv)
    bits = to_int(argv[2]) if len(argv) == 3 else 256
    if not 0 < bits <= 4096:
        raise CommandError("ERR ACL GENPASS argument must be the number of bits for the output "
                           "password, a positive number up to 4096")
    return secrets.token_hex((bits + 7) // 8)[:(bits + 3) // 4].encode()


@command("acl|log", -2, _FLAGS, group="server")
def acl_log(ctx: Context, argv: list[bytes]):
    """ACL LOG [count | RESET]"""
    import time

    user = _user(ctx)
    if len(argv) > 3:
        raise subcommand_syntax(argv)
    if len(argv) == 3 and argv[2].lower() == b"reset":
        user.log.clear()
        return OK
    count = to_int(argv[2]) if len(argv) == 3 else 10
    now_ms = int(time.time() * 1000)
    out = []
    for entry in list(user.log)[:max(count, 0)]:
        out.append({b"count": entry["count"], b"reason": entry["reason"].encode(),
                    b"context": entry["context"].encode(), b"object": entry["object"].encode(),
                    b"username": entry["username"],
                    b"age-seconds": (now_ms - entry["ctime"]) / 1000,
                    b"client-info": entry["client-info"].encode()})
    return out


@command("acl|load", 2, _FLAGS, group="server")
def acl_load(ctx: Context, argv: list[bytes]):
    """ACL LOAD"""
    raise CommandError(_NO_ACL_FILE)


@command("acl|save", 2, _FLAGS, group="server")
def acl_save(ctx: Context, argv: list[bytes]):
    """ACL SAVE"""
    raise CommandError(_NO_ACL_FILE)


@command("acl|help", 2, LOADING | STALE, group="server")
def acl_help(ctx: Context, argv: list[bytes]):
    """ACL HELP"""
    lines = ["ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
             "CAT [<category>]",
             "    List all commands that belong to <category>, or all command categories",
             "    when no category is specified.",
             "DELUSER <username> [<username> ...]", "    Delete a list of users.",
             "DRYRUN <username> <command> [<arg> ...]",
             "    Returns whether the user can execute the given command without executing "
             "the command.",
             "GETUSER <username>", "    Get the user's details.",
             "GENPASS [<bits>]",
             "    Generate a secure 256-bit user password. The optional `bits` argument can",
             "    be used to specify a different size.",
             "LIST", "    Show users details in config file format.",
             "LOAD", "    Reload users from the ACL file.",
             "LOG [<count> | RESET]", "    Show the ACL log entries.",
             "SAVE", "    Save the current config to the ACL file.",
             "SETUSER <username> <attribute> [<attribute> ...]",
             "    Create or modify a user with the specified attributes.",
             "USERS", "    List all the registered usernames.",
             "WHOAMI", "    Return the current connection username.",
             "HELP", "    Prints this help."]
    return [Status(x) for x in lines]
