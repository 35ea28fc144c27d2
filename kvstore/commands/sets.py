"""Sets commands."""

from __future__ import annotations
