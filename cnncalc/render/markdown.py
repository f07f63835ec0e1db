"""Markdown output: a GitHub table per network, numbers with thousands separators."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cnncalc.errors import escape
from cnncalc.layers.base import fmt_shape
from cnncalc.render.numbers import count, count_note, ops_label, size, thousands
from cnncalc.report import Report

if TYPE_CHECKING:
    from cnncalc.render import Shapes


def row(cells: list[str]) -> str:
    """One table row, with ``|`` inside a cell escaped."""
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def render(reports: list[Report], flops: bool = False) -> str:
    """One heading and table per network, with a totals line under each."""
    blocks = []
    for report in reports:
        ops = ops_label(report, flops)
        lines = [f"### {escape(report.name or 'network')}", ""]
        lines.append(f"Input {fmt_shape(report.input_shape)}, {report.dtype}.")
        lines.append("")
        lines.append(row(["#", "Layer", "Type", "Output shape", "Params", ops, "Memory"]))
        lines.append("|---:|---|---|---|---:|---:|---:|")
        for layer in report.layers:
            ops_count = layer.flops if flops else layer.macs
            lines.append(
                row(
                    [
                        str(layer.index),
                        escape(layer.name),
                        layer.type,
                        fmt_shape(layer.output_shape),
                        thousands(layer.params),
                        thousands(ops_count),
                        size(layer.activation_bytes),
                    ]
                )
            )
        t = report.totals
        total = t.flops if flops else t.macs
        lines.append(
            row(
                [
                    "",
                    "**total**",
                    "",
                    fmt_shape(report.output_shape),
                    thousands(t.params),
                    thousands(total),
                    size(t.activation_bytes),
                ]
            )
        )
        lines.append("")
        lines.append(
            f"Parameters: {count(t.params)}, trainable "
            f"{thousands(t.trainable_params)}, non-trainable {thousands(t.non_trainable_params)}; "
            f"{size(t.param_bytes)}. {ops}: {count(total)}."
        )
        note = count_note(report)
        if note:
            lines += ["", escape(note) + "."]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def shapes_markdown(result: Shapes) -> str:
    """``shape --format markdown``."""
    return render(list(result.reports), result.flops)
