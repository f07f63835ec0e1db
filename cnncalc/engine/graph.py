"""The typed network: a directed acyclic graph of layer nodes, stored in topological order,
with the blocks (Residual, Concat, Sequential) that grouped them in the network file."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

from cnncalc.errors import Position
from cnncalc.layers.base import Layer, Shape

# A node input that is the network input rather than another node.
NETWORK_INPUT = -1


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
    arg_positions: dict[str, Position] = field(default_factory=dict)
    path: str = ""

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
