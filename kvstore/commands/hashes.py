"""Hashes commands."""

from __future__ import annotations
