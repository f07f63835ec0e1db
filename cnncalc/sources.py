"""Where networks come from: files, standard input, or inline call-form layers."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from cnncalc.engine.graph import Network
from cnncalc.errors import Position, SourceError, SpecError

FILE_SUFFIXES = (".yaml", ".yml", ".cfg", ".onnx", ".json")


def read_text(path: str) -> str:
    """The text of a network file or ``-`` (stdin), with one clear error for every failure."""
    where = Position("<stdin>" if path == "-" else path, 1, 1)
    if path == "-":
        data = sys.stdin.buffer.read()
    else:
        p = Path(path)
        if p.is_dir():
            raise SourceError("is a directory, not a network file", where)
        try:
            data = p.read_bytes()
        except FileNotFoundError:
            raise SourceError("no such file", where) from None
        except PermissionError:
            raise SourceError("permission denied", where) from None
        except OSError as exc:
            raise SourceError(f"cannot read: {exc.strerror}", where) from None
    if b"\x00" in data:
        raise SourceError("this is a binary file, not a YAML network file", where)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SourceError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            Position(where.file, line, 1),
        ) from None
    if not text.strip():
        raise SourceError("the file is empty" if path != "-" else "nothing on standard input", where)
    return text.removeprefix("\ufeff")


def looks_like_file(arg: str) -> bool:
    """A SOURCE argument names a file if it exists, is ``-``, has a file suffix or a path separator."""
    return (
        arg == "-"
        or os.path.exists(arg)
        or arg.lower().endswith(FILE_SUFFIXES)
        or ("/" in arg and "(" not in arg)
    )


def load_sources(
    sources: list[str], input_shape: tuple[int, ...] | None, *, skip_unknown: bool = False
) -> list[Network]:
    """Networks from SOURCE arguments: every file is a network; inline layers make one network."""
    from cnncalc.spec.network import network_from_calls

    files = [s for s in sources if looks_like_file(s)]
    inline = [s for s in sources if not looks_like_file(s)]
    if files and inline:
        raise SpecError(
            f"give either network files or inline layers, not both ({files[0]!r} and {inline[0]!r})",
            Position(f"<arg {sources.index(inline[0]) + 1}>"),
        )
    if inline:
        names = [f"<arg {sources.index(s) + 1}>" for s in inline]
        return [network_from_calls(inline, input_shape, names)]
    return [load_file(f, input_shape, skip_unknown=skip_unknown) for f in files]


def load_file(path: str, input_shape: tuple[int, ...] | None, *, skip_unknown: bool = False) -> Network:
    """A network file by its suffix: Darknet ``.cfg``, ``.onnx``, or cnncalc YAML (also ``-``)."""
    lower = path.lower()
    if lower.endswith(".cfg"):
        from cnncalc.readers.darknet import read_darknet

        return read_darknet(read_text(path), path, input_shape)
    if lower.endswith(".onnx"):
        from cnncalc.readers.onnx import read_onnx

        return read_onnx(path, input_shape, skip_unknown=skip_unknown)
    from cnncalc.spec.network import load_text

    return load_text(read_text(path), "<stdin>" if path == "-" else path, input_shape)


def load_one(
    arg: str, input_shape: tuple[int, ...] | None, label: str, *, skip_unknown: bool = False
) -> Network:
    """One network from one argument: a file, ``-``, or inline layers separated by ``;``."""
    from cnncalc.spec.network import network_from_calls

    if looks_like_file(arg):
        return load_file(arg, input_shape, skip_unknown=skip_unknown)
    return network_from_calls([arg], input_shape, [label])


def parse_unit_option(text: str) -> tuple[int, ...]:
    """``--unit 3,4``: one non-negative index per spatial axis."""
    try:
        unit = tuple(int(p) for p in text.replace(" ", "").split(","))
    except ValueError:
        unit = ()
    if not unit or any(u < 0 for u in unit):
        raise SpecError(
            f"--unit must be non-negative integers separated by commas, e.g. 3,4; got {text!r}",
            Position("<option --unit>"),
        )
    return unit


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
            f"--input must be positive integers separated by commas, e.g. 1,3,224,224; got {text!r}",
            Position("<option --input>"),
        )
    return dims
