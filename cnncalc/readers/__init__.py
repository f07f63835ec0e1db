"""Readers: every format a network comes in, behind one signature and one registry.

A reader is a module (or package) with ``read(source: Source, options: ReadOptions) -> Read``.
It builds the network with :class:`cnncalc.graph.NetworkBuilder` from typed layers; what
only its format knows (Darknet's own layer list, say) travels in :attr:`Read.extras`. The
registry below finds the reader of a source by its suffix, then by sniffing its first bytes;
reader modules are imported only when used.
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnncalc.errors import Position, SourceError
from cnncalc.limits import Limits

if TYPE_CHECKING:
    from cnncalc.graph import Network


@dataclass(frozen=True)
class ReadOptions:
    """What every reader takes: the input shape that overrides the file's, whether unknown
    operators may pass as identities (where a reader can prove they keep the shape), limits."""

    input_shape: tuple[int, ...] | None = None
    skip_unknown: bool = False
    limits: Limits = field(default_factory=Limits)
    # Ultralytics model YAMLs: the scale letter (n, s, m, l, x) and a class count overriding nc
    scale: str | None = None
    nc: int | None = None


@dataclass(frozen=True)
class Read:
    """A reader's result: the network, and what only its format knows, by name."""

    network: Network
    extras: Mapping[str, Any] = field(default_factory=dict)


class Source:
    """A network source as given: a file path, ``-`` for standard input, or a reader-specific
    reference (``package.module:factory`` for PyTorch). Bytes are read once, when asked."""

    def __init__(self, name: str, data: bytes | None = None) -> None:
        self.name = name
        self._data = data

    @property
    def label(self) -> str:
        """How positions name it: the path, or ``<stdin>``."""
        return "<stdin>" if self.name == "-" else self.name

    @property
    def path(self) -> Path | None:
        """The file, unless the source is standard input or in-memory bytes."""
        return None if self.name == "-" or self._data is not None else Path(self.name)

    def data(self) -> bytes:
        """The bytes, with one clear error for every way reading fails."""
        if self._data is None:
            self._data = _read_bytes(self.name)
        return self._data

    def text(self) -> str:
        """The text: UTF-8, not binary, not empty (a leading byte-order mark is dropped)."""
        data = self.data()
        where = Position(self.label, 1, 1)
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
            raise SourceError("the file is empty" if self.name != "-" else "nothing on standard input", where)
        return text.removeprefix("\ufeff")


def _read_bytes(name: str) -> bytes:
    where = Position("<stdin>" if name == "-" else name, 1, 1)
    if name == "-":
        return sys.stdin.buffer.read()
    p = Path(name)
    if p.is_dir():
        raise SourceError("is a directory, not a network file", where)
    try:
        return p.read_bytes()
    except FileNotFoundError:
        raise SourceError("no such file", where) from None
    except PermissionError:
        raise SourceError("permission denied", where) from None
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror}", where) from None


@dataclass(frozen=True)
class ReaderInfo:
    """One registered format: its name, the module holding ``read``, the suffixes it owns and a
    test of a source's first bytes for files whose suffix says nothing."""

    name: str
    module: str
    suffixes: tuple[str, ...]
    sniff: Callable[[bytes], bool]
    description: str
    # False: a file with one of the suffixes is this format's only when sniff accepts its bytes
    # (an Ultralytics model YAML is a .yaml the cnncalc YAML reader would otherwise claim)
    suffix_claims: bool = True

    def read(self, source: Source, options: ReadOptions) -> Read:
        reader: Any = importlib.import_module(self.module)
        result: Read = reader.read(source, options)
        return result


def _is_darknet(head: bytes) -> bool:
    # Darknet cfgs open with [net] or [network] after comments (src/parser.c read_cfg)
    for line in head.splitlines():
        text = line.strip()
        if text and not text.startswith((b"#", b";")):
            return text.lower() in (b"[net]", b"[network]")
    return False


def _is_ultralytics(data: bytes) -> bool:
    # parse_model reads d["backbone"] + d["head"]: both top-level keys
    return (
        re.search(rb"(?m)^backbone\s*:", data) is not None and re.search(rb"(?m)^head\s*:", data) is not None
    )


def _is_onnx(head: bytes) -> bool:
    # a ModelProto starts with field 1 (ir_version, varint: tag 0x08) as torch.onnx and
    # onnx.save write it; YAML and cfg text never starts with a control byte
    return head[:1] == b"\x08"


_TORCH_SPEC = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")

READERS: tuple[ReaderInfo, ...] = (
    ReaderInfo(
        "darknet", "cnncalc.readers.darknet", (".cfg",), _is_darknet, "Darknet .cfg (AlexeyAB's parser)"
    ),
    ReaderInfo("onnx", "cnncalc.readers.onnx", (".onnx",), _is_onnx, "ONNX model"),
    ReaderInfo(
        "torch",
        "cnncalc.readers.torch",
        (),
        lambda head: False,
        "PyTorch module from package.module:factory (torch.fx)",
    ),
    ReaderInfo(
        "ultralytics",
        "cnncalc.readers.ultralytics",
        (".yaml", ".yml"),
        _is_ultralytics,
        "Ultralytics model YAML (backbone: and head:)",
        suffix_claims=False,
    ),
    # the network file is the fallback: anything else is read as cnncalc YAML
    ReaderInfo("yaml", "cnncalc.readers.spec", (".yaml", ".yml", ".json"), lambda head: True, "cnncalc YAML"),
)

FILE_SUFFIXES = tuple(dict.fromkeys(s for info in READERS for s in info.suffixes))


def by_name(name: str) -> ReaderInfo:
    """The registered reader called ``name``."""
    return next(info for info in READERS if info.name == name)


def reader_for(source: Source) -> ReaderInfo:
    """The reader of a source: by suffix, as a PyTorch reference, or by its first bytes."""
    lower = source.name.lower()
    if lower.endswith(".py"):  # code, not a network file: say how to read the module it defines
        raise SourceError(
            f"a Python file: read the module it defines with --from-torch '{source.name}:Net(...)' "
            "(naming its class or factory) and --input; that runs the file",
            Position(source.name),
        )
    for info in READERS:
        if lower.endswith(info.suffixes) and (info.suffix_claims or _sniffed(info, source)):
            return info
    if _TORCH_SPEC.match(source.name) and not Path(source.name).exists():
        return by_name("torch")
    head = source.data()[:4096]
    return next(info for info in READERS if info.sniff(head))


def _sniffed(info: ReaderInfo, source: Source) -> bool:
    """Whether the bytes are ``info``'s format; a source that cannot be read is left to the reader
    that claims its suffix outright, which says why."""
    try:
        return info.sniff(source.data())
    except SourceError:
        return False


def read(source: str | Source, options: ReadOptions | None = None, *, format: str | None = None) -> Read:
    """Read one network source with the reader its suffix or content names (or ``format``)."""
    src = source if isinstance(source, Source) else Source(source)
    info = by_name(format) if format is not None else reader_for(src)
    return info.read(src, options or ReadOptions())
