"""Pub/Sub commands: SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE PUBLISH, the sharded
SSUBSCRIBE SUNSUBSCRIBE SPUBLISH, and PUBSUB (Redis 7.0 `pubsub.c`).

The registries and delivery are the server's (`kvstore.server.pubsub`); these handlers check
arguments and build the replies. (Un)subscribe confirmations are one reply per channel
(`Frames` of pushes: arrays in RESP2, `>` pushes in RESP3). Their count is of the family's own
subscriptions, as Redis counts: channels and patterns for (P)(UN)SUBSCRIBE, shard channels for
S(UN)SUBSCRIBE. A RESP2 connection with at least one subscription of any family enters the
subscribed state (the SUBSCRIBED bit), which limits its commands; RESP3 connections keep every
command. Standalone, as here, shard channels are just a second namespace: Redis's cluster-slot
checks do not apply. In the embedded store (no connection) (S)PUBLISH reaches nobody and the
subscribe family is refused.
"""

from __future__ import annotations

from ..errors import CommandError, subcommand_syntax
from ..replies import Frames, Push, Status
from .table import (
    FAST, LOADING, MAY_REPLICATE, NOSCRIPT, PUBSUB, STALE, Context, KeySpec, command, container,
    propagate_to_replicas,
)

NO_CONNECTION = "ERR the embedded store has no connection to subscribe"
_SUB_FLAGS = PUBSUB | NOSCRIPT | LOADING | STALE
_PUBLISH_FLAGS = PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE
# Shard channels are declared as keys that are not keys (Redis's NOT_KEY key specs).
_SHARD_CHANNEL = KeySpec(1, 1, 1, not_key=True)
_SHARD_CHANNELS = KeySpec(1, -1, 1, not_key=True)


def _server(ctx: Context):
    if ctx.client is None:
        raise CommandError(NO_CONNECTION)
    return ctx.client.server


def _count(client) -> int:
    return len(client.subs) + len(client.psubs)


def _shard_count(client) -> int:
    return len(client.ssubs)


def update_mode(client, ctx: Context) -> None:
    """Set or clear the SUBSCRIBED bit after a change of subscriptions or of protocol."""
    from ..server.client import SUBSCRIBED

    if ctx.resp == 2 and (_count(client) or _shard_count(client)):
        client.state |= SUBSCRIBED
    else:
        client.state &= ~SUBSCRIBED


def _pushing(client) -> None:
    """(Un)subscribe confirmations are pushes: CLIENT REPLY OFF / SKIP does not hold them back
    (Redis's CLIENT_PUSHING)."""
    from ..server.client import DROP_LAST

    client.state &= ~DROP_LAST


def _subscribe(ctx: Context, argv: list[bytes], kind: bytes, add, count=_count) -> Frames:
    client = ctx.client
    _pushing(client)
    out = Frames()
    for name in argv[1:]:
        add(client, name)
        out.append(Push((kind, name, count(client))))
    update_mode(client, ctx)
    return out


def _unsubscribe(ctx: Context, argv: list[bytes], kind: bytes, mine: dict, remove,
                 count=_count) -> Frames:
    client = ctx.client
    _pushing(client)
    names = argv[1:] or list(mine)
    out = Frames()
    for name in names:
        remove(client, name)
        out.append(Push((kind, name, count(client))))
    if not out:  # nothing to unsubscribe from: one reply with a null name
        out.append(Push((kind, None, count(client))))
    update_mode(client, ctx)
    return out


@command("subscribe", -2, _SUB_FLAGS, group="pubsub")
def subscribe(ctx: Context, argv: list[bytes]):
    """SUBSCRIBE channel [channel ...]

    Complexity: O(N) channels.  Reply: one ["subscribe", channel, count] per channel.
    """
    return _subscribe(ctx, argv, b"subscribe", _server(ctx).pubsub.subscribe)


@command("unsubscribe", -1, _SUB_FLAGS, group="pubsub")
def unsubscribe(ctx: Context, argv: list[bytes]):
    """UNSUBSCRIBE [channel [channel ...]]

    Complexity: O(N) channels.  Reply: one ["unsubscribe", channel, count] per channel.
    """
    pubsub = _server(ctx).pubsub
    return _unsubscribe(ctx, argv, b"unsubscribe", ctx.client.subs, pubsub.unsubscribe)


@command("psubscribe", -2, _SUB_FLAGS, group="pubsub")
def psubscribe(ctx: Context, argv: list[bytes]):
    """PSUBSCRIBE pattern [pattern ...]

    Complexity: O(N) patterns.  Reply: one ["psubscribe", pattern, count] per pattern.
    """
    return _subscribe(ctx, argv, b"psubscribe", _server(ctx).pubsub.psubscribe)


@command("punsubscribe", -1, _SUB_FLAGS, group="pubsub")
def punsubscribe(ctx: Context, argv: list[bytes]):
    """PUNSUBSCRIBE [pattern [pattern ...]]

    Complexity: O(N) patterns.  Reply: one ["punsubscribe", pattern, count] per pattern.
    """
    pubsub = _server(ctx).pubsub
    return _unsubscribe(ctx, argv, b"punsubscribe", ctx.client.psubs, pubsub.punsubscribe)


@command("publish", 3, _PUBLISH_FLAGS, group="pubsub")
def publish(ctx: Context, argv: list[bytes]):
    """PUBLISH channel message

    Complexity: O(N + M) subscribers and patterns.  Reply: integer, clients that received it.
    """
    if ctx.client is None:
        return 0
    receivers = ctx.client.server.pubsub.publish(argv[1], argv[2])
    propagate_to_replicas(ctx, argv)  # a replica's subscribers get it too, as in Redis
    return receivers


@command("ssubscribe", -2, _SUB_FLAGS, _SHARD_CHANNELS, group="pubsub")
def ssubscribe(ctx: Context, argv: list[bytes]):
    """SSUBSCRIBE shardchannel [shardchannel ...]

    Complexity: O(N) shard channels.  Reply: one ["ssubscribe", channel, count] per channel,
    count being the shard subscriptions only.
    """
    server = _server(ctx)
    # Redis refuses it to a client that cannot block (CLIENT_DENY_BLOCKING): inside EXEC, where
    # SUBSCRIBE is still let through for old clients' sake.
    if ctx.in_multi:
        raise CommandError("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client")
    return _subscribe(ctx, argv, b"ssubscribe", server.pubsub.ssubscribe, _shard_count)


@command("sunsubscribe", -1, _SUB_FLAGS, _SHARD_CHANNELS, group="pubsub")
def sunsubscribe(ctx: Context, argv: list[bytes]):
    """SUNSUBSCRIBE [shardchannel [shardchannel ...]]

    Complexity: O(N) shard channels.  Reply: one ["sunsubscribe", channel, count] per channel.
    """
    pubsub = _server(ctx).pubsub
    return _unsubscribe(ctx, argv, b"sunsubscribe", ctx.client.ssubs, pubsub.sunsubscribe,
                        _shard_count)


@command("spublish", 3, _PUBLISH_FLAGS, _SHARD_CHANNEL, group="pubsub")
def spublish(ctx: Context, argv: list[bytes]):
    """SPUBLISH shardchannel message

    Complexity: O(N) subscribers of the shard channel.  Reply: integer, clients that received it.
    """
    if ctx.client is None:
        return 0
    receivers = ctx.client.server.pubsub.spublish(argv[1], argv[2])
    propagate_to_replicas(ctx, argv)
    return receivers


# -- PUBSUB introspection --------------------------------------------------------------------------

container("pubsub", -2, group="pubsub")


def _registry(ctx: Context):
    return ctx.client.server.pubsub if ctx.client is not None else None


def _matching(argv: list[bytes], channels) -> list[bytes]:
    """The channels, or those matching the optional pattern of PUBSUB (SHARD)CHANNELS."""
    if len(argv) > 3:
        raise subcommand_syntax(argv)
    if len(argv) == 2:
        return list(channels)
    from ..engine.glob import compile_glob

    match = compile_glob(argv[2])
    return [c for c in channels if match(c)]


def _numsub(argv: list[bytes], registry) -> list:
    out: list = []
    for channel in argv[2:]:
        subs = registry.get(channel)
        out += (channel, len(subs) if subs else 0)
    return out


@command("pubsub|channels", -2, PUBSUB | LOADING | STALE, group="pubsub")
def pubsub_channels(ctx: Context, argv: list[bytes]):
    """PUBSUB CHANNELS [pattern]

    Complexity: O(N) channels.  Reply: active channels (matching the pattern).
    """
    ps = _registry(ctx)
    return _matching(argv, ps.channels if ps is not None else ())


@command("pubsub|numsub", -2, PUBSUB | LOADING | STALE, group="pubsub")
def pubsub_numsub(ctx: Context, argv: list[bytes]):
    """PUBSUB NUMSUB [channel [channel ...]]

    Complexity: O(N) channels.  Reply: flat array channel, count, ...
    """
    ps = _registry(ctx)
    return _numsub(argv, ps.channels if ps is not None else {})


@command("pubsub|numpat", 2, PUBSUB | LOADING | STALE, group="pubsub")
def pubsub_numpat(ctx: Context, argv: list[bytes]):
    """PUBSUB NUMPAT

    Complexity: O(1).  Reply: integer, patterns subscribed to by any client.
    """
    ps = _registry(ctx)
    return ps.numpat() if ps is not None else 0


@command("pubsub|shardchannels", -2, PUBSUB | LOADING | STALE, group="pubsub")
def pubsub_shardchannels(ctx: Context, argv: list[bytes]):
    """PUBSUB SHARDCHANNELS [pattern]

    Complexity: O(N) shard channels.  Reply: active shard channels (matching the pattern).
    """
    ps = _registry(ctx)
    return _matching(argv, ps.shard_channels if ps is not None else ())


@command("pubsub|shardnumsub", -2, PUBSUB | LOADING | STALE, group="pubsub")
def pubsub_shardnumsub(ctx: Context, argv: list[bytes]):
    """PUBSUB SHARDNUMSUB [shardchannel [shardchannel ...]]

    Complexity: O(N) shard channels.  Reply: flat array shard channel, count, ...
    """
    ps = _registry(ctx)
    return _numsub(argv, ps.shard_channels if ps is not None else {})


@command("pubsub|help", 2, LOADING | STALE, group="pubsub")
def pubsub_help(ctx: Context, argv: list[bytes]):
    """PUBSUB HELP"""
    lines = ["PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
             "CHANNELS [<pattern>]",
             "    Return the currently active channels matching a <pattern> (default: '*').",
             "NUMPAT", "    Return number of subscriptions to patterns.",
             "NUMSUB [<channel> ...]",
             "    Return the number of subscribers for the specified channels, excluding",
             "    pattern subscriptions(default: no channels).",
             "SHARDCHANNELS [<pattern>]",
             "    Return the currently active shard level channels matching a <pattern> "
             "(default: '*').",
             "SHARDNUMSUB [<shardchannel> ...]",
             "    Return the number of subscribers for the specified shard level channel(s)",
             "HELP", "    Prints this help."]
    return [Status(x) for x in lines]
