"""Transitional: items (``{"type", "name", "from", **arguments}``) added to a builder as typed
layers, for the readers not yet translating straight to the builder."""

from __future__ import annotations

from typing import Any

from cnncalc.errors import Position
from cnncalc.graph import Network, NetworkBuilder, Ref
from cnncalc.limits import Limits
from cnncalc.spec.build import make_layer

Item = dict[str, Any]


def build_items(
    items: list[tuple[Item, Position]],
    input_shape: tuple[int, ...],
    name: str | None,
    file: str,
    outputs: list[str] | None = None,
    limits: Limits | None = None,
    dtype: str = "float32",
) -> Network:
    """The network of reader items, in order; ``from`` names earlier items."""
    builder = NetworkBuilder(input_shape, name=name, dtype=dtype, source=file, limits=limits)
    for item, where in items:
        fields = {k: v for k, v in item.items() if k not in ("type", "name", "from")}
        sources = item.get("from")
        inputs = (
            None
            if sources is None
            else [Ref(s, where) for s in ([sources] if isinstance(sources, str) else sources)]
        )
        builder.add(make_layer(item["type"], where, **fields), item.get("name"), inputs, position=where)
    if outputs:
        builder.output(*[Ref(o, Position(file), "outputs:") for o in outputs])
    return builder.build()
