"""cnncalc: shapes, parameters, MACs, memory and receptive fields of CNNs, by PyTorch's rules.

The public API: :func:`load`, :func:`analyze`, :class:`Network`, :class:`Report`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from cnncalc.engine.graph import Network
    from cnncalc.report import Report

__all__ = ["Network", "Report", "__version__", "analyze", "layer", "load", "network"]


def load(source: str, input_shape: tuple[int, ...] | None = None) -> Network:
    """A network from a file path (cnncalc YAML, Darknet ``.cfg`` or ``.onnx``), or from the text
    of a network file (anything with a newline or a ``layers:`` key is taken as text)."""
    from cnncalc.sources import load_file
    from cnncalc.spec.network import load_text

    if "\n" in source or "layers:" in source:
        return load_text(source, "<text>", input_shape)
    return load_file(source, input_shape)


def network(
    input_shape: tuple[int, ...] | list[int],
    layers: list[Any],
    name: str | None = None,
    dtype: str = "float32",
    outputs: list[str] | None = None,
) -> Network:
    """A network built in Python: ``layers`` holds call-form strings (``"Conv2d(3, 8, 3)"``),
    mappings as in a network file (blocks and ``from:`` included) and layer objects
    (:func:`layer`, or classes such as ``cnncalc.layers.conv.Conv2d``)."""
    from cnncalc.errors import Position
    from cnncalc.layers.base import Layer
    from cnncalc.readers import network_from_items

    items = []
    for i, given in enumerate(layers):
        item = given
        if isinstance(given, Layer):
            fields = {k: v for k, v in given.model_dump().items() if not (k == given.inferred and v is None)}
            item = {"type": given.kind, **fields}
        items.append((item, Position("<python>", i + 1, 1)))
    net = network_from_items(items, tuple(input_shape), name, "<python>", outputs)
    return replace(net, dtype=dtype) if dtype != "float32" else net


def layer(text: str) -> Any:
    """A layer object from PyTorch's constructor syntax: ``layer("Conv2d(3, 8, 3, padding=1)")``."""
    from cnncalc.errors import Position
    from cnncalc.spec.network import _call_layer

    built, _ = _call_layer(text, lambda offset: Position("<python>", 1, offset + 1), Position("<python>"))
    return built


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
