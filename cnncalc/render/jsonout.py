"""JSON output: the report's data, exact integers, stable key order, short lists on one line."""

from __future__ import annotations

from typing import Any

from cnncalc.report import Report, dumps


def report_data(report: Report, flops: bool = False) -> dict[str, Any]:
    """The JSON object of one report; with ``flops``, FLOPs (2 × MACs) beside every MAC count."""
    data = report.to_dict()
    if flops:
        for layer, item in zip(report.layers, data["layers"]):
            item["flops"] = layer.flops
        data["totals"]["flops"] = report.totals.flops
    return data


def render(reports: list[Report], flops: bool = False) -> str:
    """One report as an object, several as an array."""
    items = [report_data(r, flops) for r in reports]
    return dumps(items[0] if len(items) == 1 else items) + "\n"
