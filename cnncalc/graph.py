"""The network model — a directed acyclic graph of layer nodes in topological order, with the
blocks that grouped them — and :class:`NetworkBuilder`, the one way every source builds it.

The YAML spec, the call form, :func:`cnncalc.network` and every reader hand the builder typed
layer objects; the builder owns unique names, block records, name resolution (``from:``), the
cycle and unused-output checks and the topological order.
"""

from __future__ import annotations

import contextlib
import difflib
import heapq
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from cnncalc.errors import GraphError, LimitError, Position, SpecError
from cnncalc.layers.base import Layer, Shape
from cnncalc.limits import Limits
from cnncalc.records import quick_init

# A node input that is the network input rather than another node.
NETWORK_INPUT = -1

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


@quick_init
@dataclass(frozen=True)
class Node:
    """One layer in the graph: what it is, what feeds it, and where the user wrote it.

    ``path`` is unique: the layer's name prefixed by the blocks around it
    (``layer2.0.body.conv2d_1``); ``name`` is the last part.
    """

    index: int
    name: str
    layer: Layer
    inputs: tuple[int, ...] = (NETWORK_INPUT,)
    trainable: bool = True
    position: Position | None = None
    arg_positions: Mapping[str, Position] = field(default_factory=dict)
    path: str = ""
    # how a reader met the layer, for the FLOPs conventions of other tools (cnncalc.count): ""
    # as written; the PyTorch reader's "module:<class>" for a module call, or the exported
    # node's torch_fn ("function.relu" for F.relu, "method_descriptor.add" for ``+``)
    origin: str = ""

    @property
    def label(self) -> str:
        """How errors name the layer: ``layer 3 'conv2d_2' (Conv2d)``."""
        return f"layer {self.index} {self.key!r} ({self.layer.kind})"

    @property
    def key(self) -> str:
        """The unique name: the path (equal to the name for a top-level layer)."""
        return self.path or self.name

    @property
    def depth(self) -> int:
        """1 for a top-level layer, 2 inside one block, and so on."""
        return self.key.count(".") + 1


@dataclass(frozen=True)
class Block:
    """A group of nodes as written: a Residual, Concat or Sequential block, or a repeated copy."""

    path: str
    kind: str
    output: int  # the node whose output is the block's output
    nodes: tuple[int, ...]  # every node inside, in topological order
    position: Position | None = None

    @property
    def depth(self) -> int:
        return self.path.count(".") + 1


@dataclass(frozen=True)
class Network:
    """A network ready to analyse: input shape, dtype and nodes in topological order."""

    input_shape: Shape
    nodes: tuple[Node, ...]
    name: str | None = None
    dtype: str = "float32"
    source: str = "<network>"
    outputs: tuple[int, ...] = ()
    blocks: tuple[Block, ...] = ()
    # What a PyTorch module tells besides its layers (cnncalc.readers.torch): parameters read by
    # two layers (tied, or a module called twice), counted once in the totals; the modules the
    # forward never calls, with their parameters (None: the format cannot tell); notes for the
    # table (which forward argument is the input).
    shared_params: int = 0
    unused: tuple[tuple[str, int], ...] | None = None
    notes: tuple[str, ...] = ()

    @property
    def output_nodes(self) -> tuple[int, ...]:
        """Indices of the output nodes: the declared ones, or the last node."""
        if self.outputs:
            return self.outputs
        return (len(self.nodes) - 1,) if self.nodes else ()


def topological_order(deps: dict[int, set[int]]) -> tuple[list[int], set[int]]:
    """Kahn's algorithm over ``node -> the nodes it depends on``, taking ready nodes in index
    order (so a graph written in order keeps its order). Returns the order and the nodes left
    waiting, which lie on or after a cycle."""
    waiting = {node: set(d) for node, d in deps.items()}
    users: dict[int, list[int]] = {}
    for node, d in waiting.items():
        for dep in d:
            users.setdefault(dep, []).append(node)
    ready = [node for node, d in waiting.items() if not d]
    heapq.heapify(ready)
    order = []
    while ready:
        node = heapq.heappop(ready)
        order.append(node)
        for user in users.get(node, []):
            waiting[user].discard(node)
            if not waiting[user]:
                heapq.heappush(ready, user)
    return order, set(waiting) - set(order)


def did_you_mean(word: str, choices: Sequence[str], cutoff: float = 0.6) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or nothing: the one hint builder."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=cutoff)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass(frozen=True)
class Ref:
    """An input given by name (a layer's path, or ``input``), resolved when the network is built.

    ``scope`` is the path of the block the reference was written in: a name is looked up there
    first, then in each enclosing block, then at the top (``from: conv`` inside ``layer1.body``
    means ``layer1.body.conv`` when there is one).
    """

    name: str
    position: Position | None = None
    context: str = "from:"
    scope: str = ""


# What feeds a node: a handle returned by :meth:`NetworkBuilder.add` (or NETWORK_INPUT), or a name.
Input = int | Ref | str


@dataclass
class _Scope:
    prefix: str
    counts: dict[str, int] = field(default_factory=dict)

    def path(self, local: str) -> str:
        return f"{self.prefix}.{local}" if self.prefix else local


@dataclass
class _BlockRecord:
    path: str
    kind: str
    first: int  # handle of the first node added inside it
    last: int = -1  # one past the last
    position: Position | None = None


class NetworkBuilder:
    """Builds a :class:`Network` from typed layers, in the order they were written.

    >>> from cnncalc.layers.conv import Conv2d
    >>> from cnncalc.layers.activation import ReLU
    >>> b = NetworkBuilder((1, 3, 8, 8))
    >>> conv = b.add(Conv2d(in_channels=3, out_channels=4, kernel_size=3))
    >>> _ = b.add(ReLU())
    >>> [n.key for n in b.build().nodes]
    ['conv2d_1', 'relu_1']

    Names are local to the current scope (:meth:`scope`, :meth:`block`): a layer added as
    ``conv`` inside block ``layer1`` is ``layer1.conv``. A layer without a name gets
    ``<kind>_<n>``, counted per scope and skipping names already taken. Inputs default to the
    previous layer added (the network input for the first).
    """

    def __init__(
        self,
        input_shape: Shape,
        *,
        name: str | None = None,
        dtype: str = "float32",
        source: str = "<network>",
        limits: Limits | None = None,
    ) -> None:
        self.input_shape = tuple(input_shape)
        self.name = name
        self.dtype = dtype
        self.source = source
        self.limits = limits or Limits()
        # the layers as added: a Node each, its inputs already handles where they were given as
        # handles; the inputs of those that named theirs (from:) wait in _refs until build()
        self._pending: list[Node] = []
        self._refs: dict[int, list[Input]] = {}
        self._blocks: list[_BlockRecord] = []
        self._names: dict[str, int] = {}  # path of a node or block -> handle of its output
        self._taken: dict[str, Position | None] = {}  # paths claimed, with where
        self._scopes = [_Scope("")]
        self._outputs: list[Input] = []
        self._last: int = NETWORK_INPUT

    # ---- naming --------------------------------------------------------------------------

    @property
    def last(self) -> int:
        """The handle of the layer added last (NETWORK_INPUT before any)."""
        return self._last

    def path(self, local: str) -> str:
        """The full path ``local`` has in the current scope."""
        return self._scopes[-1].path(local)

    def claim(self, local: str, position: Position | None = None) -> str:
        """Reserve a name in the current scope (so that default names avoid it); its full path."""
        path = self.path(local)
        if path in self._taken or path == "input":
            raise SpecError(f"layer name {path!r} is used twice", position)
        self._taken[path] = position
        return path

    def default_name(self, kind: str) -> str:
        """The next free ``<kind>_<n>`` of the current scope (not yet claimed)."""
        return self._default(kind)[0]

    def _default(self, kind: str) -> tuple[str, str]:
        """:meth:`default_name` and its full path."""
        scope = self._scopes[-1]
        base = kind.lower()
        counts, prefix, taken = scope.counts, scope.prefix, self._taken
        n = counts.get(base, 0)
        while True:
            n += 1
            local = f"{base}_{n}"
            path = f"{prefix}.{local}" if prefix else local
            if path not in taken:
                counts[base] = n
                return local, path

    @contextlib.contextmanager
    def scope(self, prefix: str) -> Iterator[None]:
        """Names added inside are ``prefix.<name>`` (``prefix`` is a full path), counted afresh."""
        self._scopes.append(_Scope(prefix))
        try:
            yield
        finally:
            self._scopes.pop()

    @contextlib.contextmanager
    def block(
        self,
        path: str,
        kind: str,
        position: Position | None = None,
        *,
        label: str | None = None,
        empty_ok: bool = False,
    ) -> Iterator[None]:
        """Record the layers added inside as one block; its output is the last layer added.

        ``path`` is the block's full path (see :meth:`path`); referring to it by name means its
        output. A block with no layer inside is refused (``label`` names its kind as written),
        or, with ``empty_ok``, not recorded.
        """
        record = _BlockRecord(path, kind, len(self._pending), position=position)
        yield
        record.last = len(self._pending)
        if record.last == record.first:
            if empty_ok:
                return
            raise SpecError(f"the {label or kind} block {path!r} has no layers", position)
        self._blocks.append(record)
        self._names[path] = self._last
        self._taken.setdefault(path, position)

    # ---- adding ----------------------------------------------------------------------------

    def add(
        self,
        layer: Layer,
        name: str | None = None,
        inputs: Sequence[Input] | None = None,
        *,
        position: Position | None = None,
        arg_positions: Mapping[str, Position] | None = None,
        trainable: bool = True,
        claimed: bool = False,
        origin: str = "",
    ) -> int:
        """Add a layer; returns its handle. ``name`` is local to the current scope; ``claimed``
        says it was reserved with :meth:`claim` already; ``origin`` is :attr:`Node.origin`."""
        if len(self._pending) >= self.limits.max_layers:
            raise LimitError(
                f"the network has more than the limit of {self.limits.max_layers:,} layers",
                "max_layers",
                position,
            )
        handle = len(self._pending)
        if name is None:
            path = self._default(layer.kind)[1]  # never taken, never 'input'
            self._taken[path] = position
        else:
            path = self.path(name) if claimed else self.claim(name, position)
        if inputs is None:
            handles: tuple[int, ...] = (self._last,)
        elif len(inputs) == 1 and type(inputs[0]) is int:  # fed by one earlier layer
            handles = (inputs[0],)
        else:
            given = list(inputs)
            prefix = self._scopes[-1].prefix
            if prefix:  # names are looked up from the block they were written in
                given = [self._scoped(i, prefix) for i in given]
            if all(type(i) is int for i in given):
                handles = tuple(given)  # type: ignore[arg-type]
            else:
                handles = ()
                self._refs[handle] = given
        self._pending.append(
            Node(
                handle,
                path.rpartition(".")[2],
                layer,
                handles,
                trainable,
                position,
                arg_positions or {},
                path,
                origin,
            )
        )
        self._names[path] = handle
        self._last = handle
        return handle

    @staticmethod
    def _scoped(given: Input, prefix: str) -> Input:
        if isinstance(given, str):
            return Ref(given, None, "from:", prefix)
        if isinstance(given, Ref) and not given.scope:
            return Ref(given.name, given.position, given.context, prefix)
        return given

    def output(self, *names: Input) -> None:
        """Declare network outputs (default: the last layer added)."""
        for name in names:
            self._outputs.append(Ref(name, None, "outputs:") if isinstance(name, str) else name)

    def __len__(self) -> int:
        return len(self._pending)

    # ---- building -----------------------------------------------------------------------

    def build(self) -> Network:
        """Resolve names, sort topologically, check that every result is used; the network."""
        if not self._pending:
            raise SpecError("the network has no layers", Position(self.source))
        count = len(self._pending)
        refs = self._refs
        resolved = [
            [self._resolve(i) for i in refs[n.index]] if n.index in refs else n.inputs for n in self._pending
        ]
        for ins in resolved:  # handles given by a reader: checked once here
            for i in ins:
                if type(i) is not int or not NETWORK_INPUT <= i < count:
                    self._resolve(i)
        order = self._toposort(resolved)
        in_order = order == list(range(count))  # the written order (the usual file): no renumbering
        new_index = {old: new for new, old in enumerate(order)}
        new_index[NETWORK_INPUT] = NETWORK_INPUT
        if self._outputs:
            out_nodes = tuple(new_index[self._resolve(ref)] for ref in self._outputs)
        else:
            out_nodes = (new_index[count - 1],)
        used = {i for ins in resolved for i in ins}
        if len(used) < count:  # some layer feeds nothing: it must be an output
            outputs = {order[n] for n in out_nodes}
            for old, p in enumerate(self._pending):
                if old not in used and old not in outputs:
                    raise GraphError(
                        f"the output of {p.path!r} ({p.layer.kind}) is not used: feed it to a layer "
                        f"with from: or list it under outputs:",
                        p.position,
                    )
        if in_order and not refs:
            nodes = tuple(self._pending)  # made as they were added: nothing moved
        else:
            pending = self._pending
            nodes = tuple(
                [
                    Node(
                        new,
                        p.name,
                        p.layer,
                        tuple([new_index[i] for i in resolved[old]]),
                        p.trainable,
                        p.position,
                        p.arg_positions,
                        p.path,
                        p.origin,
                    )
                    for new, old in enumerate(order)
                    for p in (pending[old],)
                ]
            )
        blocks = tuple(
            Block(
                b.path,
                b.kind,
                new_index[self._names[b.path]],
                tuple(sorted(new_index[i] for i in range(b.first, b.last))),
                b.position,
            )
            for b in self._blocks
        )
        return Network(
            self.input_shape,
            nodes,
            self.name,
            self.dtype,
            self.source,
            out_nodes if self._outputs else (),
            tuple(sorted(blocks, key=lambda b: (b.nodes[0], b.depth))),
        )

    def _resolve(self, ref: Input) -> int:
        if isinstance(ref, int):
            if not NETWORK_INPUT <= ref < len(self._pending):
                raise GraphError(f"no layer with handle {ref}", Position(self.source))
            return ref
        if isinstance(ref, str):
            ref = Ref(ref)
        if ref.name == "input":
            return NETWORK_INPUT
        scope = ref.scope
        while scope:  # the innermost block first, then each one around it
            local = f"{scope}.{ref.name}"
            if local in self._names:
                return self._names[local]
            scope = scope.rpartition(".")[0]
        if ref.name in self._names:
            return self._names[ref.name]
        longer = [path for path in self._names if path.endswith("." + ref.name)]
        if longer:
            shown_paths = " or ".join(repr(p) for p in longer[:3])
            hint = f" (did you mean {shown_paths}?)"
        else:
            hint = did_you_mean(ref.name, list(self._names))
        raise GraphError(f"unknown layer {ref.name!r} in {ref.context}{hint}", ref.position)

    def _toposort(self, inputs: Sequence[Sequence[int]]) -> list[int]:
        """The nodes in topological order, taking ready nodes in the order they were written."""
        if all(i < node for node, ins in enumerate(inputs) for i in ins):
            # every input written before its layer (the usual file): Kahn's algorithm taking
            # ready nodes in index order returns the written order, so it is not run
            return list(range(len(inputs)))
        deps = {node: {i for i in ins if i != NETWORK_INPUT} for node, ins in enumerate(inputs)}
        order, stuck = topological_order(deps)
        if stuck:
            consumers: dict[int, list[int]] = {}
            for node, d in deps.items():
                for i in d:
                    consumers.setdefault(i, []).append(node)
            cycle = [n for n in sorted(stuck) if _reaches(n, n, consumers, stuck)]
            names = ", ".join(repr(self._pending[n].path) for n in cycle[:4])
            raise GraphError(f"layers {names} form a cycle through from:", self._pending[cycle[0]].position)
        return order


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
