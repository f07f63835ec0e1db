"""JSON output: the one encoder of everything cnncalc prints as JSON, and the JSON views of results.

Exact integers, key order as built, and one layout rule (:func:`dumps`): containers are spread
over lines down to a depth, deeper ones stay on one line; a ``layers`` list at the limit is
spread one item per line, so a 100,000-layer report is 100,000 short lines.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cnncalc.errors import CnncalcError
    from cnncalc.render import Catalogue, Compared, Dense, Fields, Schema, Shapes, Unit
    from cnncalc.report import Report


def dumps(value: Any, depth: int | None = None) -> str:
    """``value`` as JSON, indented by two spaces down to ``depth`` levels (None: all of them; 0:
    one line). (The standard encoder is pure Python as soon as it indents, which is slow on
    100k-layer networks; one call per line keeps it C-fast.)"""
    if depth is None:
        return json.dumps(value, indent=2)
    return _spread(value, depth, "", None)


def _spread(value: Any, depth: int, pad: str, key: str | None) -> str:
    spread = depth > 0 or (key == "layers" and isinstance(value, list))
    if not spread or not isinstance(value, dict | list) or not value:
        return json.dumps(value)
    inner = pad + "  "
    if isinstance(value, dict):
        items = [f"{inner}{json.dumps(k)}: {_spread(v, depth - 1, inner, k)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    items = [inner + _spread(v, depth - 1, inner, None) for v in value]
    return "[\n" + ",\n".join(items) + "\n" + pad + "]"


def _one_or_many(items: list[dict[str, Any]]) -> str:
    """One item as an object, several as an array: one line per layer either way."""
    return (dumps(items[0], 1) if len(items) == 1 else dumps(items, 2)) + "\n"


def report_data(report: Report, flops: bool = False) -> dict[str, Any]:
    """The JSON object of one report; with ``flops``, FLOPs (2 × MACs) beside every MAC count."""
    data = report.to_dict()
    if flops:
        for layer, item in zip(report.layers, data["layers"]):
            item["flops"] = layer.flops
        data["totals"]["flops"] = report.totals.flops
    return data


def render(reports: list[Report], flops: bool = False) -> str:
    """Reports: one as an object, several as an array."""
    return _one_or_many([report_data(r, flops) for r in reports])


def shapes_json(result: Shapes) -> str:
    """``shape --format json``."""
    return render(list(result.reports), result.flops)


def fields_json(result: Fields) -> str:
    """``rf --format json``: the same reports (every layer carries its receptive field)."""
    return render(list(result.reports))


def unit_json(result: Unit) -> str:
    """``rf --unit --format json``."""
    return dumps(result.region.to_dict()) + "\n"


def equivalence_json(result: Compared) -> str:
    """``equiv --format json``."""
    return dumps(result.equivalence.to_dict()) + "\n"


def dense_json(result: Dense) -> str:
    """``dense --format json``: one network as an object, several as an array."""
    return _one_or_many([r.to_dict() for r in result.reports])


def catalogue_json(result: Catalogue) -> str:
    """``layers --format json``."""
    return dumps([e.to_dict() for e in result.entries]) + "\n"


def schema_json(result: Schema) -> str:
    """``schema``."""
    return dumps(result.document) + "\n"


def error_json(exc: CnncalcError) -> str:
    """An error on one line: ``{"error": {"message", "file", "line", "column", "layer"}}``."""
    pos = exc.position
    error = {
        "message": exc.message,
        "file": pos.file if pos else None,
        "line": pos.line if pos else None,
        "column": pos.column if pos else None,
        "layer": exc.layer,
    }
    return dumps({"error": error}, 0) + "\n"
