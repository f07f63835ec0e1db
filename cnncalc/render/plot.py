"""Plots (optional extra ``cnncalc[plot]``): receptive field per layer, cost per layer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cnncalc.errors import Position, SourceError
from cnncalc.report import Report

FORMATS = (".png", ".svg")


def _pyplot(path: Path) -> Any:
    if path.suffix.lower() not in FORMATS:
        raise SourceError(
            f"plots are written as .png or .svg, not {path.suffix or 'no suffix'!r}", Position(str(path))
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


def plot_receptive_field(report: Report, path: Path) -> None:
    """Receptive-field size and effective stride per layer (largest axis), against the input size."""
    plt = _pyplot(path)
    rows = [(i, layer) for i, layer in enumerate(report.layers) if layer.receptive_field is not None]
    xs = [i for i, _ in rows]
    sizes = [float(max(layer.receptive_field.size, default=1)) for _, layer in rows]  # type: ignore[union-attr]
    strides = [float(max(layer.receptive_field.stride, default=1)) for _, layer in rows]  # type: ignore[union-attr]
    fig, ax = plt.subplots(
        figsize=(min(14.0, max(6.0, 0.18 * len(report.layers) + 3)), 4.2), layout="constrained"
    )
    ax.step(xs, sizes, where="post", label="receptive field size", color="#1f77b4", linewidth=2)
    ax.step(xs, strides, where="post", label="effective stride", color="#ff7f0e", linewidth=2)
    spatial = report.input_shape[2:] or report.input_shape[-1:]
    ax.axhline(max(spatial), color="grey", linestyle="--", linewidth=1, label=f"input size ({max(spatial)})")
    ax.set_yscale("log", base=2)
    ax.set_xlabel("layer index")
    ax.set_ylabel("input positions (largest axis)")
    ax.set_title(f"{report.name or 'network'}: receptive field per layer")
    ax.legend(loc="upper left")
    ax.grid(True, which="major", alpha=0.3)
    _save(fig, path)
    plt.close(fig)


def plot_cost(report: Report, path: Path, flops: bool = False) -> None:
    """Parameters and MACs (or FLOPs) per layer, on a log scale."""
    plt = _pyplot(path)
    xs = list(range(len(report.layers)))
    params = [layer.params for layer in report.layers]
    ops = [layer.flops if flops else layer.macs for layer in report.layers]
    fig, ax = plt.subplots(figsize=(min(14.0, max(6.0, 0.18 * len(xs) + 3)), 4.2), layout="constrained")
    width = 0.4
    ax.bar([x - width / 2 for x in xs], params, width, label="parameters", color="#1f77b4")
    ax.bar([x + width / 2 for x in xs], ops, width, label="FLOPs" if flops else "MACs", color="#ff7f0e")
    ax.set_yscale("log")
    ax.set_xlabel("layer index")
    ax.set_title(f"{report.name or 'network'}: cost per layer")
    ax.legend(loc="upper right")
    ax.grid(True, axis="y", alpha=0.3)
    _save(fig, path)
    plt.close(fig)
