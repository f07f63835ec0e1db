"""Turn what the user wrote for one layer (call form or mapping) into a validated layer object."""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from cnncalc.errors import Position, SpecError, shown
from cnncalc.graph import did_you_mean
from cnncalc.layers import Layer, lookup, suggest


def _tuples(value: Any) -> Any:
    """YAML gives lists where PyTorch takes tuples; both forms mean the same here."""
    if isinstance(value, (list, tuple)):
        return tuple(_tuples(v) for v in value)
    if isinstance(value, str):
        return str(value)
    return value


def describe(annotation: Any) -> str:
    """A reader's description of a field type: ``int or tuple of ints``."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        parts = [describe(a) for a in typing.get_args(annotation)]
        return " or ".join(dict.fromkeys(parts))
    if origin is typing.Literal:
        return " or ".join(repr(a) for a in typing.get_args(annotation))
    if origin is tuple:
        inner = typing.get_args(annotation)
        return f"tuple of {describe(inner[0])}s" if inner else "tuple"
    if annotation is type(None):
        return "None"
    if annotation is float:
        return "number"
    return getattr(annotation, "__name__", str(annotation))


def positional_fields(cls: type[Layer], lazy: bool) -> list[str]:
    """Constructor arguments in PyTorch's positional order (Lazy variants skip the inferred one)."""
    return [
        name
        for name in cls.model_fields
        if name not in cls.keyword_only and not (lazy and name == cls.inferred)
    ]


def resolve_kind(type_name: str, where: Position | None) -> tuple[type[Layer], bool]:
    """The layer class for a type name and whether the name was its Lazy alias."""
    cls = lookup(type_name)
    if cls is None:
        # every kind that ties for closest (MaxPool1d, 2d and 3d for MaxPool), quoted as
        # did_you_mean quotes one
        hints = [repr(hint) for hint in suggest(type_name)]
        choices = " or ".join([", ".join(hints[:-1]), hints[-1]] if len(hints) > 1 else hints)
        extra = f" (did you mean {choices}?)" if hints else ""
        raise SpecError(f"unknown layer type {type_name!r}{extra}", where)
    lazy = cls.lazy_alias is not None and type_name.lower() == cls.lazy_alias.lower()
    return cls, lazy


def build_layer(
    type_name: str,
    positional: Sequence[tuple[Any, Position | None]],
    keywords: Sequence[tuple[str, Any, Position | None]],
    where: Position | None,
) -> tuple[Layer, dict[str, Position]]:
    """Validate arguments against the layer's model; return the layer and argument positions."""
    cls, lazy = resolve_kind(type_name, where)
    if cls.ignores_arguments:
        return cls(), {}
    order = positional_fields(cls, lazy)
    data: dict[str, Any] = {}
    positions: dict[str, Position] = {}
    if len(positional) > len(order):
        _, pos = positional[len(order)]
        plural = "argument" if len(order) == 1 else "arguments"
        raise SpecError(
            f"{cls.kind} takes at most {len(order)} positional {plural}, got {len(positional)}",
            pos or where,
        )
    for name, (value, pos) in zip(order, positional):
        data[name] = _tuples(value)
        if pos is not None:
            positions[name] = pos
    for name, value, pos in keywords:
        if name not in cls.model_fields:
            hint = did_you_mean(name, list(cls.model_fields))
            raise SpecError(f"{cls.kind} has no argument {name!r}{hint}", pos or where)
        if name in data:
            raise SpecError(f"{cls.kind} got multiple values for argument {name!r}", pos or where)
        data[name] = _tuples(value)
        if pos is not None:
            positions[name] = pos
    key = _cache_key(cls, data)
    layer = _VALIDATED.get(key) if key is not None else None
    if layer is None:
        try:
            layer = cls.model_validate(data)
        except ValidationError as exc:
            raise _explain(cls, exc, data, positions, where) from None
        if key is not None and len(_VALIDATED) < 65_536:
            _VALIDATED[key] = layer
    return layer, positions


# Said where a ? is refused: it is the unknown of ``cnncalc solve`` (cnncalc.spec.unknown).
SOLVE_NOTE = " (an argument written ? is only read by cnncalc solve)"

# Validated layers by kind and arguments: layer objects are frozen, so a network that repeats a
# layer (a 100,000-layer stack, repeated blocks) validates each distinct one once.
_VALIDATED: dict[tuple[Any, ...], Layer] = {}


def _cache_key(cls: type[Layer], data: dict[str, Any]) -> tuple[Any, ...] | None:
    try:
        # type() in the key keeps True and 1 apart (they hash alike, validate differently)
        key = (cls, tuple(sorted((k, type(v), v) for k, v in data.items())))
        hash(key)
    except TypeError:
        return None
    return key


def _explain(
    cls: type[Layer],
    exc: ValidationError,
    data: dict[str, Any],
    positions: dict[str, Position],
    where: Position | None,
) -> SpecError:
    """One clear message for the first invalid argument of a layer."""
    error = exc.errors()[0]
    name = str(error["loc"][0]) if error["loc"] else ""
    if error["type"] == "missing":
        missing = [n for n, f in cls.model_fields.items() if f.is_required() and n not in data]
        return SpecError(f"{cls.kind} is missing required argument {missing[0]!r}", where)
    field = cls.model_fields.get(name)
    expected = describe(field.annotation) if field is not None else "a valid value"
    got = data.get(name)
    note = SOLVE_NOTE if got == "?" else ""
    return SpecError(
        f"{cls.kind} argument {name!r} must be {expected}, got {shown(got)}{note}",
        positions.get(name, where),
    )


def make_layer(kind: str, where: Position | None = None, **arguments: Any) -> Layer:
    """A validated layer from its kind and keyword arguments, all placed at ``where``: what the
    readers call for each translated operator (errors name the argument and the place)."""
    layer, _ = build_layer(kind, [], [(k, v, where) for k, v in arguments.items()], where)
    return layer
