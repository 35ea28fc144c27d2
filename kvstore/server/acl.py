"""The default user: the one ACL user kvstore has (Redis 7.0 `acl.c`, reduced to it).

Every connection runs as the default user, with every command, key and channel allowed; what
ACL can change is how it authenticates. Its passwords are SHA-256 digests (as Redis keeps
them): `requirepass` sets them to its one password ("" to none, which is `nopass`), and
ACL SETUSER default adds (>pw, #digest) and removes (<pw, !digest) them, or sets nopass or
resetpass (no password, none accepted), as in Redis, where CONFIG GET requirepass does not
follow those changes either.

The ACL log (ACL LOG) records failed authentications, grouped as Redis groups them: an entry
with the same reason, context, object and username within 60 s counts once more.
"""

from __future__ import annotations

import hashlib
import time
from collections import deque

GROUPING_MS = 60000  # Redis's ACL_LOG_GROUPING_MAX_TIME_DELTA


def digest(password: bytes) -> str:
    return hashlib.sha256(password).hexdigest()


class DefaultUser:
    """The default user's authentication state and the ACL log."""

    def __init__(self, requirepass: str = "", log_max: int = 128) -> None:
        self.passwords: list[str] = []
        self.nopass = True
        self.require(requirepass)
        self.log: deque[dict] = deque()
        self.log_max = log_max

    def require(self, password: str) -> None:
        """`requirepass`: that one password, or none needed ("")."""
        self.passwords = [digest(password.encode("utf-8", "surrogateescape"))] if password else []
        self.nopass = not password

    def check(self, password: bytes) -> bool:
        return self.nopass or digest(password) in self.passwords

    def describe(self) -> str:
        """ACL LIST's line."""
        auth = "nopass" if self.nopass else " ".join("#" + p for p in self.passwords)
        return " ".join(x for x in ("user default on", auth, "~* &* +@all") if x)

    def failed_auth(self, username: bytes, command: str, context: str,
                    client_info: str) -> None:
        """Log a refused AUTH / HELLO AUTH (Redis addACLLogEntry, ACL_DENIED_AUTH); `command`
        is the log's object."""
        now_ms = int(time.time() * 1000)
        for entry in self.log:
            if (entry["username"] == username and entry["object"] == command
                    and entry["context"] == context and now_ms - entry["ctime"] < GROUPING_MS):
                entry["count"] += 1
                entry["ctime"] = now_ms
                entry["client-info"] = client_info
                self.log.remove(entry)
                self.log.appendleft(entry)
                return
        self.log.appendleft({"count": 1, "reason": "auth", "context": context, "object": command,
                             "username": username, "ctime": now_ms,
                             "client-info": client_info})
        while len(self.log) > self.log_max:
            self.log.pop()
