"""The graph walk: nodes in topological order, each folded into a constant or translated by its
operator's handler, its output checked against ONNX's shape inference; then the outputs."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from cnncalc.errors import Position, SpecError, shown
from cnncalc.graph import NETWORK_INPUT, Network, NetworkBuilder, Ref, topological_order
from cnncalc.layers.base import fmt_shape
from cnncalc.readers.onnx.context import SPEC, Ctx, Layers, Model, Output, Value, node_position
from cnncalc.readers.onnx.handlers import HINTS, SUPPORTED_OPS
from cnncalc.readers.onnx.model import Dims, attributes, infer_shapes, network_input

if TYPE_CHECKING:
    import onnx

    from cnncalc.readers import ReadOptions
    from cnncalc.readers.onnx.context import Array

_STANDARD = ("", "ai.onnx")


def translate(proto: onnx.ModelProto, path: str, options: ReadOptions) -> Network:
    """The network of a loaded model, one node at a time in topological order."""
    from onnx import numpy_helper

    graph = proto.graph
    where = Position(path, 1, 1)
    input_name, input_shape, dtype = network_input(graph, options.input_shape, where)
    domains = {op.domain: op.version for op in proto.opset_import}
    nodes = tuple(graph.node)
    # tensor name -> value, for tensors known when reading (initializers, Constant, folded)
    consts: dict[str, Array] = {
        init.name: _initializer(init, numpy_helper, where) for init in graph.initializer
    }
    # tensor name -> the layer that computes it and its shape, for tensors computed from the input
    values: dict[str, Value] = {input_name: Value(NETWORK_INPUT, input_shape)}
    inferred = infer_shapes(proto, input_name, input_shape)
    order = _order(nodes, [o.name for o in graph.output], path)
    consumers: dict[str, list[int]] = {}
    for i in order:
        for t in nodes[i].input:
            consumers.setdefault(t, []).append(i)
    model = Model(
        path,
        nodes,
        domains.get("", domains.get("ai.onnx", 1)),
        domains,
        {t: tuple(users) for t, users in consumers.items()},
        frozenset(o.name for o in graph.output),
        inferred,
        options.skip_unknown,
    )
    builder = NetworkBuilder(
        input_shape, name=Path(path).stem, dtype=dtype, source=path, limits=options.limits
    )
    layers = Layers(builder)
    fused: dict[int, Value] = {}  # a node read as part of an earlier one -> that one's output
    for i in order:
        node = nodes[i]
        if i in fused:  # read as part of an earlier node (a Linear's bias Add, a GELU's Erf)
            values[node.output[0]] = fused[i]
            continue
        inputs = [t for t in node.input if t]
        standard = node.domain in _STANDARD
        if standard and node.op_type in ("Shape", "Size") and inputs and inputs[0] in values:
            consts[node.output[0]] = _shape_of(node, values[inputs[0]])
            continue
        if all(t in consts for t in inputs):
            consts.update(_fold(node, consts, domains, model.where(i)))
            continue
        base = node.name or f"{node.op_type}_{i}"
        ctx = Ctx(
            i, node, layers.unique(base), model.where(i), attributes(node), model, values, consts, layers
        )
        handler = SUPPORTED_OPS.get(node.op_type) if standard else None
        try:
            result = _unknown(ctx) if handler is None else handler(ctx)
        except (ValueError, TypeError, KeyError, IndexError, ZeroDivisionError, OverflowError) as exc:
            # an attribute of the wrong type or value (kernel_shape "abc", a stride of 0, an
            # infinite scale) that the handler's arithmetic met before a check named it
            raise SpecError(f"cannot read {node.op_type}: {shown(str(exc))}", ctx.where) from None
        out = result if isinstance(result, Output) else Output(result)
        values[node.output[0]] = _checked(ctx, out, node.output[0], out.value)
        for tensor, value in out.more:
            values[tensor] = _checked(ctx, out, tensor, value)
        for later in out.fuses:
            fused[later] = out.value
    builder.output(*[Ref(name, where, "outputs:") for name in _outputs(graph, values, consts, layers, where)])
    return builder.build()


def _order(nodes: tuple[onnx.NodeProto, ...], outputs: list[str], path: str) -> list[int]:
    """The nodes the graph outputs depend on, in topological order (file order when the file
    is already sorted, as the ONNX IR requires)."""
    producer: dict[str, int] = {}
    for i, node in enumerate(nodes):
        for t in node.output:
            if t:
                producer[t] = i
    needed: set[int] = set()
    stack = [producer[o] for o in outputs if o in producer]
    while stack:
        i = stack.pop()
        if i in needed:
            continue
        needed.add(i)
        stack.extend(producer[t] for t in nodes[i].input if t in producer)
    deps = {i: {producer[t] for t in nodes[i].input if t in producer} for i in needed}
    order, _ = topological_order(deps)
    if len(order) < len(needed):
        stuck = min(set(needed) - set(order))
        raise SpecError("the graph has a cycle", node_position(path, stuck, nodes[stuck]))
    return order


def _shape_of(node: onnx.NodeProto, x: Value) -> Array:
    """spec Shape (start, end since opset 15) and Size: constants from the shape read so far."""
    import numpy as np

    shape = x.shape
    if node.op_type == "Size":
        return np.array(math.prod(shape), dtype=np.int64)
    attrs = attributes(node)
    start, end = attrs.get("start", 0), attrs.get("end", len(shape))
    return np.array(shape[start:end], dtype=np.int64)


def _fold(
    node: onnx.NodeProto, consts: dict[str, Array], domains: dict[str, int], where: Position
) -> dict[str, Array]:
    """A node whose inputs are all constants is evaluated (ONNX's reference evaluator): shape
    arithmetic such as Shape → Gather → Concat → Reshape becomes a constant, not a layer."""
    from onnx.reference import ReferenceEvaluator

    feeds = {t: consts[t] for t in node.input if t}
    elements = _fold_size(node, [consts[t] for t in node.input if t])
    if elements > FOLD_BUDGET:
        raise SpecError(
            f"folding {node.op_type} on constant inputs would make {elements:,} elements, more than "
            f"the budget of {FOLD_BUDGET:,}",
            where,
        )
    try:
        results = ReferenceEvaluator(node, opsets=domains).run(None, feeds)
    except Exception as exc:  # the evaluator raises whatever the operator's code raises
        raise SpecError(
            f"cannot evaluate {node.op_type} on constant inputs: {shown(str(exc))}", where
        ) from None
    return {name: value for name, value in zip(node.output, results) if name}


# constants folded at load time are shape arithmetic: a few elements; this bounds the memory a
# sub-kilobyte model can ask for (ConstantOfShape of [100000, 100000] is 40 GB)
FOLD_BUDGET = 10_000_000


def _fold_size(node: onnx.NodeProto, inputs: list[Array]) -> int:
    """The elements folding ``node`` makes, computed from its inputs before it runs (for the
    operators whose output can be far larger than their inputs), else the inputs' own size."""
    import numpy as np

    try:
        if node.op_type in ("ConstantOfShape", "Expand") and inputs:
            dims = [int(d) for d in np.asarray(inputs[-1]).reshape(-1)]
            base = math.prod(np.asarray(inputs[0]).shape) if node.op_type == "Expand" else 1
            return max(math.prod(abs(d) for d in dims), base)
        if node.op_type == "Tile" and len(inputs) >= 2:
            repeats = [int(r) for r in np.asarray(inputs[1]).reshape(-1)]
            return int(np.asarray(inputs[0]).size) * math.prod(abs(r) for r in repeats)
        if node.op_type == "Range" and len(inputs) == 3:
            start, limit, delta = (float(np.asarray(v).reshape(-1)[0]) for v in inputs)
            if delta == 0 or not all(math.isfinite(v) for v in (start, limit, delta)):
                return FOLD_BUDGET + 1
            return max(0, math.ceil((limit - start) / delta))
    except (ValueError, TypeError, OverflowError, IndexError):
        return FOLD_BUDGET + 1
    return sum(int(np.asarray(v).size) for v in inputs)


def _initializer(init: onnx.TensorProto, numpy_helper: object, where: Position) -> Array:
    """An initializer as an array, refused in one line when its type is unknown, its dims
    overflow or its data does not match them."""
    import onnx

    at = Position(where.file, 1, 1)
    name = shown(init.name)
    if init.data_type not in onnx.TensorProto.DataType.values():
        raise SpecError(f"initializer {name} has an unknown data_type {init.data_type}", at)
    if any(d < 0 for d in init.dims) or math.prod(init.dims) > 2**40:
        raise SpecError(f"initializer {name} has impossible dims {list(init.dims)[:8]}", at)
    try:
        return numpy_helper.to_array(init)  # type: ignore[attr-defined,no-any-return]
    except (ValueError, TypeError, KeyError, OverflowError, MemoryError) as exc:
        raise SpecError(f"initializer {name} cannot be read: {shown(str(exc))}", at) from None


def _unknown(ctx: Ctx) -> Value:
    """An operator without a handler: an error, or with ``skip_unknown`` an Identity where shape
    inference shows that the node keeps its input's shape and nothing reads its other outputs."""
    node = ctx.node
    standard = node.domain in _STANDARD
    op = ctx.op if standard else f"{node.domain}.{ctx.op}"
    head = f"unsupported ONNX operator {op} (node {node.name!r})"
    if not ctx.model.skip_unknown:
        if standard and ctx.op in HINTS:
            raise ctx.error(f"{head}: {HINTS[ctx.op]}")
        raise SpecError(
            f"{head}; --skip-unknown passes it as Identity if it keeps its input's shape", ctx.where
        )
    dynamic = [t for t in node.input if t in ctx.values]
    if not dynamic:
        raise SpecError(f"{head}: it reads no tensor computed from the network input", ctx.where)
    x = ctx.values[dynamic[0]]
    inferred = ctx.model.inferred.get(node.output[0])
    others = [t for t in node.output[1:] if t and (ctx.model.consumers.get(t) or t in ctx.model.outputs)]
    if inferred != x.shape or others:
        got = _known(inferred) if inferred is not None and None not in inferred else "no static shape"
        why = f"its other output {others[0]!r} is used" if others else f"shape inference gives {got}"
        raise SpecError(
            f"{head} cannot pass as Identity: its input is {fmt_shape(x.shape)} and {why}", ctx.where
        )
    return ctx.emit("Identity", {}, [x])


def _checked(ctx: Ctx, out: Output, tensor: str, value: Value) -> Value:
    """One output of the node, checked against ONNX shape inference where it knows the shape."""
    want = ctx.model.inferred.get(tensor)
    got = value.shape
    if out.checked and want is not None and None not in want and want != got:
        raise ctx.error(
            f"cnncalc reads this {ctx.op} as giving {fmt_shape(got)}, but ONNX shape inference "
            f"gives {_known(want)} (see {SPEC}onnx__{ctx.op}.html)"
        )
    return value


def _outputs(
    graph: onnx.GraphProto,
    values: dict[str, Value],
    consts: dict[str, Array],
    layers: Layers,
    where: Position,
) -> list[str]:
    """Layer names of the graph outputs, plus any layer nothing else reads (a tensor used only
    for its shape), which the network must list as an output too."""
    names: list[str] = []
    for out in graph.output:
        if out.name in consts:
            raise SpecError(f"the model's output {out.name!r} is a constant, not computed", where)
        if out.name not in values:
            raise SpecError(f"the model's output {out.name!r} is not computed by any node", where)
        handle = values[out.name].handle
        if handle == NETWORK_INPUT:
            raise SpecError(f"the model's output {out.name!r} is its input: there are no layers", where)
        if layers.names[handle] not in names:
            names.append(layers.names[handle])
    unread = [name for handle, name in enumerate(layers.names) if handle not in layers.read]
    return names + [name for name in unread if name not in names]


def _known(dims: Dims) -> str:
    """A shape from shape inference, unknown dimensions as ?."""
    return fmt_shape(tuple(-1 if d is None else d for d in dims)).replace("-1", "?")
