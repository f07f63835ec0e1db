"""The catalogue of layer kinds — arguments, types and defaults — read from the layer models."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic_core import PydanticUndefined

from cnncalc.layers import Layer, kinds
from cnncalc.spec.build import describe, positional_fields


@dataclass(frozen=True)
class Argument:
    """One constructor argument: name, type, default (``required``/``inferred`` when it has none)."""

    name: str
    type: str
    default: str
    keyword_only: bool


@dataclass(frozen=True)
class Entry:
    """One layer kind as the user may write it."""

    kind: str
    lazy_alias: str | None
    doc: str
    arguments: tuple[Argument, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.kind,
            "lazy_alias": self.lazy_alias,
            "doc": self.doc,
            "arguments": [a.__dict__ for a in self.arguments],
        }


def _entry(cls: type[Layer]) -> Entry:
    args = []
    positional = set(positional_fields(cls, lazy=False))
    for name, field in cls.model_fields.items():
        if name == cls.inferred:
            default = "inferred"
        elif field.default is PydanticUndefined:
            default = "required"
        else:
            default = repr(field.default)
        args.append(Argument(name, describe(field.annotation), default, name not in positional))
    doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
    return Entry(cls.kind, cls.lazy_alias, doc, tuple(args))


def catalogue() -> list[Entry]:
    """Every layer kind, sorted by name."""
    return [_entry(cls) for cls in kinds()]


def signature(entry: Entry) -> str:
    """A kind as a PyTorch-like signature: ``Conv2d(in_channels=<inferred>, out_channels, ...)``."""
    parts = []
    star = False
    for arg in entry.arguments:
        if arg.keyword_only and not star:
            parts.append("*")
            star = True
        if arg.default == "required":
            parts.append(arg.name)
        elif arg.default == "inferred":
            parts.append(f"{arg.name}=<inferred>")
        else:
            parts.append(f"{arg.name}={arg.default}")
    if entry.kind == "Identity":
        parts = ["*args", "**kwargs"]
    alias = f"   (also {entry.lazy_alias})" if entry.lazy_alias else ""
    return f"{entry.kind}({', '.join(parts)}){alias}"
