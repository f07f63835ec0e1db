"""Rich tables for the terminal; rich is imported here only, when a table is drawn."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from cnncalc.errors import escape
from cnncalc.layers.base import fmt_shape
from cnncalc.render.numbers import count, count_note, ops_label, si, size, thousands
from cnncalc.report import BlockReport, LayerReport, Report, Shape

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
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


@dataclass(frozen=True)
class Entry:
    """One line of a layer tree before its figures are chosen: the layer or block it shows, its
    ``#`` cell (an index, or a block's first-last range), its name (escaped) and kind, its
    nesting depth, and whether it lies on a Residual's shortcut path."""

    item: LayerReport | BlockReport
    index: str
    name: str
    kind: str
    depth: int
    shortcut: bool = False

    @property
    def block(self) -> bool:
        return isinstance(self.item, BlockReport)

    @property
    def label(self) -> str:
        """``name (Type)``; ``name (Type, shortcut)`` on a shortcut path, which sits beside the
        body's rows as their sibling."""
        return f"{self.name} ({self.kind}, {SHORTCUT})" if self.shortcut else f"{self.name} ({self.kind})"


SHORTCUT = "shortcut"


def _on_shortcut(layer: LayerReport, chain: list[BlockReport]) -> bool:
    """Whether the layer is on the shortcut path of its innermost Residual block."""
    inner = next((b for b in reversed(chain) if b.kind == "Residual"), None)
    return inner is not None and (layer.path or layer.name).startswith(f"{inner.path}.{SHORTCUT}.")


def tree_entries(report: Report, depth: int | None = None) -> list[Entry]:
    """Layers in topological order with their blocks before them, nested as written; rows
    deeper than ``depth`` are folded into their block's row. Every view of a layer tree (the
    shape and receptive-field tables, CSV, Markdown) lists these."""
    parents: dict[int, list[BlockReport]] = {}
    for block in report.blocks:
        for n in block.nodes:
            parents.setdefault(n, []).append(block)
    entries: list[Entry] = []
    opened: set[str] = set()
    for layer in report.layers:
        chain = sorted(parents.get(layer.index, []), key=lambda b: b.depth)
        for block in chain:
            if block.path not in opened:
                opened.add(block.path)
                if depth is None or block.depth <= depth:
                    first, last = block.nodes[0], block.nodes[-1]
                    local = escape(block.path.rsplit(".", 1)[-1])
                    entries.append(Entry(block, f"{first}-{last}", local, block.kind, block.depth))
        layer_depth = len(chain) + 1
        if depth is None or layer_depth <= depth:
            entry = Entry(
                layer,
                str(layer.index),
                escape(layer.name),
                layer.type,
                layer_depth,
                _on_shortcut(layer, chain),
            )
            entries.append(entry)
    return entries


def tree_rows(report: Report, flops: bool = False, depth: int | None = None) -> list[Row]:
    """The shape table's rows: :func:`tree_entries` with their figures."""
    return [
        Row(
            e.index,
            e.label,
            e.depth,
            e.item.output_shape,
            e.item.params,
            e.item.flops if flops else e.item.macs,
            e.item.activation_bytes,
            block=e.block,
        )
        for e in tree_entries(report, depth)
    ]


def inputs_cell(layer: LayerReport | BlockReport, numbers: dict[str, int]) -> str:
    """The layers feeding a layer, by index (Keras' "Connected to"); ``input`` for the
    network's input; empty for a block row."""
    if isinstance(layer, BlockReport):
        return ""
    return ", ".join(str(numbers[p]) if p in numbers else "input" for p in layer.inputs)


def layer_numbers(report: Report) -> dict[str, int]:
    """Each layer's path (what ``inputs`` lists) to its index."""
    return {(layer.path or layer.name): layer.index for layer in report.layers}


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
    """One network's layer table: cells already written, drawn by rich (``__rich_console__``)
    or, where nothing needs wrapping, as the same plain text without it (:meth:`plain_lines`).

    No column is ever dropped: narrower than :meth:`min_width`, the table is drawn stacked, one
    block of ``header  value`` lines per row (:meth:`stacked_lines`)."""

    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    footer: tuple[str, ...]
    bold: tuple[bool, ...]
    # the columns whose cells are right-aligned (figures); the others are left-aligned
    right: frozenset[int] = frozenset({0, 3, 4, 5})

    # the column that gives way on a narrow terminal (it wraps); the others never shrink
    FLEX: ClassVar[int] = 1
    # the narrowest the wrapping column gets before the table is stacked instead
    FLEX_MIN: ClassVar[int] = 12

    def widest(self, i: int) -> int:
        return max([len(self.headers[i]), len(self.footer[i])] + [len(row[i]) for row in self.rows])

    def min_width(self) -> int:
        """The narrowest width that shows every column whole: every fixed column at its widest
        cell, the wrapping one at :attr:`FLEX_MIN` (or its widest, if less), one space of
        padding before each, one-space dividers between them."""
        columns = len(self.headers)
        fixed = sum(self.widest(i) + 1 for i in range(columns) if i != self.FLEX)
        return fixed + min(self.widest(self.FLEX), self.FLEX_MIN) + 1 + columns - 1

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if options.max_width < self.min_width():
            from rich.text import Text

            yield Text("\n".join(self.stacked_lines(options.max_width)))
        else:
            yield self._rich_table()

    def _rich_table(self) -> Table:
        from rich import box
        from rich.table import Table

        table = Table(
            title=self.title,
            box=box.SIMPLE_HEAD,
            show_footer=any(self.footer),
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
                justify="right" if i in self.right else "left",
                no_wrap=fixed,
                overflow="ellipsis" if fixed else "fold",
                min_width=widest if fixed else min(widest, self.FLEX_MIN),
                ratio=None if fixed else 1,
            )
        for cells, bold in zip(self.rows, self.bold):
            table.add_row(*cells, style="bold" if bold else None)
        return table

    def stacked_lines(self, width: int) -> list[str]:
        """The table as blocks, one per row: ``#index label`` then ``header  value`` for every
        other column (empty cells left out), lines folded at ``width``."""
        keys = [i for i in range(len(self.headers)) if i not in (0, self.FLEX)]
        # a column without a header (the receptive-field table's marks) needs a name here
        names = {i: self.headers[i] or "Marks" for i in keys}
        pad = max(len(names[i]) for i in keys) if keys else 0
        lines = [self.title, "─" * width]
        for cells in (*self.rows, self.footer) if any(self.footer) else self.rows:
            head = f"{cells[0]} {cells[self.FLEX]}".strip()
            lines.append(head)
            lines += [f"  {names[i].ljust(pad)}  {cells[i]}" for i in keys if cells[i]]
        return [part for line in lines for part in _fold(line, width)]

    def plain_lines(self, width: int) -> list[str] | None:
        """The lines rich draws at ``width`` without colour, or None where it would wrap or
        could draw a cell otherwise than written (then rich draws it).

        Rich's layout here (``Table._calculate_column_widths`` with ``expand``): each fixed
        column is its widest cell plus the left padding; the flexible column takes what is left
        of ``width`` after them and the one-space dividers; no cell wraps when the widest name
        fits that. Narrower than :meth:`min_width`, the stacked layout.
        """
        if width < self.min_width():
            return self.stacked_lines(width) if all(_plain_safe(t) for t in self._texts() if t) else None
        columns = len(self.headers)
        widths = [self.widest(i) + 1 for i in range(columns)]
        flexible = width - (columns - 1) - (sum(widths) - widths[self.FLEX])
        if flexible < widths[self.FLEX] or len(self.title) > width:
            return None
        if not all(_plain_safe(t) for t in self._texts() if t):
            return None
        widths[self.FLEX] = flexible

        def line(cells: tuple[str, ...]) -> str:
            return " ".join(
                " " + (c.rjust(w - 1) if i in self.right else c.ljust(w - 1))
                for i, (c, w) in enumerate(zip(cells, widths))
            )

        return [
            self.title,
            line(self.headers),
            "─" * width,
            *(line(cells) for cells in self.rows),
            *(["", line(self.footer)] if any(self.footer) else []),
        ]

    def _texts(self) -> list[str]:
        """The cells rich might draw otherwise than written (see :func:`_plain_safe`)."""
        return [self.title, self.headers[self.FLEX], self.footer[self.FLEX]] + [
            row[self.FLEX] for row in self.rows
        ]


def _fold(line: str, width: int) -> list[str]:
    """A line cut into pieces of at most ``width`` characters (the stacked layout's last resort
    for a name longer than the terminal)."""
    if len(line) <= width or width < 1:
        return [line]
    return [line[i : i + width] for i in range(0, len(line), width)]


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
    reports: list[Report], flops: bool = False, depth: int | None = None, inputs: bool = False
) -> list[RenderableType]:
    """One table per network: output shape, parameters, MACs (or FLOPs) and memory per layer;
    with ``inputs``, a last column of the layers feeding each (by index)."""
    out: list[RenderableType] = []
    for report in reports:
        ops = ops_label(report, flops)
        t = report.totals
        title = f"{escape(report.name or 'network')} · input {fmt_shape(report.input_shape)} · {report.dtype}"
        total_ops = t.flops if flops else t.macs
        entries = tree_entries(report, depth)
        numbers = layer_numbers(report)
        labels = tree_labels([e.label for e in entries], [e.depth for e in entries])
        rows = tuple(
            (
                e.index,
                label,
                fmt_shape(e.item.output_shape),
                thousands(e.item.params) if e.item.params else "-",
                si(ops_count) if (ops_count := e.item.flops if flops else e.item.macs) else "-",
                size(e.item.activation_bytes),
            )
            + ((inputs_cell(e.item, numbers),) if inputs else ())
            for e, label in zip(entries, labels)
        )
        shape = " · ".join(fmt_shape(head) for head in report.heads)  # every head of a multi-output network
        footer: tuple[str, ...] = (
            "",
            "Total",
            shape,
            thousands(t.params),
            si(total_ops),
            size(t.activation_bytes),
        )
        headers: tuple[str, ...] = ("#", "Layer (type)", "Output shape", "Params", ops, "Memory")
        if inputs:
            headers, footer = (*headers, "Inputs"), (*footer, "")
        out.append(LayerTable(title, headers, rows, footer, tuple(e.block for e in entries)))
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
    return shape_tables(list(result.reports), result.flops, result.depth, result.inputs)


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
