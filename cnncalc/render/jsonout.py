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


def dumps(value: dict[str, Any] | list[Any]) -> str:
    """Indented JSON with one line per layer: the top level and the ``layers`` list are spread
    out, everything inside a layer stays on its line. (The standard encoder is pure Python as
    soon as it indents, which is slow on 100k-layer networks; one line per item is C-fast.)"""
    if isinstance(value, list):
        return "[\n" + ",\n".join(_indent(dumps(v), 2) for v in value) + "\n]"
    lines = []
    for key, item in value.items():
        if key == "layers" and isinstance(item, list) and item:
            body = ",\n".join("    " + json.dumps(layer) for layer in item)
            lines.append(f"  {json.dumps(key)}: [\n{body}\n  ]")
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(item)}")
    return "{\n" + ",\n".join(lines) + "\n}"


def _indent(text: str, spaces: int) -> str:
    pad = " " * spaces
    return "\n".join(pad + line for line in text.splitlines())


def render(reports: list[Report], flops: bool = False) -> str:
    """One report as an object, several as an array."""
    items = [report_data(r, flops) for r in reports]
    return dumps(items[0] if len(items) == 1 else items) + "\n"
