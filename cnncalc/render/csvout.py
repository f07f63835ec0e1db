"""CSV output: one row per layer, then a totals row; shapes written as ``4x3x3x5``."""

from __future__ import annotations

import csv
import io

from cnncalc.report import Report

COLUMNS = [
    "network",
    "index",
    "name",
    "type",
    "input_shape",
    "output_shape",
    "params",
    "trainable_params",
    "macs",
    "activation_bytes",
]


def _dims(shape: tuple[int, ...]) -> str:
    return "x".join(str(d) for d in shape)


def render(reports: list[Report], flops: bool = False) -> str:
    """All layers of all reports in one table."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS + (["flops"] if flops else []))
    for report in reports:
        name = report.name or ""
        for layer in report.layers:
            row: list[object] = [
                name,
                layer.index,
                layer.name,
                layer.type,
                _dims(layer.input_shape),
                _dims(layer.output_shape),
                layer.params,
                layer.trainable_params,
                layer.macs,
                layer.activation_bytes,
            ]
            writer.writerow(row + ([layer.flops] if flops else []))
        t = report.totals
        total: list[object] = [
            name,
            "",
            "total",
            "",
            _dims(report.input_shape),
            _dims(report.output_shape),
            t.params,
            t.trainable_params,
            t.macs,
            t.activation_bytes,
        ]
        writer.writerow(total + ([t.flops] if flops else []))
    return buffer.getvalue()
