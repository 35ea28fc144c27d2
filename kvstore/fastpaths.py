"""Direct paths for the embedded store's hottest methods (DESIGN decision 10).

The generic path (`Store.execute_command`) packs *args, encodes each argument, looks the command
up, checks its arity, runs the handler, converts the reply to RESP2 values and applies the
method's callback: about 2 us of overhead around a sub-microsecond handler. For the common form
of the hottest methods the arguments' shape is known, so these methods do the handler's work on
the engine themselves, under the store's lock, and build an argv only to log it.

Each must give exactly what the generic path gives: same reply, same exception and text, same
logged effect, same `dirty` count. Any call outside the common form (options, other types)
falls through to the shared method. tests/test_fastpaths.py runs every one beside the generic
path. What they keep from the generic path, what they may skip, and how they stay cheap:

- "now" is read only when the key has a TTL: the handlers read it only to expire that key.
- The reads count INFO's keyspace_hits / keyspace_misses, as `Context.read` does.
- Writes call `_check_writable` (MISCONF) before touching anything and `_after_write(argv,
  None)` after a change, when a hook is installed; each logs the argv the method would send.
- Keyspace notifications are skipped: the store's own context never has a listener (only the
  server installs one, on its connections' contexts).
- The lock is taken with `acquire()` and released in `finally`: a `with` block costs about
  90 ns more per call (measured around a dict lookup: 240 ns against 150), a quarter of a GET.
- The variadic methods (LPUSH, SADD, ZADD) do one element inline and hand several to the
  handler: building a list of them (a comprehension is a function call in 3.11) costs about as
  much as the rest of a single-element call.
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from .commands.strings import stored_int
from .commands.table import COMMANDS
from .commands.zsets import new_zset, stored_zero
from .engine.values import (SHARED_INT_BYTES, SHARED_INTEGERS, Hash, List, Set,
                            shared_int_value)
from .engine.zset import ADDED, ZSet
from .errors import OVERFLOW, ResponseError, wrongtype
from .methods import Methods

_HGET = COMMANDS[b"hget"].handler
_LPUSH = COMMANDS[b"lpush"].handler
_RPUSH = COMMANDS[b"rpush"].handler
_SADD = COMMANDS[b"sadd"].handler
_ZADD = COMMANDS[b"zadd"].handler
_SISMEMBER = COMMANDS[b"sismember"].handler
_ZSCORE = COMMANDS[b"zscore"].handler

_F = TypeVar("_F")


def typed_like(method: _F) -> Callable[[Callable[..., Any]], _F]:
    """Give a direct path the type (and annotations) of the shared method it overrides, so
    type checkers and `inspect.signature` see the precise signature, overloads included,
    written once in kvstore.methods. Returns the function itself: no cost per call."""
    def apply(fn: Callable[..., Any]) -> _F:
        fn.__annotations__ = dict(getattr(method, "__annotations__", {}))
        return fn  # type: ignore[return-value]

    return apply


_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1
_AMOUNT_MAX = _INT64_MAX - SHARED_INTEGERS


class FastPaths(Methods):
    """Mixin for `Store`: relies on its `_lock`, `_ctx`, `keyspace`, `_after_write`,
    `_check_writable`, `decode_responses`, `encoding` and the module's `encode`/`typed`."""

    __slots__ = ()

    def _direct(self, handler: Any, argv: list[bytes], write: bool) -> Any:
        """Run a handler on a well-formed argv under the lock, as `Store._call` would: for the
        less common forms (several members) of the direct paths, and the lighter reads."""
        ks = self.keyspace
        lock = self._lock
        lock.acquire()
        try:
            ctx = self._ctx
            # These handlers read "now" only to expire the key they look up: with no TTL in
            # the database it cannot matter, and the clock read is a tenth of the call.
            ctx.now = ks.clock() if ctx.db.expires else 0
            ctx.effects = None
            log_write = self._after_write if write else None
            dirty = ks.dirty
            if log_write is not None:
                self._check_writable()
            reply = handler(ctx, argv)
            if log_write is not None and ks.dirty != dirty:
                log_write(argv, ctx.effects)
            return reply
        except ResponseError as exc:
            raise self._typed(exc) from None
        finally:
            lock.release()

    # -- strings ---------------------------------------------------------------------------

    @typed_like(Methods.get)
    def get(self, name):
        key = name if type(name) is bytes else self._encode(name)
        lock = self._lock
        lock.acquire()
        try:
            db = self._ctx.db
            if key in db.expires:
                value = db.lookup(key, self.keyspace.clock())
            else:
                value = db.data.get(key)
            if value is None:
                self.keyspace.misses += 1
            else:
                self.keyspace.hits += 1
        finally:
            lock.release()
        if value is None or type(value) is bytes:
            if self.decode_responses and value is not None:
                return value.decode(self.encoding)
            return value
        raise wrongtype()

    @typed_like(Methods.set)
    def set(self, name, value, ex=None, px=None, nx=False, xx=False, keepttl=False, get=False,
            exat=None, pxat=None, ifeq=None, ifne=None, ifdeq=None, ifdne=None):
        if ex is None and px is None and exat is None and pxat is None and not (
            nx or xx or keepttl or get
        ) and ifeq is None and ifne is None and ifdeq is None and ifdne is None:
            encode = self._encode
            key = name if type(name) is bytes else encode(name)
            value = value if type(value) is bytes else encode(value)
            lock = self._lock
            lock.acquire()
            try:
                log_write = self._after_write
                if log_write is not None:
                    self._check_writable()
                db = self._ctx.db
                if key in db.expires:
                    db.untime(key, self.keyspace.clock())
                db.data[key] = value
                self.keyspace.dirty += 1
                if log_write is not None:
                    log_write([b"SET", key, value], None)
            finally:
                lock.release()
            return True
        return super().set(name, value, ex, px, nx, xx, keepttl, get, exat, pxat,
                           ifeq, ifne, ifdeq, ifdne)

    @typed_like(Methods.incrby)
    def incrby(self, name, amount=1):
        # The INCRBY handler (`incr_by`) inlined; logged as the same INCRBY argv. An amount this
        # side of the limits cannot overflow from a shared integer (0..9999).
        if type(amount) is not int or not _INT64_MIN <= amount <= _AMOUNT_MAX:
            return super().incrby(name, amount)
        key = name if type(name) is bytes else self._encode(name)
        lock = self._lock
        lock.acquire()
        try:
            log_write = self._after_write
            if log_write is not None:
                self._check_writable()
            db = self._ctx.db
            data = db.data
            if key in db.expires:
                old = db.lookup(key, self.keyspace.clock())
            else:
                old = data.get(key)
            if old is None:
                value = amount
            elif type(old) is not bytes:
                raise wrongtype()
            elif len(old) < 5 and (value := shared_int_value(old)) is not None:
                value += amount  # a shared small integer (what INCR stores: SHARED_INT_BYTES)
            elif len(old) < 19 and old.isdigit() and old[0] != 48:
                # Up to 18 plain digits without a leading zero: canonical, in range and not
                # negative, so `stored_int`'s checks cannot fail and only the top can overflow.
                # (A longer counter skips SHARED_INT_VALUES: hashing its new bytes there each
                # time cost INCR on 1M keys 8%.)
                value = int(old) + amount
                if value > _INT64_MAX:
                    raise ResponseError(OVERFLOW)
            else:
                value = stored_int(old) + amount
                if value > _INT64_MAX or value < _INT64_MIN:
                    raise ResponseError(OVERFLOW)
            data[key] = SHARED_INT_BYTES[value] if 0 <= value < SHARED_INTEGERS \
                else b"%d" % value  # (values.int_bytes, inlined: no call on this path)
            self.keyspace.dirty += 1
            if log_write is not None:
                log_write([b"INCRBY", key, b"%d" % amount], None)
        finally:
            lock.release()
        return value

    incr = incrby

    # -- hashes, lists, sets ---------------------------------------------------------------

    @typed_like(Methods.hset)
    def hset(self, name, key=None, value=None, mapping=None, items=None):
        if mapping is not None or items is not None or key is None or value is None:
            return super().hset(name, key, value, mapping, items)
        # HSET name field value: the handler's single-pair branch.
        encode = self._encode
        hkey = name if type(name) is bytes else encode(name)
        field = key if type(key) is bytes else encode(key)
        value = value if type(value) is bytes else encode(value)
        lock = self._lock
        lock.acquire()
        try:
            log_write = self._after_write
            if log_write is not None:
                self._check_writable()
            db = self._ctx.db
            if hkey in db.expires:
                h = db.lookup(hkey, self.keyspace.clock())
            else:
                h = db.data.get(hkey)
            if type(h) is not Hash:
                if h is not None:
                    raise wrongtype()
                h = db.data[hkey] = Hash()
            added = field not in h
            h[field] = value
            ks = self.keyspace
            if not h.big:
                limits = ks.limits
                if len(h) > limits.hash_entries or len(field) > limits.hash_value \
                        or len(value) > limits.hash_value:
                    h.big = True
            elif added and h.picker is not None:
                h.picker.added(field)
            ks.dirty += 1
            if log_write is not None:
                log_write([b"HSET", hkey, field, value], None)
        finally:
            lock.release()
        return 1 if added else 0

    @typed_like(Methods.hget)
    def hget(self, name, key):
        encode = self._encode
        value = self._direct(_HGET, [b"HGET", encode(name), encode(key)], False)
        if value is not None and self.decode_responses:
            return value.decode(self.encoding)
        return value

    @typed_like(Methods.lpush)
    def lpush(self, name, *values):
        if len(values) != 1:
            return self._many(_LPUSH, b"LPUSH", name, values) if values else super().lpush(name)
        # LPUSH name element: the handler's work.
        key = name if type(name) is bytes else self._encode(name)
        element = values[0]
        if type(element) is not bytes:
            element = self._encode(element)
        lock = self._lock
        lock.acquire()
        try:
            log_write = self._after_write
            if log_write is not None:
                self._check_writable()
            db = self._ctx.db
            if key in db.expires:
                lst = db.lookup(key, self.keyspace.clock())
            else:
                lst = db.data.get(key)
            if type(lst) is not List:
                if lst is not None:
                    raise wrongtype()
                lst = db.data[key] = List()
            lst.appendleft(element)
            self.keyspace.dirty += 1
            if log_write is not None:
                log_write([b"LPUSH", key, element], None)
            return len(lst)
        finally:
            lock.release()

    @typed_like(Methods.rpush)
    def rpush(self, name, *values):
        return self._many(_RPUSH, b"RPUSH", name, values) if values else super().rpush(name)

    def _many(self, handler: Any, command: bytes, name, values: tuple) -> int:
        """COMMAND name values... through its handler (LPUSH, RPUSH, SADD with several)."""
        encode = self._encode
        return self._direct(handler, [command, name if type(name) is bytes else encode(name),
                                      *[v if type(v) is bytes else encode(v) for v in values]],
                            True)

    @typed_like(Methods.sadd)
    def sadd(self, name, *values):
        if len(values) != 1:
            return self._many(_SADD, b"SADD", name, values) if values else super().sadd(name)
        # SADD name member: the handler's single-member branch.
        key = name if type(name) is bytes else self._encode(name)
        member = values[0]
        if type(member) is not bytes:
            member = self._encode(member)
        lock = self._lock
        lock.acquire()
        try:
            log_write = self._after_write
            if log_write is not None:
                self._check_writable()
            db = self._ctx.db
            if key in db.expires:
                s = db.lookup(key, self.keyspace.clock())
            else:
                s = db.data.get(key)
            if type(s) is not Set:
                if s is not None:
                    raise wrongtype()
                s = db.data[key] = Set()
            if member in s:
                return 0
            s.add(member)
            ks = self.keyspace
            if not s.big:
                s.grew(ks.limits, member)
            elif s.picker is not None:
                s.picker.added(member)
            ks.dirty += 1
            if log_write is not None:
                log_write([b"SADD", key, member], None)
            return 1
        finally:
            lock.release()

    @typed_like(Methods.sismember)
    def sismember(self, name, value):
        encode = self._encode
        return self._direct(_SISMEMBER, [b"SISMEMBER", encode(name), encode(value)], False)

    # -- sorted sets -----------------------------------------------------------------------

    @typed_like(Methods.zadd)
    def zadd(self, name, mapping, nx=False, xx=False, ch=False, incr=False, gt=False, lt=False):
        if len(mapping) != 1 or nx or xx or ch or incr or gt or lt:
            if not mapping or nx or xx or ch or incr or gt or lt:
                return super().zadd(name, mapping, nx, xx, ch, incr, gt, lt)
            encode = self._encode
            argv = [b"ZADD", encode(name)]
            for member, score in mapping.items():
                argv.append(encode(score))
                argv.append(encode(member))
            return self._direct(_ZADD, argv, True)
        # ZADD name score member: the handler's hot path without the score's text. A float sent
        # as repr() and an int64 sent as digits read back as float(score) exactly; NaN, other
        # types and huge ints take the handler (and its errors).
        (member, sent), = mapping.items()
        if type(sent) is float:
            if sent != sent:
                return super().zadd(name, mapping)
            score = sent
        elif type(sent) is int and _INT64_MIN <= sent <= _INT64_MAX:
            score = float(sent)
        else:
            return super().zadd(name, mapping)
        # `self._encode` only when needed: the lookup of a staticmethod is 40 ns.
        key = name if type(name) is bytes else self._encode(name)
        if type(member) is not bytes:
            member = self._encode(member)
        lock = self._lock
        lock.acquire()
        try:
            log_write = self._after_write
            if log_write is not None:
                self._check_writable()
            db = self._ctx.db
            if key in db.expires:
                zs = db.lookup(key, self.keyspace.clock())
            else:
                zs = db.data.get(key)
            if type(zs) is not ZSet:
                if zs is not None:
                    raise wrongtype()
                zs = db.data[key] = new_zset(self._ctx, member)
            if score == 0.0:
                score = stored_zero(zs, member, score, self.keyspace.limits)
            done = zs.add(member, score)
            if not done:
                return 0
            ks = self.keyspace
            if done == ADDED and not zs.big:
                limits = ks.limits
                if len(zs) > limits.zset_entries or len(member) > limits.zset_value:
                    zs.big = True
            ks.dirty += 1
            if log_write is not None:
                log_write([b"ZADD", key, self._encode(sent), member], None)
            return 1 if done == ADDED else 0
        finally:
            lock.release()

    @typed_like(Methods.zrange)
    def zrange(self, name, start, end, desc=False, withscores=False, score_cast_func=float,
               byscore=False, bylex=False, offset=None, num=None, use_rev=False):
        if desc or withscores or byscore or bylex or offset is not None or num is not None \
                or type(start) is not int or type(end) is not int \
                or not (_INT64_MIN <= start <= _INT64_MAX and _INT64_MIN <= end <= _INT64_MAX):
            return super().zrange(name, start, end, desc, withscores, score_cast_func, byscore,
                                  bylex, offset, num, use_rev)
        # ZRANGE name start stop with in-range ints: the engine's rank range, as the handler.
        key = name if type(name) is bytes else self._encode(name)
        lock = self._lock
        lock.acquire()
        try:
            db = self._ctx.db
            if key in db.expires:
                zs = db.lookup(key, self.keyspace.clock())
            else:
                zs = db.data.get(key)
            if type(zs) is not ZSet:
                if zs is not None:
                    self.keyspace.hits += 1
                    raise wrongtype()
                self.keyspace.misses += 1
                return []
            self.keyspace.hits += 1
            reply = zs.range_by_rank(start, end)
        finally:
            lock.release()
        if self.decode_responses:
            encoding = self.encoding
            return [x.decode(encoding) for x in reply]
        return reply

    @typed_like(Methods.zrank)
    def zrank(self, name, value, withscore=False, score_cast_func=float):
        if withscore:
            return super().zrank(name, value, withscore, score_cast_func)
        key = name if type(name) is bytes else self._encode(name)
        member = value if type(value) is bytes else self._encode(value)
        lock = self._lock
        lock.acquire()
        try:
            db = self._ctx.db
            if key in db.expires:
                zs = db.lookup(key, self.keyspace.clock())
            else:
                zs = db.data.get(key)
            if type(zs) is not ZSet:
                if zs is not None:
                    self.keyspace.hits += 1
                    raise wrongtype()
                self.keyspace.misses += 1
                return None
            self.keyspace.hits += 1
            return zs.rank(member)
        finally:
            lock.release()

    @typed_like(Methods.zscore)
    def zscore(self, name, value):
        encode = self._encode
        score = self._direct(_ZSCORE, [b"ZSCORE", encode(name), encode(value)], False)
        return None if score is None else float(score)
