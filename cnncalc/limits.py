"""Limits that keep hostile input bounded in time and memory: an argument of loading, never a global."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """``max_layers``: layers after blocks and repeats are expanded; ``max_depth``: nesting of
    YAML lists and mappings (and so of blocks)."""

    # 100,000 layers is fifty times the largest CNN in torchvision or timm, and analyses in a few
    # seconds; a million (a 92-byte ``repeat: 1000000``) took tens of seconds and gigabytes
    max_layers: int = 100_000
    max_depth: int = 100
