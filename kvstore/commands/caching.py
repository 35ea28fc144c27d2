"""Client-side caching commands: CLIENT TRACKING, CACHING, GETREDIR, TRACKINGINFO.

Argument checks and their order are Redis 7.0's (`clientCommand` in networking.c): options are
parsed first (REDIRECT is checked as it is met), then, for ON, their compatibility with each
other and with the connection's current mode. The tracking itself is the server's
(kvstore/server/tracking.py); in the embedded store, where nothing could receive an
invalidation, these answer as a connection that has never turned tracking on.
"""

from __future__ import annotations

from ..errors import SYNTAX, CommandError
from ..replies import OK, SetReply
from .args import to_int
from .table import LOADING, NOSCRIPT, STALE, Context, command

_FLAGS = NOSCRIPT | LOADING | STALE
_SWITCH_BCAST = ("ERR You can't switch BCAST mode on/off before disabling tracking for this "
                 "client, and then re-enabling it with a different mode.")
_SWITCH_OPT = ("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this "
               "client, and then re-enabling it with a different mode.")


@command("client|tracking", -3, _FLAGS, group="connection")
def client_tracking(ctx: Context, argv: list[bytes]):
    """CLIENT TRACKING <ON | OFF> [REDIRECT client-id] [PREFIX prefix [PREFIX prefix ...]]
    [BCAST] [OPTIN] [OPTOUT] [NOLOOP]"""
    client = ctx.client
    redirect = 0
    bcast = optin = optout = noloop = False
    prefixes: list[bytes] = []
    j = 3
    while j < len(argv):
        opt = argv[j].lower()
        more = j < len(argv) - 1
        if opt == b"redirect" and more:
            j += 1
            if redirect:
                raise CommandError("ERR A client can only redirect to a single other client")
            redirect = to_int(argv[j])
            if client is None or redirect not in client.server.clients:
                raise CommandError("ERR The client ID you want redirect to does not exist")
        elif opt == b"bcast":
            bcast = True
        elif opt == b"optin":
            optin = True
        elif opt == b"optout":
            optout = True
        elif opt == b"noloop":
            noloop = True
        elif opt == b"prefix" and more:
            j += 1
            prefixes.append(argv[j])
        else:
            raise CommandError(SYNTAX)
        j += 1
    mode = argv[2].lower()
    if mode == b"off":
        if client is not None:
            client.server.tracking.disable(client)
        return OK
    if mode != b"on":
        raise CommandError(SYNTAX)
    if prefixes and not bcast:
        raise CommandError("ERR PREFIX option requires BCAST mode to be enabled")
    t = client.tracker if client is not None else None
    on = t is not None and t.on
    if on and t.bcast != bcast:
        raise CommandError(_SWITCH_BCAST)
    if bcast and (optin or optout):
        raise CommandError("ERR OPTIN and OPTOUT are not compatible with BCAST")
    if optin and optout:
        raise CommandError("ERR You can't specify both OPTIN mode and OPTOUT mode")
    if on and (optin and t.optout or optout and t.optin):
        raise CommandError(_SWITCH_OPT)
    if client is None:
        return OK
    tracking = client.server.tracking
    if bcast:
        error = tracking.overlap(client, prefixes)
        if error is not None:
            raise CommandError(error)
    tracking.enable(client, redirect, bcast, optin, optout, noloop, prefixes)
    return OK


@command("client|caching", 3, _FLAGS, group="connection")
def client_caching(ctx: Context, argv: list[bytes]):
    """CLIENT CACHING <YES | NO>"""
    client = ctx.client
    t = client.tracker if client is not None else None
    if t is None or not t.on:
        raise CommandError("ERR CLIENT CACHING can be called only when the client is in "
                           "tracking mode with OPTIN or OPTOUT mode enabled")
    opt = argv[2].lower()
    if opt == b"yes":
        if not t.optin:
            raise CommandError("ERR CLIENT CACHING YES is only valid when tracking is enabled "
                               "in OPTIN mode.")
    elif opt == b"no":
        if not t.optout:
            raise CommandError("ERR CLIENT CACHING NO is only valid when tracking is enabled "
                               "in OPTOUT mode.")
    else:
        raise CommandError(SYNTAX)
    from ..server.client import MULTI

    t.caching = True
    # For the next command; given inside EXEC, for the rest of the transaction only.
    t.spent = bool(client.state & MULTI)
    return OK


@command("client|getredir", 2, _FLAGS, group="connection")
def client_getredir(ctx: Context, argv: list[bytes]):
    """CLIENT GETREDIR"""
    t = ctx.client.tracker if ctx.client is not None else None
    return t.redirect if t is not None and t.on else -1


@command("client|trackinginfo", 2, _FLAGS, group="connection")
def client_trackinginfo(ctx: Context, argv: list[bytes]):
    """CLIENT TRACKINGINFO"""
    t = ctx.client.tracker if ctx.client is not None else None
    if t is None or not t.on:
        return {b"flags": SetReply([b"off"]), b"redirect": -1, b"prefixes": []}
    flags = [b"on"]
    if t.bcast:
        flags.append(b"bcast")
    if t.optin:
        flags.append(b"optin")
        if t.caching:
            flags.append(b"caching-yes")
    if t.optout:
        flags.append(b"optout")
        if t.caching:
            flags.append(b"caching-no")
    if t.noloop:
        flags.append(b"noloop")
    if t.broken:
        flags.append(b"broken_redirect")
    return {b"flags": SetReply(flags), b"redirect": t.redirect,
            b"prefixes": sorted(t.prefixes)}
