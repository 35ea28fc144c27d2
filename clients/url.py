"""Connection URLs -> client options.

    redis://[[username]:password@]host[:port][/db][?option=value...]   (kvstore:// is the same)
    unix://[[username]:password@]/path/to/socket[?db=N&...]
    memory://[?db=N]                                                    (an in-process store)

Query options, as redis-py accepts them: db, socket_timeout, socket_connect_timeout,
health_check_interval, max_connections, client_name, protocol, decode_responses. Percent-escapes
in the user and password are decoded.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

SCHEMES = ("redis", "kvstore", "unix", "memory")

_FLOAT = ("socket_timeout", "socket_connect_timeout", "health_check_interval", "timeout")
_INT = ("db", "max_connections", "protocol")
_BOOL = ("decode_responses",)


def _option(name: str, raw: str) -> Any:
    if name in _FLOAT:
        return float(raw)
    if name in _INT:
        return int(raw)
    if name in _BOOL:
        return raw.lower() not in ("0", "false", "no", "off", "")
    return raw


def parse_url(url: str) -> dict[str, Any]:
    """The keyword arguments of `Client(...)` for `url`; "transport" is "tcp", "unix" or
    "memory". Raises ValueError for an unsupported scheme or a malformed value."""
    parsed = urlparse(url)
    scheme = parsed.scheme.lower()
    if scheme not in SCHEMES:
        raise ValueError(f"unsupported URL scheme {parsed.scheme!r}: use one of "
                         + ", ".join(f"{s}://" for s in SCHEMES))
    kwargs: dict[str, Any] = {}
    for name, values in parse_qs(parsed.query).items():
        if values and values[0]:
            kwargs[name] = _option(name, values[0])
    if parsed.username:
        kwargs["username"] = unquote(parsed.username)
    if parsed.password is not None:
        kwargs["password"] = unquote(parsed.password)
    if scheme == "memory":
        kwargs["transport"] = "memory"
        return kwargs
    if scheme == "unix":
        kwargs["transport"] = "unix"
        kwargs["unix_socket_path"] = unquote(parsed.path)
        return kwargs
    kwargs["transport"] = "tcp"
    if parsed.hostname:
        kwargs["host"] = unquote(parsed.hostname)
    if parsed.port:
        kwargs["port"] = int(parsed.port)
    path = parsed.path.lstrip("/")
    if path and "db" not in kwargs:
        try:
            kwargs["db"] = int(unquote(path))
        except ValueError:
            raise ValueError(f"invalid database number in URL: {path!r}") from None
    return kwargs
