"""ACL methods (redis-py 8 shapes): acl_whoami, acl_users, acl_list, acl_cat, acl_getuser,
acl_setuser, acl_deluser, acl_dryrun, acl_genpass, acl_log, acl_log_reset, acl_load,
acl_save, acl_help.

Arguments are built and RESP2 replies shaped as redis-py's commands/core.py ACLCommands and its
callbacks (parse_acl_getuser, parse_acl_log, str_if_bytes) do.
"""

from __future__ import annotations

from typing import Any, Iterable

from ..errors import DataError
from .base import bool_ok, list_or_args
from .server import _str, parse_client_info
from .types import EncodableT, Reply


def _strs(reply: list) -> list[str]:
    return [_str(item) for item in reply]


def parse_acl_getuser(reply: Any) -> dict[str, Any] | None:
    """ACL GETUSER as redis-py's parse_acl_getuser: native strings, `keys` and `channels` as
    lists, `commands` split into commands and `categories`, and `enabled`."""
    if reply is None:
        return None
    data = {_str(k): v for k, v in zip(reply[0::2], reply[1::2])}
    data["flags"] = _strs(data["flags"])
    data["passwords"] = _strs(data["passwords"])
    for name in ("keys", "channels"):
        if isinstance(data.get(name), bytes):
            data[name] = [] if not data[name] else _str(data[name]).split(" ")
    if data.get("selectors"):
        data["selectors"] = [_strs(selector) for selector in data["selectors"]]
    commands, categories = [], []
    for rule in _str(data["commands"]).split(" "):
        (categories if "@" in rule else commands).append(rule)
    data["commands"] = commands
    data["categories"] = categories
    data["enabled"] = "on" in data["flags"]
    return data


def parse_acl_log(reply: Any) -> list[dict[str, Any]] | bool:
    """ACL LOG as redis-py's parse_acl_log: a dict per entry (str keys), `client-info` parsed,
    `age-seconds` a float; ACL LOG RESET's OK as True."""
    if not isinstance(reply, list):
        return bool_ok(reply)
    entries = []
    for entry in reply:
        data = {_str(k): _str(v) for k, v in zip(entry[0::2], entry[1::2])}
        data["client-info"] = parse_client_info(data.get("client-info", ""))
        data["age-seconds"] = float(data["age-seconds"])
        entries.append(data)
    return entries


class ACLMethods:
    """Mixin; relies on `execute_command(*args, callback=None)`."""

    __slots__ = ()

    def acl_whoami(self, **kwargs: Any) -> str:
        return self.execute_command("ACL", "WHOAMI", callback=_str)

    def acl_users(self, **kwargs: Any) -> list[str]:
        return self.execute_command("ACL", "USERS", callback=_strs)

    def acl_list(self, **kwargs: Any) -> list[str]:
        return self.execute_command("ACL", "LIST", callback=_strs)

    def acl_cat(self, category: str | None = None, **kwargs: Any) -> list[str]:
        pieces = [category] if category else []
        return self.execute_command("ACL", "CAT", *pieces, callback=_strs)

    def acl_help(self, **kwargs: Any) -> list[str]:
        return self.execute_command("ACL", "HELP", callback=_strs)

    def acl_getuser(self, username: str, **kwargs: Any) -> dict[str, Any] | None:
        return self.execute_command("ACL", "GETUSER", username, callback=parse_acl_getuser)

    def acl_deluser(self, *username: str, **kwargs: Any) -> int:
        return self.execute_command("ACL", "DELUSER", *username)

    def acl_dryrun(self, username: str, *args: EncodableT, **kwargs: Any) -> Reply:
        return self.execute_command("ACL", "DRYRUN", username, *args)

    def acl_genpass(self, bits: int | None = None, **kwargs: Any) -> str:
        pieces = []
        if bits is not None:
            try:
                value = int(bits)
                if not 0 <= value <= 4096:
                    raise ValueError
            except ValueError:
                raise DataError("genpass optionally accepts a bits argument, between 0 and "
                                "4096.") from None
            pieces.append(value)
        return self.execute_command("ACL", "GENPASS", *pieces, callback=_str)

    def acl_log(self, count: int | None = None, **kwargs: Any) -> list[dict[str, Any]]:
        args = []
        if count is not None:
            if not isinstance(count, int):
                raise DataError("ACL LOG count must be an integer")
            args.append(count)
        return self.execute_command("ACL", "LOG", *args, callback=parse_acl_log)

    def acl_log_reset(self, **kwargs: Any) -> bool:
        return self.execute_command("ACL", "LOG", "RESET", callback=bool_ok)

    def acl_load(self, **kwargs: Any) -> bool:
        return self.execute_command("ACL", "LOAD", callback=bool_ok)

    def acl_save(self, **kwargs: Any) -> bool:
        return self.execute_command("ACL", "SAVE", callback=bool_ok)

    def acl_setuser(self, username: str, enabled: bool = False, nopass: bool = False,
                    passwords: str | Iterable[str] | None = None,
                    hashed_passwords: str | Iterable[str] | None = None,
                    categories: Iterable[str] | None = None,
                    commands: Iterable[str] | None = None,
                    keys: Iterable[EncodableT] | None = None,
                    channels: Iterable[EncodableT] | None = None,
                    selectors: Iterable[tuple[str, EncodableT]] | None = None,
                    reset: bool = False, reset_keys: bool = False,
                    reset_channels: bool = False, reset_passwords: bool = False,
                    **kwargs: Any) -> bool:
        """The rules redis-py's acl_setuser sends, in its order: resets, on/off (redis-py's
        default is off), passwords (+pw adds, -pw removes), hashed ones, nopass, categories,
        commands, keys (~pattern unless given as a rule), channels (&pattern), selectors."""
        pieces: list[EncodableT] = [username]
        pieces += [rule for flag, rule in ((reset, b"reset"), (reset_keys, b"resetkeys"),
                                           (reset_channels, b"resetchannels"),
                                           (reset_passwords, b"resetpass")) if flag]
        pieces.append(b"on" if enabled else b"off")
        if (passwords or hashed_passwords) and nopass:
            raise DataError("Cannot set 'nopass' and supply 'passwords' or 'hashed_passwords'")
        for i, password in enumerate(list_or_args(passwords, []) if passwords else []):
            pieces.append(_signed(password, b">", b"<", f"Password {i}"))
        for i, digest in enumerate(list_or_args(hashed_passwords, [])
                                   if hashed_passwords else []):
            pieces.append(_signed(digest, b"#", b"!", f"Hashed password {i}"))
        if nopass:
            pieces.append(b"nopass")
        for i, category in enumerate(categories or []):
            category = _bytes(category)
            if category.startswith(b"+@") or category.startswith(b"-@"):
                pieces.append(category)
            elif category.startswith(b"+") or category.startswith(b"-"):
                pieces.append(category[:1] + b"@" + category[1:])
            else:
                raise DataError(f'Category "{_str(category)}" must be prefixed with "+" or "-"')
        for command in commands or []:
            command = _bytes(command)
            if not command.startswith((b"+", b"-")):
                raise DataError(f'Command "{_str(command)}" must be prefixed with "+" or "-"')
            pieces.append(command)
        pieces += [_key_rule(key) for key in keys or []]
        pieces += [b"&" + _bytes(channel) for channel in channels or []]
        for cmd, key in selectors or []:
            cmd = _bytes(cmd)
            if not cmd.startswith((b"+", b"-")):
                raise DataError(f'Command "{_str(cmd)}" must be prefixed with "+" or "-"')
            pieces.append(b"(" + cmd + b" " + _key_rule(key) + b")")
        return self.execute_command("ACL", "SETUSER", *pieces, callback=bool_ok)


def _bytes(value: EncodableT) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode()


def _key_rule(key: EncodableT) -> bytes:
    """A key pattern as a rule: `~pattern` unless it is one already (`~...`, `%R~...`)."""
    data = _bytes(key)
    return data if data.startswith((b"%", b"~")) else b"~" + data


def _signed(value: EncodableT, add: bytes, remove: bytes, what: str) -> bytes:
    data = _bytes(value)
    if data.startswith(b"+"):
        return add + data[1:]
    if data.startswith(b"-"):
        return remove + data[1:]
    raise DataError(f'{what} must be prefixed with a "+" to add or a "-" to remove')
