"""Read a network file (YAML) or inline call-form layers into the typed :class:`Network`."""

from __future__ import annotations

import difflib
from typing import Any

from cnncalc.engine.graph import NETWORK_INPUT, Network, Node
from cnncalc.errors import Position, SpecError
from cnncalc.spec.build import build_layer
from cnncalc.spec.callform import CallFormError, parse_call
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

TOP_LEVEL_KEYS = ("name", "input", "dtype", "layers")
LAYER_KEYS = ("type", "name", "trainable")


def _hint(word: str, choices: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def parse_shape(value: Any, where: Position | None) -> tuple[int, ...]:
    """An input shape: a non-empty list of positive integers."""
    if not isinstance(value, list) or not value:
        raise SpecError(
            f"input must be a list of positive integers, e.g. [1, 3, 224, 224], got {value!r}", where
        )
    for dim in value:
        if not isinstance(dim, int) or isinstance(dim, bool) or dim <= 0:
            raise SpecError(f"input dimensions must be positive integers, got {dim!r}", where)
    return tuple(value)


def _offset(text: PosStr, offset: int) -> Position:
    """The position of character ``offset`` of a YAML string scalar (exact on one-line scalars)."""
    pos = text.pos
    if "\n" in text or text.style in ("|", ">"):
        return pos
    quote = 1 if text.style in ('"', "'") else 0
    return Position(pos.file, pos.line, pos.column + quote + offset)


class _Namer:
    """Readable unique default names: ``conv2d_1``, ``conv2d_2``, ``relu_1`` …"""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.taken: set[str] = set()

    def claim(self, name: str, where: Position | None) -> str:
        if name in self.taken:
            raise SpecError(f"layer name {name!r} is used twice", where)
        self.taken.add(name)
        return name

    def default(self, kind: str) -> str:
        base = kind.lower()
        while True:
            self.counts[base] = self.counts.get(base, 0) + 1
            name = f"{base}_{self.counts[base]}"
            if name not in self.taken:
                self.taken.add(name)
                return name


def _call_layer(text: str, locate: Any, where: Position | None) -> tuple[Any, dict[str, Position]]:
    """Build a layer from call-form text; ``locate(offset)`` maps a character offset to a Position."""
    try:
        call = parse_call(text)
    except CallFormError as exc:
        raise SpecError(exc.message, locate(exc.offset)) from None
    positional = [(a.value, locate(a.offset)) for a in call.args if a.keyword is None]
    keywords = [(a.keyword, a.value, locate(a.offset)) for a in call.args if a.keyword is not None]
    return build_layer(call.type_name, positional, keywords, where)


def _layer_item(item: Any, where: Position, namer: _Namer, index: int) -> Node:
    """One entry of ``layers:`` — a call-form string or a mapping with ``type``."""
    if isinstance(item, str):
        text = item if isinstance(item, PosStr) else PosStr(item)
        if not isinstance(item, PosStr):
            text.pos, text.style = where, None
        layer, positions = _call_layer(text, lambda off: _offset(text, off), where)
        name = namer.default(layer.kind)
        return Node(index, name, layer, position=where, arg_positions=positions, inputs=_chain(index))
    if not isinstance(item, PosDict):
        raise SpecError(
            f"a layer is a call such as 'Conv2d(3, 16, 3)' or a mapping with 'type', got {item!r}", where
        )
    if "type" not in item:
        raise SpecError("layer mapping has no 'type' key", where)
    type_name = item["type"]
    if not isinstance(type_name, str):
        raise SpecError(f"'type' must be a layer name, got {type_name!r}", item.value_pos["type"])
    keywords = [(k, v, item.value_pos[k]) for k, v in item.items() if k not in LAYER_KEYS]
    layer, positions = build_layer(type_name, [], keywords, item.value_pos["type"])
    trainable = item.get("trainable", True)
    if not isinstance(trainable, bool):
        raise SpecError(f"'trainable' must be true or false, got {trainable!r}", item.value_pos["trainable"])
    if "name" in item:
        raw = item["name"]
        if not isinstance(raw, str) or not raw:
            raise SpecError(f"'name' must be a non-empty string, got {raw!r}", item.value_pos["name"])
        name = str(raw)  # claimed by network_from_document's first pass
    else:
        name = namer.default(layer.kind)
    return Node(index, name, layer, _chain(index), trainable, where, positions)


def _chain(index: int) -> tuple[int, ...]:
    return (NETWORK_INPUT,) if index == 0 else (index - 1,)


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
        raise SpecError(f"'name' must be a string, got {name!r}", doc.value_pos["name"])
    dtype = doc.get("dtype", "float32")
    if dtype not in DTYPE_BYTES:
        where = doc.value_pos.get("dtype")
        raise SpecError(f"unknown dtype {dtype!r}{_hint(str(dtype), list(DTYPE_BYTES))}", where)
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
    namer = _Namer()
    # names given explicitly are claimed first, so defaults never collide with them
    for item in layers:
        if isinstance(item, PosDict) and isinstance(item.get("name"), str) and item["name"]:
            namer.claim(str(item["name"]), item.value_pos["name"])
    nodes = [_layer_item(item, pos, namer, i) for i, (item, pos) in enumerate(zip(layers, layers.item_pos))]
    return Network(shape, tuple(nodes), str(name) if name is not None else None, str(dtype), file)


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
    namer = _Namer()
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
                nodes.append(
                    Node(index, namer.default(layer.kind), layer, _chain(index), True, where, positions)
                )
            start += len(part) + 1
    if not nodes:
        raise SpecError("no layers given", Position(names[0]))
    return Network(input_shape, tuple(nodes), None, "float32", names[0])
