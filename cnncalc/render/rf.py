"""Receptive-field output: the per-layer table, one unit's region, and its picture."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import TYPE_CHECKING

from cnncalc.errors import escape
from cnncalc.layers.base import fmt_shape
from cnncalc.render.numbers import exact, per_axis, things
from cnncalc.report import LayerReport, ReceptiveField, Report, UnitRegion, summarize

if TYPE_CHECKING:
    from rich.console import RenderableType

    from cnncalc.render import Fields, Unit

AXES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}

# glyphs of the picture: they tell the cells apart without colour, too
AFFECTS = "█"
HOLE = "○"
OUTSIDE = "·"
PADDING = "░"


# the marks of the receptive-field table's last column, and what they say under it
EXCEEDS = "*"
MISALIGNED = "~"


def _marks(field: ReceptiveField) -> str:
    """``*`` when the field is larger than the input, ``~`` at a misaligned merge."""
    return (EXCEEDS if field.exceeds_input else "") + (MISALIGNED if field.misaligned_strides else "")


def _field_cells(field: ReceptiveField | None) -> tuple[str, ...]:
    """Size, stride, padding, centre of unit 0 and marks, as the table writes them."""
    if field is None:
        return ("?", "?", "?", "?", "")
    size = "all " + per_axis(field.size) if field.whole else per_axis(field.size)
    return (size, per_axis(field.stride), per_axis(field.padding), per_axis(field.centre0), _marks(field))


def rf_tables(reports: list[Report], depth: int | None = None, inputs: bool = False) -> list[RenderableType]:
    """Per row of the layer tree (blocks, paths and ``depth`` as the shape table has them):
    output shape, receptive-field size, effective stride and padding, centre of unit 0, marks;
    with ``inputs``, the layers feeding each."""
    from cnncalc.render.table import (
        LayerTable,
        Summary,
        inputs_cell,
        layer_numbers,
        tree_entries,
        tree_labels,
    )

    out: list[RenderableType] = []
    headers = ("#", "Layer (type)", "Output shape", "RF size", "Stride", "Padding", "Centre 0", "")
    for report in reports:
        title = f"{escape(report.name or 'network')} · input {fmt_shape(report.input_shape)}"
        entries = tree_entries(report, depth)
        numbers = layer_numbers(report)
        labels = tree_labels([e.label for e in entries], [e.depth for e in entries])
        rows = tuple(
            (e.index, label, fmt_shape(e.item.output_shape), *_field_cells(e.item.receptive_field))
            + ((inputs_cell(e.item, numbers),) if inputs else ())
            for e, label in zip(entries, labels)
        )
        footer = ("",) * (len(headers) + inputs)
        table_headers = (*headers, "Inputs") if inputs else headers
        out.append(
            LayerTable(title, table_headers, rows, footer, tuple(e.block for e in entries), frozenset({0}))
        )
        fields = [layer.receptive_field for layer in report.layers]
        notes = []
        if any(f is not None and f.exceeds_input for f in fields):
            notes.append(f"{EXCEEDS} the receptive field is larger than the input (it reaches into padding)")
        if any(f is not None and f.misaligned_strides for f in fields):
            notes.append(
                f"{MISALIGNED} misaligned merge: its inputs' strides or centres differ (Distill's "
                "alignment condition); size and padding are their union"
            )
        if any(f is None for f in fields):
            notes.append("? not determined: a layer reshapes space in a way the algebra does not follow")
        notes.append(
            "unit u sees input [u·stride − padding, u·stride − padding + size − 1] per axis "
            "(Araujo et al., Distill 2019)"
        )
        out.append(Summary(tuple(notes)))
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
        lines.append(f"  affecting        {things(region.affecting, 'input position')}")
    lines.append(f"  in padding       {region.in_padding:,} of the region's positions")
    for name, products in region.trail:
        count, bounds = summarize(products)
        where = _intervals(names, bounds) if bounds else "-"
        lines.append(f"  via {escape(name)}: {things(count, 'position')}, {where}")
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


def _rows(reports: list[Report], depth: int | None = None, inputs: bool = False) -> list[list[str]]:
    """The receptive-field table's rows for CSV and Markdown, in CSV's convention (ASCII:
    shapes ``1x3x224x224``, per-axis values ``13/2x13/2``, unknown empty, booleans
    ``true``/``false``)."""
    from cnncalc.render.csvout import dims
    from cnncalc.render.table import inputs_cell, layer_numbers, tree_entries

    rows = []
    for report in reports:
        numbers = layer_numbers(report)
        for e in tree_entries(report, depth):
            f = e.item.receptive_field
            values = (
                [
                    axes(f.size),
                    axes(f.stride),
                    axes(f.padding),
                    axes(f.centre0),
                    str(f.whole).lower(),
                    str(f.exceeds_input).lower(),
                    str(bool(f.misaligned_strides)).lower(),
                ]
                if f
                else [""] * 7
            )
            name = escape(e.item.path or (e.item.name if isinstance(e.item, LayerReport) else ""))
            kind = f"{e.kind}, shortcut" if e.shortcut else e.kind
            row = [escape(report.name or ""), e.index, name, kind, dims(e.item.output_shape), *values]
            rows.append(row + ([inputs_cell(e.item, numbers)] if inputs else []))
    return rows


def axes(values: tuple[Fraction | int, ...]) -> str:
    """Per-axis values as CSV writes them, joined like shapes: ``13/2x13/2``."""
    return "x".join(exact(Fraction(v)) for v in values)


RF_COLUMNS = [
    "network",
    "index",
    "path",
    "type",
    "output_shape",
    "rf_size",
    "stride",
    "padding",
    "centre0",
    "whole",
    "exceeds_input",
    "misaligned",
]


def rf_csv(reports: list[Report], depth: int | None = None, inputs: bool = False) -> str:
    """The receptive-field table as CSV."""
    from cnncalc.render.csvout import csv_table

    return csv_table(RF_COLUMNS + (["inputs"] if inputs else []), _rows(reports, depth, inputs))


def rf_markdown(reports: list[Report], depth: int | None = None, inputs: bool = False) -> str:
    """The receptive-field table as Markdown."""
    from cnncalc.render.markdown import row

    columns = RF_COLUMNS[1:] + (["inputs"] if inputs else [])
    lines = [row(columns), "|" + "---|" * len(columns)]
    lines += [row(r[1:]) for r in _rows(reports, depth, inputs)]
    return "\n".join(lines) + "\n"


def fields_table(result: Fields) -> list[RenderableType]:
    """``rf``: the tables of :func:`rf_tables`."""
    return rf_tables(list(result.reports), result.depth, result.inputs)


def fields_csv(result: Fields) -> str:
    """``rf --format csv``."""
    return rf_csv(list(result.reports), result.depth, result.inputs)


def fields_markdown(result: Fields) -> str:
    """``rf --format markdown``."""
    return rf_markdown(list(result.reports), result.depth, result.inputs)


def unit_table(result: Unit) -> list[RenderableType]:
    """``rf --unit``: the region in words, and with ``--show`` the picture of the input grid."""
    import shutil

    columns = result.columns or shutil.get_terminal_size((80, 24)).columns
    drawing = picture(result.region, columns) if result.picture else []
    return unit_lines(result.region, result.report) + drawing
