"""What an operator handler is given: the node, the model around it, the tensors known so far
and the network being built — and the helpers every handler shares (inputs, constants, layers).

A handler reads ``ctx``, adds layers only through :meth:`Ctx.emit` and returns the node's
output: it never changes what the walk knows; the walk records what it returns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from cnncalc.errors import GeometryError, Position, SpecError
from cnncalc.graph import NETWORK_INPUT, NetworkBuilder
from cnncalc.layers.base import Layer, Shape, fmt_shape
from cnncalc.readers.onnx.model import Dims
from cnncalc.spec.build import make_layer

if TYPE_CHECKING:
    import numpy as np
    import onnx

    Array = np.ndarray[Any, Any]

# Operator semantics follow the ONNX operator spec, https://onnx.ai/onnx/operators/ (cited per
# operator in the handlers as "spec <Op>").
SPEC = "https://onnx.ai/onnx/operators/"


class Value(NamedTuple):
    """A tensor computed from the network input: the handle of the layer that makes it
    (NETWORK_INPUT for the input itself) and its shape."""

    handle: int
    shape: Shape


@dataclass(frozen=True)
class Output:
    """A handler's result when there is more to say than the value: ``checked`` is False where
    ONNX's shape inference is not the judge of the shape; ``fuses`` are the indices of later
    nodes read as part of this one (the bias Add after a MatMul, the rest of an Erf GELU), whose
    outputs are this value; ``more`` are the values of the node's other outputs, by tensor
    name (the pieces of a Split)."""

    value: Value
    checked: bool = True
    fuses: tuple[int, ...] = ()
    more: tuple[tuple[str, Value], ...] = ()


@dataclass(frozen=True)
class Model:
    """The graph as read, the same for every node: nodes in file order, the standard opset,
    which nodes read each tensor, the graph's outputs and the shapes inference gives."""

    path: str
    nodes: tuple[onnx.NodeProto, ...]
    opset: int
    domains: Mapping[str, int]
    consumers: Mapping[str, tuple[int, ...]]
    outputs: frozenset[str]
    inferred: Mapping[str, Dims]
    skip_unknown: bool

    def where(self, index: int) -> Position:
        """Where errors about node ``index`` point."""
        return node_position(self.path, index, self.nodes[index])


def node_position(path: str, index: int, node: onnx.NodeProto) -> Position:
    """Where errors about a node point: ``model.onnx#node3:Conv:conv1`` (index in the file)."""
    label = f"{node.op_type}:{node.name}" if node.name else node.op_type
    return Position(f"{path}#node{index}:{label}", 1, 1)


class Layers:
    """The network being built: the builder, the layer name of each handle, and which handles
    some layer reads (the others must be listed as outputs)."""

    def __init__(self, builder: NetworkBuilder) -> None:
        self.builder = builder
        self.names: list[str] = []
        self.read: set[int] = set()
        self._taken = {"input"}

    def unique(self, base: str) -> str:
        """A layer name from a node name: no dots (cnncalc's path separator), unique, not 'input'."""
        name = base.strip("/").replace(".", "_") or "node"
        candidate, k = name, 1
        while candidate in self._taken:
            k += 1
            candidate = f"{name}_{k}"
        self._taken.add(candidate)
        return candidate

    def add(self, layer: Layer, name: str, inputs: Sequence[Value], where: Position) -> int:
        """Add a layer under a name from :meth:`unique`; its handle."""
        handles = [v.handle for v in inputs]
        handle = self.builder.add(layer, name, handles, position=where)
        self.names.append(name)
        self.read.update(h for h in handles if h != NETWORK_INPUT)
        return handle


@dataclass(frozen=True)
class Ctx:
    """One node being translated: where it is, its layer name and attributes, and what the walk
    knows (``values``: tensors computed from the input; ``consts``: tensors known when reading —
    initializers, Constant nodes, folded arithmetic)."""

    index: int
    node: onnx.NodeProto
    name: str
    where: Position
    attrs: Mapping[str, Any]
    model: Model
    values: Mapping[str, Value]
    consts: Mapping[str, Array]
    layers: Layers

    @property
    def op(self) -> str:
        return str(self.node.op_type)

    @property
    def opset(self) -> int:
        return self.model.opset

    def error(self, message: str) -> SpecError:
        """An error at this node, naming its layer."""
        error = SpecError(message, self.where)
        error.layer = self.name
        return error

    # ---- inputs ------------------------------------------------------------------------------

    def dyn(self, k: int = 0) -> Value:
        """Input ``k``: a tensor computed from the network input, with the shape read so far."""
        tensor = self.node.input[k] if k < len(self.node.input) else ""
        if tensor in self.values:
            return self.values[tensor]
        if tensor in self.consts:
            raise self.error(
                f"input {k} ({tensor!r}) of {self.op} is a constant: cnncalc reads {self.op} only on "
                f"tensors computed from the network input"
            )
        raise self.error(self._missing(tensor, k))

    def _missing(self, tensor: str, k: int) -> str:
        if not tensor:
            return f"input {k} is missing"
        for node in self.model.nodes:
            if tensor in node.output:
                j = list(node.output).index(tensor)
                return (
                    f"input {k} is output {j} of {node.op_type} node {node.name!r}, which cnncalc does "
                    f"not compute (only a layer's main output is read)"
                )
        return f"input {k} ({tensor!r}) is not produced by any node"

    def const(self, k: int, what: str) -> Array | None:
        """Optional constant input ``k`` (None when absent): an initializer, a Constant node or
        something folded from them."""
        if k >= len(self.node.input) or not self.node.input[k]:
            return None
        tensor = self.node.input[k]
        if tensor in self.consts:
            return self.consts[tensor]
        raise self.error(
            f"{self.op} {what} ({tensor!r}) must be a constant (an initializer or a Constant node)"
        )

    def need(self, k: int, what: str) -> Array:
        """Constant input ``k``, which the operator cannot do without."""
        value = self.const(k, what)
        if value is None:
            raise self.error(f"{self.op} needs its {what} (input {k})")
        return value

    def sole_reader(self, tensor: str) -> int | None:
        """The node that alone reads ``tensor`` (its index), when the graph does not also output
        it: such a node can be read as part of the one that makes the tensor."""
        readers = self.model.consumers.get(tensor, ())
        if len(readers) != 1 or tensor in self.model.outputs:
            return None
        return readers[0]

    # ---- attributes --------------------------------------------------------------------------

    def spatial(self, x: Shape) -> int:
        """The number of spatial axes of an (N, C, *spatial) input: 1 to 3, as torch.nn has."""
        n = len(x) - 2
        if n not in (1, 2, 3):
            raise self.error(f"{self.op} on a {len(x)}D input {fmt_shape(x)}: cnncalc reads 3D to 5D")
        return n

    def ints(self, name: str, n: int, default: int) -> list[int]:
        """An integer-list attribute with one value per axis (``default`` on each when absent)."""
        value = [int(v) for v in self.attrs.get(name, [default] * n)]
        if len(value) != n:
            raise self.error(f"{self.op} {name} {value} must have {n} values, one per spatial axis")
        return value

    # ---- layers ------------------------------------------------------------------------------

    def sub_name(self, suffix: str) -> str:
        """A unique name for a helper layer of this node (``conv_pad``)."""
        return self.layers.unique(f"{self.name}_{suffix}")

    def emit(self, kind: str, args: dict[str, Any], inputs: Sequence[Value], name: str = "") -> Value:
        """Add one layer and return its output, whose shape cnncalc's own layer computes (errors
        name the layer, its input and the ONNX node, as the analysis would)."""
        name = name or self.name
        layer = make_layer(kind, self.where, **args)
        shapes = [v.shape for v in inputs]
        try:
            out = layer.merge(shapes)[0] if layer.is_merge else layer.apply(shapes[0]).output
        except GeometryError as exc:
            given = " and ".join(fmt_shape(x) for x in shapes)
            error = GeometryError(
                f"layer {len(self.layers.builder)} {name!r} ({layer.kind}) on input {given}: {exc.message}",
                exc.argument,
            )
            error.layer = name
            raise error.located(self.where) from None
        return Value(self.layers.add(layer, name, inputs, self.where), out)


def f32(value: Any) -> float:
    """A float32 attribute as the decimal it was written as (0.9, not 0.8999999761581421)."""
    import numpy as np

    return float(str(np.float32(value)))
