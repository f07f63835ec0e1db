"""Renderers: one registry from (result, format) to a function that returns text or rich renderables.

A command builds one of the results below from what the library computed and calls
:func:`render`; which function draws it is looked up here, and its module is imported only
then (rich is imported by the table renderers, when they draw). Renderers lay out; they never
compute. Adding a format is one module with its functions plus their lines in ``REGISTRY``.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from cnncalc.errors import ArgumentError

if TYPE_CHECKING:
    from rich.console import RenderableType

    from cnncalc.engine.memory import BudgetFit, MemoryReport
    from cnncalc.engine.sizes import FormulaReport, SizesReport
    from cnncalc.engine.solve import SolveReport
    from cnncalc.report import DenseReport, Equivalence, Report, UnitRegion
    from cnncalc.spec.catalogue import Entry

    Rendered = str | list[RenderableType]


class Format(str, Enum):
    """Every output format; each command lists those its result has renderers for."""

    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"
    darknet = "darknet"


# ``-o FILE`` without ``--format``: the file's suffix says which; anything else is a table
SUFFIXES = {".json": Format.json, ".csv": Format.csv, ".md": Format.markdown}


def format_for(path: Path | None) -> Format:
    """The format a file's suffix implies (``.json``, ``.csv``, ``.md``), else the table."""
    return SUFFIXES.get(path.suffix.lower(), Format.table) if path is not None else Format.table


@dataclass(frozen=True)
class Shapes:
    """``shape``: reports, with FLOPs instead of MACs, folded below a depth; ``extras`` are the
    readers' (one mapping per report), for views of a source format such as Darknet's;
    ``inputs`` adds the column of the layers feeding each (Keras' "Connected to")."""

    title: ClassVar[str] = "the layer table"

    reports: tuple[Report, ...]
    flops: bool = False
    depth: int | None = None
    extras: tuple[Mapping[str, Any], ...] = ()
    inputs: bool = False


@dataclass(frozen=True)
class Fields:
    """``rf``: the receptive field of every layer of each report, folded below a depth, with
    the inputs column when ``inputs``."""

    title: ClassVar[str] = "the receptive-field table"

    reports: tuple[Report, ...]
    depth: int | None = None
    inputs: bool = False


@dataclass(frozen=True)
class Unit:
    """``rf --unit``: one unit's input region (``report`` is its network's), with the picture of
    the input grid when ``picture`` is set, drawn within ``columns`` (default: the terminal's)."""

    title: ClassVar[str] = "a unit's region"

    region: UnitRegion
    report: Report
    picture: bool = False
    columns: int | None = None


@dataclass(frozen=True)
class Compared:
    """``equiv``: two networks compared, each with the label it is shown under."""

    title: ClassVar[str] = "a comparison"

    equivalence: Equivalence
    label_a: str
    label_b: str


@dataclass(frozen=True)
class Dense:
    """``dense``: each network's convolutions against fully connected layers."""

    title: ClassVar[str] = "the dense comparison"

    reports: tuple[DenseReport, ...]


@dataclass(frozen=True)
class Memory:
    """``memory``: each network's training (or inference) memory, with its fit to ``--budget``
    (None without one), rows folded below a depth."""

    title: ClassVar[str] = "the memory table"

    reports: tuple[MemoryReport, ...]
    fits: tuple[BudgetFit | None, ...]
    depth: int | None = None


@dataclass(frozen=True)
class Sizes:
    """``sizes``: each network's valid input sizes per axis, under the name it is shown with;
    with ``near``, the nearest valid sizes to it (``nearest[i][j]``: network i, axis j)."""

    title: ClassVar[str] = "the valid sizes"

    reports: tuple[SizesReport, ...]
    names: tuple[str | None, ...]
    near: int | None = None
    nearest: tuple[tuple[tuple[int | None, int | None], ...], ...] = ()


@dataclass(frozen=True)
class Formulas:
    """``shape --symbolic``: each network's output-shape formulas, with its valid sizes."""

    title: ClassVar[str] = "the shape formulas"

    reports: tuple[FormulaReport, ...]
    sizes: tuple[SizesReport, ...]
    names: tuple[str | None, ...]


@dataclass(frozen=True)
class Solved:
    """``solve``: the values of the argument left as ``?``; ``named`` when the layer is one of a
    network file's (then lines name it)."""

    title: ClassVar[str] = "the solutions"

    report: SolveReport
    named: bool = False


@dataclass(frozen=True)
class Catalogue:
    """``layers``: the layer kinds (those matching the command's filter)."""

    title: ClassVar[str] = "the layer catalogue"

    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class Schema:
    """``schema``: the JSON Schema of the network file."""

    title: ClassVar[str] = "the schema"

    document: Mapping[str, Any]


# (result type, format) → "module:function"; the function takes the result and returns text,
# or rich renderables for the terminal
REGISTRY: dict[tuple[type, Format], str] = {
    (Shapes, Format.table): "cnncalc.render.table:shapes_table",
    (Shapes, Format.json): "cnncalc.render.jsonout:shapes_json",
    (Shapes, Format.csv): "cnncalc.render.csvout:shapes_csv",
    (Shapes, Format.markdown): "cnncalc.render.markdown:shapes_markdown",
    (Shapes, Format.darknet): "cnncalc.render:shapes_darknet",
    (Fields, Format.table): "cnncalc.render.rf:fields_table",
    (Fields, Format.json): "cnncalc.render.jsonout:fields_json",
    (Fields, Format.csv): "cnncalc.render.rf:fields_csv",
    (Fields, Format.markdown): "cnncalc.render.rf:fields_markdown",
    (Unit, Format.table): "cnncalc.render.rf:unit_table",
    (Unit, Format.json): "cnncalc.render.jsonout:unit_json",
    (Compared, Format.table): "cnncalc.render.compare:equivalence_table",
    (Compared, Format.json): "cnncalc.render.jsonout:equivalence_json",
    (Compared, Format.csv): "cnncalc.render.compare:equivalence_csv",
    (Compared, Format.markdown): "cnncalc.render.compare:equivalence_markdown",
    (Dense, Format.table): "cnncalc.render.compare:dense_tables",
    (Dense, Format.json): "cnncalc.render.jsonout:dense_json",
    (Dense, Format.csv): "cnncalc.render.compare:dense_csv",
    (Dense, Format.markdown): "cnncalc.render.compare:dense_markdown",
    (Memory, Format.table): "cnncalc.render.memory:memory_tables",
    (Memory, Format.json): "cnncalc.render.memory:memory_json",
    (Memory, Format.csv): "cnncalc.render.memory:memory_csv",
    (Memory, Format.markdown): "cnncalc.render.memory:memory_markdown",
    (Sizes, Format.table): "cnncalc.render.sizes:sizes_text",
    (Sizes, Format.json): "cnncalc.render.sizes:sizes_json",
    (Sizes, Format.csv): "cnncalc.render.sizes:sizes_csv",
    (Sizes, Format.markdown): "cnncalc.render.sizes:sizes_markdown",
    (Formulas, Format.table): "cnncalc.render.sizes:formulas_table",
    (Formulas, Format.json): "cnncalc.render.sizes:formulas_json",
    (Formulas, Format.csv): "cnncalc.render.sizes:formulas_csv",
    (Formulas, Format.markdown): "cnncalc.render.sizes:formulas_markdown",
    (Solved, Format.table): "cnncalc.render.sizes:solved_text",
    (Solved, Format.json): "cnncalc.render.sizes:solved_json",
    (Solved, Format.csv): "cnncalc.render.sizes:solved_csv",
    (Solved, Format.markdown): "cnncalc.render.sizes:solved_markdown",
    (Catalogue, Format.table): "cnncalc.render.catalogue:catalogue_text",
    (Catalogue, Format.json): "cnncalc.render.jsonout:catalogue_json",
    (Schema, Format.json): "cnncalc.render.jsonout:schema_json",
}


def shapes_darknet(result: Shapes) -> str:
    """``shape --format darknet``: Darknet's own layer list of each network, from what its
    reader kept (:func:`cnncalc.render.darknet.darknet_text`)."""
    from cnncalc.render.darknet import darknet_text

    return "".join(darknet_text(report, extras) for report, extras in zip(result.reports, result.extras))


def formats(result_type: type) -> tuple[Format, ...]:
    """The formats a result type renders to, in the order of :class:`Format`."""
    return tuple(f for f in Format if (result_type, f) in REGISTRY)


def render(result: object, fmt: Format) -> Rendered:
    """``result`` drawn in ``fmt``: text, or rich renderables (see :mod:`cnncalc.render.output`).

    A format the result has no renderer for is an :class:`~cnncalc.errors.ArgumentError` of
    ``format`` that lists those it has.
    """
    target = REGISTRY.get((type(result), fmt))
    if target is None:
        have = " or ".join(f.value for f in formats(type(result)))
        title = getattr(result, "title", type(result).__name__)
        raise ArgumentError(f"{title} is written as {have}, not {fmt.value}", "format")
    module, function = target.split(":")
    drawn: Rendered = getattr(importlib.import_module(module), function)(result)
    return drawn
