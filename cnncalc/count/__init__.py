"""Other tools' FLOPs conventions (``--count``): the figure each tool gives, layer by layer.

Every tool that counts a network's cost counts something different: torchvision's tables (and
cnncalc's MACs) the multiply-adds of convolutions, linear layers and matrix products; fvcore one
per multiply-add of the ATen operators it has handlers for; thop and ptflops per-module hooks
with their own formulas, plus some functional calls; Ultralytics twice thop's count of the model
with BatchNorm folded into its convolutions; Darknet its ``l.bflops``. A convention is one module
here, a table from cnncalc's layer kind to a small function of the layer and its shapes
(:class:`Site`); a layer whose figure a tool's rules do not fix is unknown (None), never guessed.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from cnncalc.errors import ArgumentError
from cnncalc.graph import NETWORK_INPUT
from cnncalc.layers.base import Geometry, Layer, Shape

if TYPE_CHECKING:
    from cnncalc.graph import Network
    from cnncalc.report import Report

# Kinds that are no torch.nn module: written in PyTorch as an operator or a function call
# (``a + b``, ``torch.cat``, ``torch.matmul``, ``x.view``); every other kind is an nn module.
FUNCTIONAL_KINDS = frozenset(
    {
        "Add",
        "Sub",
        "Mul",
        "Div",
        "Arith",
        "Concat",
        "MatMul",
        "ScaledDotProductAttention",
        "Narrow",
        "Select",
        "Slice",
        "Split",
        "Chunk",
        "Permute",
        "Transpose",
        "Reshape",
        "Squeeze",
        "Unsqueeze",
        "Expand",
        "Repeat",
        "Mean",
        "Sum",
        "Amax",
        "LearnedAdd",
        "LearnedMul",
        "LearnedConcat",
    }
)

# Kinds that only move, copy or drop elements (in eval mode): no tool counts work for them,
# whatever module class carries them.
MOVES = frozenset(
    {
        "Identity",
        "Flatten",
        "Unflatten",
        "Dropout",
        "Dropout1d",
        "Dropout2d",
        "Dropout3d",
        "AlphaDropout",
        "FeatureAlphaDropout",
        "DropPath",
        "StochasticDepth",
        "Permute",
        "Transpose",
        "Reshape",
        "Squeeze",
        "Unsqueeze",
        "Narrow",
        "Select",
        "Slice",
        "Split",
        "Chunk",
        "Expand",
        "Repeat",
        "Concat",
        "PixelShuffle",
        "PixelUnshuffle",
        "ChannelShuffle",
    }
    | {
        f"{pad}Pad{n}d"
        for pad in ("Zero", "Constant", "Reflection", "Replication", "Circular")
        for n in (1, 2, 3)
    }
)


@dataclass(frozen=True)
class Site:
    """One layer as a counting rule sees it: the layer, its input and output shapes, cnncalc's
    own figures for it, and how it was called (:attr:`cnncalc.graph.Node.origin`)."""

    layer: Layer
    inputs: tuple[Shape, ...]
    output: Shape
    geometry: Geometry
    origin: str = ""
    # the network input's batch size (its first axis)
    batch: int = 1

    @property
    def x(self) -> Shape:
        return self.inputs[0]

    @property
    def kind(self) -> str:
        return self.layer.kind

    def arg(self, name: str, default: Any = None) -> Any:
        """The layer's argument ``name`` (PyTorch's), or ``default`` where its kind has none."""
        return getattr(self.layer, name, default)

    @property
    def is_module(self) -> bool:
        """A call of an nn module (as written, or a module call the PyTorch reader met)."""
        if self.origin:
            return self.origin.startswith("module:")
        return self.kind not in FUNCTIONAL_KINDS

    @property
    def exact_module(self) -> bool:
        """A module whose class is torch.nn's own class of this kind (not a subclass)."""
        if not self.origin:
            return self.is_module
        cls = self.origin.removeprefix("module:").partition(":")[0].rpartition(".")[2]
        return self.origin.startswith("module:torch.nn.modules.") and cls == self.kind

    @property
    def function(self) -> str:
        """The function a functional row was called through, as torch.export names it
        (``function.relu`` is ``F.relu``, ``builtin_function_or_method.relu`` is
        ``torch.relu``, ``operator.add`` is ``a + b``); for a functional kind as written, the
        PyTorch spelling cnncalc's twins use."""
        if self.origin and not self.is_module:
            return self.origin.partition("@")[0]
        return "" if self.is_module else _WRITTEN.get(self.kind, "")

    @property
    def within(self) -> str:
        """For a functional row the PyTorch reader met inside a module whose class derives
        from a torch.nn layer class: that class's name (``LayerNorm``), else ""."""
        return self.origin.partition("@")[2] if not self.is_module else ""

    @property
    def sdpa(self) -> bool:
        """MultiheadAttention called with need_weights=False (PyTorch runs it through
        scaled_dot_product_attention): the PyTorch reader saw that operator in the call."""
        return self.origin.endswith(":sdpa")


# a functional kind as written in a cnncalc file, and how its PyTorch twin spells it
_WRITTEN = {
    "Add": "operator.add",  # a + b
    "Mul": "operator.mul",  # a * b
    "Sub": "operator.sub",
    "Div": "operator.div",
    "Concat": "builtin_function_or_method.cat",
    "MatMul": "builtin_function_or_method.matmul",
    "ScaledDotProductAttention": "builtin_function_or_method.scaled_dot_product_attention",
}

# a rule: the figure of one layer, or None where the tool's rules do not fix it
Rule = Callable[[Site], int | None]


@dataclass(frozen=True)
class Convention:
    """A tool's way of counting: its name, what it counts (multiply-adds or FLOPs), the rule
    for one layer, and whether the tool counts the network with BatchNorm folded
    (:func:`cnncalc.count.fuse.fuse`)."""

    name: str
    unit: Literal["MACs", "FLOPs"]
    rule: Rule
    fused: bool = False
    source: str = ""


# --count NAME -> the module whose CONVENTION it is (imported when asked for)
CONVENTIONS: Mapping[str, str] = {
    "torchvision": "cnncalc.count.torchvision",
    "fvcore": "cnncalc.count.fvcore",
    "thop": "cnncalc.count.thop",
    "ptflops": "cnncalc.count.ptflops",
    "ultralytics": "cnncalc.count.ultralytics",
    "darknet": "cnncalc.count.darknet",
}


def convention(name: str) -> Convention:
    """The convention called ``name`` (an :class:`ArgumentError` of ``count`` otherwise)."""
    module = CONVENTIONS.get(name)
    if module is None:
        raise ArgumentError(f"no count convention {name!r} (there are {', '.join(CONVENTIONS)})", "count")
    found: Convention = importlib.import_module(module).CONVENTION
    return found


@dataclass(frozen=True)
class Counted:
    """Every layer's figure under one convention (None: unknown), in node order."""

    convention: Convention
    figures: tuple[int | None, ...]

    @property
    def total(self) -> int | None:
        """The network's figure; None when a layer's is unknown."""
        if any(f is None for f in self.figures):
            return None
        return sum(f for f in self.figures if f is not None)


def sites(network: Network, report: Report) -> list[Site]:
    """Each layer of ``network`` with the shapes ``report`` (its analysis) found."""
    shapes = {layer.index: layer.output_shape for layer in report.layers}
    shapes[NETWORK_INPUT] = network.input_shape
    batch = network.input_shape[0] if network.input_shape else 1
    out = []
    for node in network.nodes:
        xs = tuple(shapes[i] for i in node.inputs)
        if node.layer.is_merge:
            params, macs, spatial = node.layer.merge_figures(list(xs))
            geometry = Geometry(shapes[node.index], params, macs, spatial)
        else:
            geometry = node.layer.apply(xs[0])
        out.append(Site(node.layer, xs, shapes[node.index], geometry, node.origin, batch))
    return out


def count(network: Network, report: Report, name: str) -> Counted:
    """Every layer's figure under convention ``name``; ``report`` is the analysis of
    ``network`` (for a fused convention, of the fused network)."""
    conv = convention(name)
    return Counted(conv, tuple(conv.rule(site) for site in sites(network, report)))


def counted_report(network: Network, report: Report, name: str) -> Report:
    """``report`` with its MACs under convention ``name``: per layer, per block and in the
    totals (an unknown layer counts 0 there and is named in ``report.count``)."""
    from cnncalc.report import CountInfo

    result = count(network, report, name)
    figures = [f or 0 for f in result.figures]
    layers = tuple(dataclasses.replace(layer, macs=f) for layer, f in zip(report.layers, figures))
    blocks = tuple(
        dataclasses.replace(block, macs=sum(figures[i] for i in block.nodes)) for block in report.blocks
    )
    unknown = tuple(layer.path or layer.name for layer, f in zip(report.layers, result.figures) if f is None)
    info = CountInfo(result.convention.name, result.convention.unit, result.convention.fused, unknown)
    totals = dataclasses.replace(report.totals, macs=sum(figures))
    return dataclasses.replace(report, layers=layers, blocks=blocks, totals=totals, count=info)


def report_under(network: Network, name: str | None = None, fused: bool = False) -> Report:
    """The analysis of ``network`` as ``--count NAME`` and ``--fuse`` ask: BatchNorm folded
    first when ``fused`` or the convention counts a fused model, MACs under ``name``."""
    from cnncalc.count.fuse import fuse
    from cnncalc.engine.analyze import analyze

    if fused or (name is not None and convention(name).fused):
        network = fuse(network)
    report = analyze(network)
    if fused:
        report = dataclasses.replace(
            report, notes=(*report.notes, "BatchNorm folded into the layer before it (--fuse)")
        )
    return report if name is None else counted_report(network, report, name)
