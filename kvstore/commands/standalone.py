"""What a standalone Redis 7.0 answers for cluster and module commands: CLUSTER (every
subcommand), READONLY, READWRITE, ASKING, MODULE.

kvstore has no Redis Cluster mode and loads no modules, so these give Redis's own answers for
that case instead of "unknown command": clients and tools that probe for cluster mode
(CLUSTER INFO, CLUSTER SLOTS) or for modules (MODULE LIST) then see a standalone server with
none, as they would with redis-server. Arity, flags and texts are redis-server 7.0's.
"""

from __future__ import annotations

from ..errors import CommandError
from ..replies import Status
from .table import (ADMIN, COMMANDS, FAST, LOADING, NO_ASYNC_LOADING, NO_KEYS, NOSCRIPT, STALE,
                    Command, Context, command, container)

CLUSTER_DISABLED = "ERR This instance has cluster support disabled"
MODULE_NOT_ALLOWED = (
    'ERR MODULE command not allowed. If the enable-module-command option is set to "local", '
    "you can run it from a local connection, otherwise you need to set this option in the "
    "configuration file, and then restart the server.")


def _cluster_disabled(ctx: Context, argv: list[bytes]):
    raise CommandError(CLUSTER_DISABLED)


container("cluster", -2, group="cluster")

# name, arity, flags: redis-server 7.0's COMMAND INFO cluster
NAL = NO_ASYNC_LOADING
_CLUSTER = (
    ("addslots", -3, ADMIN | STALE | NAL), ("addslotsrange", -4, ADMIN | STALE | NAL),
    ("bumpepoch", 2, ADMIN | STALE | NAL), ("count-failure-reports", 3, ADMIN | STALE),
    ("countkeysinslot", 3, STALE), ("delslots", -3, ADMIN | STALE | NAL),
    ("delslotsrange", -4, ADMIN | STALE | NAL), ("failover", -2, ADMIN | STALE | NAL),
    ("flushslots", 2, ADMIN | STALE | NAL), ("forget", 3, ADMIN | STALE | NAL),
    ("getkeysinslot", 4, STALE), ("help", 2, LOADING | STALE), ("info", 2, STALE),
    ("keyslot", 3, STALE), ("links", 2, STALE), ("meet", -4, ADMIN | STALE | NAL),
    ("myid", 2, STALE), ("nodes", 2, STALE), ("replicas", 3, ADMIN | STALE),
    ("replicate", 3, ADMIN | STALE | NAL), ("reset", -2, ADMIN | NOSCRIPT | STALE),
    ("saveconfig", 2, ADMIN | STALE | NAL), ("set-config-epoch", 3, ADMIN | STALE | NAL),
    ("setslot", -4, ADMIN | STALE | NAL), ("shards", 2, STALE), ("slaves", 3, ADMIN | STALE),
    ("slots", 2, STALE),
)
for _name, _arity, _flags in _CLUSTER:
    COMMANDS[b"cluster"].subcommands[_name.encode()] = Command(
        f"cluster|{_name}", _arity, _flags, NO_KEYS, _cluster_disabled, "cluster",
        f"CLUSTER {_name.upper()}")


@command("readonly", 1, LOADING | STALE | FAST, group="cluster")
def readonly(ctx: Context, argv: list[bytes]):
    """READONLY"""
    raise CommandError(CLUSTER_DISABLED)


@command("readwrite", 1, LOADING | STALE | FAST, group="cluster")
def readwrite(ctx: Context, argv: list[bytes]):
    """READWRITE"""
    raise CommandError(CLUSTER_DISABLED)


@command("asking", 1, FAST, group="cluster")
def asking(ctx: Context, argv: list[bytes]):
    """ASKING"""
    raise CommandError(CLUSTER_DISABLED)


# -- MODULE ---------------------------------------------------------------------------------------

container("module", -2, group="server")


@command("module|list", 2, ADMIN | NOSCRIPT, group="server")
def module_list(ctx: Context, argv: list[bytes]):
    """MODULE LIST"""
    return []


def _refuse_module(ctx: Context) -> None:
    """Loading and unloading are refused under enable-module-command no (Redis 7's default)."""
    from ..server.client import protected_action_allowed

    cfg = getattr(ctx.ks, "server_config", None)
    if cfg is not None and not protected_action_allowed(cfg["enable-module-command"],
                                                        ctx.client):
        raise CommandError(MODULE_NOT_ALLOWED)


@command("module|load", -3, ADMIN | NOSCRIPT | NO_ASYNC_LOADING, group="server")
def module_load(ctx: Context, argv: list[bytes]):
    """MODULE LOAD path [arg [arg ...]]"""
    _refuse_module(ctx)
    raise CommandError("ERR Error loading the extension. Please check the server logs.")


@command("module|loadex", -3, ADMIN | NOSCRIPT | NO_ASYNC_LOADING, group="server")
def module_loadex(ctx: Context, argv: list[bytes]):
    """MODULE LOADEX path [CONFIG name value [CONFIG name value ...]] [ARGS args [args ...]]"""
    _refuse_module(ctx)
    raise CommandError("ERR Error loading the extension. Please check the server logs.")


@command("module|unload", 3, ADMIN | NOSCRIPT | NO_ASYNC_LOADING, group="server")
def module_unload(ctx: Context, argv: list[bytes]):
    """MODULE UNLOAD name"""
    _refuse_module(ctx)
    raise CommandError("ERR Error unloading module: no such module with that name")


@command("module|help", 2, LOADING | STALE, group="server")
def module_help(ctx: Context, argv: list[bytes]):
    """MODULE HELP"""
    lines = [
        "MODULE <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "LIST", "    Return a list of loaded modules.",
        "LOAD <path> [<arg> ...]",
        "    Load a module library from <path>, passing to it any optional arguments.",
        "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
        "    Load a module library from <path>, while passing it module configurations and "
        "optional arguments.",
        "UNLOAD <name>", "    Unload a module.",
        "HELP", "    Prints this help.",
    ]
    return [Status(line) for line in lines]
