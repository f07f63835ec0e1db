"""CSV output: one row per layer, then a totals row; shapes written as ``4x3x3x5``."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from cnncalc.errors import escape
from cnncalc.render.numbers import ops_label
from cnncalc.report import LayerReport, Report

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


def render(reports: list[Report], flops: bool = False, depth: int | None = None, inputs: bool = False) -> str:
    """All layers of all reports in one table, then each report's totals row; with ``depth``,
    blocks nested deeper are one row (index ``first-last``, its type the block's kind); with
    ``inputs``, a last column of the indexes of the layers feeding each (``input``: the
    network's)."""
    from cnncalc.render.table import inputs_cell, layer_numbers, tree_entries

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    counted = next((r for r in reports if r.count is not None), None)
    header = (
        COLUMNS if counted is None else [ops_label(counted).lower() if c == "macs" else c for c in COLUMNS]
    )
    writer.writerow(header + (["flops"] if flops else []) + (["inputs"] if inputs else []))
    for report in reports:
        name = escape(report.name or "")
        numbers = layer_numbers(report)
        entries = tree_entries(report, depth) if depth is not None else None
        items = [e.item for e in entries] if entries is not None else list(report.layers)
        for item in items:
            if isinstance(item, LayerReport):
                head: list[object] = [item.index, escape(item.name), item.type, dims(item.input_shape)]
            else:
                first = report.layers[item.nodes[0]]
                head = [
                    f"{item.nodes[0]}-{item.nodes[-1]}",
                    escape(item.path),
                    item.kind,
                    dims(first.input_shape),
                ]
            row: list[object] = [
                name,
                *head,
                dims(item.output_shape),
                item.params,
                item.trainable_params,
                item.macs,
                item.activation_bytes,
            ]
            writer.writerow(
                row + ([item.flops] if flops else []) + ([inputs_cell(item, numbers)] if inputs else [])
            )
        t = report.totals
        total: list[object] = [
            name,
            "",
            "total",
            "",
            dims(report.input_shape),
            ";".join(dims(head) for head in report.heads),  # every head, ';' between them
            t.params,
            t.trainable_params,
            t.macs,
            t.activation_bytes,
        ]
        writer.writerow(total + ([t.flops] if flops else []) + ([""] if inputs else []))
    return buffer.getvalue()


def shapes_csv(result: Shapes) -> str:
    """``shape --format csv``."""
    return render(list(result.reports), result.flops, result.depth, result.inputs)
