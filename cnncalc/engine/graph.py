"""The typed network: a directed acyclic graph of layer nodes, stored in topological order."""

from __future__ import annotations

from dataclasses import dataclass, field

from cnncalc.errors import Position
from cnncalc.layers.base import Layer, Shape

# A node input that is the network input rather than another node.
NETWORK_INPUT = -1


@dataclass(frozen=True)
class Node:
    """One layer in the graph: what it is, what feeds it, and where the user wrote it."""

    index: int
    name: str
    layer: Layer
    inputs: tuple[int, ...] = (NETWORK_INPUT,)
    trainable: bool = True
    position: Position | None = None
    arg_positions: dict[str, Position] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """How errors name the layer: ``layer 3 'conv2d_2' (Conv2d)``."""
        return f"layer {self.index} {self.name!r} ({self.layer.kind})"


@dataclass(frozen=True)
class Network:
    """A network ready to analyse: input shape, dtype and nodes in topological order."""

    input_shape: Shape
    nodes: tuple[Node, ...]
    name: str | None = None
    dtype: str = "float32"
    source: str = "<network>"
    outputs: tuple[int, ...] = ()

    @property
    def output_nodes(self) -> tuple[int, ...]:
        """Indices of the output nodes: the declared ones, or the last node."""
        if self.outputs:
            return self.outputs
        return (len(self.nodes) - 1,) if self.nodes else ()
