"""Latency: the monitor's events (LATENCY LATEST / HISTORY / GRAPH / DOCTOR / RESET) and the
per-command latency histograms (LATENCY HISTOGRAM, INFO latencystats), as Redis's latency.c.

Events. With `latency-monitor-threshold` N > 0 (ms), a command that took N ms or more is a
sample of the event "command", or "fast-command" for a FAST one, and an active expiry cycle that
long one of "expire-cycle". Each event keeps its last 160 samples, one per second (a second
sample in the same second keeps the larger latency), and its all-time maximum.

Histograms (`latency-tracking yes`, Redis's default). Each command's durations are recorded in
whole microseconds, the unit Redis records them in, in a dict of duration -> count kept on the
`Command`. A one-command read only appends its duration to the command's `durations` array
(630 instructions under callgrind, where counting it at once cost 1,500); `fold_all` counts
those in C loops at every reading of the histograms and every CRON_SLOW_MS, so the array holds
at most that long's calls.

Redis keeps them in an HdrHistogram of 2 significant digits; the figures it reports are that
histogram's "equivalent values" of the recorded durations (`equivalent_range`), so these
reports give the figures Redis would give for the same durations: a percentile is the highest
value equivalent to the duration at that rank (the lowest for p0), and LATENCY HISTOGRAM's
buckets are the powers of two from 1024 ns.
"""

from __future__ import annotations

import time
from collections import Counter

from ..commands.table import FAST, every_command

SAMPLES = 160  # per event (LATENCY_TS_LEN)
GRAPH_COLUMNS = 80
_SPARK = "_o#"  # sparkline characters, rows of three levels (SPARKLINE_FILL)


class Event:
    __slots__ = ("samples", "max")

    def __init__(self) -> None:
        self.samples: list[list[int]] = []  # [unix time, ms], oldest first, at most SAMPLES
        self.max = 0


class LatencyMonitor:
    """The events of one server. `threshold` is latency-monitor-threshold in ms (0: off)."""

    def __init__(self) -> None:
        self.threshold = 0
        self.events: dict[str, Event] = {}

    def add(self, event: str, ms: int) -> None:
        """Redis's latencyAddSampleIfNeeded."""
        if not self.threshold or ms < self.threshold:
            return
        ts = self.events.get(event)
        if ts is None:
            ts = self.events[event] = Event()
        if ms > ts.max:
            ts.max = ms
        now = int(time.time())
        samples = ts.samples
        if samples and samples[-1][0] == now:
            if ms > samples[-1][1]:
                samples[-1][1] = ms
            return
        samples.append([now, ms])
        if len(samples) > SAMPLES:
            del samples[0]

    def command(self, cmd, seconds: float) -> None:
        """A command (or a timed run of one) took `seconds`."""
        self.add("fast-command" if cmd.flags & FAST else "command", int(seconds * 1000))

    def reset(self, names: list[str] | None) -> int:
        """LATENCY RESET: how many events were dropped (names compare without case)."""
        if names is None:
            dropped = len(self.events)
            self.events.clear()
            return dropped
        wanted = {n.lower() for n in names}
        gone = [name for name in self.events if name.lower() in wanted]
        for name in gone:
            del self.events[name]
        return len(gone)

    def latest(self) -> list[list]:
        return [[name.encode(), ts.samples[-1][0], ts.samples[-1][1], ts.max]
                for name, ts in self.events.items()]

    def history(self, name: str) -> list[list[int]]:
        ts = self.events.get(name)
        return [] if ts is None else [list(s) for s in ts.samples]

    def graph(self, name: str) -> str | None:
        """LATENCY GRAPH's text (latencyCommandGenSparkeline), None without such an event."""
        ts = self.events.get(name)
        if ts is None:
            return None
        now = int(time.time())
        values = [ms for _, ms in ts.samples]
        labels = [_ago(now - when) for when, _ in ts.samples]
        out = (f"{name} - high {max(values)} ms, low {min(values)} ms (all time high {ts.max} ms)"
               f"\n{'-' * GRAPH_COLUMNS}\n")
        for start in range(0, len(values), GRAPH_COLUMNS):
            if start:
                out += "\n"
            out += _sparkline(values, labels, start, min(len(values) - start, GRAPH_COLUMNS),
                              min(values), max(values))
        return out

    def doctor(self, slowlog_us: int, hz: int) -> str:
        """LATENCY DOCTOR's report (createLatencyReport), for the events kvstore records."""
        if not self.events and not self.threshold:
            return ("I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this "
                    "Redis instance. You may use \"CONFIG SET latency-monitor-threshold "
                    "<milliseconds>.\" in order to enable it. If we weren't in a deep space "
                    "mission I'd suggest to take a look at "
                    "https://redis.io/topics/latency-monitor.\n")
        advice: dict[str, bool] = {}
        out = ""
        now = int(time.time())
        for number, (name, ts) in enumerate(self.events.items(), 1):
            if number == 1:
                out += ("Dave, I have observed latency spikes in this Redis instance. You don't "
                        "mind talking about it, do you Dave?\n\n")
            values = [ms for _, ms in ts.samples]
            avg = sum(values) // len(values)
            mad = sum(abs(avg - v) for v in values) // len(values)
            period = max(now - min(when for when, _ in ts.samples), 1)
            out += (f"{number}. {name}: {len(values)} latency spikes (average {avg}ms, mean "
                    f"deviation {mad}ms, period {period / len(values):.2f} sec). Worst all time "
                    f"event {ts.max}ms.\n")
            if name == "command":
                if slowlog_us < 0:
                    advice["slowlog_enabled"] = True
                elif slowlog_us // 1000 > self.threshold:
                    advice["slowlog_tuning"] = True
                advice["slowlog_inspect"] = advice["large_objects"] = True
            elif name == "fast-command":
                advice["scheduler"] = True
            elif name == "expire-cycle":
                advice["hz"] = advice["large_objects"] = True
        if not self.events and not advice:
            return ("Dave, no latency spike was observed during the lifetime of this Redis "
                    "instance, not in the slightest bit. I honestly think you ought to sit down "
                    "calmly, take a stress pill, and think things over.\n")
        out += "\nI have a few advices for you:\n\n"
        ms = self.threshold * 1000
        if advice.get("slowlog_enabled"):
            out += ("- There are latency issues with potentially slow commands you are using. "
                    "Try to enable the Slow Log Redis feature using the command 'CONFIG SET "
                    f"slowlog-log-slower-than {ms}'. If the Slow log is disabled Redis is not "
                    "able to log slow commands execution for you.\n")
        if advice.get("slowlog_tuning"):
            out += ("- Your current Slow Log configuration only logs events that are slower than "
                    "your configured latency monitor threshold. Please use 'CONFIG SET "
                    f"slowlog-log-slower-than {ms}'.\n")
        if advice.get("slowlog_inspect"):
            out += ("- Check your Slow Log to understand what are the commands you are running "
                    "which are too slow to execute. Please check "
                    "https://redis.io/commands/slowlog for more information.\n")
        if advice.get("scheduler"):
            out += ("- The system is slow to execute Redis code paths not containing system "
                    "calls. This usually means the system does not provide Redis CPU time to "
                    "run for long periods. You should try to:\n"
                    "  1) Lower the system load.\n"
                    "  2) Use a computer / VM just for Redis if you are running other software "
                    "in the same system.\n"
                    "  3) Check if you have a \"noisy neighbour\" problem.\n"
                    "  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic "
                    "latency in your system.\n"
                    "  5) Check if the problem is allocator-related by recompiling Redis with "
                    "MALLOC=libc, if you are using Jemalloc. However this may create "
                    "fragmentation problems.\n")
        if advice.get("hz") and hz < 100:
            out += ("- In order to make the Redis keys expiring process more incremental, try "
                    "to set the 'hz' configuration parameter to 100 using 'CONFIG SET hz "
                    "100'.\n")
        if advice.get("large_objects"):
            out += ("- Deleting, expiring or evicting (because of maxmemory policy) large "
                    "objects is a blocking operation. If you have very large objects that are "
                    "often deleted, expired, or evicted, try to fragment those objects into "
                    "multiple smaller objects.\n")
        return out


def _ago(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def _sparkline(values: list[int], labels: list[str], offset: int, length: int, low: int,
               high: int, rows: int = 4) -> str:
    """Redis's sparklineRenderRange with SPARKLINE_FILL: `rows` rows of bars, then the labels
    written downwards, one character per row, after a blank row."""
    relmax = (high - low) or 1
    steps = len(_SPARK) * rows
    out = []
    row = 0
    while True:
        chars = [" "] * length
        more = False
        for j in range(length):
            k = offset + j
            step = int(int((values[k] - low) * steps) / relmax)
            step = min(max(step, 0), steps - 1)
            if row < rows:
                more = True
                charidx = step - (rows - row - 1) * len(_SPARK)
                if 0 <= charidx < len(_SPARK):
                    chars[j] = _SPARK[charidx]
                elif charidx >= len(_SPARK):
                    chars[j] = "|"
            else:
                if row - rows < 1:  # the margin above the labels
                    more = True
                    break
                label = labels[k]
                at = row - rows - 1
                if len(label) > at:
                    more = True
                    chars[j] = label[at]
        if not more:
            return "".join(out)
        row += 1
        out.append("".join(chars) + "\n")


# -- histograms --------------------------------------------------------------------------------

_MICROS = 1e6


def fold(cmd) -> None:
    """Count the command's appended durations into its histogram."""
    durations = cmd.durations
    if durations:
        latency = cmd.latency
        for us, n in Counter(map(int, map(_MICROS.__mul__, durations))).items():
            latency[us] = latency.get(us, 0) + n
        del durations[:]


def fold_all() -> None:
    for cmd in every_command():
        if cmd.durations:  # (the cron's pass over ~400 commands: no call for the others)
            fold(cmd)


def equivalent_range(ns: int) -> tuple[int, int]:
    """(lowest, highest) values an HdrHistogram of 2 significant digits (256 sub-buckets per
    power of two, unit 1 ns) records `ns` as."""
    shift = max(ns.bit_length() - 8, 0)
    low = (ns >> shift) << shift
    return low, low + (1 << shift) - 1


def percentile_us(hist: dict[int, int], total: int, percentile: float) -> float:
    """hdr_value_at_percentile of durations recorded in microseconds, in microseconds."""
    target = max(int(percentile / 100.0 * total + 0.5), 1)
    seen = 0
    for us in sorted(hist):
        seen += hist[us]
        if seen >= target:
            break
    low, high = equivalent_range(max(us * 1000, 1))
    return (low if percentile == 0 else high) / 1000.0


def histogram_usec(hist: dict[int, int]) -> dict[int, int]:
    """LATENCY HISTOGRAM's `histogram_usec`: for each power-of-two bucket from 1024 ns that
    holds durations, its upper bound in microseconds -> durations up to it (cumulative)."""
    out: dict[int, int] = {}
    cumulative = 0
    bound = 1024
    top = equivalent_range(bound)[1]
    for us in sorted(hist):
        ns = max(us * 1000, 1)
        while ns > top:
            bound <<= 1
            top = equivalent_range(bound)[1]
        cumulative += hist[us]
        out[top // 1000] = cumulative
    return out


def format_percentile(p: float) -> str:
    """A percentile as Redis names it: 50 -> "50", 99.9 -> "99.9"."""
    text = f"{p:f}".rstrip("0")
    return text.rstrip(".")
