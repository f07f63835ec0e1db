"""Read a network file (YAML) or inline call-form layers into the typed :class:`Network`."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from cnncalc.errors import LimitError, Position, SpecError, shown
from cnncalc.graph import DTYPE_BYTES, NETWORK_INPUT, Network, NetworkBuilder, Ref, did_you_mean
from cnncalc.layers import Layer
from cnncalc.limits import Limits
from cnncalc.spec.build import SOLVE_NOTE, build_layer
from cnncalc.spec.callform import CallFormError, parse_call
from cnncalc.spec.lower import JoinedStr, Lowering, count_layers
from cnncalc.spec.yamlload import PosDict, PosList, PosStr, check_expansion, load_yaml

TOP_LEVEL_KEYS = ("name", "input", "dtype", "layers", "outputs")


def parse_shape(value: Any, where: Position | None) -> tuple[int, ...]:
    """An input shape: a non-empty list of positive integers."""
    if not isinstance(value, list) or not value:
        raise SpecError(
            f"input must be a list of positive integers, e.g. [1, 3, 224, 224], got {shown(value)}", where
        )
    for dim in value:
        if not isinstance(dim, int) or isinstance(dim, bool) or dim <= 0:
            raise SpecError(f"input dimensions must be positive integers, got {shown(dim)}", where)
    return tuple(value)


def _offset(text: PosStr, offset: int) -> Position:
    """The position of character ``offset`` of a YAML string scalar (exact on one-line scalars)."""
    if isinstance(text, JoinedStr):  # pieces of a flow sequence: find the piece that holds it
        start, piece = next((s, p) for s, p in reversed(text.pieces) if s <= offset)
        return _offset(piece, min(max(offset - start, 0), max(len(piece) - 1, 0)))
    pos = text.pos
    if "\n" in text or text.style in ("|", ">"):
        return pos
    quote = 1 if text.style in ('"', "'") else 0
    return Position(pos.file, pos.line, pos.column + quote + offset)


class ArgPositions(Mapping[str, Position]):
    """Each argument's position, located when asked. Only an error needs one, and a
    100,000-layer stack made 200,000 Positions that nothing read; the offsets are shared by
    every line with the same text."""

    __slots__ = ("_locate", "_offsets")

    def __init__(self, offsets: tuple[tuple[str, int], ...], locate: Callable[[int], Position]) -> None:
        self._offsets = offsets
        self._locate = locate

    def __getitem__(self, name: str) -> Position:
        for key, offset in self._offsets:
            if key == name:
                return self._locate(offset)
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return (key for key, _ in self._offsets)

    def __len__(self) -> int:
        return len(self._offsets)


def call_layer(text: str, locate: Any, where: Position | None) -> tuple[Any, Mapping[str, Position]]:
    """Build a layer from call-form text; ``locate(offset)`` maps a character offset to a Position."""
    try:
        call = parse_call(text)
    except CallFormError as exc:
        # a ? is the solver's unknown (cnncalc solve reads it; everywhere else it is an error)
        note = SOLVE_NOTE if text[exc.offset : exc.offset + 1] == "?" else ""
        raise SpecError(exc.message + note, locate(exc.offset)) from None
    known = _CALLS.get(text)
    if known is not None:
        return known[0], ArgPositions(known[1], locate)
    positional = [(a.value, locate(a.offset)) for a in call.args if a.keyword is None]
    keywords = [(a.keyword, a.value, locate(a.offset)) for a in call.args if a.keyword is not None]
    layer, positions = build_layer(call.type_name, positional, keywords, where)
    # the argument behind each position, by its offset in the text: build_layer records the
    # positional arguments first, in order, then the keywords
    named = [a for a in call.args if a.keyword is not None]
    unnamed = [a for a in call.args if a.keyword is None]
    order = [name for name in positions if name not in {a.keyword for a in named}]
    offsets = [(name, a.offset) for name, a in zip(order, unnamed)]
    offsets += [(str(a.keyword), a.offset) for a in named]
    if len(order) == len(unnamed) and len(offsets) == len(positions) and len(_CALLS) < 65_536:
        _CALLS[text] = (layer, tuple(offsets))
    return layer, positions


# Built layers by call-form text, with each argument's offset: a text that repeats (every line of
# a 100,000-layer stack) resolves its kind and validates its arguments once; only the positions,
# which differ per line, are made again. Like build.py's cache, it holds what a text always means.
_CALLS: dict[str, tuple[Layer, tuple[tuple[str, int], ...]]] = {}


def network_from_document(
    doc: Any, file: str, input_override: tuple[int, ...] | None = None, limits: Limits | None = None
) -> Network:
    """Validate a loaded YAML document and build its network."""
    limits = limits or Limits()
    if not isinstance(doc, PosDict):
        where = getattr(doc, "pos", Position(file))
        raise SpecError("a network file is a mapping with 'input' and 'layers'", where)
    for key in doc:
        if key not in TOP_LEVEL_KEYS:
            raise SpecError(f"unknown key {key!r}{did_you_mean(key, TOP_LEVEL_KEYS)}", doc.key_pos[key])
    name = doc.get("name")
    if name is not None and not isinstance(name, str):
        raise SpecError(f"'name' must be a string, got {shown(name)}", doc.value_pos["name"])
    dtype = doc.get("dtype", "float32")
    if not isinstance(dtype, str) or dtype not in DTYPE_BYTES:
        where = doc.value_pos.get("dtype")
        raise SpecError(f"unknown dtype {shown(dtype)}{did_you_mean(str(dtype), list(DTYPE_BYTES))}", where)
    if input_override is not None:
        shape = input_override
    elif "input" in doc:
        shape = parse_shape(doc["input"], doc.value_pos["input"])
    else:
        raise SpecError("missing 'input': the input shape, e.g. input: [1, 3, 224, 224]", doc.pos)
    layers = doc.get("layers")
    if "layers" not in doc:
        raise SpecError("missing 'layers': the list of layers", doc.pos)
    if not isinstance(layers, PosList):
        raise SpecError("'layers' must be a list of layers", doc.value_pos["layers"])
    if not layers:
        raise SpecError("'layers' is empty: a network needs at least one layer", doc.value_pos["layers"])
    total = count_layers(layers, limits.max_depth)
    if total > limits.max_layers:
        raise LimitError(
            f"the network expands to {total:,} layers, more than the limit of {limits.max_layers:,}",
            "max_layers",
            doc.value_pos["layers"],
        )
    check_expansion(doc)
    outputs = _outputs(doc)

    def call(text: PosStr, where: Position) -> tuple[Layer, Mapping[str, Position]]:
        return call_layer(text, lambda off: _offset(text, off), where)

    builder = NetworkBuilder(
        shape, name=str(name) if name is not None else None, dtype=str(dtype), source=file, limits=limits
    )
    Lowering(call, builder).sequence(layers, NETWORK_INPUT)
    if outputs:
        builder.output(*outputs)
    return builder.build()


def _outputs(doc: PosDict) -> list[Ref] | None:
    if "outputs" not in doc:
        return None
    value, where = doc["outputs"], doc.value_pos["outputs"]
    names = value if isinstance(value, list) else [value]
    if not names or not all(isinstance(n, str) and n for n in names):
        raise SpecError(f"'outputs' must be a list of layer names, got {shown(value)}", where)
    spots = value.item_pos if isinstance(value, PosList) else [where] * len(names)
    return [Ref(str(n), p, "outputs:") for n, p in zip(names, spots)]


def load_text(
    text: str, file: str, input_override: tuple[int, ...] | None = None, limits: Limits | None = None
) -> Network:
    """Parse the text of a network file."""
    limits = limits or Limits()
    document = load_yaml(text, file, limits.max_depth, limits.max_layers)
    return network_from_document(document, file, input_override, limits)


def network_from_calls(
    expressions: list[str],
    input_shape: tuple[int, ...] | None,
    sources: list[str] | None = None,
    limits: Limits | None = None,
) -> Network:
    """Build a network from inline call-form layers (``cnncalc shape -i 1,3,8,8 "Conv2d(3, 8, 3)"``)."""
    names = sources or [f"<arg {i + 1}>" for i in range(len(expressions))]
    if input_shape is None:
        raise SpecError("inline layers need --input, e.g. --input 1,3,224,224", Position(names[0]))
    builder = NetworkBuilder(input_shape, source=names[0], limits=limits)
    for text, file in zip(expressions, names):
        start = 0
        for part in text.split(";"):
            if part.strip():
                where = Position(file, 1, start + 1 + len(part) - len(part.lstrip()))
                base = start

                def locate(off: int, base: int = base, file: str = file) -> Position:
                    return Position(file, 1, base + off + 1)

                layer, positions = call_layer(part, locate, where)
                builder.add(layer, position=where, arg_positions=positions)
            start += len(part) + 1
    if not len(builder):
        raise SpecError("no layers given", Position(names[0]))
    return builder.build()


def network_from_python(
    input_shape: tuple[int, ...],
    items: list[Any],
    name: str | None = None,
    dtype: str = "float32",
    outputs: list[str] | None = None,
) -> Network:
    """The network of :func:`cnncalc.network`: layer objects, call-form strings and mappings as
    in a network file, item ``i`` placed at ``<python>:i``."""
    if dtype not in DTYPE_BYTES:
        raise SpecError(f"unknown dtype {shown(dtype)}{did_you_mean(dtype, list(DTYPE_BYTES))}", None)
    shape = parse_shape(list(input_shape), Position("<python>"))
    builder = NetworkBuilder(shape, name=name, dtype=dtype, source="<python>")

    def call(text: PosStr, where: Position) -> tuple[Layer, Mapping[str, Position]]:
        return call_layer(text, lambda off: _offset(text, off), where)

    lowering = Lowering(call, builder)
    spots = [Position("<python>", i + 1, 1) for i in range(len(items))]
    values = [item if isinstance(item, Layer) else _positioned(item, at) for item, at in zip(items, spots)]
    for value in values:  # names given explicitly are claimed first, as in a file
        if isinstance(value, PosDict) and "name" in value:
            builder.claim(Lowering._local_name(value), value.value_pos["name"])
    prev: Any = NETWORK_INPUT
    for value, at in zip(values, spots):
        if isinstance(value, Layer):
            prev = builder.add(value, None, [prev], position=at)
        else:
            prev = lowering.item(value, at, prev, True)
    if outputs:
        builder.output(*[Ref(str(n), Position("<python>"), "outputs:") for n in outputs])
    return builder.build()


def _positioned(value: Any, where: Position) -> Any:
    """Python data (dicts, lists, strings, numbers) as the YAML reader's positioned values,
    every part placed at ``where``, so that mappings lower exactly as in a file."""
    if isinstance(value, dict):
        out = PosDict()
        out.pos, out.key_pos, out.value_pos = where, {}, {}
        for key, item in value.items():
            out[key] = _positioned(item, where)
            out.key_pos[key] = where
            out.value_pos[key] = where
        return out
    if isinstance(value, (list, tuple)):
        seq = PosList()
        seq.pos, seq.item_pos = where, []
        for item in value:
            seq.append(_positioned(item, where))
            seq.item_pos.append(where)
        return seq
    if isinstance(value, str):
        text = PosStr(value)
        text.pos, text.style = where, None
        return text
    return value
