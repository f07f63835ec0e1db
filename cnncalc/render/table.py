"""Rich tables for the terminal; rich is imported here only, when a table is drawn."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from cnncalc.render.numbers import count, shape, si, size, thousands
from cnncalc.report import Report

if TYPE_CHECKING:
    from rich.console import RenderableType


def shape_tables(reports: list[Report], flops: bool = False) -> list[RenderableType]:
    """One table per network: output shape, parameters, MACs (or FLOPs) and memory per layer."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    out: list[RenderableType] = []
    ops = "FLOPs" if flops else "MACs"
    for report in reports:
        t = report.totals
        title = f"{report.name or 'network'} · input {shape(report.input_shape)} · {report.dtype}"
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
        rows = [
            [
                str(layer.index),
                f"{layer.name} ({layer.type})",
                shape(layer.output_shape),
                thousands(layer.params) if layer.params else "-",
                si(layer.flops if flops else layer.macs) if layer.macs else "-",
                size(layer.activation_bytes),
            ]
            for layer in report.layers
        ]
        footer = ["", "Total", shape(report.output_shape), thousands(t.params), si(total_ops)]
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
        for row in rows:
            table.add_row(*row)
        out.append(table)
        summary = Text(
            f"Params: {count(t.params)} · {size(t.param_bytes)}\n"
            f"  trainable {thousands(t.trainable_params)} · "
            f"non-trainable {thousands(t.non_trainable_params)}\n"
            f"{ops}: {count(total_ops)} · activations {size(t.activation_bytes)}"
        )
        out.append(summary)
    return out


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
