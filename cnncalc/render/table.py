"""Rich tables for the terminal; rich is imported here only, when a table is drawn."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from cnncalc.render.numbers import shape, si, size, thousands
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
        table = Table(title=title, box=box.SIMPLE_HEAD, show_footer=True, title_justify="left")
        table.add_column("#", justify="right", footer="")
        table.add_column("Layer", footer="Total", overflow="fold")
        table.add_column("Type", footer="")
        table.add_column("Output shape", footer=shape(report.output_shape))
        table.add_column("Params", justify="right", footer=thousands(t.params))
        total_ops = t.flops if flops else t.macs
        table.add_column(ops, justify="right", footer=si(total_ops))
        table.add_column("Memory", justify="right", footer=size(t.activation_bytes))
        for layer in report.layers:
            count = layer.flops if flops else layer.macs
            table.add_row(
                str(layer.index),
                layer.name,
                layer.type,
                shape(layer.output_shape),
                thousands(layer.params) if layer.params else "-",
                si(count) if count else "-",
                size(layer.activation_bytes),
            )
        out.append(table)
        summary = Text(
            f"Params: {thousands(t.params)} ({si(t.params)}) · trainable "
            f"{thousands(t.trainable_params)} · non-trainable {thousands(t.non_trainable_params)}"
            f" · {size(t.param_bytes)}\n"
            f"{ops}: {thousands(total_ops)} ({si(total_ops)}) · "
            f"activations: {size(t.activation_bytes)}\n"
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
    return buffer.getvalue()
