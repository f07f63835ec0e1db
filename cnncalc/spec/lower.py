"""Lower what the user wrote — layers, blocks, ``from:`` references — to a graph of nodes.

Blocks become plain nodes plus a merge: ``Residual`` is ``Add(body(x), shortcut(x))``, a
``Concat`` block is ``torch.cat`` of its branches, ``Sequential`` (with ``repeat``) is a chain.
Every node gets a unique dotted path (``layer2.0.body.conv2d_1``); references are resolved by
path after lowering, then the graph is sorted topologically, so a forward reference that closes
a loop is reported as a cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from cnncalc.errors import Position, SpecError, shown
from cnncalc.graph import Input, NetworkBuilder, Ref, did_you_mean
from cnncalc.layers import Layer
from cnncalc.spec.build import build_layer
from cnncalc.spec.yamlload import PosDict, PosList, PosStr

LEAF_KEYS = ("type", "name", "trainable", "from")
BLOCK_KEYS = {
    "residual": ("type", "name", "trainable", "from", "body", "shortcut"),
    "concat": ("type", "name", "trainable", "from", "branches", "dim"),
    "sequential": ("type", "name", "trainable", "from", "layers", "repeat"),
}

# Builds a layer from a call-form string: (text, its position) -> (layer, argument positions).
CallBuilder = Callable[[PosStr, Position], tuple[Layer, Mapping[str, Position]]]


def count_layers(items: Any, max_depth: int) -> int:
    """Layers after expansion, computed without expanding (so ``repeat: 10**12`` fails at once).

    Subtrees shared through YAML aliases are counted once and multiplied, so the cost is the
    size of the document, not of its expansion.
    """
    memo: dict[int, int] = {}

    def count(value: Any, depth: int = 0) -> int:
        if isinstance(value, (list, dict)) and id(value) in memo:
            return memo[id(value)]
        if depth > max_depth:
            return 0  # the YAML reader refuses such nesting first
        if isinstance(value, list):
            # a string (a call form) is what count(item, depth + 1) makes it, without a call apiece
            one = 1 if depth + 1 <= max_depth else 0
            total = sum(one if isinstance(item, str) else count(item, depth + 1) for item in value)
        elif not isinstance(value, dict):
            total = 1
        else:
            kind = str(value.get("type", "")).lower()
            if kind == "residual":
                total = (
                    1
                    + count(value.get("body") or [], depth + 1)
                    + count(value.get("shortcut") or [], depth + 1)
                )
            elif kind == "concat" and "branches" in value:
                total = 1 + sum(count(b, depth + 1) for b in value.get("branches") or [])
            elif kind == "sequential":
                repeat = value.get("repeat", 1)
                factor = repeat if isinstance(repeat, int) and repeat > 0 else 1
                total = factor * count(value.get("layers") or [], depth + 1)
            else:
                total = 1
        if isinstance(value, (list, dict)):
            memo[id(value)] = total
        return total

    return count(items)


class Lowering:
    """Turns a list of layer items into the builder's layers and blocks."""

    def __init__(self, call: CallBuilder, builder: NetworkBuilder) -> None:
        self.call = call
        self.builder = builder

    def sequence(self, items: PosList, prev: Input, trainable: bool = True) -> Input:
        """Lower a list of items (in the builder's current scope), each fed by the one before;
        returns the last output."""
        for item in items:  # names given explicitly are claimed first: defaults avoid them
            if isinstance(item, PosDict) and "name" in item:
                self.builder.claim(self._local_name(item), item.value_pos["name"])
        for item, pos in rejoin(items):
            prev = self.item(item, pos, prev, trainable)
        return prev

    def item(self, item: Any, where: Position, prev: Input, trainable: bool) -> Input:
        """Lower one item of a layer list."""
        b = self.builder
        if isinstance(item, str):
            text = item if isinstance(item, PosStr) else _pos_str(item, where)
            layer, positions = self.call(text, where)
            if layer.is_merge:
                raise SpecError(
                    f"{layer.kind} merges several inputs: write it as a mapping with from: [a, b]", where
                )
            return b.add(layer, None, [prev], position=where, arg_positions=positions, trainable=trainable)
        if not isinstance(item, PosDict):
            raise SpecError(
                f"a layer is a call such as 'Conv2d(3, 16, 3)' or a mapping with 'type', got {shown(item)}",
                where,
            )
        if "type" not in item:
            raise SpecError("layer mapping has no 'type' key", where)
        kind = item["type"]
        if not isinstance(kind, str):
            raise SpecError(f"'type' must be a layer name, got {shown(kind)}", item.value_pos["type"])
        trainable = trainable and self._trainable(item)
        inputs = self._from(item, prev)
        block = kind.lower()
        if block in ("residual", "sequential") or (block == "concat" and "branches" in item):
            self._check_keys(item, BLOCK_KEYS[block], kind)
            if len(inputs) != 1:
                raise SpecError(
                    f"a {kind} block takes one input, got from: {len(inputs)}", item.value_pos["from"]
                )
            path = b.path(self._local_name(item) if "name" in item else b.default_name(kind))
            with b.block(path, _canonical_block(block), where, label=kind):
                if block == "residual":
                    self._residual(item, inputs[0], path, trainable)
                elif block == "concat":
                    self._concat(item, inputs[0], path, trainable)
                else:
                    self._sequential(item, inputs[0], path, trainable)
            return b.last
        keywords = [(k, v, item.value_pos[k]) for k, v in item.items() if k not in LEAF_KEYS]
        layer, positions = build_layer(kind, [], keywords, item.value_pos["type"])
        if layer.is_merge and "from" not in item:
            raise SpecError(f"{layer.kind} merges several inputs: give them with from: [a, b]", where)
        if not layer.is_merge and len(inputs) != 1:
            raise SpecError(f"{layer.kind} takes one input, got from: {len(inputs)}", item.value_pos["from"])
        named = "name" in item
        local = self._local_name(item) if named else None
        return b.add(
            layer,
            local,
            inputs,
            position=where,
            arg_positions=positions,
            trainable=trainable,
            claimed=named,
        )

    def _residual(self, item: PosDict, x: Input, path: str, trainable: bool) -> None:
        b = self.builder
        body = self._list(item, "body", required=True)
        shortcut = self._list(item, "shortcut", required=False)
        with b.scope(f"{path}.body"):
            out_body = self.sequence(body, x, trainable)
        with b.scope(f"{path}.shortcut"):
            out_short = self.sequence(shortcut, x, trainable)
        add, _ = build_layer("Add", [], [], item.pos)
        with b.scope(path):
            b.add(add, "add", [out_body, out_short], position=item.pos, trainable=trainable)

    def _concat(self, item: PosDict, x: Input, path: str, trainable: bool) -> None:
        b = self.builder
        branches = self._list(item, "branches", required=True)
        outs = []
        for k, (branch, pos) in enumerate(zip(branches, branches.item_pos)):
            if not isinstance(branch, PosList):
                raise SpecError("each branch is a list of layers (use [] for the input itself)", pos)
            with b.scope(f"{path}.{k}"):
                outs.append(self.sequence(branch, x, trainable))
        dim = [(item["dim"], item.value_pos["dim"])] if "dim" in item else []
        cat, positions = build_layer("Concat", [], [("dim", v, p) for v, p in dim], item.pos)
        with b.scope(path):
            b.add(cat, "cat", outs, position=item.pos, arg_positions=positions, trainable=trainable)

    def _sequential(self, item: PosDict, x: Input, path: str, trainable: bool) -> None:
        b = self.builder
        layers = self._list(item, "layers", required=True)
        repeat = item.get("repeat", 1)
        if not isinstance(repeat, int) or isinstance(repeat, bool) or repeat < 1:
            raise SpecError(
                f"'repeat' must be a positive integer, got {shown(repeat)}", item.value_pos.get("repeat")
            )
        if repeat == 1 and "repeat" not in item:
            with b.scope(path):
                self.sequence(layers, x, trainable)
            return
        out = x
        for i in range(repeat):
            start = len(b)
            with b.scope(f"{path}.{i}"), b.block(f"{path}.{i}", "Sequential", item.pos, empty_ok=True):
                out = self.sequence(layers, out, trainable)
            if len(b) == start:
                return  # an empty body: the enclosing block reports it

    # ---- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _local_name(item: PosDict) -> str:
        raw = item["name"]
        if not isinstance(raw, str) or not raw or "." in raw:
            raise SpecError(
                f"'name' must be a non-empty string without dots, got {shown(raw)}", item.value_pos["name"]
            )
        return str(raw)

    @staticmethod
    def _trainable(item: PosDict) -> bool:
        value = item.get("trainable", True)
        if not isinstance(value, bool):
            raise SpecError(
                f"'trainable' must be true or false, got {shown(value)}", item.value_pos["trainable"]
            )
        return value

    @staticmethod
    def _from(item: PosDict, prev: Input) -> list[Input]:
        if "from" not in item:
            return [prev]
        value, where = item["from"], item.value_pos["from"]
        names = value if isinstance(value, list) else [value]
        if not names or not all(isinstance(n, str) and n for n in names):
            raise SpecError(f"'from' must be a layer name or a list of names, got {shown(value)}", where)
        spots = value.item_pos if isinstance(value, PosList) else [where] * len(names)
        return [Ref(str(n), p) for n, p in zip(names, spots)]

    @staticmethod
    def _list(item: PosDict, key: str, required: bool) -> PosList:
        if key not in item:
            if required:
                raise SpecError(f"{item['type']} needs {key!r}: a list of layers", item.pos)
            empty = PosList()
            empty.pos, empty.item_pos = item.pos, []
            return empty
        value = item[key]
        if not isinstance(value, PosList):
            raise SpecError(f"{key!r} must be a list of layers", item.value_pos[key])
        return value

    @staticmethod
    def _check_keys(item: PosDict, allowed: tuple[str, ...], kind: str) -> None:
        for key in item:
            if key not in allowed:
                raise SpecError(
                    f"{kind} block has no key {key!r}{did_you_mean(key, allowed)}", item.key_pos[key]
                )


def rejoin(items: PosList) -> list[tuple[Any, Position]]:
    """Items of a layer list, with call forms that YAML split at their commas put back together.

    In a flow sequence — ``body: [Conv2d(64, 64, 3, padding=1), ReLU]`` — YAML reads the commas
    inside the parentheses as item separators. A string item whose brackets do not balance is
    joined with the items after it (with ", ", as they were written) until they do.
    """
    out: list[tuple[Any, Position]] = []
    pending: list[PosStr] = []
    depth = 0
    for raw, pos in zip(items, items.item_pos):
        item = raw
        if pending and not isinstance(raw, str):  # YAML read a fragment such as "3" as a number
            item = PosStr(str(raw).lower() if isinstance(raw, bool) else repr(raw))
            item.pos, item.style = pos, None
        if isinstance(item, str):
            text = item if isinstance(item, PosStr) else _pos_str(item, pos)
            balance = (text.count("(") - text.count(")") if "(" in text or ")" in text else 0) + (
                text.count("[") - text.count("]") if "[" in text or "]" in text else 0
            )
            if pending or balance > 0:
                pending.append(text)
                depth += balance
                if depth <= 0:
                    out.append((_joined(pending), pending[0].pos))
                    pending, depth = [], 0
                continue
        out.append((item, pos))
    if pending:
        out.append((_joined(pending), pending[0].pos))
    return out


class JoinedStr(PosStr):
    """A call form rebuilt from several YAML scalars; knows where each piece was written."""

    pieces: list[tuple[int, PosStr]]


def _joined(parts: list[PosStr]) -> PosStr:
    text = JoinedStr(", ".join(parts))
    text.pos, text.style = parts[0].pos, parts[0].style
    text.pieces = []
    offset = 0
    for part in parts:
        text.pieces.append((offset, part))
        offset += len(part) + 2
    return text


def _canonical_block(kind: str) -> str:
    return {"residual": "Residual", "concat": "Concat", "sequential": "Sequential"}[kind]


def _pos_str(text: str, where: Position) -> PosStr:
    value = PosStr(text)
    value.pos, value.style = where, None
    return value
