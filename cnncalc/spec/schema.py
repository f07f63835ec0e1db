"""The JSON Schema of the network file, assembled from the layer models."""

from __future__ import annotations

from typing import Any

from cnncalc.graph import DTYPE_BYTES
from cnncalc.layers import kinds

SCHEMA_ID = "https://cnncalc.invalid/schema/cnncalc.schema.json"

FROM = {
    "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}],
    "description": "the layer(s) feeding this one, by name ('input' is the network input)",
}
LAYER_LIST = {"type": "array", "items": {"$ref": "#/$defs/layer"}}


def _block(kind: str, description: str, members: dict[str, Any]) -> dict[str, Any]:
    """A block mapping: ``type``, ``name``, ``trainable``, ``from`` and its own members, of which
    the first is required."""
    return {
        "type": "object",
        "description": description,
        "properties": {
            "type": {"enum": [kind, kind.lower()]},
            "name": {"type": "string"},
            "trainable": {"type": "boolean"},
            "from": FROM,
            **members,
        },
        "required": ["type", next(iter(members))],
        "additionalProperties": False,
    }


BLOCKS: dict[str, Any] = {
    "Residual": _block(
        "Residual",
        "body(x) + shortcut(x); the shortcut defaults to the identity",
        {"body": LAYER_LIST, "shortcut": LAYER_LIST},
    ),
    "Sequential": _block(
        "Sequential",
        "a named group of layers; repeat: N makes N copies with their own parameters",
        {"layers": LAYER_LIST, "repeat": {"type": "integer", "minimum": 1, "default": 1}},
    ),
}


def _layer_schema(cls: Any) -> dict[str, Any]:
    model = cls.model_json_schema()
    properties: dict[str, Any] = {
        "type": {
            "enum": sorted(
                {cls.kind, cls.kind.lower(), *cls.aliases, *(a.lower() for a in cls.aliases)}
                | ({cls.lazy_alias} if cls.lazy_alias else set())
            ),
            "description": "torch.nn class name (case-insensitive)",
        },
        "name": {"type": "string", "description": "unique layer name"},
        "trainable": {"type": "boolean", "default": True},
        "from": FROM,
    }
    for name, prop in model.get("properties", {}).items():
        properties[name] = {k: v for k, v in prop.items() if k != "title"}
    required = ["type"] + [r for r in model.get("required", []) if r != cls.inferred]
    if cls.kind == "Concat":  # also the block form: torch.cat of branches
        properties["branches"] = {"type": "array", "items": LAYER_LIST, "description": "parallel paths"}
    out: dict[str, Any] = {
        "type": "object",
        "description": (cls.__doc__ or cls.kind).strip().splitlines()[0],
        "properties": properties,
        "required": required,
        "additionalProperties": cls.ignores_arguments,
    }
    if "$defs" in model:  # pragma: no cover - the layer models use no nested models
        out["$defs"] = model["$defs"]
    return out


def network_schema() -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) that validates and completes cnncalc network files."""
    layer_defs = {cls.kind: _layer_schema(cls) for cls in kinds()}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "cnncalc network",
        "type": "object",
        "required": ["input", "layers"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string"},
            "input": {
                "type": "array",
                "items": {"type": "integer", "minimum": 1},
                "minItems": 1,
                "description": "input tensor shape as passed to PyTorch, batch first",
            },
            "dtype": {
                "enum": list(DTYPE_BYTES),
                "default": "float32",
            },
            "layers": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/layer"}},
            "outputs": {
                "type": "array",
                "items": {"type": "string"},
                "description": "names of output layers",
            },
        },
        "$defs": {
            "layer": {
                "anyOf": [
                    {"type": "string", "description": "call form, e.g. Conv2d(3, 16, 3, padding=1)"},
                    {
                        "type": ["number", "boolean", "null"],
                        "description": "a piece of a call form that a [flow, sequence] split at a comma",
                    },
                    *({"$ref": f"#/$defs/{kind}"} for kind in [*layer_defs, *BLOCKS]),
                ]
            },
            **layer_defs,
            **BLOCKS,
        },
    }
