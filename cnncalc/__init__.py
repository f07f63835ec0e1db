"""cnncalc: shapes, parameters, MACs, memory and receptive fields of CNNs, by PyTorch's rules.

The public API: :func:`load`, :func:`analyze`, :func:`memory`, :func:`sizes`, :func:`formulas`,
:func:`solve`, :func:`network`, :func:`from_torch`, :func:`layer`, :class:`Network`, :class:`Report`,
:class:`Limits`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from cnncalc.engine.memory import MemoryReport
    from cnncalc.engine.sizes import FormulaReport, SizesReport
    from cnncalc.engine.solve import SolveReport
    from cnncalc.graph import Network
    from cnncalc.limits import Limits
    from cnncalc.report import Report

__all__ = [
    "Limits",
    "Network",
    "Report",
    "__version__",
    "analyze",
    "formulas",
    "from_torch",
    "layer",
    "load",
    "memory",
    "network",
    "sizes",
    "solve",
]


def load(
    source: str,
    input_shape: tuple[int, ...] | None = None,
    *,
    limits: Limits | None = None,
    skip_unknown: bool = False,
) -> Network:
    """A network from a file path (cnncalc YAML, Darknet ``.cfg``, ``.onnx``), a PyTorch
    ``package.module:factory``, or the text of a network file (anything with a newline or a
    ``layers:`` key is taken as text)."""
    from cnncalc.limits import Limits
    from cnncalc.readers import ReadOptions, read
    from cnncalc.spec.network import load_text

    chosen = limits or Limits()
    if "\n" in source or "layers:" in source:
        return load_text(source, "<text>", input_shape, chosen)
    return read(source, ReadOptions(input_shape, skip_unknown, chosen)).network


def from_torch(
    module: Any, input_shape: tuple[int, ...] | list[int], *, limits: Limits | None = None
) -> Network:
    """The network a PyTorch ``nn.Module`` computes on a tensor of ``input_shape`` (its forward's
    first tensor argument; other arguments take their defaults), captured with ``torch.export``:
    rows named by module path, parameters of modules never called in ``Network.unused``. Build
    big models under ``with torch.device("meta"):`` so that no weight is allocated."""
    from cnncalc.readers.torch import network_of

    return network_of(module, tuple(input_shape), limits=limits)


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
    from cnncalc.spec.network import network_from_python

    return network_from_python(tuple(input_shape), layers, name, dtype, outputs)


def layer(text: str) -> Any:
    """A layer object from PyTorch's constructor syntax: ``layer("Conv2d(3, 8, 3, padding=1)")``."""
    from cnncalc.errors import Position
    from cnncalc.spec.network import call_layer

    built, _ = call_layer(text, lambda offset: Position("<python>", 1, offset + 1), Position("<python>"))
    return built


def analyze(network: Network) -> Report:
    """Per-layer and total figures of a network."""
    from cnncalc.engine.analyze import analyze as run

    return run(network)


def memory(
    network: Network,
    *,
    batch: int | None = None,
    optimizer: str = "none",
    dtype: str | None = None,
    inference: bool = False,
) -> MemoryReport:
    """The memory of one train-mode step (or one inference pass) by PyTorch's CPU autograd rules:
    saved tensors, gradients, ``optimizer`` state (none, sgd, momentum, adam, adamw) and the peak
    estimate, per layer and in total; ``max_batch(budget_bytes)`` on the result finds the largest
    batch that fits."""
    from cnncalc.engine.memory import memory as run

    return run(network, batch=batch, optimizer=optimizer, dtype=dtype, inference=inference)


def sizes(network: Network) -> SizesReport:
    """The input sizes a network accepts on each spatial axis (the others held at its input
    size), as an exact rule with the checks behind it."""
    from cnncalc.engine.sizes import valid_sizes

    return valid_sizes(network)


def formulas(network: Network) -> FormulaReport:
    """Every layer's output shape as Python integer expressions in the axis names (``L``;
    ``H``, ``W``; ``D``, ``H``, ``W``), valid for every size the network accepts."""
    from cnncalc.engine.sizes import shape_formulas

    return shape_formulas(network)


def solve(
    target: Network | str,
    want: int | tuple[int, ...],
    *,
    unknown: tuple[str, str] | None = None,
    input_shape: tuple[int, ...] | None = None,
) -> SolveReport:
    """The values of one layer argument that give the wanted output size: a call form with one
    argument written ``?`` (and ``input_shape``), or a network with ``unknown=(layer, argument)``."""
    from cnncalc.engine.solve import solve as run

    return run(target, want, unknown=unknown, input_shape=input_shape)


def __getattr__(name: str) -> Any:
    # Network, Report and Limits are imported on first use so that `import cnncalc` stays cheap.
    if name == "Network":
        from cnncalc.graph import Network

        return Network
    if name == "Report":
        from cnncalc.report import Report

        return Report
    if name == "Limits":
        from cnncalc.limits import Limits

        return Limits
    raise AttributeError(f"module 'cnncalc' has no attribute {name!r}")
