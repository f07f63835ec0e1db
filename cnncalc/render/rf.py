"""Receptive-field output: the per-layer table, one unit's region, and its picture."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import TYPE_CHECKING

from cnncalc.errors import escape
from cnncalc.layers.base import fmt_shape
from cnncalc.render.numbers import exact, per_axis
from cnncalc.report import Report, UnitRegion, summarize

if TYPE_CHECKING:
    from rich.console import RenderableType

    from cnncalc.render import Fields, Unit

AXES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}

# glyphs of the picture: they tell the cells apart without colour, too
AFFECTS = "█"
HOLE = "○"
OUTSIDE = "·"
PADDING = "░"


def rf_tables(reports: list[Report]) -> list[RenderableType]:
    """Per layer: output shape, receptive-field size, effective stride and padding, centre of unit 0."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    out: list[RenderableType] = []
    for report in reports:
        title = f"{escape(report.name or 'network')} · input {fmt_shape(report.input_shape)}"
        table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", padding=(0, 0, 0, 1))
        table.show_edge = False
        headers = ["#", "Layer (type)", "Output shape", "RF size", "Stride", "Padding", "Centre 0", ""]
        for i, header in enumerate(headers):
            table.add_column(header, justify="right" if i == 0 else "left", no_wrap=i != 1, overflow="fold")
        table.columns[1].min_width = 12
        exceeded = False
        for layer in report.layers:
            field = layer.receptive_field
            if field is None:
                cells = ["?", "?", "?", "?", ""]
            else:
                size = "all " + per_axis(field.size) if field.whole else per_axis(field.size)
                mark = "*" if field.exceeds_input else ""
                exceeded = exceeded or field.exceeds_input
                cells = [size, per_axis(field.stride), per_axis(field.padding), per_axis(field.centre0), mark]
            table.add_row(
                str(layer.index),
                f"{escape(layer.name)} ({layer.type})",
                fmt_shape(layer.output_shape),
                *cells,
            )
        out.append(table)
        notes = []
        if exceeded:
            notes.append("* the receptive field is larger than the input (it reaches into padding)")
        if any(layer.receptive_field is None for layer in report.layers):
            notes.append("? not determined: a layer reshapes space in a way the algebra does not follow")
        notes.append(
            "unit u sees input [u·stride − padding, u·stride − padding + size − 1] per axis "
            "(Araujo et al., Distill 2019)"
        )
        out.append(Text("\n".join(notes)))
    return out


def unit_lines(region: UnitRegion, report: Report) -> list[RenderableType]:
    """One unit's region in words: theoretical interval, exact input region, counts, the way back."""
    from rich.text import Text

    layer = report.layers[region.layer_index]
    names = AXES.get(len(region.unit), tuple(f"axis {i}" for i in range(len(region.unit))))
    field = layer.receptive_field
    where = f"{escape(layer.name)} ({layer.type}), output {fmt_shape(layer.output_shape)}"
    lines = [f"unit {fmt_shape(region.unit)} of {where}"]
    if field is not None:
        lines.append(
            f"  receptive field  size {per_axis(field.size)} · stride {per_axis(field.stride)}"
            f" · padding {per_axis(field.padding)}"
        )
        if field.whole:
            lines.append("  whole input      every unit of this layer depends on every input position")
    lines.append("  region           " + _intervals(names, region.region) + "   (unclipped)")
    clipped = region.clipped
    lines.append(
        "  within the input " + (_intervals(names, clipped) if clipped else "none: it lies in padding")
    )
    box = region.input_region
    exact_note = "" if region.exact else "   (a superset: channels carry position here)"
    lines.append(
        "  input region     "
        + (_intervals(names, box) if box else "none: no input position affects it")
        + exact_note
    )
    if region.affecting is not None:
        lines.append(f"  affecting        {region.affecting} input positions")
    lines.append(f"  in padding       {region.in_padding} of the region's positions")
    for name, products in region.trail:
        count, bounds = summarize(products)
        where = _intervals(names, bounds) if bounds else "-"
        lines.append(f"  via {escape(name)}: {count} positions, {where}")
    return [Text("\n".join(lines))]


def _intervals(names: tuple[str, ...], pairs: tuple[tuple[object, object], ...]) -> str:
    return " · ".join(f"{n} [{_num(a)}, {_num(b)}]" for n, (a, b) in zip(names, pairs))


def _num(value: object) -> str:
    from fractions import Fraction

    return exact(value) if isinstance(value, Fraction) else str(value)


def picture(region: UnitRegion, width: int = 80, limit: int = 64) -> list[RenderableType]:
    """The input grid with the unit's receptive field: affecting positions, holes, padding.

    1D inputs draw a strip; inputs over ``limit`` cells per side draw a scaled overview in which
    a cell stands for a block of positions. Cells are two characters wide when that fits
    ``width``, else one.
    """
    from rich.text import Text

    products = region.products
    if products is None or len(region.unit) not in (1, 2):
        return [Text("(no picture: the region is not known, or the input is not 1D or 2D)")]
    sizes = region.input_sizes if len(region.unit) == 2 else (1, *region.input_sizes)
    if len(region.unit) == 1:
        products = tuple((frozenset({0}), p[0]) for p in products)
    zero = (Fraction(0), Fraction(0))
    spans = region.region if len(region.unit) == 2 else (zero, *region.region)
    lo = [min(0, math.floor(a)) for a, _ in spans]
    hi = [max(n - 1, math.ceil(b)) for (_, b), n in zip(spans, sizes)]
    steps = [max(1, -(-(h - low + 1) // limit)) for low, h in zip(lo, hi)]
    columns = -(-(hi[1] - lo[1] + 1) // steps[1])
    # which blocks of the (possibly scaled) grid hold an affecting position
    marked: set[tuple[int, int]] = set()
    for rows_set, cols_set in products:
        block_rows = {(r - lo[0]) // steps[0] for r in rows_set}
        block_cols = {(c - lo[1]) // steps[1] for c in cols_set}
        marked.update((a, b) for a in block_rows for b in block_cols)
    cell_width = 2 if 2 * columns <= width else 1
    text = Text("input " + "×".join(str(n) for n in region.input_sizes) + ":\n")
    styles = {AFFECTS: "bold green", HOLE: "yellow", OUTSIDE: "dim", PADDING: "magenta", " ": ""}
    for r in range(lo[0], hi[0] + 1, steps[0]):
        for c in range(lo[1], hi[1] + 1, steps[1]):
            hit = ((r - lo[0]) // steps[0], (c - lo[1]) // steps[1]) in marked
            rows, cols = range(r, min(r + steps[0], hi[0] + 1)), range(c, min(c + steps[1], hi[1] + 1))
            glyph = _cell(rows, cols, sizes, hit, spans)
            text.append(glyph * cell_width, style=styles[glyph])
        text.append("\n")
    scale = f" (one cell = {steps[0]}×{steps[1]} positions)" if steps != [1, 1] else ""
    legend = (
        f"{AFFECTS} affects the unit   {HOLE} in the field, skipped   {OUTSIDE} outside the field\n"
        f"{PADDING} the field in padding{scale}"
    )
    text.append(legend)
    return [text]


def _cell(
    rows: range,
    cols: range,
    sizes: tuple[int, ...],
    hit: bool,
    spans: tuple[tuple[Fraction | int, Fraction | int], ...],
) -> str:
    """The glyph of one cell (a block of positions in the scaled overview)."""
    # ranges meet intervals by their ends: a cell of the scaled overview may stand for 10^16
    # positions (a kernel of 10^18), never listed one by one
    in_field = _meets(rows, spans[0][0], spans[0][1]) and _meets(cols, spans[1][0], spans[1][1])
    if _meets(rows, 0, sizes[0] - 1) and _meets(cols, 0, sizes[1] - 1):
        if hit:
            return AFFECTS
        return HOLE if in_field else OUTSIDE
    return PADDING if in_field else " "


def _meets(span: range, lo: Fraction | int, hi: Fraction | int) -> bool:
    """Whether some integer of the step-1 range ``span`` lies in [lo, hi]."""
    return len(span) > 0 and max(span.start, math.ceil(lo)) <= min(span.stop - 1, math.floor(hi))


def _rows(reports: list[Report]) -> list[list[str]]:
    rows = []
    for report in reports:
        for layer in report.layers:
            f = layer.receptive_field
            values = (
                [
                    per_axis(f.size),
                    per_axis(f.stride),
                    per_axis(f.padding),
                    per_axis(f.centre0),
                    str(f.whole).lower(),
                ]
                if f
                else ["", "", "", "", ""]
            )
            rows.append(
                [
                    escape(report.name or ""),
                    str(layer.index),
                    escape(layer.name),
                    layer.type,
                    fmt_shape(layer.output_shape),
                    *values,
                ]
            )
    return rows


RF_COLUMNS = [
    "network",
    "index",
    "name",
    "type",
    "output_shape",
    "rf_size",
    "stride",
    "padding",
    "centre0",
    "whole",
]


def rf_csv(reports: list[Report]) -> str:
    """The receptive-field table as CSV (per-axis values joined with ×, fractions as p/q)."""
    from cnncalc.render.csvout import csv_table

    return csv_table(RF_COLUMNS, _rows(reports))


def rf_markdown(reports: list[Report]) -> str:
    """The receptive-field table as Markdown."""
    lines = ["| " + " | ".join(RF_COLUMNS[1:]) + " |", "|" + "---|" * (len(RF_COLUMNS) - 1)]
    lines += ["| " + " | ".join(row[1:]) + " |" for row in _rows(reports)]
    return "\n".join(lines) + "\n"


def fields_table(result: Fields) -> list[RenderableType]:
    """``rf``: the tables of :func:`rf_tables`."""
    return rf_tables(list(result.reports))


def fields_csv(result: Fields) -> str:
    """``rf --format csv``."""
    return rf_csv(list(result.reports))


def fields_markdown(result: Fields) -> str:
    """``rf --format markdown``."""
    return rf_markdown(list(result.reports))


def unit_table(result: Unit) -> list[RenderableType]:
    """``rf --unit``: the region in words, and with ``--show`` the picture of the input grid."""
    import shutil

    columns = result.columns or shutil.get_terminal_size((80, 24)).columns
    drawing = picture(result.region, columns) if result.picture else []
    return unit_lines(result.region, result.report) + drawing
