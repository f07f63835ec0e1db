"""Output of the size rules: valid input sizes (``sizes``), shape formulas (``shape --symbolic``)
and the values of an argument left as ``?`` (``solve``)."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Any

from cnncalc.errors import escape
from cnncalc.layers.base import fmt_shape
from cnncalc.render.csvout import csv_table, dims
from cnncalc.render.jsonout import dumps
from cnncalc.render.markdown import row

if TYPE_CHECKING:
    from rich.console import RenderableType

    from cnncalc.engine.sizes import AxisSizes, FormulaReport, SizesReport
    from cnncalc.engine.solve import Solution, SolveReport
    from cnncalc.render import Formulas, Sizes, Solved


# ---- sizes -------------------------------------------------------------------------------------


def _near_text(n: int, near: tuple[int | None, int | None]) -> str:
    below, above = near
    if below == n:
        return f"{n} is valid"
    parts = [
        f"{below} below" if below is not None else "none below",
        f"{above} above" if above is not None else "none above",
    ]
    return f"nearest to {n}: " + ", ".join(parts)


def _reasons(axis: AxisSizes) -> str:
    """The checks behind an axis's rule; each says the sizes it alone allows unless that is
    the rule itself."""
    texts = []
    for c in axis.constraints:
        own = " — " + c.valid.describe(axis.name)
        texts.append(c.requirement.removesuffix(own) if c.valid == axis.valid else c.requirement)
    return "; ".join(texts)


def _axis_lines(axis: AxisSizes, n: int | None, near: tuple[int | None, int | None] | None) -> list[str]:
    reasons = _reasons(axis)
    lines = [axis.describe() + (f" — {reasons}" if reasons else "")]
    first = axis.first
    if first:
        lines.append("  first: " + ", ".join(str(m) for m in first))
    if n is not None and near is not None:
        lines.append("  " + _near_text(n, near))
    return lines


def _sizes_heading(report: SizesReport, name: str | None) -> str:
    return f"{escape(name or 'network')} · input {fmt_shape(report.input_shape)}"


def _sizes_lines(result: Sizes) -> list[list[str]]:
    blocks = []
    for i, (report, name) in enumerate(zip(result.reports, result.names)):
        lines = [_sizes_heading(report, name)]
        for j, axis in enumerate(report.axes):
            near = result.nearest[i][j] if result.nearest else None
            lines += _axis_lines(axis, result.near, near)
        blocks.append(lines)
    return blocks


def sizes_text(result: Sizes) -> str:
    """``sizes``: per network, each axis's rule and the checks behind it (one line, as long as
    they are), its first valid sizes and, with ``--near``, the nearest ones."""
    return "\n".join("\n".join(lines) + "\n" for lines in _sizes_lines(result))


def _sizes_data(result: Sizes, i: int) -> dict[str, Any]:
    axes = []
    for j, axis in enumerate(result.reports[i].axes):
        item = axis.to_dict()
        if result.near is not None and result.nearest:
            below, above = result.nearest[i][j]
            item["near"] = {"n": result.near, "below": below, "above": above}
        axes.append(item)
    return {"axes": axes}


def sizes_json(result: Sizes) -> str:
    """``sizes --format json``: ``{"axes": [...]}`` per network (several: an array)."""
    items = [_sizes_data(result, i) for i in range(len(result.reports))]
    # one axis key per line, its values on one line each
    return (dumps(items[0], 3) if len(items) == 1 else dumps(items, 4)) + "\n"


SIZES_COLUMNS = ["network", "axis", "dim", "rule", "min", "period", "residues", "also", "first"]


def sizes_csv(result: Sizes) -> str:
    """``sizes --format csv``: one row per axis; residues, also and first as ``a;b;c``."""
    near = ["near", "below", "above"] if result.near is not None else []
    rows = []
    for i, (report, name) in enumerate(zip(result.reports, result.names)):
        for j, axis in enumerate(report.axes):
            v = axis.valid
            cells = [
                escape(name or ""),
                axis.name,
                str(axis.dim),
                axis.describe().split(": ", 1)[1],
                "" if v is None or v.min is None else str(v.min),
                "" if v is None else str(v.period),
                "" if v is None else ";".join(str(r) for r in v.residues),
                "" if v is None else ";".join(str(m) for m in v.also),
                ";".join(str(m) for m in axis.first),
            ]
            if result.near is not None and result.nearest:
                below, above = result.nearest[i][j]
                cells += [str(result.near), _opt(below), _opt(above)]
            rows.append(cells)
    return csv_table(SIZES_COLUMNS + near, rows)


def _opt(n: int | None) -> str:
    return "" if n is None else str(n)


def sizes_markdown(result: Sizes) -> str:
    """``sizes --format markdown``: a heading and a table of the axes per network."""
    near = result.near is not None and bool(result.nearest)
    blocks = []
    for i, (report, name) in enumerate(zip(result.reports, result.names)):
        lines = [f"### {_sizes_heading(report, name)}", ""]
        headers = ["Axis", "Valid sizes", "First", "Because"] + (
            [f"Nearest to {result.near}"] if near else []
        )
        lines += [row(headers), "|" + "---|" * len(headers)]
        for j, axis in enumerate(report.axes):
            cells = [
                axis.name,
                axis.describe().split(": ", 1)[1],
                ", ".join(str(m) for m in axis.first),
                _reasons(axis) or "-",
            ]
            if near:
                below, above = result.nearest[i][j]
                cells.append(f"{_opt(below) or '-'} / {_opt(above) or '-'}")
            lines.append(row(cells))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


# ---- shape formulas ------------------------------------------------------------------------------


def pretty(text: str) -> str:
    """A plain integer expression as a table shows it: ``(H - 1) // 2 + 1`` → ``⌊(H − 1)/2⌋ + 1``,
    ``2 * (H // 4)`` → ``2·⌊H/4⌋`` (the same expression, typeset)."""
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError:
        return text
    return _typeset(tree)


_LEVEL = {ast.Add: 1, ast.Sub: 1, ast.Mult: 2}


def _typeset(node: ast.expr, context: int = 0) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Constant):
        return str(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return "−" + _typeset(node.operand, 3)
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.FloorDiv):
            # the brackets group what is inside; a sum over the divisor keeps its parentheses
            return f"⌊{_typeset(node.left, 2)}/{_typeset(node.right, 3)}⌋"
        level = _LEVEL.get(type(node.op))
        if level is not None:
            sign = {ast.Add: " + ", ast.Sub: " − ", ast.Mult: "·"}[type(node.op)]
            text = _typeset(node.left, level) + sign + _typeset(node.right, level + 1)
            return f"({text})" if level < context else text
    return ast.unparse(node)


def _formula_cell(formula: tuple[str | None, ...], typeset: bool) -> str:
    cells = [("?" if f is None else pretty(f) if typeset else f) for f in formula]
    return "(" + ", ".join(cells) + ("," if len(cells) == 1 else "") + ")"


def _valid_note(sizes: SizesReport) -> str:
    return "valid for " + "; ".join(a.describe() for a in sizes.axes)


def _formula_title(report: FormulaReport, sizes: SizesReport, name: str | None) -> str:
    shape = list(str(d) for d in sizes.input_shape)
    shape[len(shape) - len(report.axes) :] = report.axes
    return f"{escape(name or 'network')} · input ({', '.join(shape)})"


def formulas_table(result: Formulas) -> list[RenderableType]:
    """``shape --symbolic``: every layer's output shape in the axis names, typeset."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    out: list[RenderableType] = []
    for report, sizes, name in zip(result.reports, result.sizes, result.names):
        table = Table(
            title=Text(_formula_title(report, sizes, name)),
            title_justify="left",
            box=box.SIMPLE_HEAD,
            padding=(0, 0, 0, 1),
            show_edge=False,
        )
        table.add_column("#", justify="right", no_wrap=True)
        table.add_column("Layer (type)", overflow="fold")
        table.add_column("Output shape", overflow="fold")
        for layer in report.layers:
            table.add_row(
                str(layer.index),
                Text(f"{escape(layer.path)} ({layer.type})"),
                Text(_formula_cell(layer.output_shape_formula, True)),
            )
        out += [table, Text(_valid_note(sizes))]
    return out


def _formula_data(report: FormulaReport, sizes: SizesReport, name: str | None) -> dict[str, Any]:
    data = {"name": name, "input_shape": list(sizes.input_shape)}
    data.update(report.to_dict())
    return data


def formulas_json(result: Formulas) -> str:
    """``shape --symbolic --format json``: per layer ``output_shape_formula``, plain Python."""
    items = [_formula_data(r, s, n) for r, s, n in zip(result.reports, result.sizes, result.names)]
    return (dumps(items[0], 1) if len(items) == 1 else dumps(items, 2)) + "\n"


FORMULA_COLUMNS = ["network", "index", "name", "type", "output_shape_formula"]


def formulas_csv(result: Formulas) -> str:
    """``shape --symbolic --format csv``: one row per layer, the formula in the plain form."""
    rows = [
        [
            escape(name or ""),
            str(layer.index),
            escape(layer.path),
            layer.type,
            _formula_cell(layer.output_shape_formula, False),
        ]
        for report, name in zip(result.reports, result.names)
        for layer in report.layers
    ]
    return csv_table(FORMULA_COLUMNS, rows)


def formulas_markdown(result: Formulas) -> str:
    """``shape --symbolic --format markdown``: a heading, the layers, the valid sizes."""
    blocks = []
    for report, sizes, name in zip(result.reports, result.sizes, result.names):
        lines = [f"### {_formula_title(report, sizes, name)}", ""]
        lines += [row(["#", "Layer", "Type", "Output shape"]), "|---:|---|---|---|"]
        lines += [
            row(
                [
                    str(layer.index),
                    escape(layer.path),
                    layer.type,
                    _formula_cell(layer.output_shape_formula, False),
                ]
            )
            for layer in report.layers
        ]
        lines += ["", _valid_note(sizes)]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


# ---- solve ---------------------------------------------------------------------------------------


def _value(value: Any) -> str:
    return str(value) if not isinstance(value, tuple) else "(" + ", ".join(str(v) for v in value) + ")"


def _solution_text(report: SolveReport, s: Solution) -> str:
    text = f"{report.argument}={_value(s.value)}"
    if s.zero_pad is not None:
        n = len(s.zero_pad) // 2
        text = f"ZeroPad{n}d({_value(s.zero_pad)}) before, {text}"
    return f"{text} → {fmt_shape(s.output_shape)}"


def _none_text(result: Solved) -> str:
    r = result.report
    start = 0 if r.argument in ("padding", "output_padding") else 1
    tried = "False, True" if r.argument == "ceil_mode" else f"{start}..{r.bound}"
    want = "×".join(str(w) for w in r.want)
    where = f" of {escape(r.layer)}" if result.named else ""
    return f"no {r.argument}{where} in {tried} gives {want}"


def _solved_lines(result: Solved) -> list[str]:
    r = result.report
    lines = [_solution_text(r, s) for s in r.solutions] or [_none_text(result)]
    if result.named:
        lines = [f"{escape(r.layer)}: {line}" if r.solutions else line for line in lines]
    return lines


def solved_text(result: Solved) -> str:
    """``solve``: one line per value (``padding=1 → (1, 16, 112, 112)``), or why there is none."""
    return "\n".join(_solved_lines(result)) + "\n"


def solved_json(result: Solved) -> str:
    """``solve --format json``: ``{"layer", "argument", "want", "bound", "solutions": [...]}``."""
    data = result.report.to_dict()
    items = [f"  {dumps(key, 0)}: {dumps(value, 0)}" for key, value in data.items() if key != "solutions"]
    solutions = ",\n".join("    " + dumps(s, 0) for s in data["solutions"])
    items.append('  "solutions": ' + (f"[\n{solutions}\n  ]" if solutions else "[]"))
    return "{\n" + ",\n".join(items) + "\n}\n"


def solved_csv(result: Solved) -> str:
    """``solve --format csv``: one row per value; a ZeroPad split in ``zero_pad``."""
    r = result.report
    rows = [
        [
            escape(r.layer),
            r.argument,
            _value(s.value),
            dims(s.output_shape),
            "" if s.zero_pad is None else _value(s.zero_pad),
        ]
        for s in r.solutions
    ]
    return csv_table(["layer", "argument", "value", "output_shape", "zero_pad"], rows)


def solved_markdown(result: Solved) -> str:
    """``solve --format markdown``: the values in a table, or the line saying there is none."""
    r = result.report
    if not r.solutions:
        return _none_text(result) + "\n"
    lines = [row(["Layer", r.argument, "Output shape", "Before"]), "|---|---|---|---|"]
    for s in r.solutions:
        before = f"ZeroPad{len(s.zero_pad) // 2}d({_value(s.zero_pad)})" if s.zero_pad is not None else ""
        lines.append(row([escape(r.layer), _value(s.value), fmt_shape(s.output_shape), before]))
    return "\n".join(lines) + "\n"
