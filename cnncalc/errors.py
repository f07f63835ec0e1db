"""The one exception tree: every error carries where (file, line, column, layer) and what."""

from __future__ import annotations

import reprlib
from typing import NamedTuple


class Position(NamedTuple):
    """A place in what the user wrote: a file (or ``<arg N>``/``<stdin>``), 1-based line and column.

    A named tuple, not a frozen dataclass: every layer of a file makes several, and a frozen
    dataclass's ``__init__`` (one ``object.__setattr__`` per field) cost twice as much."""

    file: str
    line: int = 1
    column: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class CnncalcError(Exception):
    """Base of every error cnncalc reports to a user (exit code 2, one line, no traceback)."""

    def __init__(self, message: str, position: Position | None = None, layer: str | None = None):
        super().__init__(message)
        self.message = message
        self.position = position
        # the name of the layer at fault, when there is one (for machine-readable errors)
        self.layer = layer

    def located(self, position: Position | None) -> CnncalcError:
        """Attach a position unless one is already known; returns self for chaining."""
        if self.position is None:
            self.position = position
        return self

    def __str__(self) -> str:
        where = f"{self.position}: " if self.position is not None else ""
        # names from the input may hold escape sequences or newlines: one safe line always
        return escape(f"{where}{self.message}")


class SourceError(CnncalcError):
    """A file or stream that cannot be read: missing, a directory, not UTF-8, empty."""


class SpecError(CnncalcError):
    """A network file or call form that is not well formed: YAML syntax, unknown type or argument."""


class GeometryError(CnncalcError):
    """A layer that PyTorch would reject for its input: the shape arithmetic failed.

    ``argument`` names the constructor argument at fault, when one is, so the error can point
    at the place it was written.
    """

    def __init__(self, message: str, argument: str | None = None):
        super().__init__(message)
        self.argument = argument


class GraphError(CnncalcError):
    """A network whose wiring is wrong: unknown references, cycles, unused layers."""


class LimitError(SpecError):
    """A network over one of the :class:`~cnncalc.limits.Limits`; ``limit`` names the field
    (``max_layers``, ``max_depth``), so the command line can say which option raises it."""

    def __init__(self, message: str, limit: str, position: Position | None = None) -> None:
        super().__init__(message, position)
        self.limit = limit


class ArgumentError(CnncalcError):
    """A bad value of an analysis argument (``unit``, ``layer``, ``input_shape``): ``argument``
    names it, so the command line can point at its option. A message that opens with the
    argument's name (``unit needs 2 coordinates``) has ``named`` set: the command line says the
    option's name there instead."""

    def __init__(self, message: str, argument: str, *, named: bool = False) -> None:
        super().__init__(message)
        self.argument = argument
        self.named = named


_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


# Names longer than this are shown as their two ends around the count left out: a 10 MB node
# name would otherwise be wrapped over a quarter of a million table lines.
LONGEST_SHOWN = 1_000


def escape(text: str) -> str:
    """``text`` safe for a terminal and one line: control and other unprintable characters
    (ESC, newline, CR, bidirectional overrides) written as ``\\x1b``, ``\\n``, ``\\u202e``; over
    :data:`LONGEST_SHOWN` characters, its first and last 480 around ``…(N characters)…``."""
    if len(text) > LONGEST_SHOWN:
        text = f"{text[:480]}…({len(text) - 960:,} characters)…{text[-480:]}"
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escape_char(c) for c in text)


def _escape_char(c: str) -> str:
    if c in _ESCAPES:
        return _ESCAPES[c]
    code = ord(c)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def shown(value: object) -> str:
    """A value as a message shows it: like repr, but bounded (a hostile document can nest
    aliases into billions of items)."""
    text = _REPR.repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class _BoundedRepr(reprlib.Repr):
    def __init__(self) -> None:
        super().__init__()
        self.maxlevel = 3
        self.maxlist = self.maxtuple = self.maxdict = 6
        self.maxstring = self.maxother = 60

    def repr1(self, x: object, level: int) -> str:
        # reprlib dispatches on the exact type name; the YAML reader's list, dict and str
        # subclasses would fall back to the unbounded repr
        if isinstance(x, list) and type(x) is not list:
            return super().repr1(list(x), level)
        if isinstance(x, dict) and type(x) is not dict:
            return super().repr1(dict(x), level)
        if isinstance(x, str) and type(x) is not str:
            return super().repr1(str(x), level)
        return super().repr1(x, level)


_REPR = _BoundedRepr()
