"""cnncalc: shapes, parameters, MACs, memory and receptive fields of CNNs, by PyTorch's rules.

The public API: :func:`load`, :func:`analyze`, :class:`Network`, :class:`Report`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from cnncalc.engine.graph import Network
    from cnncalc.report import Report

__all__ = ["Network", "Report", "__version__", "analyze", "load"]


def load(source: str, input_shape: tuple[int, ...] | None = None) -> Network:
    """A network from a file path, or from the text of a network file (anything with a newline
    or a ``layers:`` key is taken as text)."""
    from cnncalc.sources import read_text
    from cnncalc.spec.network import load_text

    if "\n" in source or "layers:" in source:
        return load_text(source, "<text>", input_shape)
    return load_text(read_text(source), source, input_shape)


def analyze(network: Network) -> Report:
    """Per-layer and total figures of a network."""
    from cnncalc.engine.analyze import analyze as run

    return run(network)


def __getattr__(name: str) -> Any:
    # Network and Report are imported on first use so that `import cnncalc` stays cheap.
    if name == "Network":
        from cnncalc.engine.graph import Network

        return Network
    if name == "Report":
        from cnncalc.report import Report

        return Report
    raise AttributeError(f"module 'cnncalc' has no attribute {name!r}")
