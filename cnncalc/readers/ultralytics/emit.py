"""What every Ultralytics module builder shares: the network builder, the place of the YAML row
being built, the model's default activation, and small helpers that add one layer or open one
named block (a module of Ultralytics' tree, ``model.2.m.0.cv1``)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from cnncalc.errors import CnncalcError, Position, SpecError
from cnncalc.graph import NetworkBuilder
from cnncalc.layers.base import Layer, Shape
from cnncalc.spec.build import make_layer

# An activation as a cnncalc layer: its kind and arguments; None is nn.Identity.
Act = tuple[str, dict[str, Any]] | None


@dataclass
class Emit:
    """The builder, the row being translated (for every message) and Conv.default_act."""

    builder: NetworkBuilder
    where: Position
    row: str
    default_act: Act = ("SiLU", {})
    # the output shape of every layer added so far (None where it cannot be inferred here: the
    # analysis reports that layer with its place): attention modules reshape to their input's size
    shapes: dict[int, Shape | None] = field(default_factory=dict)
    # modules the eval forward never calls (training-only branches), with their parameters
    unused: list[tuple[str, int]] = field(default_factory=list)

    def add(
        self,
        kind: str,
        x: int | Sequence[int],
        name: str | None = None,
        *,
        trainable: bool = True,
        origin: str = "",
        **args: Any,
    ) -> int:
        """One cnncalc layer fed by ``x`` (one handle or several, for a merge); ``origin`` names
        the function Ultralytics' forward calls where that is no module (see
        :attr:`cnncalc.graph.Node.origin`): ``x.softmax(1)`` is ``method_descriptor.softmax``."""
        inputs = [x] if isinstance(x, int) else list(x)
        layer = make_layer(kind, self.where, **args)
        handle = self.builder.add(
            layer, name, inputs, position=self.where, trainable=trainable, origin=origin
        )
        self.shapes[handle] = _output(layer, [self.shapes.get(i) for i in inputs])
        return handle

    def shape(self, x: int, module: str) -> Shape:
        """The shape of ``x``, which ``module`` needs to build its reshapes."""
        shape = self.shapes.get(x)
        if shape is None:
            raise self.refuse(module, "the shape of its input is not known (an earlier layer is invalid)")
        return shape

    def act(self, x: int, act: Act | bool, name: str = "act") -> int:
        """The activation of a Conv: ``True`` the default, ``False`` none, or a given one."""
        chosen = self.default_act if act is True else None if act is False else act
        if chosen is None:
            return x
        kind, args = chosen
        return self.add(kind, x, name, **args)

    @contextlib.contextmanager
    def module(self, name: str, kind: str) -> Iterator[None]:
        """Layers added inside belong to the module ``name`` (a block of kind ``kind``)."""
        path = self.builder.path(name)
        with self.builder.block(path, kind, self.where), self.builder.scope(path):
            yield

    def refuse(self, module: str, why: str) -> SpecError:
        """The located refusal of a module this reader cannot build exactly."""
        return SpecError(f"{self.row}: {module} is not supported: {why}", self.where)


def _output(layer: Layer, shapes: list[Shape | None]) -> Shape | None:
    """The layer's output shape for known input shapes; None when unknown or invalid."""
    if any(x is None for x in shapes):
        return None
    known = [x for x in shapes if x is not None]
    try:
        if layer.is_merge:
            return layer.merge(known)[0]
        return layer.apply(known[0]).output
    except (CnncalcError, ValueError, ArithmeticError):
        return None
