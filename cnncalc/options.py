"""The command line's shared options, declared once, and the parsers of their values.

Commands name these ``Annotated`` aliases instead of repeating ``typer.Option(...)``; the output
options of a run travel together as one :class:`OutputOptions`. The ``--format`` choices of a
command are those its result has renderers for (``tests/test_render.py`` checks that they agree
with :data:`cnncalc.render.REGISTRY`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import typer

from cnncalc.errors import Position, SpecError, shown
from cnncalc.render import Format, format_for


def complete_source(incomplete: str) -> list[str]:
    """Shell completion for SOURCE: network files and directories, and layer type names."""
    import glob

    from cnncalc.layers import kinds
    from cnncalc.readers import FILE_SUFFIXES

    names = [cls.kind for cls in kinds()] + [cls.lazy_alias for cls in kinds() if cls.lazy_alias]
    layers = [n for n in names if n.lower().startswith(incomplete.lower())] if "(" not in incomplete else []
    paths = [
        p + ("/" if os.path.isdir(p) else "")
        for p in sorted(glob.glob(glob.escape(incomplete) + "*"))
        if os.path.isdir(p) or p.lower().endswith(FILE_SUFFIXES)
    ]
    return paths + sorted(layers)


Sources = Annotated[
    list[str] | None,
    typer.Argument(
        autocompletion=complete_source,
        help="Network files (.yaml, '-' for stdin) or inline layers in call form, "
        "e.g. \"Conv2d(3, 16, 3)\" (several, or separated by ';').",
        metavar="SOURCE",
        show_default=False,
    ),
]
FromTorchOpt = Annotated[
    str | None,
    typer.Option(
        "--from-torch",
        help="Read a PyTorch module instead of SOURCE: package.module:attr or "
        "package.module:factory(literal arguments), e.g. \"timm:create_model('convnext_tiny')\". "
        "This imports the package and calls the factory: it runs that code. Needs --input.",
        metavar="SPEC",
        show_default=False,
    ),
]
InputOpt = Annotated[
    str | None,
    typer.Option(
        "--input", "-i", help="Input shape, e.g. 1,3,224,224 (overrides the file's).", show_default=False
    ),
]


def _format_option(
    help: str = "Output format (default: from the --output file's suffix, .json, .csv or .md; else table).",
) -> typer.models.OptionInfo:
    option: typer.models.OptionInfo = typer.Option("--format", "-f", help=help, show_default=False)
    return option


# the --format choices per kind of result (see cnncalc.render.REGISTRY)
ShapeFormat = Literal["table", "json", "csv", "markdown", "darknet"]
TableFormat = Literal["table", "json", "csv", "markdown"]
ListFormat = Literal["table", "json"]
# the optimizers whose state cnncalc.engine.memory counts
OptimizerName = Literal["none", "sgd", "momentum", "adam", "adamw"]
ShapeFormatOpt = Annotated[ShapeFormat | None, _format_option()]
TableFormatOpt = Annotated[TableFormat | None, _format_option()]
ListFormatOpt = Annotated[ListFormat | None, _format_option("Output format (default: table).")]
OutputOpt = Annotated[
    Path | None,
    typer.Option(
        "--output", "-o", help="Write to this file (atomically) instead of stdout.", show_default=False
    ),
]
WidthOpt = Annotated[
    int | None,
    # bounded: rich lays a table out in memory at the width asked for (10^8 would be gigabytes)
    typer.Option(
        "--width", max=10_000, help="Table width in characters (default: the terminal's).", show_default=False
    ),
]
DepthOpt = Annotated[
    int | None,
    typer.Option(
        "--depth",
        "-d",
        min=1,
        help="Fold blocks nested deeper than this into one row (tables, CSV, Markdown, --plot).",
        show_default=False,
    ),
]
InputsOpt = Annotated[
    bool,
    typer.Option(
        "--inputs",
        help="Add a column of the layers feeding each row, by index (Keras' 'Connected to'): "
        "for graphs with branches and merges.",
    ),
]
ColorOpt = Annotated[
    bool, typer.Option("--color/--no-color", help="Colour in tables (NO_COLOR is respected).")
]
SkipUnknownOpt = Annotated[
    bool,
    typer.Option(
        "--skip-unknown",
        help="ONNX: read an unsupported operator as Identity where shape inference shows it keeps the shape.",
    ),
]
ScaleOpt = Annotated[
    str | None,
    typer.Option(
        "--scale",
        help="Ultralytics model YAML: the scale of its scales: (n, s, m, l, x; default: from the file "
        "name, as yolov8n.yaml, else the first listed).",
        show_default=False,
    ),
]
# the tools whose FLOPs conventions cnncalc.count reproduces
CountName = Literal["torchvision", "fvcore", "thop", "ptflops", "ultralytics", "darknet"]
CountOpt = Annotated[
    CountName | None,
    typer.Option(
        "--count",
        help="Count MACs as this tool does: torchvision (cnncalc's own), fvcore, thop, ptflops, "
        "ultralytics (FLOPs: 2 × thop, BatchNorm folded) or darknet (FLOPs: its BFLOPs).",
        show_default=False,
    ),
]
FuseOpt = Annotated[
    bool,
    typer.Option("--fuse", help="Fold each BatchNorm into the convolution before it, as deployment does."),
]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show a traceback on errors.")]


@dataclass(frozen=True)
class OutputOptions:
    """``--format``, ``--output``, ``--width`` and ``--color`` of one run."""

    format: str | None = None
    output: Path | None = None
    width: int | None = None
    color: bool = True

    @property
    def chosen(self) -> Format:
        """The format asked for; without ``--format``, the one the ``--output`` file's suffix
        implies, else the table."""
        return Format(self.format) if self.format is not None else format_for(self.output)

    @property
    def json_errors(self) -> bool:
        """Errors as JSON on stderr: only when ``--format json`` is given (``-o x.json`` names the
        file's format, not the terminal's)."""
        return self.format == Format.json.value


def parse_unit_option(text: str) -> tuple[int, ...]:
    """``--unit 3,4``: one non-negative index per spatial axis."""
    try:
        unit = tuple(int(p) for p in text.replace(" ", "").split(","))
    except ValueError:
        unit = ()
    if not unit or any(u < 0 for u in unit):
        raise SpecError(
            f"--unit must be non-negative integers separated by commas, e.g. 3,4; got {shown(text)}",
            Position("<option --unit>"),
        )
    return unit


# byte units of --budget: decimal (kB, MB, GB, TB) and binary (KiB, MiB, GiB, TiB), any case
_SIZE_UNITS = {"": 1, "b": 1}
_SIZE_UNITS |= {f"{p}b": 1000 ** (i + 1) for i, p in enumerate("kmgt")}
_SIZE_UNITS |= {f"{p}ib": 1024 ** (i + 1) for i, p in enumerate("kmgt")}
_SIZE = re.compile(r"\s*(\d+(?:\.\d*)?(?:e[+-]?\d{1,3})?)\s*([a-z]*)\s*", re.IGNORECASE)


MAX_SIZE = 2**60


def parse_size_option(text: str, option: str = "--budget") -> int:
    """A size in bytes, exactly: ``24GiB``, ``512MiB``, ``8GB``, ``1e9``, ``1.5GiB`` (a whole
    number of bytes)."""
    from fractions import Fraction

    found = _SIZE.fullmatch(text)
    unit = _SIZE_UNITS.get(found[2].lower()) if found else None
    value = Fraction(found[1]) * unit if found and unit is not None and len(found[1]) <= 40 else None
    if value is None or value.denominator != 1:
        raise SpecError(
            f"{option} must be a whole number of bytes, written like 24GiB, 512MiB, 8GB or 1e9; "
            f"got {shown(text)}",
            Position(f"<option {option}>"),
        )
    if value > MAX_SIZE:
        # the largest batch is found by doubling: an astronomic budget would take as many runs
        raise SpecError(
            f"{option} must be at most 1 EiB (2**60 bytes); got {shown(text)}", Position(f"<option {option}>")
        )
    return int(value)


def parse_input_option(text: str | None) -> tuple[int, ...] | None:
    """``--input 1,3,224,224`` (or ``1x3x224x224``, or with brackets): positive integers; None
    when the option was not given."""
    if text is None:
        return None
    cleaned = text.strip().strip("[]()").strip()
    parts = cleaned.split(",") if "," in cleaned else cleaned.split("x")
    try:
        dims = tuple(int(p) for p in parts)
    except ValueError:
        dims = ()
    if not dims or any(d <= 0 for d in dims):
        raise SpecError(
            f"--input must be positive integers separated by commas, e.g. 1,3,224,224; got {shown(text)}",
            Position("<option --input>"),
        )
    if any(d >= 2**63 for d in dims):
        # readers hand the shape to ONNX and PyTorch, whose dimensions are 64-bit
        raise SpecError(
            f"--input dimensions must be below 2**63; got {shown(text)}", Position("<option --input>")
        )
    return dims


def parse_out_option(text: str) -> int | tuple[int, ...]:
    """``solve --out 112`` (every spatial axis) or ``--out 112,56`` (one per axis): positive
    integers."""
    try:
        sizes = tuple(int(p) for p in text.replace(" ", "").split(","))
    except ValueError:
        sizes = ()
    if not sizes or any(s <= 0 for s in sizes):
        raise SpecError(
            f"--out must be positive integers separated by commas, e.g. 112 or 112,56; got {shown(text)}",
            Position("<option --out>"),
        )
    return sizes[0] if len(sizes) == 1 else sizes
