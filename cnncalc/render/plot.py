"""Plots (optional extra ``cnncalc[plot]``): receptive field per layer, cost per layer, training
memory against batch size."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnncalc.errors import Position, SourceError
from cnncalc.report import BlockReport, LayerReport, Report

if TYPE_CHECKING:
    from cnncalc.engine.memory import MemoryTotals

FORMATS = (".png", ".svg", ".pdf")


def _pyplot(path: Path) -> Any:
    if path.suffix.lower() not in FORMATS:
        raise SourceError(
            f"plots are written as .png, .svg or .pdf, not {path.suffix or 'no suffix'!r}",
            Position(str(path)),
        )
    from cnncalc.render.output import check_target

    check_target(path)
    try:
        import matplotlib
    except ImportError:
        raise SourceError("plots need matplotlib: pip install 'cnncalc[plot]'", Position(str(path))) from None
    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> None:
    """Through the one output writer: a temporary file renamed into place, never through a
    symbolic link or onto a device."""
    from cnncalc.render.output import write_file

    write_file(path, lambda handle: fig.savefig(handle, format=path.suffix.lower().lstrip(".")))


def _bars(report: Report, depth: int | None) -> list[tuple[str, LayerReport | BlockReport]]:
    """What the plots draw, one bar or step each: every layer, or with ``depth`` the rows of
    the table at that depth that do not overlap (layers no deeper, blocks folded at it), each
    with its ``#`` cell."""
    from cnncalc.render.table import tree_entries

    if depth is None:
        return [(str(layer.index), layer) for layer in report.layers]
    return [(e.index, e.item) for e in tree_entries(report, depth) if not e.block or e.depth == depth]


def _ticks(ax: Any, bars: list[tuple[str, LayerReport | BlockReport]]) -> None:
    """Rows by name (a folded block by its own, ``layer2``) when they fit, else whole-number
    ticks of the layer index."""
    if len(bars) <= 40:
        names = [
            item.path.rsplit(".", 1)[-1] if isinstance(item, BlockReport) else item.name for _, item in bars
        ]
        ax.set_xticks(range(len(bars)), names, rotation=90 if len(bars) > 8 else 0, fontsize=8)
    else:
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def head_paths(report: Report) -> list[tuple[str, list[LayerReport]]]:
    """One path per head, from the input to the head's layer: back from the head, at each merge
    the input with the largest field (the body, not a 1×1 shortcut), so the line never dips on
    a side branch. Each with its head's name."""
    numbers = {(layer.path or layer.name): layer.index for layer in report.layers}
    heads = [numbers[p] for p in report.outputs if p in numbers] or [len(report.layers) - 1]

    def reach(layer: LayerReport) -> Fraction | int:
        field = layer.receptive_field
        return max(field.size, default=0) if field is not None else -1

    paths = []
    for head in heads:
        chain = [report.layers[head]]
        while True:
            feeding = [report.layers[numbers[p]] for p in chain[-1].inputs if p in numbers]
            if not feeding:
                break
            chain.append(max(feeding, key=reach))  # the first of equals: the order as written
        paths.append((report.layers[head].name, chain[::-1]))
    return paths


def plot_receptive_field(report: Report, path: Path, depth: int | None = None) -> None:
    """Receptive-field size and effective stride (largest axis) against the input size: along
    one path per head (see :func:`head_paths`) by layer index, or with ``depth`` per row of the
    folded table (a folded block shows its output's field)."""
    plt = _pyplot(path)
    if depth is None:
        lines = [
            (name, [(layer.index, str(layer.index), layer.receptive_field) for layer in chain])
            for name, chain in head_paths(report)
        ]
    else:
        bars = _bars(report, depth)
        lines = [("", [(x, label, item.receptive_field) for x, (label, item) in enumerate(bars)])]
    fig, ax = plt.subplots(
        figsize=(min(14.0, max(6.0, 0.18 * len(report.layers) + 3)), 4.2), layout="constrained"
    )
    several = len(lines) > 1
    for n, (name, points) in enumerate(lines):
        known = [(x, field) for x, _, field in points if field is not None]
        xs = [x for x, _ in known]
        suffix = f" ({name})" if several else ""
        style = {"linestyle": ("-", "--", ":", "-.")[n % 4]} if several else {}
        sizes = [float(max(field.size, default=1)) for _, field in known]
        strides = [float(max(field.stride, default=1)) for _, field in known]
        ax.step(xs, sizes, where="post", label=f"receptive field size{suffix}", color="#1f77b4", **style)
        ax.step(xs, strides, where="post", label=f"effective stride{suffix}", color="#ff7f0e", **style)
        whole = [(x, size) for (x, field), size in zip(known, sizes) if field.whole]
        if whole:  # every unit sees the whole input from here on
            ax.plot(*zip(*whole), "o", color="#1f77b4", markersize=3, label="whole input" if n == 0 else None)
    spatial = report.input_shape[2:] or report.input_shape[-1:]
    ax.axhline(max(spatial), color="grey", linestyle="--", linewidth=1, label=f"input size ({max(spatial)})")
    ax.set_yscale("log", base=2)
    if depth is not None:
        _ticks(ax, bars)
    else:
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("layer" if depth is not None else "layer index (along each head's path)")
    ax.set_ylabel("input positions (largest axis)")
    ax.set_title(f"{report.name or 'network'}: receptive field per layer")
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(True, which="major", alpha=0.3)
    _save(fig, path)
    plt.close(fig)


def plot_cost(report: Report, path: Path, flops: bool = False, depth: int | None = None) -> None:
    """Parameters and MACs (or FLOPs) per layer, or per folded block with ``depth``, on a log scale."""
    plt = _pyplot(path)
    bars = _bars(report, depth)
    xs = list(range(len(bars)))
    params = [item.params for _, item in bars]
    ops = [item.flops if flops else item.macs for _, item in bars]
    fig, ax = plt.subplots(figsize=(min(14.0, max(6.0, 0.18 * len(xs) + 3)), 4.2), layout="constrained")
    width = 0.4
    ax.bar([x - width / 2 for x in xs], params, width, label="parameters", color="#1f77b4")
    ax.bar([x + width / 2 for x in xs], ops, width, label="FLOPs" if flops else "MACs", color="#ff7f0e")
    ax.set_yscale("log")
    _ticks(ax, bars)
    ax.set_xlabel("layer")
    ax.set_title(f"{report.name or 'network'}: cost per layer")
    ax.legend(loc="upper right")
    ax.grid(True, axis="y", alpha=0.3)
    _save(fig, path)
    plt.close(fig)


def plot_memory(
    name: str | None,
    by_batch: tuple[tuple[int, MemoryTotals | None], ...],
    path: Path,
    budget_bytes: int | None = None,
) -> None:
    """The parts of the training peak estimate (params, grads, optimizer, saved, transient)
    stacked per batch size, in GiB, with the budget as a line."""
    plt = _pyplot(path)
    shown = [(b, t) for b, t in by_batch if t is not None]
    labels = [str(b) for b, _ in shown]
    parts = [
        ("params", "params_bytes", "#1f77b4"),
        ("grads", "grads_bytes", "#ff7f0e"),
        ("optimizer", "optimizer_bytes", "#2ca02c"),
        ("saved", "saved_bytes", "#d62728"),
        ("transient", "transient_bytes", "#9467bd"),
    ]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.6 * len(shown) + 2), 4.2), layout="constrained")
    bottom = [0.0] * len(shown)
    for label, key, colour in parts:
        values = [(getattr(t, key) or 0) / 2**30 for _, t in shown]
        ax.bar(labels, values, 0.7, bottom=bottom, label=label, color=colour)
        bottom = [b + v for b, v in zip(bottom, values)]
    if budget_bytes is not None:
        ax.axhline(budget_bytes / 2**30, color="grey", linestyle="--", linewidth=1, label="budget")
    ax.set_xlabel("batch size")
    ax.set_ylabel("GiB")
    ax.set_title(f"{name or 'network'}: training memory estimate (PyTorch CPU autograd rules)")
    ax.legend(loc="upper left")
    ax.grid(True, axis="y", alpha=0.3)
    _save(fig, path)
    plt.close(fig)
