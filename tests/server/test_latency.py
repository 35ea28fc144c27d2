"""LATENCY (the latency monitor's events, the per-command histograms) and INFO latencystats, on
both servers. Durations differ between the two, so the cases check what each reply holds and
its shape; the texts that do not depend on durations (DOCTOR with monitoring off, HELP, errors,
a GRAPH of chosen samples) are compared whole."""

from __future__ import annotations

import re
import time

import pytest

from kvstore.server.latency import equivalent_range, histogram_usec, percentile_us

from .helpers import err

DISABLED = ("I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis "
            "instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in "
            "order to enable it. If we weren't in a deep space mission I'd suggest to take a "
            "look at https://redis.io/topics/latency-monitor.\n")


@pytest.fixture
def lc(c):
    """`c` with the latency settings put back afterwards (the server is shared)."""
    c("LATENCY", "RESET")
    yield c
    c("CONFIG", "SET", "latency-monitor-threshold", "0")
    c("CONFIG", "SET", "latency-tracking", "yes")
    c("CONFIG", "SET", "latency-tracking-info-percentiles", "50 99 99.9")
    c("LATENCY", "RESET")


def latencystats(c) -> dict[str, str]:
    text = c("INFO", "latencystats").decode()
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def test_with_monitoring_off_nothing_is_recorded(lc):
    lc("DEBUG", "SLEEP", "0.02")
    assert lc("LATENCY", "LATEST") == []
    assert lc("LATENCY", "HISTORY", "command") == []
    assert lc("LATENCY", "RESET") == 0
    assert lc("LATENCY", "DOCTOR").decode() == DISABLED
    assert err(lc("LATENCY", "GRAPH", "command")) == "ERR No samples available for event 'command'"
    assert err(lc("LATENCY", "NOPE")) == "ERR unknown subcommand 'NOPE'. Try LATENCY HELP."
    assert lc("LATENCY", "HELP")[-4:] == [
        b"    Return a cumulative distribution of latencies in the format of a histogram for "
        b"the specified command names.",
        b"    If no commands are specified then all histograms are replied.", b"HELP",
        b"    Prints this help."]


def test_a_command_over_the_threshold_is_an_event(lc):
    assert lc("CONFIG", "SET", "latency-monitor-threshold", "20") == b"OK"
    lc("DEBUG", "SLEEP", "0.005")  # under the threshold
    assert lc("LATENCY", "LATEST") == []
    before = int(time.time())
    lc("DEBUG", "SLEEP", "0.03")
    after = int(time.time())
    [(name, when, ms, top)] = lc("LATENCY", "LATEST")
    assert name == b"command" and before <= when <= after and 30 <= ms < 200 and top == ms
    assert lc("LATENCY", "HISTORY", "command") == [[when, ms]]
    graph = lc("LATENCY", "GRAPH", "command").decode().split("\n")
    assert graph[:2] == [f"command - high {ms} ms, low {ms} ms (all time high {ms} ms)", "-" * 80]
    assert graph[2:6] == [" ", " ", " ", "_"]  # one sample: the lowest level
    report = lc("LATENCY", "DOCTOR").decode()
    assert report.startswith("Dave, I have observed latency spikes in this Redis instance.")
    assert f"1. command: 1 latency spikes (average {ms}ms, mean deviation 0ms" in report
    assert lc("LATENCY", "RESET", "COMMAND", "nothing") == 1  # names compare without case
    assert lc("LATENCY", "LATEST") == []
    assert lc("LATENCY", "DOCTOR").decode().startswith("Dave, no latency spike was observed")


def test_each_command_has_a_histogram_of_its_durations(lc):
    assert lc("CONFIG", "RESETSTAT") == b"OK"
    for i in range(3):
        lc("SET", f"k{i}", "v")
    lc("GET", "k0")
    lc("GET", "nokey")
    lc("CONFIG", "GET", "maxmemory")
    got = lc("LATENCY", "HISTOGRAM", "set", "GET", "nosuchcommand")
    histograms = dict(zip(got[::2], got[1::2]))
    assert set(histograms) == {b"set", b"get"}
    for name, calls in ((b"set", 3), (b"get", 2)):
        fields = dict(zip(histograms[name][::2], histograms[name][1::2]))
        assert fields[b"calls"] == calls
        buckets = fields[b"histogram_usec"]
        bounds, counts = buckets[::2], buckets[1::2]
        # Upper bounds of power-of-two buckets from 1024 ns, in microseconds; cumulative counts
        assert set(bounds) <= {equivalent_range(1024 << k)[1] // 1000 for k in range(30)}
        assert bounds == sorted(bounds) and counts == sorted(counts) and counts[-1] == calls
    got = lc("LATENCY", "HISTOGRAM", "config")  # a container: its subcommands
    assert b"config|get" in got[::2] and b"config" not in got[::2]
    stats = latencystats(lc)
    number = r"\d+\.\d{3}"
    assert re.fullmatch(f"p50={number},p99={number},p99.9={number}",
                        stats["latency_percentiles_usec_set"])


def test_tracking_settings(lc):
    assert err(lc("CONFIG", "SET", "latency-tracking-info-percentiles", "abc")) == (
        "ERR CONFIG SET failed (possibly related to argument "
        "'latency-tracking-info-percentiles') - Invalid latency-tracking-info-percentiles "
        "parameters")
    assert err(lc("CONFIG", "SET", "latency-tracking-info-percentiles", "101")).endswith(
        "- latency-tracking-info-percentiles parameters should sit between [0.0,100.0]")
    assert lc("CONFIG", "SET", "latency-tracking-info-percentiles", "0 50.5 100 1e1") == b"OK"
    assert lc("CONFIG", "GET", "latency-tracking-info-percentiles") == [
        b"latency-tracking-info-percentiles", b"0 50.5 100 10"]
    lc("PING")
    assert re.fullmatch(r"p0=[\d.]+,p50\.5=[\d.]+,p100=[\d.]+,p10=[\d.]+",
                        latencystats(lc)["latency_percentiles_usec_ping"])
    assert lc("CONFIG", "SET", "latency-tracking-info-percentiles", "") == b"OK"
    assert latencystats(lc)["latency_percentiles_usec_ping"] == ""
    assert lc("CONFIG", "SET", "latency-tracking", "no") == b"OK"
    assert latencystats(lc) == {}
    calls = dict(zip(*[iter(lc("LATENCY", "HISTOGRAM", "ping")[1])] * 2))[b"calls"]
    lc("PING")
    assert dict(zip(*[iter(lc("LATENCY", "HISTOGRAM", "ping")[1])] * 2))[b"calls"] == calls


def test_hdr_equivalent_values_give_the_figures_redis_prints():
    # Redis 7.0 printed p50=4.015 for 4 us, 1.003 for 1 us, 12.031 for 12 us, 11.007 for 11 us,
    # and p0=1.000 for 1 us, and the bucket bounds 1, 2, 4, 8, 16, 33, 66.
    assert [equivalent_range(us * 1000)[1] / 1000 for us in (4, 1, 12, 11)] == [
        4.015, 1.003, 12.031, 11.007]
    assert percentile_us({1: 1, 4: 3}, 4, 0) == 1.0
    assert percentile_us({1: 1, 4: 3}, 4, 50) == 4.015
    assert percentile_us({1: 9, 12: 1}, 10, 99) == 12.031
    assert list(histogram_usec({1: 1, 2: 1, 3: 1, 7: 1, 15: 1, 32: 1, 60: 1})) == [
        1, 2, 4, 8, 16, 33, 66]
    assert histogram_usec({4: 1, 6: 1, 40: 1}) == {4: 1, 8: 2, 66: 3}


def test_a_pipelined_run_records_each_call(lc):
    assert lc("CONFIG", "RESETSTAT") == b"OK"
    lc.send(b"".join(lc.encode("INCR", "n") for _ in range(16)))
    assert [lc.reply() for _ in range(16)] == list(range(1, 17))
    fields = lc("LATENCY", "HISTOGRAM", "incr")[1]
    assert dict(zip(fields[::2], fields[1::2]))[b"calls"] == 16


def test_events_keep_one_sample_a_second_and_the_last_160(monkeypatch):
    from kvstore.server import latency

    clock = [1000.0]
    monkeypatch.setattr(latency.time, "time", lambda: clock[0])
    monitor = latency.LatencyMonitor()
    monitor.threshold = 5
    monitor.add("command", 4)  # under the threshold
    monitor.add("command", 7)
    monitor.add("command", 9)  # the same second: the larger is kept
    monitor.add("command", 6)
    assert monitor.history("command") == [[1000, 9]]
    for i in range(1, 161):
        clock[0] += 1
        monitor.add("command", 5 + i % 3)
    history = monitor.history("command")
    assert len(history) == 160 and history[0][0] == 1001 and history[-1][0] == 1160
    assert monitor.latest() == [[b"command", 1160, 5 + 160 % 3, 9]]


def test_the_client_library_and_redis_py_read_the_events(lc, server):
    import redis

    from clients import Client

    assert lc("CONFIG", "SET", "latency-monitor-threshold", "10") == b"OK"
    lc("DEBUG", "SLEEP", "0.02")
    ours, theirs = Client(port=server.port), redis.Redis(port=server.port)
    try:
        [(name, when, ms, top)] = ours.latency_latest()
        assert theirs.latency_latest() == [[name, when, ms, top]]
        assert ours.latency_history("command") == theirs.latency_history("command") == [
            [when, ms]]
        assert ours.latency_reset("command") == 1
        assert theirs.latency_reset() == 0
    finally:
        ours.close()
        theirs.close()


def test_fold_counts_the_appended_durations():
    from kvstore.commands.table import COMMANDS
    from kvstore.server.latency import fold

    cmd = COMMANDS[b"echo"]
    saved, cmd.latency = cmd.latency, {5: 1}
    try:
        cmd.durations.extend([0.0000051, 0.0000059, 0.000012, 0.0000004])
        fold(cmd)
        assert cmd.latency == {5: 3, 12: 1, 0: 1} and not cmd.durations
    finally:
        cmd.latency = saved
        del cmd.durations[:]
