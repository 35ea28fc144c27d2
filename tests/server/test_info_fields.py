"""INFO's fields, section by section, are redis-server 7.0's, in its order: monitoring tools
and exporters read them by name. Compared side by side with a running redis-server."""

from __future__ import annotations

import pytest

from .helpers import Conn

# Fields one side has by design: Redis's counts of socket reads and writes (their counters
# cost every one-command read ~800 instructions here), its build details; our own version,
# Python's, and the protocol error count.
ONLY_REDIS = {"total_reads_processed", "total_writes_processed", "atomicvar_api", "gcc_version"}
ONLY_KVSTORE = {"total_protocol_errors", "kvstore_version", "python_version"}


def names(port: int, section: str) -> list[str]:
    text = Conn(port)("INFO", section).decode()
    return [line.split(":", 1)[0] for line in text.split("\r\n")
            if line and not line.startswith("#")]


@pytest.mark.parametrize("section", ["server", "clients", "memory", "persistence", "stats",
                                     "replication", "cpu"])
def test_info_fields_are_redis(ports, section):
    redis_names = [n for n in names(ports["redis"], section) if n not in ONLY_REDIS]
    ours = [n for n in names(ports["kvstore"], section) if n not in ONLY_KVSTORE]
    assert ours == redis_names


def info_value(c: Conn, section: str, name: str) -> str:
    for line in c("INFO", section).decode().split("\r\n"):
        if line.startswith(name + ":"):
            return line.split(":", 1)[1]
    raise KeyError(name)


@pytest.mark.parametrize("kind", ["kvstore", "redis"])
def test_forks_are_counted(ports, kind):
    c = Conn(ports[kind])
    c("CONFIG", "RESETSTAT")
    assert info_value(c, "stats", "total_forks") == "0"
    c("BGSAVE")
    while info_value(c, "persistence", "rdb_bgsave_in_progress") != "0":
        pass
    assert info_value(c, "stats", "total_forks") == "1"
    assert int(info_value(c, "stats", "latest_fork_usec")) > 0
    assert info_value(c, "persistence", "rdb_last_bgsave_time_sec") != "-1"
