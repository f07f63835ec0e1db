"""The layer catalogue as text: one PyTorch-like signature per layer kind."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cnncalc.render import Catalogue


def catalogue_text(result: Catalogue) -> str:
    """``layers``: ``Conv2d(in_channels=<inferred>, out_channels, ...)``, one line per kind."""
    from cnncalc.spec.catalogue import signature

    return "".join(signature(entry) + "\n" for entry in result.entries)
