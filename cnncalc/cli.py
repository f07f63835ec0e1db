"""The command line: typer commands only — parse options, load, analyze, render; errors exit 2."""

# No ``from __future__ import annotations`` here: typer reads every command's parameter
# annotations at each run, and string annotations cost it a compile and an eval apiece (about 90
# of them: building the command group took 2.5 times as long). Annotations that name
# TYPE_CHECKING-only types are quoted instead.

import contextlib
import gc
import os
import sys
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer import Abort
from typer.core import TyperGroup

try:  # typer >= 0.29 vendors click
    from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
except ImportError:  # earlier typer runs on click itself
    from click.exceptions import (  # type: ignore[import-not-found,no-redef,assignment,unused-ignore]
        ClickException,
        NoArgsIsHelpError,
        UsageError,
    )

from cnncalc import __version__
from cnncalc.errors import ArgumentError, CnncalcError, LimitError, Position, SpecError
from cnncalc.limits import Limits
from cnncalc.options import (
    ColorOpt,
    CountOpt,
    DebugOpt,
    DepthOpt,
    FromTorchOpt,
    FuseOpt,
    InputOpt,
    InputsOpt,
    ListFormatOpt,
    OptimizerName,
    OutputOpt,
    OutputOptions,
    ScaleOpt,
    ShapeFormatOpt,
    SkipUnknownOpt,
    Sources,
    TableFormatOpt,
    WidthOpt,
    complete_source,
    parse_input_option,
    parse_size_option,
    parse_unit_option,
)

if TYPE_CHECKING:
    from cnncalc.graph import Network
    from cnncalc.readers import ReadOptions
    from cnncalc.report import Report

# complete_source: the shell completion of SOURCE, named here for scripts that import it
__all__ = ["app", "complete_source", "main"]


class _DeferredCoercion:
    """Stands in for typer's coercion of one parameter until a value needs it.

    typer builds a pydantic ``TypeAdapter`` for every parameter of the command being run, given
    or not, to coerce ``None`` to ``None``; a command here has a dozen options, nearly all left
    out. An option that is absent keeps its default untouched (what the adapter would return);
    any other value goes through typer's own coercion, so values and error messages are typer's.
    """

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        if value is None and not (param.multiple or param.nargs == -1):
            return None
        if value is param.default and type(value) in (int, str):
            return value  # a default written in this module, already of its type and range
        info = param.type_descriptor.parameter_info
        if info.parser is None:
            # a string where str or a Literal of strings is wanted (SOURCE, --format) is what
            # typer's adapter would return; building that pydantic adapter cost ~3 ms apiece
            plain = _as_written(value, param.type_descriptor.annotation)
            if plain is not _NOT_PLAIN:
                return plain
        param._runtime_param = None
        return param.get_runtime_param().coerce(value, param=param, ctx=ctx)


_DEFERRED = _DeferredCoercion()
_NOT_PLAIN = object()


def _as_written(value: Any, annotation: Any) -> Any:
    """``value`` as typer's coercion returns it, when ``annotation`` (str, a Literal of strings,
    either of them optional, or a list of one) takes it unchanged; otherwise ``_NOT_PLAIN``, and
    typer coerces (and words any error) itself."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType) and len(args) == 2 and type(None) in args:
        return _as_written(value, args[0] if args[1] is type(None) else args[1])
    if annotation is str or (origin is typing.Literal and all(type(a) is str for a in args)):
        return value if type(value) is str and (annotation is str or value in args) else _NOT_PLAIN
    if origin is list and len(args) == 1 and type(value) in (list, tuple):
        items = [_as_written(item, args[0]) for item in value]
        return _NOT_PLAIN if any(item is _NOT_PLAIN for item in items) else items
    return _NOT_PLAIN


def _defer_coercion(group: TyperGroup) -> None:
    """Let the parameters of every command coerce through :class:`_DeferredCoercion` (skipped on
    a typer without ``_runtime_param``, whose parameters keep their own coercion)."""
    for command in (group, *group.commands.values()):
        for param in command.params:
            if getattr(param, "_runtime_param", False) is None:
                param._runtime_param = _DEFERRED  # type: ignore[attr-defined]
        if "get_help_option" not in vars(command):  # once per command, however many runs
            command.get_help_option = _deferred_help(command.get_help_option)  # type: ignore[method-assign]


def _deferred_help(get: Any) -> Any:
    """``get_help_option`` whose option coerces through :class:`_DeferredCoercion` too: click
    makes ``--help`` when parsing, after the others are set, and coercing its absent value
    built a pydantic adapter (importing typer's adapter module, ~10 ms) only to return None."""

    def get_help_option(ctx: Any) -> Any:
        option = get(ctx)
        if option is not None and getattr(option, "_runtime_param", False) is None:
            option._runtime_param = _DEFERRED
        return option

    return get_help_option


class _OneLineErrors(TyperGroup):
    """Usage errors in one located line, like every other error (click prints a usage block)."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        _defer_coercion(self)
        try:
            result = super().main(*args, **kwargs)
        except NoArgsIsHelpError as exc:
            # ``cnncalc`` alone asked for nothing: the help, and exit 2 as for any usage error
            typer.echo(exc.ctx.get_help() if exc.ctx else "")
            sys.exit(2)
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


def _fail(exc: CnncalcError, json_errors: bool) -> None:
    """The single error exit: one line on stderr (JSON with --format json), exit code 2."""
    exc = _located(exc)
    if json_errors:
        from cnncalc.render.jsonout import error_json

        sys.stderr.write(error_json(exc))
    else:
        sys.stderr.write(f"{exc}\n")
    raise typer.Exit(2)


@contextlib.contextmanager
def _errors(debug: bool, out: OutputOptions | None = None) -> Iterator[None]:
    try:
        yield
    except CnncalcError as exc:
        if debug:
            raise
        _fail(exc, out is not None and out.json_errors)


def _emit(result: object, out: OutputOptions) -> None:
    """Render a command's result in the chosen format and write it where it goes."""
    from cnncalc.render import render
    from cnncalc.render.output import emit

    try:
        rendered = render(result, out.chosen)
    except CnncalcError as exc:
        # a format that cannot show this result (Darknet's list of a YAML network, say)
        raise exc.located(Position("<option --format>")) from None
    emit(rendered, out.output, out.width, out.color)


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


def _options(ctx: typer.Context, input_shape: str | None, skip_unknown: bool = False) -> "ReadOptions":
    """The readers' options for this command: --input, --skip-unknown, --scale and the run's
    limits."""
    from cnncalc.readers import ReadOptions

    root = ctx.find_root().obj
    limits = root if isinstance(root, Limits) else Limits()
    scale = ctx.params.get("scale")
    return ReadOptions(parse_input_option(input_shape), skip_unknown, limits, scale=scale)


def _given(sources: list[str] | None, from_torch: str | None) -> list[str]:
    """SOURCE arguments, or the module --from-torch names (``torch:SPEC``), never both."""
    if from_torch is not None:
        if sources:
            raise SpecError("give either SOURCE or --from-torch, not both", Position("<command line>"))
        return [f"torch:{from_torch}"]
    if not sources:
        raise SpecError(
            "missing SOURCE: give network files, inline layers or --from-torch SPEC",
            Position("<command line>"),
        )
    return sources


def _load(
    ctx: typer.Context, sources: list[str], input_shape: str | None, skip_unknown: bool = False
) -> "list[Report]":
    from cnncalc.engine.analyze import analyze
    from cnncalc.sources import load_sources

    return [analyze(net) for net in load_sources(sources, _options(ctx, input_shape, skip_unknown))]


@app.command(
    epilog="Examples:\n\n  cnncalc shape examples/vgg16.yaml\n\n"
    "  cnncalc shape --from-torch \"timm:create_model('resnet18')\" -i 1,3,224,224\n\n"
    "  cnncalc shape examples/yolov3-tiny.cfg --format darknet\n\n"
    '  cnncalc shape -i 4,2,3,5 "Conv2d(2, 3, kernel_size=(3, 5), padding=(1, 2))" --format json\n\n'
    '  cnncalc shape -i 1,3,224,224 "Conv2d(3, 64, 3, stride=2, padding=1)" --symbolic'
)
def shape(
    ctx: typer.Context,
    sources: Sources = None,
    from_torch: FromTorchOpt = None,
    input: InputOpt = None,
    format: ShapeFormatOpt = None,
    output: OutputOpt = None,
    flops: Annotated[bool, typer.Option("--flops", help="Show FLOPs (2 × MACs) instead of MACs.")] = False,
    plot: Annotated[
        Path | None,
        typer.Option(
            "--plot",
            help="Also draw parameters and MACs per layer to this .png, .svg or .pdf.",
            show_default=False,
        ),
    ] = None,
    depth: DepthOpt = None,
    inputs: InputsOpt = False,
    darknet: Annotated[
        bool,
        typer.Option("--darknet", help="Short for --format darknet: Darknet's own layer list of a .cfg."),
    ] = False,
    symbolic: Annotated[
        bool,
        typer.Option(
            "--symbolic",
            help="Output shapes as formulas in the input's axis names (L; H, W; D, H, W), "
            "valid for every size the network accepts.",
        ),
    ] = False,
    count: CountOpt = None,
    fuse: FuseOpt = False,
    width: WidthOpt = None,
    color: ColorOpt = True,
    skip_unknown: SkipUnknownOpt = False,
    scale: ScaleOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Output shape, parameters, MACs and memory of every layer, and the totals."""
    from cnncalc.count import report_under
    from cnncalc.render import Shapes
    from cnncalc.sources import load_reads

    out = OutputOptions(format, output, width, color)
    with _errors(debug, out):
        if darknet:
            if format not in (None, "darknet"):
                raise ArgumentError(
                    f"--darknet is short for --format darknet, not --format {format}", "darknet"
                )
            out = OutputOptions("darknet", output, width, color)
        if out.chosen == "darknet" and (count is not None or fuse):
            raise ArgumentError("--format darknet prints Darknet's own figures: use --count darknet", "count")
        reads = load_reads(_given(sources, from_torch), _options(ctx, input, skip_unknown))
        if symbolic:
            if flops or plot is not None or depth is not None or inputs:
                raise ArgumentError(
                    "--symbolic shows formulas: --flops, --plot, --depth and --inputs do not apply",
                    "symbolic",
                )
            _emit(_formulas([r.network for r in reads]), out)
            return
        reports = tuple(report_under(r.network, count, fuse) for r in reads)
        flops = flops and not any(r.count is not None and r.count.unit == "FLOPs" for r in reports)
        for r in reads:
            _warn_training(r.network)
        if plot is not None:
            from cnncalc.render.plot import plot_cost

            plot_cost(reports[0], plot, flops, depth)
        _emit(Shapes(reports, flops, depth, tuple(r.extras for r in reads), inputs), out)


def _formulas(networks: "list[Network]") -> object:
    """``shape --symbolic``: each network's shape formulas, simplified on its valid sizes."""
    from cnncalc.engine.sizes import shape_formulas, valid_sizes
    from cnncalc.render import Formulas

    sizes = tuple(valid_sizes(net) for net in networks)
    formulas = tuple(shape_formulas(net, s) for net, s in zip(networks, sizes))
    return Formulas(formulas, sizes, tuple(net.name for net in networks))


@app.command(
    epilog="Examples:\n\n  cnncalc sizes examples/unet.yaml\n\n"
    "  cnncalc sizes examples/yolov3-tiny.cfg --near 500\n\n"
    "  cnncalc sizes examples/resnet50.yaml --format json"
)
def sizes(
    ctx: typer.Context,
    sources: Sources = None,
    from_torch: FromTorchOpt = None,
    near: Annotated[
        int | None,
        typer.Option(
            "--near", min=1, help="Also the nearest valid sizes below and above this one.", show_default=False
        ),
    ] = None,
    input: InputOpt = None,
    format: TableFormatOpt = None,
    output: OutputOpt = None,
    width: WidthOpt = None,
    color: ColorOpt = True,
    skip_unknown: SkipUnknownOpt = False,
    scale: ScaleOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Which input sizes a network accepts on each spatial axis: the exact rule and the layers behind it."""
    from cnncalc.engine.sizes import valid_sizes
    from cnncalc.render import Sizes
    from cnncalc.sources import load_sources

    out = OutputOptions(format, output, width, color)
    with _errors(debug, out):
        networks = load_sources(_given(sources, from_torch), _options(ctx, input, skip_unknown))
        reports = tuple(valid_sizes(net) for net in networks)
        nearest = (
            tuple(tuple(axis.nearest(near) for axis in r.axes) for r in reports) if near is not None else ()
        )
        _emit(Sizes(reports, tuple(net.name for net in networks), near, nearest), out)


@app.command(
    epilog="Examples:\n\n"
    '  cnncalc solve -i 1,3,224,224 "Conv2d(3, 16, 3, stride=2, padding=?)" --out 112\n\n'
    '  cnncalc solve -i 1,8,28,28 "ConvTranspose2d(8, 8, 3, stride=2, padding=1, output_padding=?)" '
    "--out 56\n\n"
    "  cnncalc solve net.yaml --out 64,48"
)
def solve(
    ctx: typer.Context,
    source: Annotated[
        str,
        typer.Argument(
            help='A call form with one argument written ?, e.g. "Conv2d(3, 16, 3, padding=?)", '
            'or a network file with one (padding: "?" in a layer mapping).',
            metavar="SOURCE",
            show_default=False,
        ),
    ],
    out_size: Annotated[
        str,
        typer.Option(
            "--out",
            help="The wanted output size: one for every spatial axis (112) or one per axis (112,56).",
            metavar="N[,M]",
            show_default=False,
        ),
    ],
    input: InputOpt = None,
    format: TableFormatOpt = None,
    output: OutputOpt = None,
    width: WidthOpt = None,
    color: ColorOpt = True,
    debug: DebugOpt = False,
) -> None:
    """The values of one layer argument written ? that give the wanted output size (exit 1 if none)."""
    from cnncalc.engine.solve import solve as run
    from cnncalc.options import parse_out_option
    from cnncalc.render import Solved
    from cnncalc.sources import looks_like_file

    out = OutputOptions(format, output, width, color)
    with _errors(debug, out):
        want = parse_out_option(out_size)
        options = _options(ctx, input)
        named = looks_like_file(source)
        if named:
            from cnncalc.readers import Source, reader_for
            from cnncalc.spec.unknown import load_unknown

            src = Source(source)
            if reader_for(src).name != "yaml":
                raise SpecError(
                    "solve reads a ? from a cnncalc YAML file or a call form", Position(src.label)
                )
            found = load_unknown(src.text(), src.label, options.input_shape, options.limits)
            report = run(found.network, want, unknown=(found.layer, found.argument))
        else:
            if options.input_shape is None:
                raise SpecError("a call form needs --input, e.g. --input 1,3,224,224", Position("<arg 1>"))
            try:
                report = run(source, want, input_shape=options.input_shape)
            except SpecError as exc:
                at = exc.position
                if at is None or at.file == "<call>":  # the engine's name for the call form
                    exc.position = Position("<arg 1>", at.line, at.column) if at else Position("<arg 1>")
                raise
        _emit(Solved(report, named), out)
    if not report.solutions:
        raise typer.Exit(1)


def _warn_training(network: "Network") -> None:
    """One line on stderr when PyTorch would refuse the network in training (shape answers in
    eval mode): the first layer it refuses, located, and how many more."""
    from cnncalc.engine.training import may_refuse

    if not may_refuse(network):
        return
    from cnncalc.engine.memory import training_refusals
    from cnncalc.errors import escape

    refusals = training_refusals(network)
    if refusals:
        first = refusals[0]
        where = f"{first.position}: " if first.position is not None else ""
        more = f" (and {len(refusals) - 1} more)" if len(refusals) > 1 else ""
        message = f"{where}warning: {first.message}{more}; these figures are eval mode's"
        sys.stderr.write(escape(message) + "\n")


@app.command(
    name="rf",
    epilog="Examples:\n\n  cnncalc rf examples/lenet5.yaml\n\n"
    "  cnncalc rf examples/chapter_rf.yaml --unit 0,0 --show\n\n"
    '  cnncalc rf -i 1,1,32,32 "Conv2d(1, 1, 3); Conv2d(1, 1, 3, dilation=2)" --format json',
)
def receptive_field(
    ctx: typer.Context,
    sources: Sources = None,
    from_torch: FromTorchOpt = None,
    input: InputOpt = None,
    unit: Annotated[
        str | None,
        typer.Option(
            "--unit",
            "-u",
            help="A unit's position, one index per spatial axis, e.g. 3,4 (shown as table or json).",
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
            "--plot",
            help="Also draw field size and stride per layer to this .png, .svg or .pdf.",
            show_default=False,
        ),
    ] = None,
    depth: DepthOpt = None,
    inputs: InputsOpt = False,
    format: TableFormatOpt = None,
    output: OutputOpt = None,
    width: WidthOpt = None,
    color: ColorOpt = True,
    skip_unknown: SkipUnknownOpt = False,
    scale: ScaleOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Receptive field of every layer (size, effective stride and padding), or one unit's input region."""
    from cnncalc.engine.analyze import analyze, unit_region
    from cnncalc.render import Fields, Unit
    from cnncalc.sources import load_sources

    out = OutputOptions(format, output, width, color)
    with _errors(debug, out):
        networks = load_sources(_given(sources, from_torch), _options(ctx, input, skip_unknown))
        reports = tuple(analyze(net) for net in networks)
        if plot is not None:
            from cnncalc.render.plot import plot_receptive_field

            plot_receptive_field(reports[0], plot, depth)
        if unit is None and not show:
            _emit(Fields(reports, depth, inputs), out)
            return
        if len(networks) != 1:
            raise SpecError("--unit and --show take one network", Position(f"<arg {2}>"))
        coords = parse_unit_option(unit) if unit is not None else None
        region = unit_region(networks[0], coords, layer)
        _emit(Unit(region, reports[0], show, width), out)


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
    format: TableFormatOpt = None,
    output: OutputOpt = None,
    count: CountOpt = None,
    fuse: FuseOpt = False,
    width: WidthOpt = None,
    color: ColorOpt = True,
    skip_unknown: SkipUnknownOpt = False,
    scale: ScaleOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Compare two designs: exit 0 when output shape and receptive field agree, 1 when not."""
    from cnncalc.count import report_under
    from cnncalc.engine.compare import equivalence
    from cnncalc.render import Compared
    from cnncalc.sources import load_one

    out = OutputOptions(format, output, width, color)
    with _errors(debug, out):
        options = _options(ctx, input, skip_unknown)
        result = equivalence(
            report_under(load_one(a, options, "<arg 1>").network, count, fuse),
            report_under(load_one(b, options, "<arg 2>").network, count, fuse),
        )
        _emit(Compared(result, result.a.name or a, result.b.name or b), out)
    if not result.equivalent:
        raise typer.Exit(1)


@app.command(epilog="Example:\n\n  cnncalc dense examples/lenet5.yaml")
def dense(
    ctx: typer.Context,
    sources: Sources = None,
    from_torch: FromTorchOpt = None,
    input: InputOpt = None,
    format: TableFormatOpt = None,
    output: OutputOpt = None,
    width: WidthOpt = None,
    color: ColorOpt = True,
    skip_unknown: SkipUnknownOpt = False,
    scale: ScaleOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Each convolution's weights against a fully connected layer mapping the same tensors."""
    from cnncalc.engine.compare import dense as compare_dense
    from cnncalc.render import Dense
    from cnncalc.sources import load_sources

    out = OutputOptions(format, output, width, color)
    with _errors(debug, out):
        networks = load_sources(_given(sources, from_torch), _options(ctx, input, skip_unknown))
        _emit(Dense(tuple(compare_dense(net) for net in networks)), out)


@app.command(
    epilog="Examples:\n\n"
    "  cnncalc memory examples/resnet50.yaml --batch 32 --optimizer adam --budget 24GiB\n\n"
    '  cnncalc memory -i 2,3,32,32 "Conv2d(3, 8, 3); ReLU; MaxPool2d(2)" --format json\n\n'
    "  cnncalc memory examples/vgg16.yaml --inference --depth 1"
)
def memory(
    ctx: typer.Context,
    sources: Sources = None,
    from_torch: FromTorchOpt = None,
    input: InputOpt = None,
    batch: Annotated[
        int | None,
        typer.Option(
            "--batch", "-b", min=1, help="Batch size (default: the input's first axis).", show_default=False
        ),
    ] = None,
    optimizer: Annotated[
        OptimizerName, typer.Option("--optimizer", help="The torch.optim state to count.")
    ] = "none",
    dtype: Annotated[
        str | None,
        typer.Option(
            "--dtype", help="Parameter and activation dtype (default: the network's).", show_default=False
        ),
    ] = None,
    budget: Annotated[
        str | None,
        typer.Option(
            "--budget",
            help="Memory to fit, e.g. 24GiB, 512MiB, 8GB, 1e9: the largest batch and the peak per batch.",
            show_default=False,
        ),
    ] = None,
    inference: Annotated[
        bool, typer.Option("--inference", help="One inference pass: live activations, no autograd.")
    ] = False,
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
    plot: Annotated[
        Path | None,
        typer.Option(
            "--plot",
            help="Also draw the parts of the peak stacked against batch size to this .png/.svg.",
            show_default=False,
        ),
    ] = None,
    format: TableFormatOpt = None,
    output: OutputOpt = None,
    width: WidthOpt = None,
    color: ColorOpt = True,
    skip_unknown: SkipUnknownOpt = False,
    scale: ScaleOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Training memory per layer and in total: saved tensors, gradients, optimizer state, peak.

    The figures follow PyTorch's CPU autograd: the tensors each operator saves for backward
    (tools/autograd/derivatives.yaml), storages counted once, the state torch.optim holds after
    one step. The peak is an estimate and a lower bound for a real process.
    """
    from cnncalc.engine import memory as engine
    from cnncalc.render import Memory
    from cnncalc.sources import load_sources

    out = OutputOptions(format, output, width, color)
    with _errors(debug, out):
        budget_bytes = parse_size_option(budget) if budget is not None else None
        networks = load_sources(_given(sources, from_torch), _options(ctx, input, skip_unknown))
        reports = tuple(
            engine.memory(net, batch=batch, optimizer=optimizer, dtype=dtype, inference=inference)
            for net in networks
        )
        fits = tuple(engine.fit(r, budget_bytes) if budget_bytes is not None else None for r in reports)
        if plot is not None:
            from cnncalc.render.plot import plot_memory

            first, fitted = reports[0], fits[0]
            ladder = (
                fitted.by_batch
                if fitted is not None
                else engine.by_batch(first, engine.batch_ladder(None, first.batch))
            )
            plot_memory(first.name, ladder, plot, budget_bytes)
        _emit(Memory(reports, fits, depth), out)


@app.command(
    epilog="Examples:\n\n  cnncalc convert yolov3-tiny.cfg -o yolov3-tiny.yaml\n\n"
    "  cnncalc convert model.onnx -o model.yaml --force\n\n"
    '  cnncalc convert --from-torch "torchvision.models:resnet50(num_classes=10)" --input 1,3,224,224 '
    "-o net.yaml"
)
def convert(
    ctx: typer.Context,
    source: Annotated[
        str | None, typer.Argument(help="A .cfg, .onnx or .yaml network file.", show_default=False)
    ] = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The YAML file to write (default: standard output).")
    ] = Path("-"),
    from_torch: FromTorchOpt = None,
    input: InputOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing output file.")] = False,
    skip_unknown: SkipUnknownOpt = False,
    scale: ScaleOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Write the cnncalc YAML equivalent of a network (Darknet, ONNX, PyTorch or YAML)."""
    from cnncalc.readers import read
    from cnncalc.render.output import check_target, write
    from cnncalc.spec.export import network_yaml, schema_reference

    with _errors(debug):
        options = _options(ctx, input, skip_unknown)
        if (source is None) == (from_torch is None):
            raise SpecError("give either a SOURCE file or --from-torch", Position("<command line>"))
        to_stdout = str(output) == "-"
        if not to_stdout:
            check_target(output, exclusive=True, force=force)
        if from_torch is not None:
            network = read(from_torch, options, format="torch").network
            origin = from_torch
        else:
            assert source is not None
            network = read(source, options).network
            origin = source
        text = network_yaml(network, origin, schema_reference(None if to_stdout else output))
        write(text, None if to_stdout else output, exclusive=True, force=force)


@app.command(epilog="Example:\n\n  cnncalc check examples/*.yaml")
def check(
    ctx: typer.Context,
    sources: Sources = None,
    from_torch: FromTorchOpt = None,
    input: InputOpt = None,
    skip_unknown: SkipUnknownOpt = False,
    scale: ScaleOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Validate networks without printing figures: 'ok' per file, or its error; exit 2 if any failed."""
    from cnncalc.sources import looks_like_file

    with _errors(debug):
        given = _given(sources, from_torch)
        # files one by one, so one bad file does not hide the others; inline layers are one network
        groups = [[s] for s in given] if all(looks_like_file(s) for s in given) else [given]
        failed = 0
        for group in groups:
            label = group[0].removeprefix("torch:") if len(group) == 1 else "<inline layers>"
            try:
                reports = _load(ctx, group, input, skip_unknown)
            except CnncalcError as exc:
                if debug:
                    raise
                failed += 1
                sys.stdout.flush()
                sys.stderr.write(f"{_located(exc)}\n")
                sys.stderr.flush()
                continue
            layers = sum(len(r.layers) for r in reports)
            typer.echo(f"ok: {label} ({layers:,} layer{'' if layers == 1 else 's'})")
        if failed:
            if len(groups) > 1:  # one file's error line says it all
                sys.stderr.write(f"check: {failed} of {len(groups)} failed\n")
            raise typer.Exit(2)


@app.command(epilog="Examples:\n\n  cnncalc layers\n\n  cnncalc layers conv --format json")
def layers(
    match: Annotated[
        str | None, typer.Argument(help="Only kinds whose name contains this.", show_default=False)
    ] = None,
    format: ListFormatOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Every supported layer type with its arguments and defaults, in PyTorch's order."""
    from cnncalc.render import Catalogue
    from cnncalc.spec.catalogue import catalogue

    out = OutputOptions(format)
    with _errors(debug, out):
        every = catalogue()
        entries = tuple(e for e in every if match is None or match.lower() in e.kind.lower())
        if not entries and match is not None:
            raise SpecError(_no_kind(match, [e.kind for e in every]), Position("<arg 1>"))
        _emit(Catalogue(entries), out)


def _no_kind(match: str, kinds: list[str]) -> str:
    """The message for a ``layers`` filter that matches no kind, with the closest kinds."""
    import difflib

    lowered = {k.lower(): k for k in kinds}
    close = [lowered[k] for k in difflib.get_close_matches(match.lower(), list(lowered), n=3, cutoff=0.5)]
    hint = f"; did you mean {' or '.join(close)}?" if close else "; 'cnncalc layers' lists every kind"
    return f"no layer kind contains {match!r}{hint}"


@app.command(epilog="Example:\n\n  cnncalc schema > cnncalc.schema.json")
def schema() -> None:
    """The JSON Schema of the network file, for editors with a YAML language server."""
    from cnncalc.render import Schema
    from cnncalc.spec.schema import network_schema

    _emit(Schema(network_schema()), OutputOptions("json"))


def _hard_exit(code: int) -> None:
    """End the process once its output is flushed, without the interpreter's teardown: freeing a
    100,000-layer network object by object took ~0.3 s of a 3 s run, for nothing (every file
    cnncalc writes is complete and closed before this point; mypy ends its runs the same way)."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
    os._exit(code)


def main() -> None:
    """Console entry point: Ctrl-C exits 130 and a closed pipe ends quietly."""
    # A run is short and builds few reference cycles; the cyclic collector would rescan every
    # live object again and again as a 100,000-layer network grows (quadratic time). Off.
    gc.disable()
    from cnncalc.errors import escape
    from cnncalc.render.output import Interrupted

    # pydantic looks for plugins in every installed package's entry points at the first
    # validation (~10 ms here, more in larger environments); cnncalc's models use none.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "1")
    try:
        try:
            app()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            if exc.code is not None and not isinstance(exc.code, int):
                sys.stderr.write(f"{exc.code}\n")
            _hard_exit(code)
    except KeyboardInterrupt:
        sys.stderr.write("cnncalc: interrupted\n")
        sys.exit(130)
    except Interrupted as exc:  # SIGTERM or SIGHUP while a file was written
        sys.stderr.write("cnncalc: interrupted\n")
        sys.exit(128 + exc.signum)
    except BrokenPipeError:
        # stdout's reader went away (``| head``): silence the interpreter's flush at exit
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)
    except Exception as exc:
        # a path the library does not yet name: still one line and exit 2, never a traceback
        if "--debug" in sys.argv:
            raise
        message = escape(str(exc))
        sys.stderr.write(f"cnncalc: internal error: {type(exc).__name__}: {message[:200]}\n")
        sys.exit(2)
