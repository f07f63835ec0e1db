"""JSON output: the report's data, exact integers, stable key order, short lists on one line."""

from __future__ import annotations

import json
from typing import Any

from cnncalc.report import Report


def report_data(report: Report, flops: bool = False) -> dict[str, Any]:
    """The JSON object of one report; with ``flops``, FLOPs (2 × MACs) beside every MAC count."""
    data = report.to_dict()
    if flops:
        for layer, item in zip(report.layers, data["layers"]):
            item["flops"] = layer.flops
        data["totals"]["flops"] = report.totals.flops
    return data


def dumps(value: Any, indent: int = 2, level: int = 0) -> str:
    """Indented JSON in which lists of scalars (shapes) stay on one line: ``[1, 3, 224, 224]``.

    Written here because :func:`json.dumps` puts every list item on its own line when indenting.
    """
    pad = " " * (indent * (level + 1))
    end = " " * (indent * level)
    if isinstance(value, dict) and value:
        items = [f"{pad}{json.dumps(k)}: {dumps(v, indent, level + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + end + "}"
    if isinstance(value, list) and value and any(isinstance(v, (dict, list)) for v in value):
        items = [pad + dumps(v, indent, level + 1) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + end + "]"
    return json.dumps(value)


def render(reports: list[Report], flops: bool = False) -> str:
    """One report as an object, several as an array."""
    items = [report_data(r, flops) for r in reports]
    return dumps(items[0] if len(items) == 1 else items) + "\n"
