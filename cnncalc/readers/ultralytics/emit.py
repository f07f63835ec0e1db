"""What every Ultralytics module builder shares: the network builder, the place of the YAML row
being built, the model's default activation, and small helpers that add one layer or open one
named block (a module of Ultralytics' tree, ``model.2.m.0.cv1``)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from cnncalc.errors import Position, SpecError
from cnncalc.graph import NetworkBuilder
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

    def add(
        self,
        kind: str,
        x: int | Sequence[int],
        name: str | None = None,
        *,
        trainable: bool = True,
        **args: Any,
    ) -> int:
        """One cnncalc layer fed by ``x`` (one handle or several, for a merge)."""
        inputs = [x] if isinstance(x, int) else list(x)
        layer = make_layer(kind, self.where, **args)
        return self.builder.add(layer, name, inputs, position=self.where, trainable=trainable)

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
