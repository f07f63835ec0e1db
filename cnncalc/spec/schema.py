"""The JSON Schema of the network file, assembled from the layer models."""

from __future__ import annotations

from typing import Any

from cnncalc.layers import kinds

SCHEMA_ID = "https://cnncalc.invalid/schema/cnncalc.schema.json"


def _layer_schema(cls: Any) -> dict[str, Any]:
    model = cls.model_json_schema()
    properties: dict[str, Any] = {
        "type": {
            "enum": sorted({cls.kind, cls.kind.lower()} | ({cls.lazy_alias} if cls.lazy_alias else set())),
            "description": "torch.nn class name (case-insensitive)",
        },
        "name": {"type": "string", "description": "unique layer name"},
        "trainable": {"type": "boolean", "default": True},
    }
    for name, prop in model.get("properties", {}).items():
        properties[name] = {k: v for k, v in prop.items() if k != "title"}
    required = ["type"] + [r for r in model.get("required", []) if r != cls.inferred]
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
                "enum": [
                    "float32",
                    "float",
                    "float64",
                    "double",
                    "float16",
                    "half",
                    "bfloat16",
                    "float8_e4m3fn",
                    "float8_e5m2",
                    "int8",
                    "uint8",
                    "int16",
                    "int32",
                    "int64",
                    "bool",
                ],
                "default": "float32",
            },
            "layers": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "anyOf": [
                        {"type": "string", "description": "call form, e.g. Conv2d(3, 16, 3, padding=1)"},
                        *({"$ref": f"#/$defs/{kind}"} for kind in layer_defs),
                    ]
                },
            },
        },
        "$defs": layer_defs,
    }
