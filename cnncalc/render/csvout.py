"""CSV output: one row per layer, then a totals row; shapes written as ``4x3x3x5``."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from cnncalc.errors import escape
from cnncalc.render.numbers import ops_label
from cnncalc.report import Report

if TYPE_CHECKING:
    from cnncalc.render import Shapes

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


def dims(shape: tuple[int, ...]) -> str:
    """A shape as CSV cells write it: ``4x3x3x5``."""
    return "x".join(str(d) for d in shape)


def csv_table(header: list[str], rows: list[list[str]]) -> str:
    """A header row and rows, as CSV."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def render(reports: list[Report], flops: bool = False) -> str:
    """All layers of all reports in one table."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    counted = next((r for r in reports if r.count is not None), None)
    header = (
        COLUMNS if counted is None else [ops_label(counted).lower() if c == "macs" else c for c in COLUMNS]
    )
    writer.writerow(header + (["flops"] if flops else []))
    for report in reports:
        name = escape(report.name or "")
        for layer in report.layers:
            row: list[object] = [
                name,
                layer.index,
                escape(layer.name),
                layer.type,
                dims(layer.input_shape),
                dims(layer.output_shape),
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
            dims(report.input_shape),
            dims(report.output_shape),
            t.params,
            t.trainable_params,
            t.macs,
            t.activation_bytes,
        ]
        writer.writerow(total + ([t.flops] if flops else []))
    return buffer.getvalue()


def shapes_csv(result: Shapes) -> str:
    """``shape --format csv``."""
    return render(list(result.reports), result.flops)
