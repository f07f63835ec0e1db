"""The typed result of an analysis: the only thing renderers see."""

from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

Shape = tuple[int, ...]


def _num(value: Fraction) -> int | str:
    """JSON for an exact number: an int, or a fraction string such as ``"1/2"``."""
    return value.numerator if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


@dataclass(frozen=True)
class ReceptiveField:
    """Receptive field of a layer's units, per spatial axis in PyTorch's order (D, H, W).

    Unit ``u`` sees input coordinates ``[u*stride - padding, u*stride - padding + size - 1]``
    (Araujo et al., Distill 2019). ``whole``: every unit sees the union over all positions.
    """

    size: tuple[Fraction, ...]
    stride: tuple[Fraction, ...]
    padding: tuple[Fraction, ...]
    input_sizes: Shape
    whole: bool = False

    @property
    def centre0(self) -> tuple[Fraction, ...]:
        """Input coordinate of the centre of unit 0 on each axis: ``(size - 1)/2 - padding``."""
        return tuple((r - 1) / 2 - p for r, p in zip(self.size, self.padding))

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
        }


@dataclass(frozen=True)
class UnitRegion:
    """The input region of one unit of one layer, per spatial axis."""

    layer_index: int
    layer_name: str
    unit: Shape
    region: tuple[tuple[Fraction, Fraction], ...]  # theoretical, unclipped
    input_sizes: Shape
    positions: tuple[frozenset[int], ...] | None  # input positions per axis (None: unknown)
    exact: bool = True  # False: ``positions`` is a superset (see engine.rf.propagate)

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
        if self.positions is None or not all(self.positions):
            return None
        return tuple((min(p), max(p)) for p in self.positions)

    @property
    def affecting(self) -> int | None:
        """How many input positions affect the unit (product over axes)."""
        if self.positions is None:
            return None
        count = 1
        for p in self.positions:
            count *= len(p)
        return count

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


def _ceil(v: Fraction) -> int:
    return -(-v.numerator // v.denominator)


def _floor(v: Fraction) -> int:
    return v.numerator // v.denominator


@dataclass(frozen=True)
class LayerReport:
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

    @property
    def flops(self) -> int:
        """Floating-point operations: a multiply-accumulate counts as two."""
        return 2 * self.macs

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
        }


@dataclass(frozen=True)
class Totals:
    """Whole-network figures: each parameter counted once, activations summed over layers."""

    params: int
    trainable_params: int
    non_trainable_params: int
    macs: int
    param_bytes: int
    activation_bytes: int

    @property
    def flops(self) -> int:
        """Floating-point operations: a multiply-accumulate counts as two."""
        return 2 * self.macs

    def to_dict(self) -> dict[str, Any]:
        """The totals' JSON object."""
        return {
            "params": self.params,
            "trainable_params": self.trainable_params,
            "non_trainable_params": self.non_trainable_params,
            "macs": self.macs,
            "param_bytes": self.param_bytes,
            "activation_bytes": self.activation_bytes,
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

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (exact integers, shapes as lists)."""
        return {
            "name": self.name,
            "input_shape": list(self.input_shape),
            "output_shape": list(self.output_shape),
            "dtype": self.dtype,
            "layers": [layer.to_dict() for layer in self.layers],
            "totals": self.totals.to_dict(),
            "receptive_field": self.receptive_field.to_dict() if self.receptive_field else None,
        }

    def to_json(self, indent: int | None = 2) -> str:
        """The report as a JSON document."""
        return json.dumps(self.to_dict(), indent=indent)
