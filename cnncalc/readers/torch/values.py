"""What a node of an exported graph holds while the network is read: a tensor computed from the
network input (:class:`Live`), a tensor that is not (:class:`Const`: parameters, buffers and
whatever is computed from them alone, which folds away), or a plain Python value."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cnncalc.layers.base import Shape


@dataclass(frozen=True)
class Live:
    """A tensor that depends on the network input: the builder handle of the layer that made it."""

    handle: int
    shape: Shape


@dataclass(frozen=True)
class Const:
    """A tensor that does not depend on the input. ``params`` names the parameters it is computed
    from (a learned tensor when not empty); ``base`` is its shape before broadcasting ``expand``s,
    the tensor a learned class token or position embedding really holds."""

    shape: Shape
    params: frozenset[str] = field(default_factory=frozenset)
    base: Shape = ()


def tensors(value: Any) -> list[Any]:
    """The Live and Const values in an argument (lists and tuples flattened)."""
    if isinstance(value, (Live, Const)):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for item in value for t in tensors(item)]
    return []


def lives(values: Any) -> list[Live]:
    """The distinct Live values among arguments, in order of first appearance."""
    seen: dict[int, Live] = {}
    for value in tensors(values):
        if isinstance(value, Live) and value.handle not in seen:
            seen[value.handle] = value
    return list(seen.values())
