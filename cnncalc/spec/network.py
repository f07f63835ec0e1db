"""Read a network file (YAML) or inline call-form layers into the typed :class:`Network`."""

from __future__ import annotations

import difflib
from typing import Any

from cnncalc.engine.graph import NETWORK_INPUT, Network, Node
from cnncalc.errors import Position, SpecError, shown
from cnncalc.layers import Layer
from cnncalc.limits import LIMITS
from cnncalc.spec.build import build_layer
from cnncalc.spec.callform import CallFormError, parse_call
from cnncalc.spec.lower import JoinedStr, Lowering, Ref, Scope, count_layers
from cnncalc.spec.yamlload import PosDict, PosList, PosStr, load_yaml

# Bytes per element of each dtype name PyTorch knows (torch.<name>.itemsize).
DTYPE_BYTES = {
    "float32": 4,
    "float": 4,
    "float64": 8,
    "double": 8,
    "float16": 2,
    "half": 2,
    "bfloat16": 2,
    "float8_e4m3fn": 1,
    "float8_e5m2": 1,
    "int8": 1,
    "uint8": 1,
    "int16": 2,
    "int32": 4,
    "int64": 8,
    "bool": 1,
}

TOP_LEVEL_KEYS = ("name", "input", "dtype", "layers", "outputs")


def _hint(word: str, choices: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


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


def _call_layer(text: str, locate: Any, where: Position | None) -> tuple[Any, dict[str, Position]]:
    """Build a layer from call-form text; ``locate(offset)`` maps a character offset to a Position."""
    try:
        call = parse_call(text)
    except CallFormError as exc:
        raise SpecError(exc.message, locate(exc.offset)) from None
    positional = [(a.value, locate(a.offset)) for a in call.args if a.keyword is None]
    keywords = [(a.keyword, a.value, locate(a.offset)) for a in call.args if a.keyword is not None]
    return build_layer(call.type_name, positional, keywords, where)


def network_from_document(doc: Any, file: str, input_override: tuple[int, ...] | None = None) -> Network:
    """Validate a loaded YAML document and build its network."""
    if not isinstance(doc, PosDict):
        where = getattr(doc, "pos", Position(file))
        raise SpecError("a network file is a mapping with 'input' and 'layers'", where)
    for key in doc:
        if key not in TOP_LEVEL_KEYS:
            raise SpecError(f"unknown key {key!r}{_hint(key, TOP_LEVEL_KEYS)}", doc.key_pos[key])
    name = doc.get("name")
    if name is not None and not isinstance(name, str):
        raise SpecError(f"'name' must be a string, got {shown(name)}", doc.value_pos["name"])
    dtype = doc.get("dtype", "float32")
    if dtype not in DTYPE_BYTES:
        where = doc.value_pos.get("dtype")
        raise SpecError(f"unknown dtype {shown(dtype)}{_hint(str(dtype), list(DTYPE_BYTES))}", where)
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
    total = count_layers(layers)
    if total > LIMITS.max_layers:
        raise SpecError(
            f"the network expands to {total:,} layers, more than the limit of {LIMITS.max_layers:,} "
            f"(raise it with --max-layers)",
            doc.value_pos["layers"],
        )
    outputs = _outputs(doc)

    def call(text: PosStr, where: Position) -> tuple[Layer, dict[str, Position]]:
        return _call_layer(text, lambda off: _offset(text, off), where)

    lowering = Lowering(call, file)
    lowering.sequence(layers, NETWORK_INPUT, Scope(""))
    nodes, outs, blocks = lowering.finish(outputs)
    return Network(shape, nodes, str(name) if name is not None else None, str(dtype), file, outs, blocks)


def _outputs(doc: PosDict) -> list[Ref] | None:
    if "outputs" not in doc:
        return None
    value, where = doc["outputs"], doc.value_pos["outputs"]
    names = value if isinstance(value, list) else [value]
    if not names or not all(isinstance(n, str) and n for n in names):
        raise SpecError(f"'outputs' must be a list of layer names, got {shown(value)}", where)
    spots = value.item_pos if isinstance(value, PosList) else [where] * len(names)
    return [Ref(str(n), p, "outputs:") for n, p in zip(names, spots)]


def load_text(text: str, file: str, input_override: tuple[int, ...] | None = None) -> Network:
    """Parse the text of a network file."""
    return network_from_document(load_yaml(text, file), file, input_override)


def network_from_calls(
    expressions: list[str], input_shape: tuple[int, ...] | None, sources: list[str] | None = None
) -> Network:
    """Build a network from inline call-form layers (``cnncalc shape -i 1,3,8,8 "Conv2d(3, 8, 3)"``)."""
    names = sources or [f"<arg {i + 1}>" for i in range(len(expressions))]
    if input_shape is None:
        raise SpecError("inline layers need --input, e.g. --input 1,3,224,224", Position(names[0]))
    counts: dict[str, int] = {}
    nodes: list[Node] = []
    for text, file in zip(expressions, names):
        start = 0
        for part in text.split(";"):
            if part.strip():
                where = Position(file, 1, start + 1 + len(part) - len(part.lstrip()))
                base = start

                def locate(off: int, base: int = base, file: str = file) -> Position:
                    return Position(file, 1, base + off + 1)

                layer, positions = _call_layer(part, locate, where)
                index = len(nodes)
                base_name = layer.kind.lower()
                counts[base_name] = counts.get(base_name, 0) + 1
                name = f"{base_name}_{counts[base_name]}"
                inputs = (NETWORK_INPUT,) if index == 0 else (index - 1,)
                nodes.append(Node(index, name, layer, inputs, True, where, positions, name))
            start += len(part) + 1
    if not nodes:
        raise SpecError("no layers given", Position(names[0]))
    return Network(input_shape, tuple(nodes), None, "float32", names[0])
