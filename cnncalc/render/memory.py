"""Training memory output (``cnncalc memory``): per-layer saved (or live) bytes, the totals with
the parts of the peak estimate, and the peak against batch size under a budget."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cnncalc.errors import escape
from cnncalc.layers.base import fmt_shape
from cnncalc.render.csvout import csv_table, dims
from cnncalc.render.jsonout import dumps
from cnncalc.render.markdown import row
from cnncalc.render.numbers import size, thousands

if TYPE_CHECKING:
    from rich.console import RenderableType

    from cnncalc.engine.memory import BudgetFit, MemoryReport, MemoryRow
    from cnncalc.render import Memory

RULES = "PyTorch's CPU autograd"


def _title(report: MemoryReport) -> str:
    mode = "inference" if report.inference else f"training, {report.optimizer}"
    return (
        f"{escape(report.name or 'network')} · input {fmt_shape(report.input_shape)} · {report.dtype} · "
        f"batch {report.batch} · {mode}"
    )


def _known(value: int | None, show: Any = size) -> str:
    text: str = show(value) if value is not None else "?"
    return text


def _totals(report: MemoryReport) -> list[tuple[str, int | None, str]]:
    """The totals as (label, bytes, note), the parts of the peak first, the peak last."""
    t = report.totals
    if report.inference:
        return [
            ("params", t.params_bytes, ""),
            ("activations", t.activations_peak_bytes, "largest set alive at once"),
            ("peak", t.peak_bytes, "estimate: params + activations"),
        ]
    return [
        ("params", t.params_bytes, ""),
        ("grads", t.grads_bytes, ""),
        ("optimizer", t.optimizer_bytes, f"{report.optimizer} state after one step"),
        ("saved", t.saved_bytes, "tensors autograd keeps for backward"),
        ("transient", t.transient_bytes, "largest backward step's gradients"),
        ("peak", t.peak_bytes, "estimate: the sum of the above"),
    ]


def _notes(report: MemoryReport) -> list[str]:
    notes = [f"Figures follow {RULES} rules; a real process holds more (allocator, workspaces)."]
    if report.unknown:
        notes.append("No rule for " + ", ".join(report.unknown) + ": their figures are unknown (?).")
    return notes


def _rows(result: Memory, report: MemoryReport) -> tuple[MemoryRow, ...]:
    from cnncalc.engine.memory import memory_rows

    return memory_rows(report, result.depth)


def _tree_labels(rows: tuple[MemoryRow, ...]) -> list[str]:
    """``name (type)`` with tree branches, as the shape table draws them."""
    from cnncalc.render.table import tree_labels

    return tree_labels([f"{escape(r.name)} ({r.kind})" for r in rows], [r.depth for r in rows])


def _budget_lines(fit: BudgetFit) -> list[str]:
    if fit.max_batch is None:
        return [f"Budget {size(fit.budget_bytes)}: the largest batch is unknown (a figure is unknown)."]
    return [f"Budget {size(fit.budget_bytes)} ({thousands(fit.budget_bytes)} B): max batch {fit.max_batch}"]


def _ladder_cells(fit: BudgetFit) -> list[tuple[str, str, str]]:
    return [
        (
            str(item["batch"]),
            "refused" if totals is None else _known(item["peak_bytes"]),
            "yes" if item["fits"] else "no",
        )
        for (_, totals), item in zip(fit.by_batch, fit.to_dict())
    ]


def memory_tables(result: Memory) -> list[RenderableType]:
    """``memory``: per network, the layer table, the totals and, with a budget, the peak against
    batch size."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    out: list[RenderableType] = []
    for report, fit in zip(result.reports, result.fits):
        rows = _rows(result, report)
        live = report.inference
        out.append(Text(_title(report)))
        table = Table(box=box.SIMPLE_HEAD, padding=(0, 0, 0, 1), show_edge=False)
        headers = ["#", "Layer (type)", "Output shape", "Live" if live else "Saved"]
        for i, header in enumerate(headers):
            table.add_column(
                header, justify="left" if i in (1, 2) else "right", no_wrap=i != 1, overflow="fold"
            )
        for r, label in zip(rows, _tree_labels(rows)):
            value = r.live_bytes if live else r.saved_bytes
            table.add_row(
                r.index, label, fmt_shape(r.output_shape), _known(value), style="bold" if r.block else None
            )
        out.append(table)
        totals = Table(box=None, padding=(0, 0, 0, 1), show_header=False, show_edge=False)
        totals.add_column(justify="left")
        totals.add_column(justify="right")
        totals.add_column(justify="right")
        totals.add_column(justify="left")
        for label, value, note in _totals(report):
            exact = _known(value, lambda n: f"{thousands(n)} B")
            totals.add_row(label, _known(value), exact, note, style="bold" if label == "peak" else None)
        out.append(totals)
        if fit is not None:
            out.append(Text("\n".join(_budget_lines(fit))))
            ladder = Table(box=box.SIMPLE_HEAD, padding=(0, 0, 0, 1), show_edge=False)
            for header in ("Batch", "Peak (estimate)", "Fits"):
                ladder.add_column(header, justify="right")
            for cells in _ladder_cells(fit):
                ladder.add_row(*cells)
            out.append(ladder)
        out.append(Text("\n".join(_notes(report))))
    return out


CSV_COLUMNS = ["network", "index", "name", "path", "type", "output_shape", "saved_bytes", "live_bytes"]


def memory_csv(result: Memory) -> str:
    """``memory --format csv``: one row per layer (or folded block), then one row per total
    (``name`` says which, exact bytes in ``saved_bytes``), then ``max_batch`` with a budget."""
    rows: list[list[str]] = []
    for report, fit in zip(result.reports, result.fits):
        name = escape(report.name or "")
        for r in _rows(result, report):
            cells = [name, r.index, escape(r.name), escape(r.path), r.kind, dims(r.output_shape)]
            rows.append(
                cells + [_known(r.saved_bytes, str), _known(r.live_bytes, str) if report.inference else ""]
            )
        for label, value, _ in _totals(report):
            rows.append([name, "", f"total {label}", "", "", "", _known(value, str), ""])
        if fit is not None:
            rows.append([name, "", "max_batch", "", "", "", _known(fit.max_batch, str), ""])
    return csv_table(CSV_COLUMNS, rows)


def memory_markdown(result: Memory) -> str:
    """``memory --format markdown``: per network a heading, the layer table, the totals and the
    peak against batch size."""
    blocks = []
    for report, fit in zip(result.reports, result.fits):
        rows = _rows(result, report)
        live = report.inference
        lines = [f"### {_title(report)}", ""]
        lines += [
            row(["#", "Layer", "Type", "Output shape", "Live" if live else "Saved"]),
            "|---:|---|---|---|---:|",
        ]
        for r in rows:
            value = r.live_bytes if live else r.saved_bytes
            name = f"**{escape(r.name)}**" if r.block else escape(r.name)
            lines.append(row([r.index, name, r.kind, fmt_shape(r.output_shape), _known(value)]))
        lines += ["", row(["Total", "Bytes", ""]), "|---|---:|---|"]
        lines += [row([label, _known(value), note]) for label, value, note in _totals(report)]
        if fit is not None:
            lines += [
                "",
                *_budget_lines(fit),
                "",
                row(["Batch", "Peak (estimate)", "Fits"]),
                "|---:|---:|---|",
            ]
            lines += [row(list(cells)) for cells in _ladder_cells(fit)]
        lines += ["", *_notes(report)]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def memory_json(result: Memory) -> str:
    """``memory --format json``: :meth:`MemoryReport.to_dict` per network (an object, or an array
    for several), with ``peak_by_batch`` under a budget."""
    items = []
    for report, fit in zip(result.reports, result.fits):
        data = report.to_dict(fit.budget_bytes if fit is not None else None)
        if fit is not None:
            data["peak_by_batch"] = fit.to_dict()
        items.append(data)
    return (dumps(items[0], 1) if len(items) == 1 else dumps(items, 2)) + "\n"
