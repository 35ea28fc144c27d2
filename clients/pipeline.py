"""Pipelines and transactions, sync and asyncio (redis-py semantics).

Theory of operation
-------------------
A pipeline inherits the same methods as the client, but its `execute_command` only appends
(args, callback, never_decode) to `command_stack` and returns the pipeline (so calls chain).
`execute()` packs every command (wrapped in MULTI ... EXEC when `transaction`) and sends them with
ONE write, then reads every reply in order, applies each command's callback, and returns the list.
A reply the method layer knows without asking (`_local_reply`: mget([]) -> []) is buffered with
empty args: never sent, it takes its place among the results, as in redis-py.

Transactions with WATCH follow redis-py: `pipe.watch(*keys)` pins a connection and switches the
pipeline to immediate mode (each command runs at once and returns its reply, to read the watched
values); `pipe.multi()` switches back to buffering; `execute()` then sends MULTI ... EXEC on the
pinned connection. EXEC's null reply raises `WatchError`; queue-time errors (EXECABORT) raise the
first queued error. `reset()` (also on exit of a `with` block, and after execute) UNWATCHes and
returns the connection, or closes it when a reply may still be owed. `discard()` is a command like
the others, as in redis-py: buffered, it ends the MULTI early so EXEC fails ("EXEC without MULTI").

An error that execute() raises names its command, as redis-py's `annotate_exception` does: its
text becomes "Command # N (ARGS) of pipeline caused error: <text>", N counting every buffered
command from 1, ARGS shortened to 100 characters with credentials hidden (`command_text`).
Errors returned in place (raise_on_error=False) keep their own text.

The protocol-independent steps (packing, interpreting replies) are plain functions shared by
`Pipeline` and `AsyncPipeline`; only the I/O differs.
"""

from __future__ import annotations

import asyncio
import textwrap
import time
from typing import Any, Callable

from kvstore.errors import ConnectionError, ExecAbortError, KvstoreError, ResponseError
from kvstore.methods import Methods

from .amethods import AsyncMethods
from .resp import BLOCKING, block_timeout, flatten_pairs, name_of, retry_safe, typed_errors

# (args, callback, never_decode); args () for a reply known without sending (`_local_reply`).
Entry = tuple[tuple, Callable[[Any], Any] | None, bool]


class WatchError(KvstoreError):
    """A watched key changed: the transaction was not run (redis-py's WatchError)."""


class PipelineError(KvstoreError):
    """Misuse of a pipeline (nested MULTI, WATCH after MULTI, ...)."""


# redis-py's annotate_exception shortens the command's text to this many characters.
_ANNOTATION_WIDTH = 100
# Commands (or command + subcommand) whose arguments may carry credentials: redis-py's
# command_text shows them as <REDACTED>.
_CREDENTIAL_COMMANDS = frozenset(("ACL SETUSER", "AUTH", "MIGRATE", "HELLO", "CONFIG SET",
                                  "SENTINEL SET"))


def command_text(args: tuple) -> str:
    """A command as an error message shows it (redis-py's command_text): arguments joined by
    spaces, bytes decoded as UTF-8 (replacing what is not), credentials redacted."""
    parts = [a.decode("utf-8", "replace") if isinstance(a, bytes) else str(a) for a in args]
    name_len = 0
    if parts:
        name = parts[0].upper()
        if name in _CREDENTIAL_COMMANDS:
            name_len = 1
        elif len(parts) > 1 and f"{name} {parts[1].upper()}" in _CREDENTIAL_COMMANDS:
            name_len = 2
    if name_len and len(parts) > name_len:
        parts[name_len:] = ["<REDACTED>"]
    return " ".join(parts)


def annotate_exception(exception: Exception, number: int, args: tuple) -> None:
    """Prefix the error of the `number`th command (from 1) of a pipeline with that command, in
    place, as redis-py's Pipeline.annotate_exception does."""
    cmd = textwrap.shorten(command_text(args), width=_ANNOTATION_WIDTH, placeholder="...",
                           break_long_words=True)
    msg = f"Command # {number} ({cmd}) of pipeline caused error: {exception.args[0]}"
    exception.args = (msg,) + exception.args[1:]


def _items(stack: list[Entry], transaction: bool) -> tuple[list[tuple], list[tuple[bytes, bool]],
                                                           float | None]:
    """(commands to send, (name, never_decode) per reply to read, longest block timeout)."""
    cmds = [e[0] for e in stack if e[0]]
    items = [(name_of(e[0]), e[2]) for e in stack if e[0]]
    block = None
    for (name, _), args in zip(items, cmds):
        if name in BLOCKING:
            t = block_timeout(name, args)
            block = t if block is None or t == 0 or (block and t > block) else block
    if transaction:
        cmds = [("MULTI",), *cmds, ("EXEC",)]
        items = [(b"MULTI", False), *items, (b"EXEC", False)]
    return cmds, items, block


def _shape(stack: list[Entry], results: list[Any], raise_on_error: bool) -> list[Any]:
    """Apply callbacks to the replies of the commands sent (`results`) and to the local ones;
    raise the first error if raise_on_error."""
    out = []
    replies = iter(results)
    for args, callback, _ in stack:
        reply = next(replies) if args else None
        if isinstance(reply, ResponseError):
            out.append(typed_errors(reply))
        else:
            out.append(callback(reply) if callback is not None else reply)
    if raise_on_error:
        for i, reply in enumerate(out):
            if isinstance(reply, ResponseError):
                annotate_exception(reply, i + 1, stack[i][0])
                raise reply
    return out


def finish_pipeline(stack: list[Entry], replies: list[Any], raise_on_error: bool) -> list[Any]:
    return _shape(stack, replies, raise_on_error)


def finish_transaction(stack: list[Entry], replies: list[Any], raise_on_error: bool,
                       protocol: int) -> list[Any]:
    """Interpret [MULTI reply, QUEUED..., EXEC reply] (see the module docstring)."""
    if isinstance(replies[0], ResponseError):
        raise typed_errors(replies[0])
    queued = replies[1:-1]
    result = replies[-1]
    if isinstance(result, ResponseError):
        result = typed_errors(result)
        if isinstance(result, ExecAbortError):
            numbers = [i for i, e in enumerate(stack) if e[0]]  # the sent commands' places
            for i, reply in zip(numbers, queued):
                if isinstance(reply, ResponseError):
                    error = typed_errors(reply)
                    annotate_exception(error, i + 1, stack[i][0])
                    raise error
        raise result
    if result is None:
        raise WatchError("Watched variable changed.")
    sent = [e for e in stack if e[0]]
    if len(result) != len(sent):
        raise ResponseError("Wrong number of response items from pipeline execution")
    if protocol == 3:
        result = [flatten_pairs(r, name_of(e[0])) for e, r in zip(sent, result)]
    return _shape(stack, typed_errors(result), raise_on_error)


async def _constant(value: Any) -> Any:
    return value


class _Base(Methods):
    """State shared by both pipelines."""

    buffers_commands = True  # a registered Script sends EVAL here (kvstore.methods.scripting)

    def __init__(self, client: Any, transaction: bool = True) -> None:
        self.client = client
        self.connection_pool = client.connection_pool
        self.transaction = transaction
        self.decode_responses = client.decode_responses
        self.encoding = client.encoding
        self.encoding_errors = client.encoding_errors
        self.command_stack: list[Entry] = []
        self.watching = False
        self.explicit_transaction = False
        self.conn: Any = None

    def __len__(self) -> int:
        return len(self.command_stack)

    def __bool__(self) -> bool:
        return True

    def multi(self) -> None:
        """Start the transactional block: commands are buffered again until execute()."""
        if self.explicit_transaction:
            raise PipelineError("Cannot issue nested calls to MULTI")
        if self.command_stack:
            raise PipelineError("Commands without an initial WATCH have already been issued")
        self.explicit_transaction = True

    def execute_command(self, *args: Any, callback: Callable[[Any], Any] | None = None,
                        never_decode: bool = False, **options: Any) -> Any:
        # While WATCHing (before MULTI) a command runs at once (`_immediate`, a coroutine
        # function in AsyncPipeline); else it is buffered.
        if self.watching and not self.explicit_transaction:
            return self._immediate(args, callback, never_decode)
        return self._buffer(args, callback, never_decode)

    def _buffer(self, args: tuple, callback: Any, never_decode: bool) -> Any:
        self.command_stack.append((args, callback, never_decode))
        return self

    def _local_reply(self, value: Any) -> Any:
        if self.watching and not self.explicit_transaction:
            return value
        return self._buffer((), lambda _: value, False)

    def _transactional(self) -> bool:
        return self.transaction or self.explicit_transaction

    def _check_retry(self, cmds: list[tuple], sent: bool) -> bool:
        """A pipeline may be resent only unwatched, and if unsent or made of safe commands."""
        if self.watching:
            return False
        return not sent or all(retry_safe(name_of(c), c) for c in cmds
                               if c[0] not in ("MULTI", "EXEC"))


class Pipeline(_Base):
    """The sync pipeline; see the module docstring."""

    def __enter__(self) -> "Pipeline":
        return self

    def __exit__(self, *exc: object) -> None:
        self.reset()

    def close(self) -> None:
        """reset(), under the name `contextlib.closing` calls (redis-py's Pipeline.close)."""
        self.reset()

    def _immediate(self, args: tuple, callback: Any, never_decode: bool) -> Any:
        conn = self.conn
        name = name_of(args)
        try:
            conn.send_command(*args)
            reply = conn.read(name, block_timeout(name, args) if name in BLOCKING else None,
                              never_decode)
        except ResponseError:
            raise
        except ConnectionError:
            conn.disconnect()
            self.reset()
            raise WatchError("A ConnectionError occurred while watching one or more keys")
        except BaseException:
            conn.disconnect()
            raise
        return callback(reply) if callback is not None else reply

    def watch(self, *names: Any) -> bool:
        """WATCH names on a pinned connection; the pipeline runs commands at once until multi()."""
        if self.explicit_transaction:
            raise PipelineError("Cannot issue a WATCH after a MULTI")
        if self.conn is None:
            self.conn = self.connection_pool.get_connection()
        self.watching = True
        return self._immediate(("WATCH", *names), None, False) in (b"OK", "OK")

    def unwatch(self) -> bool:
        if not self.watching:
            return True
        ok = self._immediate(("UNWATCH",), None, False) in (b"OK", "OK")
        self.watching = False
        return ok

    def discard(self) -> None:
        """DISCARD, as any command: buffered (then EXEC fails, the MULTI being over), or run at
        once while watching (an error: no MULTI yet). redis-py's Pipeline.discard."""
        self.execute_command("DISCARD")

    def reset(self) -> None:
        """Forget buffered commands, UNWATCH, give the pinned connection back."""
        self.command_stack = []
        conn, self.conn = self.conn, None
        if conn is not None:
            if self.watching and conn.is_connected:
                try:
                    conn.send_command("UNWATCH")
                    conn.read(b"UNWATCH")
                except BaseException:
                    conn.disconnect()
            self.connection_pool.release(conn)
        self.watching = False
        self.explicit_transaction = False

    def execute(self, raise_on_error: bool = True) -> list[Any]:
        """Send every buffered command with one write; the list of their replies."""
        stack = self.command_stack
        if not stack and not self.watching:
            return []
        transactional = self._transactional()
        cmds, items, block = _items(stack, transactional)
        retry = getattr(self.connection_pool, "retry", None)
        attempt = 0
        try:
            while True:
                conn = self.conn or self.connection_pool.get_connection()
                self.conn = conn
                sent = False
                try:
                    conn.send_commands(cmds)
                    sent = True
                    replies = conn.read_many(items, block)
                    break
                except ConnectionError:
                    conn.disconnect()
                    if self.watching:
                        raise WatchError("A ConnectionError occurred while watching one or "
                                         "more keys") from None
                    if retry is None or attempt >= retry.retries or not self._check_retry(
                            cmds, sent):
                        raise
                except BaseException:
                    conn.disconnect()
                    raise
                time.sleep(retry.delay(attempt))
                attempt += 1
            self.watching = False  # EXEC (or a failure) ended the WATCH
            if transactional:
                return finish_transaction(stack, replies, raise_on_error, conn.protocol)
            return finish_pipeline(stack, replies, raise_on_error)
        finally:
            self.reset()


class AsyncPipeline(_Base, AsyncMethods):
    """The asyncio pipeline: buffering methods return the pipeline; execute() is awaited; in
    immediate mode (after watch()) the methods return coroutines. The dunders and scan
    iterators are AsyncMethods'."""

    async def __aenter__(self) -> "AsyncPipeline":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.reset()

    async def aclose(self) -> None:
        """reset(), under the name `contextlib.aclosing` awaits (redis-py's Pipeline.aclose)."""
        await self.reset()

    def __await__(self) -> Any:
        async def itself() -> "AsyncPipeline":
            return self
        return itself().__await__()

    def _local_reply(self, value: Any) -> Any:
        if self.watching and not self.explicit_transaction:
            return _constant(value)  # immediate mode: awaited like any command's reply
        return super()._local_reply(value)

    async def _immediate(self, args: tuple, callback: Any, never_decode: bool) -> Any:
        conn = self.conn
        name = name_of(args)
        try:
            conn.send_command(*args)
            reply = await conn.read(name, block_timeout(name, args) if name in BLOCKING
                                    else None, never_decode)
        except ResponseError:
            raise
        except ConnectionError:
            conn.disconnect()
            await self.reset()
            raise WatchError("A ConnectionError occurred while watching one or more keys")
        except BaseException:
            conn.disconnect()
            raise
        return callback(reply) if callback is not None else reply

    async def watch(self, *names: Any) -> bool:
        if self.explicit_transaction:
            raise PipelineError("Cannot issue a WATCH after a MULTI")
        if self.conn is None:
            self.conn = await self.connection_pool.get_connection()
        self.watching = True
        return await self._immediate(("WATCH", *names), None, False) in (b"OK", "OK")

    async def unwatch(self) -> bool:
        if not self.watching:
            return True
        ok = await self._immediate(("UNWATCH",), None, False) in (b"OK", "OK")
        self.watching = False
        return ok

    async def discard(self) -> None:
        """DISCARD (see Pipeline.discard); the buffering form returns the pipeline, awaitable."""
        await self.execute_command("DISCARD")

    async def reset(self) -> None:
        self.command_stack = []
        conn, self.conn = self.conn, None
        if conn is not None:
            if self.watching and conn.is_connected:
                try:
                    conn.send_command("UNWATCH")
                    await conn.read(b"UNWATCH")
                except BaseException:
                    conn.disconnect()
            self.connection_pool.release(conn)
        self.watching = False
        self.explicit_transaction = False

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        stack = self.command_stack
        if not stack and not self.watching:
            return []
        transactional = self._transactional()
        cmds, items, block = _items(stack, transactional)
        retry = getattr(self.connection_pool, "retry", None)
        attempt = 0
        try:
            while True:
                conn = self.conn or await self.connection_pool.get_connection()
                self.conn = conn
                sent = False
                try:
                    conn.send_commands(cmds)
                    sent = True
                    replies = await conn.read_many(items, block)
                    break
                except ConnectionError:
                    conn.disconnect()
                    if self.watching:
                        raise WatchError("A ConnectionError occurred while watching one or "
                                         "more keys") from None
                    if retry is None or attempt >= retry.retries or not self._check_retry(
                            cmds, sent):
                        raise
                except BaseException:
                    conn.disconnect()
                    raise
                await asyncio.sleep(retry.delay(attempt))
                attempt += 1
            self.watching = False
            if transactional:
                return finish_transaction(stack, replies, raise_on_error, conn.protocol)
            return finish_pipeline(stack, replies, raise_on_error)
        finally:
            await self.reset()
