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


def render(reports: list[Report], flops: bool = False, depth: int | None = None, inputs: bool = False) -> str:
    """One heading and table per network, with a totals line under each: the layer tree as the
    terminal table draws it (blocks, ``--depth``, shortcut marks), with ``inputs`` the column
    of the layers feeding each."""
    from cnncalc.render.table import inputs_cell, layer_numbers, tree_entries, tree_labels

    blocks = []
    for report in reports:
        ops = ops_label(report, flops)
        lines = [f"### {escape(report.name or 'network')}", ""]
        lines.append(f"Input {fmt_shape(report.input_shape)}, {report.dtype}.")
        lines.append("")
        lines.append(
            row(
                ["#", "Layer", "Type", "Output shape", "Params", ops, "Memory"]
                + (["Inputs"] if inputs else [])
            )
        )
        lines.append("|---:|---|---|---|---:|---:|---:|" + ("---|" if inputs else ""))
        entries = tree_entries(report, depth)
        numbers = layer_numbers(report)
        names = tree_labels([e.name for e in entries], [e.depth for e in entries])
        for e, name in zip(entries, names):
            item = e.item
            ops_count = item.flops if flops else item.macs
            cells = [
                e.index,
                f"**{name}**" if e.block else name,
                f"{e.kind}, shortcut" if e.shortcut else e.kind,
                fmt_shape(item.output_shape),
                thousands(item.params),
                thousands(ops_count),
                size(item.activation_bytes),
            ]
            lines.append(row(cells + ([inputs_cell(item, numbers)] if inputs else [])))
        t = report.totals
        total = t.flops if flops else t.macs
        lines.append(
            row(
                [
                    "",
                    "**total**",
                    "",
                    " · ".join(fmt_shape(head) for head in report.heads),  # every head
                    thousands(t.params),
                    thousands(total),
                    size(t.activation_bytes),
                ]
                + ([""] if inputs else [])
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
    return render(list(result.reports), result.flops, result.depth, result.inputs)
