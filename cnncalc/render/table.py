"""Rich tables for the terminal; rich is imported here only, when a table is drawn."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from cnncalc.errors import escape
from cnncalc.layers.base import fmt_shape
from cnncalc.render.numbers import count, count_note, ops_label, si, size, thousands
from cnncalc.report import BlockReport, Report, Shape

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.table import Table
    from rich.text import Text

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
                            f"{escape(local)} ({block.kind})",
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
                    f"{escape(layer.name)} ({layer.type})",
                    layer_depth,
                    layer.output_shape,
                    layer.params,
                    layer.flops if flops else layer.macs,
                    layer.activation_bytes,
                )
            )
    return rows


def tree_labels(labels: Sequence[str], depths: Sequence[int]) -> list[str]:
    """Labels with tree branches: ├─ for a child with a sibling below it, └─ for the last
    (``depths[i]`` is 1 for a top-level row). The memory table draws its tree the same way."""
    out = []
    for i, (label, depth) in enumerate(zip(labels, depths)):
        if depth == 1:
            out.append(label)
            continue
        parts = []
        for level in range(2, depth + 1):
            later = next((d for d in depths[i + 1 :] if d <= level), 0)
            if level == depth:
                parts.append("├─" if later == level else "└─")
            else:
                parts.append("│ " if later == level else "  ")
        out.append("".join(parts) + label)
    return out


# Characters outside ASCII that cnncalc itself writes into a table, each one terminal cell wide.
_NARROW = frozenset("·├─│└×")
_ASCII = frozenset(chr(c) for c in range(32, 127))


def _plain_safe(text: str) -> bool:
    """True when rich would draw ``text`` exactly as written, one cell per character: printable,
    no markup (``[``), emoji codes (``:``) or escapes, no spaces rich may move when it wraps."""
    if not text.isprintable() or "[" in text or ":" in text or "\\" in text or "  " in text:
        return False
    if text != text.strip():
        return False
    return text.isascii() or all(c.isascii() or c in _NARROW for c in text)


@dataclass(frozen=True)
class LayerTable:
    """One network's layer table: cells already written, drawn by rich (``__rich__``) or, where
    nothing needs wrapping, as the same plain text without it (:meth:`plain_lines`)."""

    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    footer: tuple[str, ...]
    bold: tuple[bool, ...]

    # the column that gives way on a narrow terminal (it wraps); the others never shrink
    FLEX: ClassVar[int] = 1
    RIGHT: ClassVar[frozenset[int]] = frozenset({0, 3, 4, 5})

    def widest(self, i: int) -> int:
        return max([len(self.headers[i]), len(self.footer[i])] + [len(row[i]) for row in self.rows])

    def __rich__(self) -> Table:
        from rich import box
        from rich.table import Table

        table = Table(
            title=self.title,
            box=box.SIMPLE_HEAD,
            show_footer=True,
            title_justify="left",
            padding=(0, 0, 0, 1),
            show_edge=False,
            expand=True,
        )
        for i, header in enumerate(self.headers):
            # figures never shrink; only the names give way (they wrap) on a narrow terminal
            fixed = i != self.FLEX
            widest = self.widest(i)
            table.add_column(
                header,
                footer=self.footer[i],
                justify="right" if i in self.RIGHT else "left",
                no_wrap=fixed,
                overflow="ellipsis" if fixed else "fold",
                min_width=widest if fixed else min(widest, 12),
                ratio=None if fixed else 1,
            )
        for cells, bold in zip(self.rows, self.bold):
            table.add_row(*cells, style="bold" if bold else None)
        return table

    def plain_lines(self, width: int) -> list[str] | None:
        """The lines rich draws at ``width`` without colour, or None where it would wrap or
        could draw a cell otherwise than written (then rich draws it).

        Rich's layout here (``Table._calculate_column_widths`` with ``expand``): each fixed
        column is its widest cell plus the left padding; the flexible column takes what is left
        of ``width`` after them and the five one-space dividers; no cell wraps when the widest
        name fits that.
        """
        columns = len(self.headers)
        widths = [self.widest(i) + 1 for i in range(columns)]
        flexible = width - (columns - 1) - (sum(widths) - widths[self.FLEX])
        if flexible < widths[self.FLEX] or len(self.title) > width:
            return None
        texts = [self.title, self.headers[self.FLEX], self.footer[self.FLEX]]
        texts += [row[self.FLEX] for row in self.rows]
        if not all(_plain_safe(t) for t in texts if t):
            return None
        widths[self.FLEX] = flexible

        def line(cells: tuple[str, ...]) -> str:
            return " ".join(
                " " + (c.rjust(w - 1) if i in self.RIGHT else c.ljust(w - 1))
                for i, (c, w) in enumerate(zip(cells, widths))
            )

        return [
            self.title,
            line(self.headers),
            "─" * width,
            *(line(cells) for cells in self.rows),
            "",
            line(self.footer),
        ]


@dataclass(frozen=True)
class Summary:
    """The totals under a table: plain lines, drawn by rich as a ``Text``."""

    lines: tuple[str, ...]

    def __rich__(self) -> Text:
        from rich.text import Text

        return Text("\n".join(self.lines))

    def plain_lines(self, width: int) -> list[str] | None:
        """The lines as rich prints them at ``width``, or None where rich would wrap one."""
        if any(len(t) > width or not (t.isascii() or set(t) <= _NARROW | _ASCII) for t in self.lines):
            return None
        return list(self.lines)


def shape_tables(
    reports: list[Report], flops: bool = False, depth: int | None = None
) -> list[RenderableType]:
    """One table per network: output shape, parameters, MACs (or FLOPs) and memory per layer."""
    out: list[RenderableType] = []
    for report in reports:
        ops = ops_label(report, flops)
        t = report.totals
        title = f"{escape(report.name or 'network')} · input {fmt_shape(report.input_shape)} · {report.dtype}"
        total_ops = t.flops if flops else t.macs
        tree = tree_rows(report, flops, depth)
        rows = tuple(
            (
                row.index,
                label,
                fmt_shape(row.output_shape),
                thousands(row.params) if row.params else "-",
                si(row.ops) if row.ops else "-",
                size(row.memory),
            )
            for row, label in zip(tree, tree_labels([r.label for r in tree], [r.depth for r in tree]))
        )
        shape = " · ".join(fmt_shape(head) for head in report.heads)  # every head of a multi-output network
        footer = ("", "Total", shape, thousands(t.params), si(total_ops), size(t.activation_bytes))
        headers = ("#", "Layer (type)", "Output shape", "Params", ops, "Memory")
        out.append(LayerTable(title, headers, rows, footer, tuple(row.block for row in tree)))
        summary = (
            f"Params: {count(t.params)} · {size(t.param_bytes)}",
            f"  trainable {thousands(t.trainable_params)} · "
            f"non-trainable {thousands(t.non_trainable_params)}",
            f"{ops}: {count(total_ops)} · activations {size(t.activation_bytes)}",
            *_read_notes(report),
            *filter(None, [count_note(report)]),
        )
        out.append(Summary(summary))
    return out


def _read_notes(report: Report) -> tuple[str, ...]:
    """Lines under the table on how a PyTorch module was read: its input, the modules never called."""
    lines = [escape(note) for note in report.notes]
    if report.unused:
        modules = ", ".join(f"{escape(m)} ({thousands(n)})" for m, n in report.unused)
        total = thousands(report.totals.unused_params or 0)
        lines.append(f"Not called by forward, not in the totals: {total} params in {modules}")
    return tuple(lines)


def shapes_table(result: Shapes) -> list[RenderableType]:
    """``shape``: the tables of :func:`shape_tables`."""
    return shape_tables(list(result.reports), result.flops, result.depth)


def to_text(renderables: list[RenderableType], width: int | None = None, color: bool = True) -> str:
    """Draw renderables to a string, e.g. for ``--output`` or tests (fixed width, no colour)."""
    width = width or 100
    if not color:
        # Pipes and files: a layer table that needs no wrapping is written directly, the same
        # bytes rich draws, without rich's layout and segment machinery (most of the run time of
        # a small network's table); anything else goes to rich.
        lines: list[str] = []
        for item in renderables:
            plain = getattr(item, "plain_lines", None)
            drawn = plain(width) if plain is not None else None
            if drawn is None:
                break
            lines += drawn
        else:
            return "".join(line.rstrip() + "\n" for line in lines)
    from rich.console import Console

    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        no_color=not color,
        color_system=None if not color else "auto",
        force_terminal=color,
        highlight=False,
        # names are what the user wrote: never rich markup ("[red]") or emoji codes (":x:")
        markup=False,
        emoji=False,
        soft_wrap=False,
    )
    for item in renderables:
        console.print(item)
    # rich pads every line to the table width; files and pipes get no trailing blanks
    return "\n".join(line.rstrip() for line in buffer.getvalue().split("\n"))
