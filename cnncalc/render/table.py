"""Rich tables for the terminal; rich is imported here only, when a table is drawn."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cnncalc.layers.base import fmt_shape
from cnncalc.render.numbers import count, si, size, thousands
from cnncalc.report import BlockReport, Report, Shape

if TYPE_CHECKING:
    from rich.console import RenderableType

    from cnncalc.render import Shapes


@dataclass(frozen=True)
class Row:
    """One line of the tree: a layer, or a block with its summed figures."""

    index: str
    label: str
    depth: int
    output_shape: Shape
    params: int
    ops: int
    memory: int
    block: bool = False


def tree_rows(report: Report, flops: bool = False, depth: int | None = None) -> list[Row]:
    """Layers in topological order with their blocks before them, nested as written; rows
    deeper than ``depth`` are folded into their block's row."""
    parents: dict[int, list[BlockReport]] = {}
    for block in report.blocks:
        for n in block.nodes:
            parents.setdefault(n, []).append(block)
    rows: list[Row] = []
    opened: set[str] = set()
    for layer in report.layers:
        chain = sorted(parents.get(layer.index, []), key=lambda b: b.depth)
        for block in chain:
            if block.path not in opened:
                opened.add(block.path)
                if depth is None or block.depth <= depth:
                    first, last = block.nodes[0], block.nodes[-1]
                    local = block.path.rsplit(".", 1)[-1]
                    rows.append(
                        Row(
                            f"{first}-{last}",
                            f"{local} ({block.kind})",
                            block.depth,
                            block.output_shape,
                            block.params,
                            block.flops if flops else block.macs,
                            block.activation_bytes,
                            block=True,
                        )
                    )
        layer_depth = len(chain) + 1
        if depth is None or layer_depth <= depth:
            rows.append(
                Row(
                    str(layer.index),
                    f"{layer.name} ({layer.type})",
                    layer_depth,
                    layer.output_shape,
                    layer.params,
                    layer.flops if flops else layer.macs,
                    layer.activation_bytes,
                )
            )
    return rows


def _tree_labels(rows: list[Row]) -> list[str]:
    """Labels with tree branches: ├─ for a child with a sibling below it, └─ for the last."""
    labels = []
    for i, row in enumerate(rows):
        if row.depth == 1:
            labels.append(row.label)
            continue
        parts = []
        for level in range(2, row.depth + 1):
            later = next((r.depth for r in rows[i + 1 :] if r.depth <= level), 0)
            if level == row.depth:
                parts.append("├─" if later == level else "└─")
            else:
                parts.append("│ " if later == level else "  ")
        labels.append("".join(parts) + row.label)
    return labels


def shape_tables(
    reports: list[Report], flops: bool = False, depth: int | None = None
) -> list[RenderableType]:
    """One table per network: output shape, parameters, MACs (or FLOPs) and memory per layer."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    out: list[RenderableType] = []
    ops = "FLOPs" if flops else "MACs"
    for report in reports:
        t = report.totals
        title = f"{report.name or 'network'} · input {fmt_shape(report.input_shape)} · {report.dtype}"
        table = Table(
            title=title,
            box=box.SIMPLE_HEAD,
            show_footer=True,
            title_justify="left",
            padding=(0, 0, 0, 1),
            show_edge=False,
            expand=True,
        )
        total_ops = t.flops if flops else t.macs
        tree = tree_rows(report, flops, depth)
        rows = [
            [
                row.index,
                label,
                fmt_shape(row.output_shape),
                thousands(row.params) if row.params else "-",
                si(row.ops) if row.ops else "-",
                size(row.memory),
            ]
            for row, label in zip(tree, _tree_labels(tree))
        ]
        footer = ["", "Total", fmt_shape(report.output_shape), thousands(t.params), si(total_ops)]
        footer.append(size(t.activation_bytes))
        headers = ["#", "Layer (type)", "Output shape", "Params", ops, "Memory"]
        for i, header in enumerate(headers):
            # figures never shrink; only the names give way (they wrap) on a narrow terminal
            fixed = i != 1
            widest = max([len(header), len(footer[i])] + [len(row[i]) for row in rows])
            table.add_column(
                header,
                footer=footer[i],
                justify="right" if i in (0, 3, 4, 5) else "left",
                no_wrap=fixed,
                overflow="ellipsis" if fixed else "fold",
                min_width=widest if fixed else min(widest, 12),
                ratio=None if fixed else 1,
            )
        for row, cells in zip(tree, rows):
            table.add_row(*cells, style="bold" if row.block else None)
        out.append(table)
        summary = Text(
            f"Params: {count(t.params)} · {size(t.param_bytes)}\n"
            f"  trainable {thousands(t.trainable_params)} · "
            f"non-trainable {thousands(t.non_trainable_params)}\n"
            f"{ops}: {count(total_ops)} · activations {size(t.activation_bytes)}"
        )
        out.append(summary)
    return out


def shapes_table(result: Shapes) -> list[RenderableType]:
    """``shape``: the tables of :func:`shape_tables`."""
    return shape_tables(list(result.reports), result.flops, result.depth)


def to_text(renderables: list[RenderableType], width: int | None = None, color: bool = True) -> str:
    """Draw renderables to a string, e.g. for ``--output`` or tests (fixed width, no colour)."""
    from rich.console import Console

    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width or 100,
        no_color=not color,
        color_system=None if not color else "auto",
        force_terminal=color,
        highlight=False,
        soft_wrap=False,
    )
    for item in renderables:
        console.print(item)
    # rich pads every line to the table width; files and pipes get no trailing blanks
    return "\n".join(line.rstrip() for line in buffer.getvalue().split("\n"))
