"""Comparison output: two designs side by side (equiv), convolutions against dense layers."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import TYPE_CHECKING

from cnncalc.errors import escape
from cnncalc.layers.base import fmt_shape
from cnncalc.render.csvout import csv_table, dims
from cnncalc.render.markdown import row
from cnncalc.render.numbers import exact, ops_label, per_axis, thousands, times
from cnncalc.report import DenseReport, Equivalence, Ratio, Report, Shape

if TYPE_CHECKING:
    from rich.console import RenderableType

    from cnncalc.render import Compared, Dense


def _ratio(ratio: Ratio) -> str:
    """``1.39× (A −28%)``: B's factor over A, and which side has less, by how much."""
    if ratio.smaller is None:
        return "same"
    if ratio.factor is None:
        return "-"
    return f"{times(ratio.factor)} ({ratio.smaller} −{ratio.percent}%)"


def _equiv_rows(
    eq: Equivalence, number: Callable[[int], str], dims: Callable[[Shape], str]
) -> list[list[str]]:
    """The rows of the comparison: quantity, A, B, and B against A."""
    a, b = eq.a, eq.b

    def same(x: str, y: str) -> str:
        return "same" if x == y else "differs"

    def heads(r: Report) -> str:
        return " · ".join(dims(shape) for shape in r.heads)

    rows = [("output shape", heads(a), heads(b))]
    fields_a, fields_b = a.head_fields, b.head_fields
    several = max(len(fields_a), len(fields_b)) > 1
    for head in range(max(len(fields_a), len(fields_b))):  # head by head, in ``outputs`` order
        fa = fields_a[head] if head < len(fields_a) else None
        fb = fields_b[head] if head < len(fields_b) else None
        va = (fa.size, fa.stride, fa.padding) if fa else None
        vb = (fb.size, fb.stride, fb.padding) if fb else None
        suffix = f" (head {head + 1})" if several else ""
        for i, title in enumerate(("RF size", "effective stride", "effective padding")):
            rows.append((title + suffix, per_axis(va[i]) if va else "?", per_axis(vb[i]) if vb else "?"))
    out = [[title, x, y, same(x, y)] for title, x, y in rows]
    out.append(["params", number(a.totals.params), number(b.totals.params), _ratio(eq.params)])
    out.append([ops_label(a), number(a.totals.macs), number(b.totals.macs), _ratio(eq.macs)])
    return out


EQUIV_COLUMNS = ["", "A", "B", "B vs A"]


def _verdict(eq: Equivalence) -> str:
    if eq.equivalent:
        return "equivalent: same output shape and same receptive field"
    what = [w for w, ok in (("output shape", eq.same_shape), ("receptive field", eq.same_field)) if not ok]
    return "not equivalent: the " + " and the ".join(what) + " differ"


def equiv_table(eq: Equivalence, label_a: str, label_b: str) -> list[RenderableType]:
    """The two networks' output shape, receptive field, parameters and MACs, with ratios."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, padding=(0, 0, 0, 1), show_edge=False)
    for header in EQUIV_COLUMNS:
        table.add_column(header, overflow="fold")
    for cells in _equiv_rows(eq, thousands, fmt_shape):
        table.add_row(*cells)
    return [Text(f"A: {label_a}\nB: {label_b}"), table, Text(_verdict(eq))]


def equivalence_table(result: Compared) -> list[RenderableType]:
    """``equiv``: the table of :func:`equiv_table`."""
    return equiv_table(result.equivalence, result.label_a, result.label_b)


def equivalence_csv(result: Compared) -> str:
    """``equiv --format csv``: the table's rows under a row naming the networks; exact counts."""
    rows = [["network", result.label_a, result.label_b, ""]]
    return csv_table(["quantity", *EQUIV_COLUMNS[1:]], rows + _equiv_rows(result.equivalence, str, dims))


def equivalence_markdown(result: Compared) -> str:
    """``equiv --format markdown``: the networks, the table, the verdict."""
    lines = [f"A: {result.label_a}", "", f"B: {result.label_b}", ""]
    lines += [row(EQUIV_COLUMNS), "|---|---|---|---|"]
    lines += [row(cells) for cells in _equiv_rows(result.equivalence, thousands, fmt_shape)]
    lines += ["", _verdict(result.equivalence)]
    return "\n".join(lines) + "\n"


def dense_table(report: DenseReport) -> list[RenderableType]:
    """Per convolution: its weights, a dense layer's weights for the same tensors, the ratio."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(
        title=f"{escape(report.name or 'network')}: convolution versus fully connected",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        padding=(0, 0, 0, 1),
        show_edge=False,
        show_footer=True,
    )
    footers = ["", "Total", "", thousands(report.conv_weights), thousands(report.dense_weights)]
    footers.append(_times(report.ratio))
    sides = ["right", "left", "left", "right", "right", "right"]
    for i, (header, footer, justify) in enumerate(zip(DENSE_COLUMNS, footers, sides)):
        table.add_column(header, footer=footer, justify=justify, no_wrap=i != 1, overflow="fold")  # type: ignore[arg-type]
    for cells in _dense_rows(report):
        table.add_row(*cells)
    return [table, Text("\n".join(_dense_notes(report)))]


DENSE_COLUMNS = ["#", "Layer (type)", "C×H×W in → out", "Conv weights", "Dense weights", "Dense / conv"]


def _dense_rows(report: DenseReport) -> list[list[str]]:
    return [
        [
            str(layer.index),
            f"{escape(layer.name)} ({layer.type})" + (" †" if layer.pointwise else ""),
            f"{_dims(layer.sample_input)} → {_dims(layer.sample_output)}",
            thousands(layer.conv_weights),
            thousands(layer.dense_weights),
            _times(layer.ratio),
        ]
        for layer in report.layers
    ]


def _dense_notes(report: DenseReport) -> list[str]:
    notes = []
    if any(layer.pointwise for layer in report.layers):
        notes.append("† a 1×1 convolution: the same Linear(c_in, c_out) applied at every position")
    notes.append(
        "weights only (biases excluded), for one sample: c_i·c_o·k_h·k_w/groups against c1·h1·w1·c2·h2·w2"
    )
    return notes


def dense_tables(result: Dense) -> list[RenderableType]:
    """``dense``: the tables of :func:`dense_table`, one per network."""
    return [item for report in result.reports for item in dense_table(report)]


DENSE_CSV_COLUMNS = [
    "network",
    "index",
    "name",
    "type",
    "sample_input",
    "sample_output",
    "conv_weights",
    "dense_weights",
    "dense_per_conv",
    "pointwise",
]


def dense_csv(result: Dense) -> str:
    """``dense --format csv``: one row per convolution, then a totals row per network; the
    ratio exact (``p/q`` when not whole), shapes written as ``3x32x32``."""
    rows: list[list[str]] = []
    for report in result.reports:
        name = escape(report.name or "")
        for layer in report.layers:
            rows.append(
                [
                    name,
                    str(layer.index),
                    escape(layer.name),
                    layer.type,
                    dims(layer.sample_input),
                    dims(layer.sample_output),
                    str(layer.conv_weights),
                    str(layer.dense_weights),
                    exact(layer.ratio),
                    str(layer.pointwise).lower(),
                ]
            )
        total = exact(report.ratio) if report.ratio is not None else ""
        rows.append(
            [name, "", "total", "", "", "", str(report.conv_weights), str(report.dense_weights), total, ""]
        )
    return csv_table(DENSE_CSV_COLUMNS, rows)


def dense_markdown(result: Dense) -> str:
    """``dense --format markdown``: a heading, the table's columns and its totals, the notes."""
    blocks = []
    for report in result.reports:
        lines = [f"### {escape(report.name or 'network')}: convolution versus fully connected", ""]
        lines += [row(DENSE_COLUMNS), "|---:|---|---|---:|---:|---:|"]
        lines += [row(cells) for cells in _dense_rows(report)]
        conv, dense = thousands(report.conv_weights), thousands(report.dense_weights)
        lines.append(row(["", "**Total**", "", conv, dense, _times(report.ratio)]))
        lines += ["", *_dense_notes(report)]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def _dims(x: tuple[int, ...]) -> str:
    return "×".join(str(d) for d in x)


def _times(ratio: Fraction | None) -> str:
    if ratio is None:
        return "-"
    return times(ratio)
