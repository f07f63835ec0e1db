"""The typed result of an analysis: the only thing renderers see."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

Shape = tuple[int, ...]


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

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (exact integers, shapes as lists)."""
        return {
            "name": self.name,
            "input_shape": list(self.input_shape),
            "output_shape": list(self.output_shape),
            "dtype": self.dtype,
            "layers": [layer.to_dict() for layer in self.layers],
            "totals": self.totals.to_dict(),
        }

    def to_json(self, indent: int | None = 2) -> str:
        """The report as a JSON document."""
        return json.dumps(self.to_dict(), indent=indent)
