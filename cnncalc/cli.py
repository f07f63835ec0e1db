"""The command line: typer commands only — parse options, load, analyze, render; errors exit 2."""

from __future__ import annotations

import contextlib
import gc
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from typer import Abort
from typer.core import TyperGroup

try:  # typer >= 0.29 vendors click
    from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
except ImportError:  # earlier typer runs on click itself
    from click.exceptions import (  # type: ignore[import-not-found,no-redef,unused-ignore]
        ClickException,
        NoArgsIsHelpError,
        UsageError,
    )

from cnncalc import __version__
from cnncalc.errors import ArgumentError, CnncalcError, LimitError, Position, SourceError, SpecError
from cnncalc.limits import Limits


class _OneLineErrors(TyperGroup):
    """Usage errors in one located line, like every other error (click prints a usage block)."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            result = super().main(*args, **kwargs)
        except NoArgsIsHelpError as exc:
            typer.echo(exc.ctx.get_help() if exc.ctx else "")
            sys.exit(0)
        except UsageError as exc:
            command = exc.ctx.command_path if exc.ctx else "cnncalc"
            sys.stderr.write(f"<command line>:1:1: {exc.format_message()} (see '{command} --help')\n")
            sys.exit(2)
        except ClickException as exc:
            sys.stderr.write(f"<command line>:1:1: {exc.format_message()}\n")
            sys.exit(exc.exit_code)
        except Abort:
            sys.stderr.write("interrupted\n")
            sys.exit(130)
        if result == 130:  # typer turns Ctrl-C into Exit(130)
            sys.stderr.write("interrupted\n")
        sys.exit(result if isinstance(result, int) else 0)


app = typer.Typer(
    name="cnncalc",
    cls=_OneLineErrors,
    help="Shapes, parameters, MACs, memory and receptive fields of CNNs, by PyTorch's rules.",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    add_completion=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class Format(str, Enum):
    """Output formats."""

    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


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
    list[str],
    typer.Argument(
        autocompletion=complete_source,
        help="Network files (.yaml, '-' for stdin) or inline layers in call form, "
        "e.g. \"Conv2d(3, 16, 3)\" (several, or separated by ';').",
        metavar="SOURCE",
        show_default=False,
    ),
]
InputOpt = Annotated[
    str | None,
    typer.Option(
        "--input", "-i", help="Input shape, e.g. 1,3,224,224 (overrides the file's).", show_default=False
    ),
]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
OutputOpt = Annotated[
    Path | None,
    typer.Option(
        "--output", "-o", help="Write to this file (atomically) instead of stdout.", show_default=False
    ),
]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show a traceback on errors.")]
SkipUnknownOpt = Annotated[
    bool,
    typer.Option(
        "--skip-unknown",
        help="ONNX: read an unsupported operator as Identity where shape inference shows it keeps the shape.",
    ),
]
WidthOpt = Annotated[
    int | None,
    typer.Option("--width", help="Table width in characters (default: the terminal's).", show_default=False),
]
ColorOpt = Annotated[
    bool, typer.Option("--color/--no-color", help="Colour in tables (NO_COLOR is respected).")
]


def _located(exc: CnncalcError) -> CnncalcError:
    """Errors of the library that name a limit or an argument, said in the command line's terms."""
    if isinstance(exc, LimitError):
        exc.message = f"{exc.message} (raise it with --{exc.limit.replace('_', '-')})"
    elif isinstance(exc, ArgumentError):
        option = "--" + {"input_shape": "input"}.get(exc.argument, exc.argument).replace("_", "-")
        exc.located(Position(f"<option {option}>"))
        if exc.named:
            exc.message = option + exc.message.removeprefix(exc.argument)
            exc.named = False
    return exc


def _fail(exc: CnncalcError, fmt: Format | None) -> None:
    """The single error exit: one line on stderr (JSON with --format json), exit code 2."""
    exc = _located(exc)
    if fmt is Format.json:
        pos = exc.position
        error = {
            "message": exc.message,
            "file": pos.file if pos else None,
            "line": pos.line if pos else None,
            "column": pos.column if pos else None,
            "layer": exc.layer,
        }
        sys.stderr.write(json.dumps({"error": error}) + "\n")
    else:
        sys.stderr.write(f"{exc}\n")
    raise typer.Exit(2)


@contextlib.contextmanager
def _errors(debug: bool, fmt: Format | None = None) -> Iterator[None]:
    try:
        yield
    except CnncalcError as exc:
        if debug:
            raise
        _fail(exc, fmt)


def _write(text: str, output: Path | None) -> None:
    """Write to stdout, or to ``output`` through a temporary file renamed into place."""
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    folder = output.parent if str(output.parent) else Path(".")
    if not folder.is_dir():
        raise SourceError(f"cannot write: directory {str(folder)!r} does not exist", Position(str(output)))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{output.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, output)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _color(color: bool) -> bool:
    return color and not os.environ.get("NO_COLOR")


def _show(renderables: list[Any], output: Path | None, width: int | None, color: bool) -> None:
    """Print rich renderables to the terminal, or as plain text to ``--output`` and pipes."""
    from cnncalc.render.table import to_text

    if output is not None:
        _write(to_text(renderables, width or 100, color=False), output)
        return
    if not sys.stdout.isatty():
        env_width = os.environ.get("COLUMNS", "")
        fallback = int(env_width) if env_width.isdigit() else 80
        _write(to_text(renderables, width or fallback, color=False), None)
        return
    from rich.console import Console

    console = Console(width=width, no_color=not _color(color), highlight=False)
    for item in renderables:
        console.print(item)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cnncalc {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    ctx: typer.Context,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
    max_layers: Annotated[
        int, typer.Option("--max-layers", min=1, help="Refuse networks that expand to more layers than this.")
    ] = Limits.max_layers,
    max_depth: Annotated[
        int, typer.Option("--max-depth", min=1, help="Refuse YAML nested deeper than this.")
    ] = Limits.max_depth,
) -> None:
    """Shapes, parameters, MACs, memory and receptive fields of CNNs, by PyTorch's rules.

    Exit codes: 0 success, 1 a well-formed "no" (equiv), 2 any error.
    """
    # the limits of this run travel in the context, never in library state
    ctx.obj = Limits(max_layers, max_depth)


def _options(ctx: typer.Context, input_shape: str | None, skip_unknown: bool = False) -> Any:
    """The readers' options for this command: --input, --skip-unknown and the run's limits."""
    from cnncalc.readers import ReadOptions
    from cnncalc.sources import parse_input_option

    root = ctx.find_root().obj
    limits = root if isinstance(root, Limits) else Limits()
    return ReadOptions(parse_input_option(input_shape), skip_unknown, limits)


def _load(
    ctx: typer.Context, sources: list[str], input_shape: str | None, skip_unknown: bool = False
) -> list[Any]:
    from cnncalc.engine.analyze import analyze
    from cnncalc.sources import load_sources

    return [analyze(net) for net in load_sources(sources, _options(ctx, input_shape, skip_unknown))]


@app.command(
    epilog="Examples:\n\n  cnncalc shape examples/vgg16.yaml\n\n"
    "  cnncalc shape examples/yolov3-tiny.cfg --darknet\n\n"
    '  cnncalc shape -i 4,2,3,5 "Conv2d(2, 3, kernel_size=(3, 5), padding=(1, 2))" --format json'
)
def shape(
    ctx: typer.Context,
    sources: Sources,
    input: InputOpt = None,
    format: FormatOpt = Format.table,
    output: OutputOpt = None,
    flops: Annotated[bool, typer.Option("--flops", help="Show FLOPs (2 × MACs) instead of MACs.")] = False,
    plot: Annotated[
        Path | None,
        typer.Option(
            "--plot", help="Also draw parameters and MACs per layer to this .png/.svg.", show_default=False
        ),
    ] = None,
    depth: Annotated[
        int | None,
        typer.Option(
            "--depth",
            "-d",
            min=1,
            help="Fold blocks nested deeper than this into one row.",
            show_default=False,
        ),
    ] = None,
    darknet: Annotated[
        bool,
        typer.Option(
            "--darknet", help="Darknet's own layer list for a .cfg network: columns, BFLOPs, total."
        ),
    ] = False,
    width: WidthOpt = None,
    color: ColorOpt = True,
    skip_unknown: SkipUnknownOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Output shape, parameters, MACs and memory of every layer, and the totals."""
    with _errors(debug, format):
        if darknet:
            from cnncalc.engine.analyze import analyze
            from cnncalc.render.darknet import darknet_table
            from cnncalc.sources import load_sources

            networks = load_sources(sources, _options(ctx, input))
            _write("".join(darknet_table(analyze(net), net) for net in networks), output)
            return
        reports = _load(ctx, sources, input, skip_unknown)
        if plot is not None:
            from cnncalc.render.plot import plot_cost

            plot_cost(reports[0], plot, flops)
        if format is Format.table:
            from cnncalc.render.table import shape_tables

            _show(shape_tables(reports, flops, depth), output, width, color)
        elif format is Format.json:
            from cnncalc.render import jsonout

            _write(jsonout.render(reports, flops), output)
        elif format is Format.csv:
            from cnncalc.render import csvout

            _write(csvout.render(reports, flops), output)
        else:
            from cnncalc.render import markdown

            _write(markdown.render(reports, flops), output)


@app.command(
    name="rf",
    epilog="Examples:\n\n  cnncalc rf examples/lenet5.yaml\n\n"
    "  cnncalc rf examples/chapter_rf.yaml --unit 0,0 --show\n\n"
    '  cnncalc rf -i 1,1,32,32 "Conv2d(1, 1, 3); Conv2d(1, 1, 3, dilation=2)" --format json',
)
def receptive_field(
    ctx: typer.Context,
    sources: Sources,
    input: InputOpt = None,
    unit: Annotated[
        str | None,
        typer.Option(
            "--unit",
            "-u",
            help="A unit's position, one index per spatial axis, e.g. 3,4.",
            show_default=False,
        ),
    ] = None,
    layer: Annotated[
        str | None,
        typer.Option(
            "--layer",
            "-l",
            help="The layer of --unit, by name or index (default: the last spatial one).",
            show_default=False,
        ),
    ] = None,
    show: Annotated[
        bool, typer.Option("--show", help="Draw the input grid with the unit's receptive field.")
    ] = False,
    plot: Annotated[
        Path | None,
        typer.Option(
            "--plot", help="Also draw field size and stride per layer to this .png/.svg.", show_default=False
        ),
    ] = None,
    format: FormatOpt = Format.table,
    output: OutputOpt = None,
    width: WidthOpt = None,
    color: ColorOpt = True,
    skip_unknown: SkipUnknownOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Receptive field of every layer (size, effective stride and padding), or one unit's input region."""
    from cnncalc.engine.analyze import analyze, unit_region
    from cnncalc.sources import load_sources, parse_unit_option

    with _errors(debug, format):
        networks = load_sources(sources, _options(ctx, input, skip_unknown))
        reports = [analyze(net) for net in networks]
        if plot is not None:
            from cnncalc.render.plot import plot_receptive_field

            plot_receptive_field(reports[0], plot)
        if unit is None and not show:
            if format is Format.json:
                from cnncalc.render import jsonout

                _write(jsonout.render(reports), output)
            elif format is Format.table:
                from cnncalc.render.rf import rf_tables

                _show(rf_tables(reports), output, width, color)
            else:
                from cnncalc.render.rf import rf_csv, rf_markdown

                _write(rf_csv(reports) if format is Format.csv else rf_markdown(reports), output)
            return
        if len(networks) != 1:
            raise SpecError("--unit and --show take one network", Position(f"<arg {2}>"))
        coords = parse_unit_option(unit) if unit is not None else None
        region = unit_region(networks[0], coords, layer)
        if format is Format.json:
            _write(json.dumps(region.to_dict(), indent=2) + "\n", output)
            return
        from cnncalc.render.rf import picture, unit_lines

        columns = width or shutil.get_terminal_size((80, 24)).columns
        items = unit_lines(region, reports[0]) + (picture(region, columns) if show else [])
        _show(items, output, width, color)


@app.command(
    epilog='Example:\n\n  cnncalc equiv -i 1,64,56,56 "Conv2d(64,64,3,padding=1); Conv2d(64,64,3,padding=1)" '
    '"Conv2d(64,64,5,padding=2)"'
)
def equiv(
    ctx: typer.Context,
    a: Annotated[
        str, typer.Argument(help="A network file, or inline layers separated by ';'.", show_default=False)
    ],
    b: Annotated[str, typer.Argument(help="The other network, the same way.", show_default=False)],
    input: InputOpt = None,
    format: FormatOpt = Format.table,
    output: OutputOpt = None,
    width: WidthOpt = None,
    color: ColorOpt = True,
    skip_unknown: SkipUnknownOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Compare two designs: exit 0 when output shape and receptive field agree, 1 when not."""
    from cnncalc.engine.analyze import analyze
    from cnncalc.engine.compare import equivalence
    from cnncalc.sources import load_one

    with _errors(debug, format):
        options = _options(ctx, input, skip_unknown)
        result = equivalence(
            analyze(load_one(a, options, "<arg 1>").network),
            analyze(load_one(b, options, "<arg 2>").network),
        )
        if format is Format.json:
            _write(json.dumps(result.to_dict(), indent=2) + "\n", output)
        else:
            from cnncalc.render.compare import equiv_table

            _show(equiv_table(result, result.a.name or a, result.b.name or b), output, width, color)
    if not result.equivalent:
        raise typer.Exit(1)


@app.command(epilog="Example:\n\n  cnncalc dense examples/lenet5.yaml")
def dense(
    ctx: typer.Context,
    sources: Sources,
    input: InputOpt = None,
    format: FormatOpt = Format.table,
    output: OutputOpt = None,
    width: WidthOpt = None,
    color: ColorOpt = True,
    skip_unknown: SkipUnknownOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Each convolution's weights against a fully connected layer mapping the same tensors."""
    from cnncalc.engine.compare import dense as compare_dense
    from cnncalc.sources import load_sources

    with _errors(debug, format):
        results = [compare_dense(net) for net in load_sources(sources, _options(ctx, input, skip_unknown))]
        if format is Format.json:
            from cnncalc.report import dumps

            items = [r.to_dict() for r in results]
            _write(dumps(items[0] if len(items) == 1 else items) + "\n", output)
        else:
            from cnncalc.render.compare import dense_table

            _show([item for r in results for item in dense_table(r)], output, width, color)


@app.command(
    epilog="Examples:\n\n  cnncalc convert yolov3-tiny.cfg -o yolov3-tiny.yaml\n\n"
    "  cnncalc convert model.onnx -o model.yaml --force\n\n"
    "  cnncalc convert --from-torch mypackage.models:make_net --input 1,3,224,224 -o net.yaml"
)
def convert(
    ctx: typer.Context,
    source: Annotated[
        str | None, typer.Argument(help="A .cfg, .onnx or .yaml network file.", show_default=False)
    ] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="The YAML file to write.")] = Path("-"),
    from_torch: Annotated[
        str | None,
        typer.Option(
            "--from-torch",
            help="package.module:factory returning an nn.Module (traced with torch.fx).",
            show_default=False,
        ),
    ] = None,
    input: InputOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing output file.")] = False,
    skip_unknown: SkipUnknownOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Write the cnncalc YAML equivalent of a network (Darknet, ONNX, PyTorch or YAML)."""
    from cnncalc.readers import read
    from cnncalc.spec.export import network_yaml

    with _errors(debug):
        options = _options(ctx, input, skip_unknown)
        if (source is None) == (from_torch is None):
            raise SpecError("give either a SOURCE file or --from-torch", Position("<command line>"))
        if str(output) == "-":
            raise SpecError("give the file to write with -o FILE", Position("<option --output>"))
        if output.exists() and not force:
            raise SourceError("exists already; add --force to overwrite it", Position(str(output)))
        if from_torch is not None:
            network = read(from_torch, options, format="torch").network
            origin = from_torch
        else:
            assert source is not None
            network = read(source, options).network
            origin = source
        _write(network_yaml(network, origin), output)


@app.command(epilog="Example:\n\n  cnncalc check examples/*.yaml")
def check(
    ctx: typer.Context,
    sources: Sources,
    input: InputOpt = None,
    skip_unknown: SkipUnknownOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Validate networks without printing figures: exit 0 and 'ok' per network, or the error."""
    with _errors(debug):
        reports = _load(ctx, sources, input, skip_unknown)
        for report in reports:
            typer.echo(f"ok: {report.name or 'network'} ({len(report.layers)} layers)")


@app.command(epilog="Examples:\n\n  cnncalc layers\n\n  cnncalc layers conv --format json")
def layers(
    match: Annotated[
        str | None, typer.Argument(help="Only kinds whose name contains this.", show_default=False)
    ] = None,
    format: FormatOpt = Format.table,
    debug: DebugOpt = False,
) -> None:
    """Every supported layer type with its arguments and defaults, in PyTorch's order."""
    from cnncalc.spec.catalogue import catalogue, signature

    with _errors(debug, format):
        entries = [e for e in catalogue() if match is None or match.lower() in e.kind.lower()]
        if format is Format.json:
            _write(json.dumps([e.to_dict() for e in entries], indent=2) + "\n", None)
        else:
            _write("".join(signature(e) + "\n" for e in entries), None)


@app.command(epilog="Example:\n\n  cnncalc schema > cnncalc.schema.json")
def schema() -> None:
    """The JSON Schema of the network file, for editors with a YAML language server."""
    from cnncalc.spec.schema import network_schema

    _write(json.dumps(network_schema(), indent=2) + "\n", None)


def main() -> None:
    """Console entry point: Ctrl-C exits 130 and a closed pipe ends quietly."""
    # A run is short and builds few reference cycles; the cyclic collector would rescan every
    # live object again and again as a 100,000-layer network grows (quadratic time). Off.
    gc.disable()
    # pydantic looks for plugins in every installed package's entry points at the first
    # validation (~10 ms here, more in larger environments); cnncalc's models use none.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "1")
    try:
        app()
    except KeyboardInterrupt:
        sys.stderr.write("cnncalc: interrupted\n")
        sys.exit(130)
    except BrokenPipeError:
        # stdout's reader went away (``| head``): silence the interpreter's flush at exit
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)
