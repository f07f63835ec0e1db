"""Comparison output: two designs side by side (equiv), convolutions against dense layers."""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

from cnncalc.render.numbers import exact, per_axis, shape, thousands
from cnncalc.report import DenseReport, Equivalence, Ratio

if TYPE_CHECKING:
    from rich.console import RenderableType


def _ratio(ratio: Ratio) -> str:
    """``1.39× (A −28%)``: B's factor over A, and which side has less, by how much."""
    if ratio.smaller is None:
        return "same"
    if ratio.factor is None:
        return "-"
    return f"{float(ratio.factor):.2f}× ({ratio.smaller} −{ratio.percent}%)"


def equiv_table(eq: Equivalence, label_a: str, label_b: str) -> list[RenderableType]:
    """The two networks' output shape, receptive field, parameters and MACs, with ratios."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    a, b = eq.a, eq.b
    fa, fb = a.receptive_field, b.receptive_field
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 0, 0, 1), show_edge=False)
    for header in ("", "A", "B", "B vs A"):
        table.add_column(header, overflow="fold")

    def same(x: str, y: str) -> str:
        return "same" if x == y else "differs"

    rows = [("output shape", shape(a.output_shape), shape(b.output_shape))]
    va = (fa.size, fa.stride, fa.padding) if fa else None
    vb = (fb.size, fb.stride, fb.padding) if fb else None
    for i, title in enumerate(("RF size", "effective stride", "effective padding")):
        rows.append((title, per_axis(va[i]) if va else "?", per_axis(vb[i]) if vb else "?"))
    for title, x, y in rows:
        table.add_row(title, x, y, same(x, y))
    table.add_row("params", thousands(a.totals.params), thousands(b.totals.params), _ratio(eq.params))
    table.add_row("MACs", thousands(a.totals.macs), thousands(b.totals.macs), _ratio(eq.macs))
    if eq.equivalent:
        verdict = "equivalent: same output shape and same receptive field"
    else:
        what = [
            w for w, ok in (("output shape", eq.same_shape), ("receptive field", eq.same_field)) if not ok
        ]
        verdict = "not equivalent: the " + " and the ".join(what) + " differ"
    return [Text(f"A: {label_a}\nB: {label_b}"), table, Text(verdict)]


def dense_table(report: DenseReport) -> list[RenderableType]:
    """Per convolution: its weights, a dense layer's weights for the same tensors, the ratio."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(
        title=f"{report.name or 'network'}: convolution versus fully connected",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        padding=(0, 0, 0, 1),
        show_edge=False,
        show_footer=True,
    )
    columns = [
        ("#", "", "right"),
        ("Layer (type)", "Total", "left"),
        ("C×H×W in → out", "", "left"),
        ("Conv weights", thousands(report.conv_weights), "right"),
        ("Dense weights", thousands(report.dense_weights), "right"),
        ("Dense / conv", _times(report.ratio), "right"),
    ]
    for i, (header, footer, justify) in enumerate(columns):
        table.add_column(header, footer=footer, justify=justify, no_wrap=i != 1, overflow="fold")  # type: ignore[arg-type]
    notes = []
    for layer in report.layers:
        name = f"{layer.name} ({layer.type})" + (" †" if layer.pointwise else "")
        table.add_row(
            str(layer.index),
            name,
            f"{_dims(layer.sample_input)} → {_dims(layer.sample_output)}",
            thousands(layer.conv_weights),
            thousands(layer.dense_weights),
            _times(layer.ratio),
        )
    if any(layer.pointwise for layer in report.layers):
        notes.append("† a 1×1 convolution: the same Linear(c_in, c_out) applied at every position")
    notes.append(
        "weights only (biases excluded), for one sample: c_i·c_o·k_h·k_w/groups against c1·h1·w1·c2·h2·w2"
    )
    return [table, Text("\n".join(notes))]


def _dims(x: tuple[int, ...]) -> str:
    return "×".join(str(d) for d in x)


def _times(ratio: Fraction | None) -> str:
    if ratio is None:
        return "-"
    return f"{exact(ratio)}×" if ratio.denominator == 1 else f"{float(ratio):,.1f}×"
