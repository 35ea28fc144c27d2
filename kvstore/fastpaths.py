"""Direct paths for the embedded store's hottest methods (DESIGN decision 10).

The generic path (`Store.execute_command`) packs *args, encodes each argument, looks the command
up, checks its arity, runs the handler, converts the reply to RESP2 values and applies the
method's callback: about 2 us of overhead around a sub-microsecond handler. For the common form
of the hottest methods the argv shape is known, so these methods build it directly and call the
registered handler (`_direct`), or the engine itself (GET, SET), skipping everything else.

Each must give exactly what the generic path gives: same reply, same exception and text, same
logged effect. Any call outside the common form (options, other types) falls through to the
shared method. tests/test_fastpaths.py runs every one beside the generic path.
"""

from __future__ import annotations

from typing import Any

from .commands.strings import incr_by
from .commands.table import COMMANDS
from .engine.zset import ZSet
from .errors import ResponseError, wrongtype
from .methods import Methods

_HSET = COMMANDS[b"hset"].handler
_LPUSH = COMMANDS[b"lpush"].handler
_RPUSH = COMMANDS[b"rpush"].handler
_SADD = COMMANDS[b"sadd"].handler
_ZADD = COMMANDS[b"zadd"].handler
_ZSCORE = COMMANDS[b"zscore"].handler
_HGET = COMMANDS[b"hget"].handler
_SISMEMBER = COMMANDS[b"sismember"].handler

_INT64 = (-(1 << 63), 1 << 63)


class FastPaths(Methods):
    """Mixin for `Store`: relies on its `_lock`, `_ctx`, `keyspace`, `_after_write`,
    `_check_writable`, `decode_responses`, `encoding` and the module's `encode`/`typed`."""

    __slots__ = ()

    def _direct(self, handler: Any, argv: list[bytes], write: bool) -> Any:
        """Run a handler on a well-formed argv under the lock, as `Store._call` would."""
        ks = self.keyspace
        with self._lock:
            ctx = self._ctx
            # These handlers read "now" only to expire the key they look up: with no TTL in
            # the database it cannot matter, and the clock read is a tenth of the call.
            ctx.now = ks.clock() if ctx.db.expires else 0
            ctx.effects = None
            log_write = self._after_write if write else None
            dirty = ks.dirty
            try:
                if log_write is not None:
                    self._check_writable()
                reply = handler(ctx, argv)
            except ResponseError as exc:
                raise self._typed(exc) from None
            if log_write is not None and ks.dirty != dirty:
                log_write(argv, ctx.effects)
        return reply

    def _bytes_list(self, reply: list) -> list:
        if self.decode_responses:
            encoding = self.encoding
            return [x.decode(encoding) for x in reply]
        return reply

    # -- strings ---------------------------------------------------------------------------

    def get(self, name):
        key = name if type(name) is bytes else self._encode(name)
        with self._lock:
            db = self._ctx.db
            if key in db.expires and db.expires[key] <= self.keyspace.clock():
                db.expire_key(key)
                return None
            value = db.data.get(key)
        if value is None or type(value) is bytes:
            if self.decode_responses and value is not None:
                return value.decode(self.encoding)
            return value
        raise wrongtype()

    def set(self, name, value, ex=None, px=None, nx=False, xx=False, keepttl=False, get=False,
            exat=None, pxat=None, ifeq=None, ifne=None, ifdeq=None, ifdne=None):
        if ex is None and px is None and exat is None and pxat is None and not (
            nx or xx or keepttl or get
        ) and ifeq is None and ifne is None and ifdeq is None and ifdne is None:
            encode = self._encode
            key = name if type(name) is bytes else encode(name)
            value = value if type(value) is bytes else encode(value)
            ks = self.keyspace
            with self._lock:
                log_write = self._after_write
                if log_write is not None:
                    self._check_writable()
                db = self._ctx.db
                db.data[key] = value
                if key in db.expires:
                    del db.expires[key]
                ks.dirty += 1
                if log_write is not None:
                    log_write([b"SET", key, value])
            return True
        return super().set(name, value, ex, px, nx, xx, keepttl, get, exat, pxat,
                           ifeq, ifne, ifdeq, ifdne)

    def incrby(self, name, amount=1):
        # The INCRBY handler's own helper; logged as the same INCRBY argv.
        if type(amount) is not int or not _INT64[0] <= amount < _INT64[1]:
            return super().incrby(name, amount)
        key = name if type(name) is bytes else self._encode(name)
        ks = self.keyspace
        with self._lock:
            ctx = self._ctx
            ctx.now = ks.clock() if ctx.db.expires else 0  # read only to expire the key
            ctx.effects = None
            log_write = self._after_write
            try:
                if log_write is not None:
                    self._check_writable()
                value = incr_by(ctx, key, amount)
            except ResponseError as exc:
                raise self._typed(exc) from None
            if log_write is not None:
                log_write([b"INCRBY", key, b"%d" % amount])
        return value

    incr = incrby

    # -- containers ------------------------------------------------------------------------

    def hset(self, name, key=None, value=None, mapping=None, items=None):
        if mapping is None and items is None and key is not None and value is not None:
            encode = self._encode
            return self._direct(_HSET, [
                b"HSET", name if type(name) is bytes else encode(name),
                key if type(key) is bytes else encode(key),
                value if type(value) is bytes else encode(value)], True)
        return super().hset(name, key, value, mapping, items)

    def hget(self, name, key):
        encode = self._encode
        value = self._direct(_HGET, [b"HGET", encode(name), encode(key)], False)
        if value is not None and self.decode_responses:
            return value.decode(self.encoding)
        return value

    def lpush(self, name, *values):
        if not values:
            return super().lpush(name, *values)
        encode = self._encode
        return self._direct(_LPUSH, [b"LPUSH", name if type(name) is bytes else encode(name),
                                     *[v if type(v) is bytes else encode(v) for v in values]],
                            True)

    def rpush(self, name, *values):
        if not values:
            return super().rpush(name, *values)
        encode = self._encode
        return self._direct(_RPUSH, [b"RPUSH", encode(name), *map(encode, values)], True)

    def sadd(self, name, *values):
        if not values:
            return super().sadd(name, *values)
        encode = self._encode
        return self._direct(_SADD, [b"SADD", name if type(name) is bytes else encode(name),
                                    *[v if type(v) is bytes else encode(v) for v in values]],
                            True)

    def sismember(self, name, value):
        encode = self._encode
        return self._direct(_SISMEMBER, [b"SISMEMBER", encode(name), encode(value)], False)

    def zadd(self, name, mapping, nx=False, xx=False, ch=False, incr=False, gt=False, lt=False):
        if not mapping or nx or xx or ch or incr or gt or lt:
            return super().zadd(name, mapping, nx, xx, ch, incr, gt, lt)
        encode = self._encode
        argv = [b"ZADD", encode(name)]
        for member, score in mapping.items():
            argv.append(encode(score))
            argv.append(encode(member))
        return self._direct(_ZADD, argv, True)

    def _zset(self, key: bytes) -> ZSet | None:
        """The live sorted set at key (lock held), None if absent; WRONGTYPE for another type:
        what the ZSET handlers' lookup does."""
        db = self._ctx.db
        if key in db.expires:
            return db.lookup_typed(key, self.keyspace.clock(), ZSet)
        zs = db.data.get(key)
        if zs is not None and type(zs) is not ZSet:
            raise wrongtype()
        return zs

    def zrange(self, name, start, end, desc=False, withscores=False, score_cast_func=float,
               byscore=False, bylex=False, offset=None, num=None):
        if desc or withscores or byscore or bylex or offset is not None or num is not None \
                or type(start) is not int or type(end) is not int \
                or not (_INT64[0] <= start < _INT64[1] and _INT64[0] <= end < _INT64[1]):
            return super().zrange(name, start, end, desc, withscores, score_cast_func, byscore,
                                  bylex, offset, num)
        # ZRANGE key start stop with in-range ints: the engine's rank range, as the handler.
        key = name if type(name) is bytes else self._encode(name)
        with self._lock:
            zs = self._zset(key)
            reply = [] if zs is None else zs.range_by_rank(start, end)
        return self._bytes_list(reply)

    def zrank(self, name, value, withscore=False, score_cast_func=float):
        if withscore:
            return super().zrank(name, value, withscore, score_cast_func)
        encode = self._encode
        key = name if type(name) is bytes else encode(name)
        member = value if type(value) is bytes else encode(value)
        with self._lock:
            zs = self._zset(key)
            return None if zs is None else zs.rank(member)

    def zscore(self, name, value):
        encode = self._encode
        score = self._direct(_ZSCORE, [b"ZSCORE", encode(name), encode(value)], False)
        return None if score is None else float(score)
