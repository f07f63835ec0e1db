"""The typed result of an analysis: the only thing renderers see."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from cnncalc.records import quick_init

Shape = tuple[int, ...]


def _num(value: Fraction | int) -> int | str:
    """JSON for an exact number: an int, or a fraction string such as ``"1/2"``."""
    return value.numerator if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


@quick_init
@dataclass(frozen=True)
class ReceptiveField:
    """Receptive field of a layer's units, per spatial axis in PyTorch's order (D, H, W).

    Unit ``u`` sees input coordinates ``[u*stride - padding, u*stride - padding + size - 1]``
    (Araujo et al., Distill 2019). ``whole``: every unit sees the union over all positions.
    """

    size: tuple[Fraction | int, ...]
    stride: tuple[Fraction | int, ...]
    padding: tuple[Fraction | int, ...]
    input_sizes: Shape
    whole: bool = False
    # at a merge whose paths disagree (Distill's alignment condition): each input's effective
    # stride and centre offset per axis; empty when aligned
    misaligned_strides: tuple[tuple[Fraction | int, ...], ...] = ()
    misaligned_centres: tuple[tuple[Fraction | int, ...], ...] = ()

    @property
    def centre0(self) -> tuple[Fraction | int, ...]:
        """Input coordinate of the centre of unit 0 on each axis: ``(size - 1)/2 - padding``."""
        return tuple(_half(r - 1) - p for r, p in zip(self.size, self.padding))

    @property
    def exceeds_input(self) -> bool:
        """True when the field is larger than the input on some axis."""
        return any(r > n for r, n in zip(self.size, self.input_sizes))

    def to_dict(self) -> dict[str, Any]:
        """The JSON object: ``{"size": [...], "stride": [...], "padding": [...]}`` and more."""
        return {
            "size": [_num(v) for v in self.size],
            "stride": [_num(v) for v in self.stride],
            "padding": [_num(v) for v in self.padding],
            "centre": [_num(v) for v in self.centre0],
            "whole_input": self.whole,
            "exceeds_input": self.exceeds_input,
            "misaligned": {
                "strides": [[_num(v) for v in s] for s in self.misaligned_strides],
                "centres": [[_num(v) for v in c] for c in self.misaligned_centres],
            }
            if self.misaligned_strides
            else None,
        }


Product = tuple[frozenset[int], ...]


def _cells(products: tuple[Product, ...]) -> frozenset[tuple[int, ...]]:
    """Every position of a union of products of per-axis sets."""
    found: set[tuple[int, ...]] = set()
    for product in products:
        found.update(itertools.product(*(sorted(axis) for axis in product)))
    return frozenset(found)


def summarize(products: tuple[Product, ...]) -> tuple[int, tuple[tuple[int, int], ...] | None]:
    """How many positions a union of products holds, and its bounding interval per axis
    (counted axis by axis, never listed: 5,000 × 5,000 positions are 25 million tuples)."""
    full = [p for p in products if all(p)]
    if not full:
        return 0, None
    n = len(full[0])
    bounds = tuple((min(min(p[a]) for p in full), max(max(p[a]) for p in full)) for a in range(n))
    return count_cells(tuple(full)), bounds


def count_cells(products: tuple[Product, ...]) -> int:
    """The positions in a union of products of per-axis sets: the values of the first axis are
    grouped by the products that hold them, and each group counts the union of those products'
    other axes once (linear in the first axis's size times the number of products)."""
    products = tuple(p for p in products if all(p))
    if not products:
        return 0
    if len(products) == 1:
        return math.prod(len(axis) for axis in products[0])
    if len(products[0]) == 1:
        return len(frozenset().union(*(p[0] for p in products)))
    groups: dict[tuple[int, ...], int] = {}
    for value in frozenset().union(*(p[0] for p in products)):
        key = tuple(i for i, p in enumerate(products) if value in p[0])
        groups[key] = groups.get(key, 0) + 1
    return sum(times * count_cells(tuple(products[i][1:] for i in key)) for key, times in groups.items())


@dataclass(frozen=True)
class UnitRegion:
    """The input region of one unit of one layer, per spatial axis."""

    layer_index: int
    layer_name: str
    unit: Shape
    region: tuple[tuple[Fraction | int, Fraction | int], ...]  # theoretical, unclipped
    input_sizes: Shape
    # input positions that affect the unit: a union of products of per-axis sets (one product
    # per distinct path); None when a layer's map is unknown
    products: tuple[Product, ...] | None
    exact: bool = True  # False: ``products`` hold a superset (see engine.analyze._walk_back)
    # the way back: (layer path, positions of its output that affect the unit), latest first
    trail: tuple[tuple[str, tuple[Product, ...]], ...] = ()

    @property
    def cells(self) -> frozenset[tuple[int, ...]] | None:
        """Every input position (one index per axis) that affects the unit."""
        return _cells(self.products) if self.products is not None else None

    @property
    def positions(self) -> tuple[frozenset[int], ...] | None:
        """Per axis, the input indices that occur in some affecting position."""
        if self.products is None:
            return None
        n = len(self.unit)
        return tuple(frozenset().union(*(p[axis] for p in self.products)) for axis in range(n))

    @property
    def clipped(self) -> tuple[tuple[int, int], ...] | None:
        """The theoretical interval cut to the input (None if it misses the input entirely)."""
        out = []
        for (start, end), n in zip(self.region, self.input_sizes):
            lo, hi = max(_ceil(start), 0), min(_floor(end), n - 1)
            if lo > hi:
                return None
            out.append((lo, hi))
        return tuple(out)

    @property
    def input_region(self) -> tuple[tuple[int, int], ...] | None:
        """The smallest interval per axis that holds every input position affecting the unit."""
        positions = self.positions
        if positions is None or not self.products or not all(positions):
            return None
        return tuple((min(p), max(p)) for p in positions)

    @property
    def affecting(self) -> int | None:
        """How many input positions affect the unit."""
        if self.products is None:
            return None
        return count_cells(self.products)

    @property
    def in_padding(self) -> int:
        """How many of the theoretical positions lie outside the input (in padding)."""
        total = inside = 1
        for (start, end), n in zip(self.region, self.input_sizes):
            lo, hi = _ceil(start), _floor(end)
            total *= max(hi - lo + 1, 0)
            inside *= max(min(hi, n - 1) - max(lo, 0) + 1, 0)
        return total - inside

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``cnncalc rf --unit``."""
        return {
            "layer": self.layer_name,
            "index": self.layer_index,
            "unit": list(self.unit),
            "region": [[_num(a), _num(b)] for a, b in self.region],
            "region_clipped": [list(pair) for pair in self.clipped] if self.clipped else None,
            "input_region": [list(pair) for pair in self.input_region] if self.input_region else None,
            "positions": self.affecting,
            "padding_positions": self.in_padding,
            "exact": self.exact,
        }


def _half(v: Fraction | int) -> Fraction | int:
    """v / 2, exactly: an int when v is even (the common case, and much faster than Fraction)."""
    return v // 2 if isinstance(v, int) and v % 2 == 0 else Fraction(v) / 2


def _ceil(v: Fraction | int) -> int:
    return -(-v.numerator // v.denominator)


def _floor(v: Fraction | int) -> int:
    return v.numerator // v.denominator


class _Flops:
    """FLOPs from MACs, for every report part that counts MACs."""

    macs: int

    @property
    def flops(self) -> int:
        """Floating-point operations: a multiply-accumulate counts as two."""
        return 2 * self.macs


@quick_init
@dataclass(frozen=True)
class LayerReport(_Flops):
    """Figures of one layer for the network's input."""

    index: int
    name: str
    type: str
    input_shape: Shape
    output_shape: Shape
    params: int
    trainable_params: int
    macs: int
    activation_bytes: int
    inputs: tuple[str, ...] = ()
    receptive_field: ReceptiveField | None = None
    path: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The layer's JSON object (key names are a public contract)."""
        return {
            "index": self.index,
            "name": self.name,
            "type": self.type,
            "input_shape": list(self.input_shape),
            "output_shape": list(self.output_shape),
            "params": self.params,
            "trainable_params": self.trainable_params,
            "macs": self.macs,
            "activation_bytes": self.activation_bytes,
            "receptive_field": self.receptive_field.to_dict() if self.receptive_field else None,
            "path": self.path or self.name,
            "inputs": list(self.inputs),
        }


@dataclass(frozen=True)
class BlockReport(_Flops):
    """A block as written (Residual, Concat, Sequential, a repeated copy) with summed figures."""

    path: str
    kind: str
    depth: int
    first: int  # index of its first layer
    nodes: tuple[int, ...]
    output_shape: Shape
    params: int
    trainable_params: int
    macs: int
    activation_bytes: int
    receptive_field: ReceptiveField | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "type": self.kind,
            "layers": [self.nodes[0], self.nodes[-1]],
            "output_shape": list(self.output_shape),
            "params": self.params,
            "trainable_params": self.trainable_params,
            "macs": self.macs,
            "activation_bytes": self.activation_bytes,
        }


@dataclass(frozen=True)
class Totals(_Flops):
    """Whole-network figures: each parameter counted once, activations summed over layers."""

    params: int
    trainable_params: int
    non_trainable_params: int
    macs: int
    param_bytes: int
    activation_bytes: int
    # parameters of modules the forward never calls (PyTorch modules; None where unknown)
    unused_params: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The totals' JSON object."""
        out: dict[str, Any] = {
            "params": self.params,
            "trainable_params": self.trainable_params,
            "non_trainable_params": self.non_trainable_params,
            "macs": self.macs,
            "param_bytes": self.param_bytes,
            "activation_bytes": self.activation_bytes,
        }
        if self.unused_params is not None:
            out["unused_params"] = self.unused_params
        return out


@dataclass(frozen=True)
class CountInfo:
    """Which tool's convention a report's MACs follow (``--count``; :mod:`cnncalc.count`):
    ``unit`` "FLOPs" where the tool counts FLOPs (then ``macs`` holds that figure), ``fused``
    when BatchNorm was folded first, and the layers whose figure the tool's rules leave
    unknown (counted 0)."""

    name: str
    unit: str = "MACs"
    fused: bool = False
    unknown: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """How a table names the column's figure: ``FLOPs (ultralytics)``."""
        return f"{self.unit} ({self.name})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "unit": self.unit,
            "fused": self.fused,
            "unknown_layers": list(self.unknown),
        }


@dataclass(frozen=True)
class Report:
    """Everything cnncalc computed about one network."""

    name: str | None
    input_shape: Shape
    output_shape: Shape
    dtype: str
    layers: tuple[LayerReport, ...]
    totals: Totals
    receptive_field: ReceptiveField | None = None
    blocks: tuple[BlockReport, ...] = ()
    outputs: tuple[str, ...] = ()
    # modules the forward never calls, with their parameters; notes on how the network was read
    unused: tuple[tuple[str, int], ...] = ()
    notes: tuple[str, ...] = ()
    # one shape per output, in ``outputs`` order (``output_shape`` is the first)
    output_shapes: tuple[Shape, ...] = ()
    # the convention of ``macs`` when --count chose one (None: cnncalc's own MACs)
    count: CountInfo | None = None

    @property
    def heads(self) -> tuple[Shape, ...]:
        """Every output's shape: a network with several heads (YOLO) has one per head."""
        return self.output_shapes or (self.output_shape,)

    @property
    def head_fields(self) -> tuple[ReceptiveField | None, ...]:
        """Every output's receptive field, in ``outputs`` order."""
        by_path = {layer.path: layer.receptive_field for layer in self.layers}
        fields = tuple(by_path.get(path) for path in self.outputs)
        return fields or (self.receptive_field,)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (exact integers, shapes as lists)."""
        data = self._figures()
        if self.unused:
            data["unused_modules"] = [{"module": m, "params": n} for m, n in self.unused]
        if self.notes:
            data["notes"] = list(self.notes)
        if self.count is not None:
            count_json(self.count, data)
        return data

    def _figures(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "input_shape": list(self.input_shape),
            "output_shape": list(self.output_shape),
            "output_shapes": [list(shape) for shape in self.heads],
            "dtype": self.dtype,
            "layers": [layer.to_dict() for layer in self.layers],
            "totals": self.totals.to_dict(),
            "receptive_field": self.receptive_field.to_dict() if self.receptive_field else None,
            "outputs": list(self.outputs),
            "blocks": [block.to_dict() for block in self.blocks],
        }

    def to_json(self) -> str:
        """The report as the JSON document ``cnncalc shape --format json`` prints."""
        from cnncalc.render.jsonout import render

        return render([self])


def count_json(count: CountInfo, data: dict[str, Any]) -> None:
    """A counted report's JSON: the top-level ``"count"``, ``totals.flops`` where the convention
    counts FLOPs, and null for the figures an unknown layer leaves unknown."""
    data["count"] = count.to_dict()
    totals = data["totals"]
    if count.unknown:
        totals["macs"] = None
    if count.unit == "FLOPs":
        totals["flops"] = totals["macs"]


@dataclass(frozen=True)
class Ratio:
    """B against A: ``factor`` = B / A; ``smaller`` names the side with less, by ``percent``."""

    factor: Fraction | None  # None when A is 0
    smaller: str | None  # "A", "B", or None when equal
    percent: int  # how much less the smaller side has, rounded

    @classmethod
    def of(cls, a: int, b: int) -> Ratio:
        if a == b:
            return cls(Fraction(1), None, 0)
        low, high = min(a, b), max(a, b)
        return cls(Fraction(b, a) if a else None, "A" if a < b else "B", round(100 * (high - low) / high))


@dataclass(frozen=True)
class Equivalence:
    """Two networks compared: equivalent when every head's output shape and receptive field agree."""

    a: Report
    b: Report
    same_shape: bool
    same_field: bool

    @property
    def equivalent(self) -> bool:
        return self.same_shape and self.same_field

    @property
    def params(self) -> Ratio:
        return Ratio.of(self.a.totals.params, self.b.totals.params)

    @property
    def macs(self) -> Ratio:
        return Ratio.of(self.a.totals.macs, self.b.totals.macs)

    def to_dict(self) -> dict[str, Any]:
        """``{"equivalent": ..., "a": {...}, "b": {...}}``."""

        def side(r: Report) -> dict[str, Any]:
            return {
                "name": r.name,
                "output_shape": list(r.output_shape),
                "output_shapes": [list(shape) for shape in r.heads],
                "receptive_field": r.receptive_field.to_dict() if r.receptive_field else None,
                "params": r.totals.params,
                "macs": None if r.count is not None and r.count.unknown else r.totals.macs,
                "activation_bytes": r.totals.activation_bytes,
            }

        out = {
            "equivalent": self.equivalent,
            "same_output_shape": self.same_shape,
            "same_receptive_field": self.same_field,
            "a": side(self.a),
            "b": side(self.b),
        }
        if self.a.count is not None:
            out["count"] = {"name": self.a.count.name, "unit": self.a.count.unit, "fused": self.a.count.fused}
        return out


@dataclass(frozen=True)
class DenseLayer:
    """One convolution against the dense layer mapping the same input tensor to the same output."""

    index: int
    name: str
    type: str
    input_shape: Shape
    output_shape: Shape
    sample_input: Shape  # one sample: (C, *spatial)
    sample_output: Shape
    conv_weights: int
    dense_weights: int
    pointwise: bool  # a 1×1 convolution: Linear(c_in, c_out) at every position

    @property
    def ratio(self) -> Fraction:
        """How many times more weights the dense layer needs."""
        return Fraction(self.dense_weights, self.conv_weights)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "type": self.type,
            "input_shape": list(self.input_shape),
            "output_shape": list(self.output_shape),
            "conv_weights": self.conv_weights,
            "dense_weights": self.dense_weights,
            "ratio": _num(self.ratio),
            "pointwise": self.pointwise,
        }


@dataclass(frozen=True)
class DenseReport:
    """Conv-versus-dense weight counts of a network's convolutions."""

    name: str | None
    layers: tuple[DenseLayer, ...]

    @property
    def conv_weights(self) -> int:
        return sum(layer.conv_weights for layer in self.layers)

    @property
    def dense_weights(self) -> int:
        return sum(layer.dense_weights for layer in self.layers)

    @property
    def ratio(self) -> Fraction | None:
        """How many times more weights dense layers would need, over the whole network."""
        return Fraction(self.dense_weights, self.conv_weights) if self.conv_weights else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "layers": [layer.to_dict() for layer in self.layers],
            "totals": {"conv_weights": self.conv_weights, "dense_weights": self.dense_weights},
        }
