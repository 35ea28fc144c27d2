"""Lua scripting methods (redis-py 8 shapes): eval/evalsha and their read-only forms return the
script's reply; script_load the digest as str; script_exists a list of bools; register_script
a `Script`, callable with keys and args, which loads itself again after a SCRIPT FLUSH. The
function methods (function_load, fcall, ...) reply as redis-py's: raw replies, True for OK."""

from __future__ import annotations

import hashlib
import inspect
from typing import Any, Literal, Sequence

from ..errors import DataError, NoScriptError
from .base import bool_ok
from .types import EncodableT, KeyT, Reply


def _str(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _bools(values: list) -> list[bool]:
    return [bool(v) for v in values]


async def _ready(value: Any) -> Any:
    return value


class Script:
    """A script registered with `register_script`: call it as `script(keys=[...], args=[...])`.
    It runs by EVALSHA, and loads itself with SCRIPT LOAD if the server does not know it."""

    def __init__(self, registered_client: Any, script: str | bytes) -> None:
        self.registered_client = registered_client
        self.script = script
        body = script.encode() if isinstance(script, str) else script
        self.sha = hashlib.sha1(body).hexdigest()

    def __call__(self, keys: Sequence[KeyT] = (), args: Sequence[EncodableT] = (),
                 client: Any = None) -> Any:
        client = self.registered_client if client is None else client
        argv = (*keys, *args)
        if getattr(client, "buffers_commands", False):
            # A pipeline learns of a missing script only at execute(): EVAL sends the body.
            # (An asyncio pipeline's call is awaited, as redis-py's AsyncScript is.)
            pipe = client.eval(self.script, len(keys), *argv)
            if inspect.iscoroutinefunction(client.execute):
                return _ready(pipe)
            return pipe
        try:
            reply = client.evalsha(self.sha, len(keys), *argv)
        except NoScriptError:
            client.script_load(self.script)
            return client.evalsha(self.sha, len(keys), *argv)
        if inspect.isawaitable(reply):
            return self._await(client, reply, len(keys), argv)
        return reply

    async def _await(self, client: Any, reply: Any, numkeys: int, argv: tuple) -> Any:
        try:
            return await reply
        except NoScriptError:
            await client.script_load(self.script)
            return await client.evalsha(self.sha, numkeys, *argv)


class ScriptingMethods:
    __slots__ = ()

    def execute_command(self, *args: Any, callback: Any = None,
                        never_decode: bool = False) -> Any:  # pragma: no cover
        raise NotImplementedError

    def eval(self, script: str | bytes, numkeys: int, *keys_and_args: KeyT | EncodableT) -> Any:
        """Run a Lua script with its first ``numkeys`` arguments as KEYS, the rest as ARGV."""
        return self.execute_command("EVAL", script, numkeys, *keys_and_args)

    def eval_ro(self, script: str | bytes, numkeys: int,
                *keys_and_args: KeyT | EncodableT) -> Any:
        """EVAL for a script that only reads (a write inside it is an error)."""
        return self.execute_command("EVAL_RO", script, numkeys, *keys_and_args)

    def evalsha(self, sha: str, numkeys: int, *keys_and_args: KeyT | EncodableT) -> Any:
        """Run a cached script by its SHA1 digest; NoScriptError if it is not cached."""
        return self.execute_command("EVALSHA", sha, numkeys, *keys_and_args)

    def evalsha_ro(self, sha: str, numkeys: int, *keys_and_args: KeyT | EncodableT) -> Any:
        """EVALSHA for a script that only reads."""
        return self.execute_command("EVALSHA_RO", sha, numkeys, *keys_and_args)

    def script_exists(self, *args: str) -> list[bool]:
        """Whether each digest names a cached script."""
        return self.execute_command("SCRIPT", "EXISTS", *args, callback=_bools)

    def script_debug(self, *args: Any) -> None:
        """Not supported, as in redis-py (SCRIPT DEBUG needs redis-cli's debugger)."""
        raise NotImplementedError("SCRIPT DEBUG is intentionally not implemented in the client.")

    def script_flush(self, sync_type: Literal["SYNC", "ASYNC"] | None = None) -> bool:
        """Forget every cached script."""
        if sync_type not in ("SYNC", "ASYNC", None):
            raise DataError("SCRIPT FLUSH defaults to SYNC in redis > 6.2, or accepts SYNC/ASYNC."
                            " For older versions, of redis leave as None.")
        pieces = [sync_type] if sync_type else []
        return self.execute_command("SCRIPT", "FLUSH", *pieces, callback=bool_ok)

    def script_kill(self) -> bool:
        """Stop the script running past busy-reply-threshold on the server (NOTBUSY without
        one, UNKILLABLE once it wrote). The embedded store answers NOTBUSY: no script runs
        while it serves a call."""
        return self.execute_command("SCRIPT", "KILL", callback=bool_ok)

    def script_load(self, script: str | bytes) -> str:
        """Cache a script without running it; returns its SHA1 digest."""
        return self.execute_command("SCRIPT", "LOAD", script, callback=_str)

    def register_script(self, script: str | bytes) -> Script:
        """A callable `Script` bound to this client (see `Script`)."""
        return Script(self, script)

    # -- functions (FUNCTION, FCALL) ---------------------------------------------------------

    def function_load(self, code: str | bytes, replace: bool | None = False) -> Reply:
        """Load a library (code starting with ``#!lua name=<library>``); returns its name."""
        pieces: list[Any] = ["REPLACE"] if replace else []
        return self.execute_command("FUNCTION", "LOAD", *pieces, code)

    def function_delete(self, library: str) -> bool:
        """Delete a library and its functions."""
        return self.execute_command("FUNCTION", "DELETE", library, callback=bool_ok)

    def function_flush(self, mode: str = "SYNC") -> bool:
        """Delete every library."""
        return self.execute_command("FUNCTION", "FLUSH", mode, callback=bool_ok)

    def function_list(self, library: str | None = "*", withcode: bool | None = False) -> list[Any]:
        """The libraries whose name matches ``library`` (a glob; None: every library, no
        LIBRARYNAME sent, as in redis-py), with their code if asked."""
        args: list[Any] = [] if library is None else ["LIBRARYNAME", library]
        if withcode:
            args.append("WITHCODE")
        return self.execute_command("FUNCTION", "LIST", *args)

    def fcall(self, function: str, numkeys: int, *keys_and_args: KeyT | EncodableT) -> Any:
        """Run a loaded function with its first ``numkeys`` arguments as keys."""
        return self.execute_command("FCALL", function, numkeys, *keys_and_args)

    def fcall_ro(self, function: str, numkeys: int, *keys_and_args: KeyT | EncodableT) -> Any:
        """FCALL for a function flagged no-writes."""
        return self.execute_command("FCALL_RO", function, numkeys, *keys_and_args)

    def function_dump(self) -> bytes:
        """Every library as a payload for function_restore (Redis's format)."""
        return self.execute_command("FUNCTION", "DUMP", never_decode=True)

    def function_restore(self, payload: bytes | str, policy: str | None = "APPEND") -> bool:
        """Load the libraries of a function_dump payload (policy APPEND, REPLACE or FLUSH;
        None sends none, which the server takes as APPEND, as in redis-py)."""
        policy_arg = () if policy is None else (policy,)
        return self.execute_command("FUNCTION", "RESTORE", payload, *policy_arg,
                                    callback=bool_ok)

    def function_kill(self) -> Reply:
        """Stop the function running past busy-reply-threshold on the server (NOTBUSY without
        one, UNKILLABLE once it wrote; NOTBUSY on the embedded store, as `script_kill`)."""
        return self.execute_command("FUNCTION", "KILL")

    def function_stats(self) -> Any:
        """The running function (never one) and the number of libraries and functions."""
        return self.execute_command("FUNCTION", "STATS")
