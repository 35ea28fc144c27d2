"""Pub/Sub commands: SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE PUBLISH PUBSUB (Redis 7.0
`pubsub.c`).

The registries and delivery are the server's (`kvstore.server.pubsub`); these handlers check
arguments and build the replies. (Un)subscribe confirmations are one reply per channel
(`Frames` of pushes: arrays in RESP2, `>` pushes in RESP3). A RESP2 connection with at least one
subscription enters the subscribed state (the SUBSCRIBED bit), which limits its commands; RESP3
connections keep every command. In the embedded store (no connection) PUBLISH reaches nobody and
the subscribe family is refused.
"""

from __future__ import annotations

from ..errors import CommandError
from ..replies import Frames, Push
from .table import (
    FAST, LOADING, MAY_REPLICATE, NOSCRIPT, PUBSUB, STALE, Context, command, container,
)

NO_CONNECTION = "ERR the embedded store has no connection to subscribe"
_SUB_FLAGS = PUBSUB | NOSCRIPT | LOADING | STALE


def _server(ctx: Context):
    if ctx.client is None:
        raise CommandError(NO_CONNECTION)
    return ctx.client.server


def _count(client) -> int:
    return len(client.subs) + len(client.psubs)


def _update_state(client, ctx: Context) -> None:
    from ..server.client import SUBSCRIBED

    if ctx.resp == 2 and _count(client):
        client.state |= SUBSCRIBED
    else:
        client.state &= ~SUBSCRIBED


def _subscribe(ctx: Context, argv: list[bytes], kind: bytes, add) -> Frames:
    client = ctx.client
    out = Frames()
    for name in argv[1:]:
        add(client, name)
        out.append(Push((kind, name, _count(client))))
    _update_state(client, ctx)
    return out


def _unsubscribe(ctx: Context, argv: list[bytes], kind: bytes, mine: dict, remove) -> Frames:
    client = ctx.client
    names = argv[1:] or list(mine)
    out = Frames()
    for name in names:
        remove(client, name)
        out.append(Push((kind, name, _count(client))))
    if not out:  # nothing to unsubscribe from: one reply with a null name
        out.append(Push((kind, None, _count(client))))
    _update_state(client, ctx)
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


@command("publish", 3, PUBSUB | LOADING | STALE | FAST | MAY_REPLICATE, group="pubsub")
def publish(ctx: Context, argv: list[bytes]):
    """PUBLISH channel message

    Complexity: O(N + M) subscribers and patterns.  Reply: integer, clients that received it.
    """
    if ctx.client is None:
        return 0
    return ctx.client.server.pubsub.publish(argv[1], argv[2])


# -- PUBSUB introspection --------------------------------------------------------------------------

container("pubsub", -2, group="pubsub")


def _registry(ctx: Context):
    return ctx.client.server.pubsub if ctx.client is not None else None


@command("pubsub|channels", -2, PUBSUB | LOADING | STALE, group="pubsub")
def pubsub_channels(ctx: Context, argv: list[bytes]):
    """PUBSUB CHANNELS [pattern]

    Complexity: O(N) channels.  Reply: active channels (matching the pattern).
    """
    if len(argv) > 3:
        raise CommandError("ERR wrong number of arguments for 'pubsub|channels' command")
    ps = _registry(ctx)
    channels = list(ps.channels) if ps is not None else []
    if len(argv) == 3:
        from ..engine.glob import compile_glob

        match = compile_glob(argv[2])
        channels = [c for c in channels if match(c)]
    return channels


@command("pubsub|numsub", -2, PUBSUB | LOADING | STALE, group="pubsub")
def pubsub_numsub(ctx: Context, argv: list[bytes]):
    """PUBSUB NUMSUB [channel [channel ...]]

    Complexity: O(N) channels.  Reply: flat array channel, count, ...
    """
    ps = _registry(ctx)
    out: list = []
    for channel in argv[2:]:
        subs = ps.channels.get(channel) if ps is not None else None
        out += (channel, len(subs) if subs else 0)
    return out


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

    Complexity: O(1).  Reply: empty array (shard channels are not supported).
    """
    return []


@command("pubsub|shardnumsub", -2, PUBSUB | LOADING | STALE, group="pubsub")
def pubsub_shardnumsub(ctx: Context, argv: list[bytes]):
    """PUBSUB SHARDNUMSUB [shardchannel [shardchannel ...]]

    Complexity: O(N).  Reply: flat array channel, 0, ...
    """
    out: list = []
    for channel in argv[2:]:
        out += (channel, 0)
    return out
