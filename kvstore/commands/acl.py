"""ACL (Redis 7.0 `acl.c`): the ACL command over the users of server/acl.py.

WHOAMI, USERS, LIST, GETUSER, SETUSER, DELUSER, DRYRUN, CAT (from the command table's
categories), GENPASS, LOG, LOAD and SAVE (with an `aclfile`), HELP. The embedded store has a
registry of its own (users can be described and changed; there are no connections to limit).
"""

from __future__ import annotations

import secrets

from ..errors import CommandError, c_text, subcommand_syntax
from ..replies import OK, SetReply, Status
from .args import to_int
from .table import ADMIN, LOADING, NOSCRIPT, STALE, Context, command, container

_FLAGS = ADMIN | NOSCRIPT | LOADING | STALE
_NO_ACL_FILE = ("ERR This Redis instance is not configured to use an ACL file. You may want to "
                "specify users via the ACL SETUSER command and then issue a CONFIG REWRITE "
                "(assuming you have a Redis configuration file set) in order to store users in "
                "the Redis configuration.")


def registry(ctx: Context):
    """The server's users, or the embedded store's."""
    from ..server.acl import Acl

    server = getattr(ctx.client, "server", None)
    if server is not None:
        return server.acl
    ks = ctx.ks
    if ks.acl is None:
        ks.acl = Acl()
    return ks.acl


container("acl", -2, group="server")


@command("acl|whoami", 2, NOSCRIPT | LOADING | STALE, group="server")
def acl_whoami(ctx: Context, argv: list[bytes]):
    """ACL WHOAMI"""
    user = getattr(ctx.client, "user", None)
    return b"default" if user is None else user.name


@command("acl|users", 2, _FLAGS, group="server")
def acl_users(ctx: Context, argv: list[bytes]):
    """ACL USERS"""
    return sorted(registry(ctx).users)


@command("acl|list", 2, _FLAGS, group="server")
def acl_list(ctx: Context, argv: list[bytes]):
    """ACL LIST"""
    users = registry(ctx).users
    return [users[name].describe().encode("utf-8", "surrogateescape") for name in sorted(users)]


def _selector_map(selector) -> dict:
    return {b"commands": selector.commands_text().encode(),
            b"keys": selector.keys_text().encode("utf-8", "surrogateescape"),
            b"channels": selector.channels_text().encode("utf-8", "surrogateescape")}


@command("acl|getuser", 3, _FLAGS, group="server")
def acl_getuser(ctx: Context, argv: list[bytes]):
    """ACL GETUSER username"""
    user = registry(ctx).users.get(argv[2])
    if user is None:
        return None
    return {b"flags": SetReply(f.encode() for f in user.flags()),
            b"passwords": [p.encode() for p in user.passwords],
            **_selector_map(user.root),
            b"selectors": [_selector_map(s) for s in user.selectors[1:]]}


@command("acl|setuser", -3, _FLAGS, group="server")
def acl_setuser(ctx: Context, argv: list[bytes]):
    """ACL SETUSER username [rule [rule ...]]"""
    from ..server.acl import RuleError, merge_selectors

    try:
        rules = merge_selectors(argv[3:])
    except ValueError as exc:
        raise CommandError("ERR Unmatched parenthesis in acl selector starting at "
                           f"'{c_text(exc.args[0])}'.") from None
    name = argv[2]
    if any(c in b" \t\r\n\0" for c in name):
        raise CommandError("ERR Usernames can't contain spaces or null characters")
    acl = registry(ctx)
    try:
        user, before = acl.set_user(name, rules)
    except RuleError as exc:
        rule, reason = exc.args
        raise CommandError(f"ERR Error in ACL SETUSER modifier '{c_text(rule)}': {reason}") \
            from None
    server = getattr(ctx.client, "server", None)
    if server is not None and before is not None:
        server.acl_changed(user, before)
    return OK


@command("acl|deluser", -3, _FLAGS, group="server")
def acl_deluser(ctx: Context, argv: list[bytes]):
    """ACL DELUSER username [username ...]"""
    if any(name == b"default" for name in argv[2:]):
        raise CommandError("ERR The 'default' user cannot be removed")
    acl = registry(ctx)
    server = getattr(ctx.client, "server", None)
    deleted = 0
    for name in argv[2:]:
        user = acl.users.pop(name, None)
        if user is not None:
            deleted += 1
            if server is not None:
                server.acl_deleted(user, ctx.client)
    return deleted


@command("acl|cat", -2, NOSCRIPT | LOADING | STALE, group="server")
def acl_cat(ctx: Context, argv: list[bytes]):
    """ACL CAT [category]"""
    from ..server.acl import CATEGORIES, catalog

    if len(argv) == 2:
        return [c.encode() for c in CATEGORIES]
    if len(argv) > 3:
        raise subcommand_syntax(argv)
    name = c_text(argv[2])  # (Redis looks the category up as a C string, strcasecmp)
    if name.lower() not in CATEGORIES:
        raise CommandError(f"ERR Unknown category '{name}'")
    return [c.encode() for c in catalog().in_category[name.lower()]]


@command("acl|dryrun", -4, _FLAGS, group="server")
def acl_dryrun(ctx: Context, argv: list[bytes]):
    """ACL DRYRUN username command [arg [arg ...]]"""
    from ..server.acl import DENIED_CMD, DENIED_KEY, acl_lookup, acl_name

    user = registry(ctx).users.get(argv[2])
    if user is None:
        raise CommandError(f"ERR User '{c_text(argv[2])}' not found")
    sub = argv[3:]
    try:
        cmd = acl_lookup(sub)
    except CommandError as exc:
        if str(exc).startswith("ERR wrong number"):
            raise
        raise CommandError(f"ERR Command '{c_text(sub[0])}' not found") from None
    name = acl_name(cmd)
    denied, pos = user.check(name, sub)
    if denied == DENIED_CMD:
        return f"This user has no permissions to run the '{name}' command".encode()
    if denied == DENIED_KEY:
        return b"This user has no permissions to access the '%s' key" % sub[pos]
    if denied:
        return b"This user has no permissions to access the '%s' channel" % sub[pos]
    return OK


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

    acl = registry(ctx)
    if len(argv) > 3:
        raise subcommand_syntax(argv)
    if len(argv) == 3 and argv[2].lower() == b"reset":
        acl.log.clear()
        return OK
    count = to_int(argv[2]) if len(argv) == 3 else 10
    now_ms = int(time.time() * 1000)
    out = []
    for entry in list(acl.log)[:max(count, 0)]:
        out.append({b"count": entry["count"], b"reason": entry["reason"].encode(),
                    b"context": entry["context"].encode(),
                    b"object": entry["object"].encode("utf-8", "surrogateescape"),
                    b"username": entry["username"],
                    b"age-seconds": (now_ms - entry["ctime"]) / 1000,
                    b"client-info": entry["client-info"].encode()})
    return out


def _aclfile(ctx: Context) -> str:
    server = getattr(ctx.client, "server", None)
    path = server.config["aclfile"] if server is not None else ""
    if not path:
        raise CommandError(_NO_ACL_FILE)
    return path


@command("acl|load", 2, _FLAGS, group="server")
def acl_load(ctx: Context, argv: list[bytes]):
    """ACL LOAD"""
    path = _aclfile(ctx)
    try:
        ctx.client.server.load_aclfile(path, ctx.client)
    except ValueError as exc:
        raise CommandError(f"ERR {exc}") from None
    return OK


@command("acl|save", 2, _FLAGS, group="server")
def acl_save(ctx: Context, argv: list[bytes]):
    """ACL SAVE"""
    path = _aclfile(ctx)
    try:
        ctx.client.server.save_aclfile(path)
    except OSError as exc:
        raise CommandError("ERR There was an error trying to save the ACLs. Please check the "
                           "server logs for more information") from exc
    return OK


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
