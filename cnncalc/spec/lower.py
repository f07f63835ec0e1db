"""Lower what the user wrote — layers, blocks, ``from:`` references — to a graph of nodes.

Blocks become plain nodes plus a merge: ``Residual`` is ``Add(body(x), shortcut(x))``, a
``Concat`` block is ``torch.cat`` of its branches, ``Sequential`` (with ``repeat``) is a chain.
Every node gets a unique dotted path (``layer2.0.body.conv2d_1``); references are resolved by
path after lowering, then the graph is sorted topologically, so a forward reference that closes
a loop is reported as a cycle.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cnncalc.engine.graph import NETWORK_INPUT, Block, Node, topological_order
from cnncalc.errors import GraphError, Position, SpecError, shown
from cnncalc.layers import Layer
from cnncalc.limits import LIMITS
from cnncalc.spec.build import build_layer
from cnncalc.spec.yamlload import PosDict, PosList, PosStr

LEAF_KEYS = ("type", "name", "trainable", "from")
BLOCK_KEYS = {
    "residual": ("type", "name", "trainable", "from", "body", "shortcut"),
    "concat": ("type", "name", "trainable", "from", "branches", "dim"),
    "sequential": ("type", "name", "trainable", "from", "layers", "repeat"),
}

# Builds a layer from a call-form string: (text, its position) -> (layer, argument positions).
CallBuilder = Callable[[PosStr, Position], tuple[Layer, dict[str, Position]]]


@dataclass(frozen=True)
class Ref:
    """A ``from:`` reference by name, kept with its position until names are resolved."""

    name: str
    position: Position
    context: str = "from:"


Input = int | Ref  # a pending node index (NETWORK_INPUT for the input) or a name


@dataclass
class _Pending:
    path: str
    name: str
    layer: Layer
    inputs: list[Input]
    trainable: bool
    position: Position
    arg_positions: dict[str, Position]


@dataclass
class _BlockRecord:
    path: str
    kind: str
    output: int
    first: int  # pending index of the first node lowered inside it
    last: int  # one past the last
    position: Position


@dataclass
class Scope:
    """Names inside one list of layers: ``prefix.name``, with per-scope default counters."""

    prefix: str
    counts: dict[str, int] = field(default_factory=dict)

    def path(self, local: str) -> str:
        return f"{self.prefix}.{local}" if self.prefix else local


def count_layers(items: Any) -> int:
    """Layers after expansion, computed without expanding (so ``repeat: 10**12`` fails at once).

    Subtrees shared through YAML aliases are counted once and multiplied, so the cost is the
    size of the document, not of its expansion.
    """
    memo: dict[int, int] = {}

    def count(value: Any, depth: int = 0) -> int:
        if isinstance(value, (list, dict)) and id(value) in memo:
            return memo[id(value)]
        if depth > LIMITS.max_depth:
            return 0  # the YAML reader refuses such nesting first
        if isinstance(value, list):
            total = sum(count(item, depth + 1) for item in value)
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
    """Turns a list of layer items into nodes and blocks; :meth:`finish` resolves and sorts."""

    def __init__(self, call: CallBuilder, file: str) -> None:
        self.call = call
        self.file = file
        self.pending: list[_Pending] = []
        self.blocks: list[_BlockRecord] = []
        self.names: dict[str, int] = {}  # path of a node or block -> pending index of its output
        self.name_positions: dict[str, Position] = {}

    # ---- lowering ------------------------------------------------------------------------

    def sequence(self, items: PosList, prev: Input, scope: Scope, trainable: bool = True) -> Input:
        """Lower a list of items, each fed by the one before; returns the last output."""
        for item in items:  # names given explicitly are claimed first: defaults avoid them
            if isinstance(item, PosDict) and "name" in item:
                self._claim(scope.path(self._local_name(item)), item.value_pos["name"])
        for item, pos in rejoin(items):
            prev = self.item(item, pos, prev, scope, trainable)
        return prev

    def item(self, item: Any, where: Position, prev: Input, scope: Scope, trainable: bool) -> Input:
        """Lower one item of a layer list."""
        if isinstance(item, str):
            text = item if isinstance(item, PosStr) else _pos_str(item, where)
            layer, positions = self.call(text, where)
            if layer.is_merge:
                raise SpecError(
                    f"{layer.kind} merges several inputs: write it as a mapping with from: [a, b]", where
                )
            return self._leaf(
                layer, positions, scope.path(self._default(scope, layer.kind)), [prev], trainable, where
            )
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
            path = scope.path(self._local_name(item) if "name" in item else self._default(scope, kind))
            start = len(self.pending)
            if block == "residual":
                out = self._residual(item, inputs[0], path, trainable)
            elif block == "concat":
                out = self._concat(item, inputs[0], path, trainable)
            else:
                out = self._sequential(item, inputs[0], path, trainable)
            if not isinstance(out, int) or out < start:
                raise SpecError(f"the {kind} block {path!r} has no layers", where)
            self.blocks.append(
                _BlockRecord(path, _canonical_block(block), out, start, len(self.pending), where)
            )
            self.names[path] = out
            self.name_positions[path] = where
            return out
        keywords = [(k, v, item.value_pos[k]) for k, v in item.items() if k not in LEAF_KEYS]
        layer, positions = build_layer(kind, [], keywords, item.value_pos["type"])
        if layer.is_merge and "from" not in item:
            raise SpecError(f"{layer.kind} merges several inputs: give them with from: [a, b]", where)
        if not layer.is_merge and len(inputs) != 1:
            raise SpecError(f"{layer.kind} takes one input, got from: {len(inputs)}", item.value_pos["from"])
        local = self._local_name(item) if "name" in item else self._default(scope, layer.kind)
        return self._leaf(
            layer, positions, scope.path(local), inputs, trainable, where, claimed="name" in item
        )

    def _residual(self, item: PosDict, x: Input, path: str, trainable: bool) -> Input:
        body = self._list(item, "body", required=True)
        shortcut = self._list(item, "shortcut", required=False)
        out_body = self.sequence(body, x, Scope(f"{path}.body"), trainable)
        out_short = self.sequence(shortcut, x, Scope(f"{path}.shortcut"), trainable)
        add, _ = build_layer("Add", [], [], item.pos)
        return self._leaf(add, {}, f"{path}.add", [out_body, out_short], trainable, item.pos)

    def _concat(self, item: PosDict, x: Input, path: str, trainable: bool) -> Input:
        branches = self._list(item, "branches", required=True)
        outs = []
        for k, (branch, pos) in enumerate(zip(branches, branches.item_pos)):
            if not isinstance(branch, PosList):
                raise SpecError("each branch is a list of layers (use [] for the input itself)", pos)
            outs.append(self.sequence(branch, x, Scope(f"{path}.{k}"), trainable))
        dim = [(item["dim"], item.value_pos["dim"])] if "dim" in item else []
        cat, positions = build_layer("Concat", [], [("dim", v, p) for v, p in dim], item.pos)
        return self._leaf(cat, positions, f"{path}.cat", outs, trainable, item.pos)

    def _sequential(self, item: PosDict, x: Input, path: str, trainable: bool) -> Input:
        layers = self._list(item, "layers", required=True)
        repeat = item.get("repeat", 1)
        if not isinstance(repeat, int) or isinstance(repeat, bool) or repeat < 1:
            raise SpecError(
                f"'repeat' must be a positive integer, got {shown(repeat)}", item.value_pos.get("repeat")
            )
        if repeat == 1 and "repeat" not in item:
            return self.sequence(layers, x, Scope(path), trainable)
        out = x
        for i in range(repeat):
            start = len(self.pending)
            out = self.sequence(layers, out, Scope(f"{path}.{i}"), trainable)
            if isinstance(out, int) and out >= start:
                self.blocks.append(
                    _BlockRecord(f"{path}.{i}", "Sequential", out, start, len(self.pending), item.pos)
                )
                self.names[f"{path}.{i}"] = out
        return out

    # ---- helpers ---------------------------------------------------------------------------

    def _leaf(
        self,
        layer: Layer,
        positions: dict[str, Position],
        path: str,
        inputs: list[Input],
        trainable: bool,
        where: Position,
        claimed: bool = False,
    ) -> int:
        if not claimed:
            self._claim(path, where)
        self.pending.append(
            _Pending(path, path.rsplit(".", 1)[-1], layer, inputs, trainable, where, positions)
        )
        index = len(self.pending) - 1
        self.names[path] = index
        self.name_positions[path] = where
        return index

    def _claim(self, path: str, where: Position | None) -> None:
        if path in self.names or path in self.name_positions or path == "input":
            raise SpecError(f"layer name {path!r} is used twice", where)
        self.name_positions[path] = where or Position(self.file)

    def _default(self, scope: Scope, kind: str) -> str:
        base = kind.lower()
        while True:
            scope.counts[base] = scope.counts.get(base, 0) + 1
            local = f"{base}_{scope.counts[base]}"
            if scope.path(local) not in self.name_positions:
                return local

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
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise SpecError(f"{kind} block has no key {key!r}{hint}", item.key_pos[key])

    # ---- resolving and sorting ---------------------------------------------------------------

    def finish(
        self, outputs: list[Ref] | None
    ) -> tuple[tuple[Node, ...], tuple[int, ...], tuple[Block, ...]]:
        """Resolve names, sort topologically, check that every result is used; build the nodes."""
        if not self.pending:
            raise SpecError("the network has no layers", Position(self.file))
        resolved: list[list[int]] = []
        for p in self.pending:
            resolved.append([self._resolve(i) for i in p.inputs])
        order = self._toposort(resolved)
        new_index = {old: new for new, old in enumerate(order)}
        new_index[NETWORK_INPUT] = NETWORK_INPUT
        if outputs:
            out_nodes = tuple(new_index[self._resolve(ref)] for ref in outputs)
        else:
            out_nodes = (new_index[len(self.pending) - 1],)
        used = {i for ins in resolved for i in ins}
        for old, p in enumerate(self.pending):
            if old not in used and new_index[old] not in out_nodes:
                raise GraphError(
                    f"the output of {p.path!r} ({p.layer.kind}) is not used: feed it to a layer with "
                    f"from: or list it under outputs:",
                    p.position,
                )
        nodes = tuple(
            Node(
                index=new_index[old],
                name=p.name,
                layer=p.layer,
                inputs=tuple(new_index[i] for i in resolved[old]),
                trainable=p.trainable,
                position=p.position,
                arg_positions=p.arg_positions,
                path=p.path,
            )
            for old, p in ((old, self.pending[old]) for old in order)
        )
        blocks = tuple(
            Block(
                b.path,
                b.kind,
                new_index[b.output],
                tuple(sorted(new_index[i] for i in range(b.first, b.last))),
                b.position,
            )
            for b in self.blocks
        )
        return nodes, out_nodes, tuple(sorted(blocks, key=lambda b: (b.nodes[0], b.depth)))

    def _resolve(self, ref: Input) -> int:
        if isinstance(ref, int):
            return ref
        if ref.name == "input":
            return NETWORK_INPUT
        if ref.name in self.names:
            return self.names[ref.name]
        close = difflib.get_close_matches(ref.name, list(self.names), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise GraphError(f"unknown layer {ref.name!r} in {ref.context}{hint}", ref.position)

    def _toposort(self, inputs: list[list[int]]) -> list[int]:
        """The nodes in topological order, taking ready nodes in the order they were written."""
        deps = {node: {i for i in ins if i != NETWORK_INPUT} for node, ins in enumerate(inputs)}
        order, stuck = topological_order(deps)
        if stuck:
            consumers: dict[int, list[int]] = {}
            for node, d in deps.items():
                for i in d:
                    consumers.setdefault(i, []).append(node)
            cycle = [n for n in sorted(stuck) if self._reaches(n, n, consumers, stuck)]
            names = ", ".join(repr(self.pending[n].path) for n in cycle[:4])
            raise GraphError(f"layers {names} form a cycle through from:", self.pending[cycle[0]].position)
        return order

    @staticmethod
    def _reaches(start: int, goal: int, consumers: dict[int, list[int]], allowed: set[int]) -> bool:
        """Whether ``goal`` can be reached from ``start`` by following consumers (one step or more)."""
        seen: set[int] = set()
        stack = list(consumers.get(start, []))
        while stack:
            node = stack.pop()
            if node == goal:
                return True
            if node in seen or node not in allowed:
                continue
            seen.add(node)
            stack.extend(consumers.get(node, []))
        return False


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
            balance = sum(text.count(c) for c in "([") - sum(text.count(c) for c in ")]")
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
