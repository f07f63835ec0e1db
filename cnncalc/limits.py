"""Limits that keep hostile input bounded in time and memory; the CLI can raise them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Limits:
    """``max_layers``: layers after blocks and repeats are expanded; ``max_depth``: nesting of
    YAML lists and mappings (and so of blocks)."""

    max_layers: int = 1_000_000
    max_depth: int = 100


LIMITS = Limits()
