"""The type hints: the generated stubs are current, and mypy infers what typing_sample.py says.

typing_sample.py states with `assert_type` what a type checker must infer for calls on the
embedded store, Client, AsyncClient and the pipelines, and marks misuse that mypy must reject
(`# error: <code>`). The test runs mypy on it with the generated stubs (following other imports
silently: errors inside the package are not this test's subject) and compares the errors
reported with the marked ones.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from mypy import api as mypy_api

from clients import _stubgen
from kvstore.fastpaths import FastPaths
from kvstore.methods import Methods

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = Path(__file__).with_name("typing_sample.py")
MYPY_LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+): error: .*\[(?P<code>[a-z-]+)\]$")


@pytest.mark.parametrize("stub", sorted(_stubgen.STUBS))
def test_stub_is_what_the_generator_writes(stub):
    committed = (_stubgen.HERE / stub).read_text()
    assert committed == _stubgen.render(stub), "stale: run `python -m clients._stubgen`"


def expected_errors() -> set[tuple[int, str]]:
    out = set()
    for number, line in enumerate(SAMPLE.read_text().splitlines(), 1):
        marker = re.search(r"# error: ([a-z-]+)$", line)
        if marker:
            out.add((number, marker.group(1)))
    return out


def test_mypy_infers_the_sample_types_and_rejects_the_misuse():
    stubs = [str(_stubgen.HERE / stub) for stub in sorted(_stubgen.STUBS)]  # checked, not followed
    stdout, stderr, status = mypy_api.run([
        "--follow-imports=silent", "--ignore-missing-imports", "--show-error-codes",
        "--no-error-summary", "--no-pretty", "--hide-error-context",
        "--cache-dir", str(ROOT / ".mypy_cache"), str(SAMPLE), *stubs,
    ])
    assert status in (0, 1) and not stderr, stderr
    reported, other = set(), []
    for line in stdout.splitlines():
        m = MYPY_LINE.match(line)
        if m and Path(m["path"]).resolve() == SAMPLE:
            reported.add((int(m["line"]), m["code"]))
        elif ": note: " not in line:
            other.append(line)
    expected = expected_errors()
    assert expected, "the sample must show misuse that mypy rejects"
    assert not other, "\n".join(other)
    missing = sorted(expected - reported)
    unexpected = [line for line in stdout.splitlines()
                  if (m := MYPY_LINE.match(line)) and (int(m["line"]), m["code"]) not in expected]
    assert not missing and not unexpected, (
        f"marked but not reported: {missing}\nreported but not marked:\n" + "\n".join(unexpected))


def test_the_embedded_fast_paths_keep_the_methods_signatures():
    """The Store's direct paths override Methods; unannotated, they would hide its types."""
    differ = []
    for name, fn in vars(FastPaths).items():
        if not name.startswith("_") and callable(fn) and hasattr(Methods, name):
            theirs = inspect.signature(getattr(Methods, name))
            if inspect.signature(fn) != theirs:
                differ.append(name)
    assert not differ, differ
