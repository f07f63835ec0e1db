"""Limits that keep hostile input bounded in time and memory: an argument of loading, never a global."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """``max_layers``: layers after blocks and repeats are expanded; ``max_depth``: nesting of
    YAML lists and mappings (and so of blocks)."""

    max_layers: int = 1_000_000
    max_depth: int = 100
