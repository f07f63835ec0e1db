"""Read an ONNX model (``.onnx``) into network items, one operator at a time, by the ONNX spec."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnncalc.errors import GeometryError, Position, SourceError, SpecError, shown
from cnncalc.graph import Network, topological_order
from cnncalc.layers.base import Shape, fmt_shape
from cnncalc.readers import Read, ReadOptions, Source
from cnncalc.readers._items import Item, build_items

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy as np
    import onnx

    Array = np.ndarray[Any, Any]

# Operator semantics follow the ONNX operator spec, https://onnx.ai/onnx/operators/ (cited per
# operator below as "spec <Op>"). Every layer is checked by cnncalc's own geometry as it is
# read, and its output shape against ONNX's shape inference where that gives one.

SPEC = "https://onnx.ai/onnx/operators/"

# TensorProto element types that set the network's dtype (the activation-memory figures).
_FLOAT_TYPES = {1: "float32", 10: "float16", 11: "float64", 16: "bfloat16"}

# Element-wise operators with no arguments that matter: ONNX name -> torch.nn class.
_PLAIN = {
    "Relu": "ReLU",
    "Sigmoid": "Sigmoid",
    "Tanh": "Tanh",
    "HardSwish": "Hardswish",
    "Mish": "Mish",
    "Softplus": "Softplus",
    "Softsign": "Softsign",
    "Selu": "SELU",
    "Identity": "Identity",
}

# Pooling operators: ONNX name -> the torch.nn family (MaxPool2d, AvgPool2d, LPPool2d, ...).
_POOLS = {"MaxPool": "MaxPool", "AveragePool": "AvgPool", "LpPool": "LPPool"}


def read(source: Source, options: ReadOptions) -> Read:
    """The network of an ONNX model file (see :func:`read_onnx`)."""
    return Read(read_onnx(source.name, options.input_shape, skip_unknown=options.skip_unknown))


def read_onnx(path: str, input_override: tuple[int, ...] | None, *, skip_unknown: bool = False) -> Network:
    """The network of an ONNX model file.

    The input shape is the model's (a symbolic leading batch dimension reads as 1) unless
    ``input_override`` gives one. With ``skip_unknown``, an operator cnncalc does not read passes
    as an Identity layer, but only where ONNX shape inference shows that it keeps its input's
    shape; anything else is an error naming the operator and the node.
    """
    where = Position(path, 1, 1)
    try:
        import onnx  # noqa: F401  (imported here only to report a missing package in one line)
    except ImportError:
        raise SourceError("reading ONNX needs the onnx package: pip install 'cnncalc[onnx]'", where) from None
    model = _load(path, where)
    return _Reader(model, path, input_override, skip_unknown).network()


def _load(path: str, where: Position) -> onnx.ModelProto:
    """``onnx.load`` with one clear error for every failure (no traceback)."""
    import onnx

    p = Path(path)
    if p.is_dir():
        raise SourceError("is a directory, not an ONNX model", where)
    if not p.exists():
        raise SourceError("no such file", where)
    if p.stat().st_size == 0:
        raise SourceError("the file is empty", where)
    try:
        model = onnx.load(path)
    except PermissionError:
        raise SourceError("permission denied", where) from None
    except Exception as exc:  # protobuf's DecodeError, onnx's own errors, missing external data
        lines = str(exc).strip().splitlines()
        text = lines[0] if lines else type(exc).__name__
        text = text if len(text) <= 160 else text[:157] + "..."
        raise SourceError(f"not a readable ONNX model: {text}", where) from None
    if not model.HasField("graph") or not model.graph.node:
        raise SourceError("not a readable ONNX model: it has no graph nodes", where)
    return model


@dataclass(frozen=True)
class _Ctx:
    """The node being read: its index in the file, its item name and where errors point."""

    index: int
    node: onnx.NodeProto
    name: str
    where: Position
    attrs: dict[str, Any]

    @property
    def op(self) -> str:
        return str(self.node.op_type)


class _Reader:
    """Walks the graph in topological order, turning each operator into network items."""

    def __init__(
        self, model: onnx.ModelProto, path: str, input_override: tuple[int, ...] | None, skip_unknown: bool
    ) -> None:
        self.model = model
        self.graph = model.graph
        self.path = path
        self.skip_unknown = skip_unknown
        self.domains = {op.domain: op.version for op in model.opset_import}
        self.opset = self.domains.get("", self.domains.get("ai.onnx", 1))
        self.nodes = list(model.graph.node)
        self.graph_outputs = {o.name for o in model.graph.output}
        self.consumers: dict[str, list[int]] = {}
        self.items: list[tuple[Item, Position]] = []
        self.used: set[str] = {"input"}
        # tensor name -> (item name or "input", shape) for tensors computed from the input
        self.values: dict[str, tuple[str, Shape]] = {}
        # tensor name -> value for tensors known when reading (initializers, Constant, folded)
        self.consts: dict[str, Array] = {}
        # graph nodes fused into the layer of an earlier one (MatMul + Add): index -> its output
        self.fused: dict[int, tuple[str, Shape]] = {}
        self.input_name, self.input_shape, self.dtype = self._input(input_override)
        self.inferred: dict[str, tuple[int | None, ...]] = {}

    # ---- the whole graph ---------------------------------------------------------------------

    def network(self) -> Network:
        from onnx import numpy_helper

        for init in self.graph.initializer:
            self.consts[init.name] = numpy_helper.to_array(init)
        self.values[self.input_name] = ("input", self.input_shape)
        self.inferred = self._infer()
        order = self._order(self.nodes)
        for i in order:
            for t in self.nodes[i].input:
                self.consumers.setdefault(t, []).append(i)
        for i in order:
            self._node(i, self.nodes[i])
        outputs = self._outputs()
        return build_items(
            self.items, self.input_shape, Path(self.path).stem, self.path, outputs, dtype=self.dtype
        )

    def _input(self, override: tuple[int, ...] | None) -> tuple[str, Shape, str]:
        """The one graph input that is not an initializer: its name, shape and dtype."""
        inits = {i.name for i in self.graph.initializer}
        inputs = [i for i in self.graph.input if i.name not in inits]
        where = Position(self.path, 1, 1)
        if len(inputs) != 1:
            names = ", ".join(repr(i.name) for i in inputs[:4]) or "none"
            raise SpecError(
                f"cnncalc reads models with one input; this one has {len(inputs)} ({names})", where
            )
        value = inputs[0]
        ttype = value.type.tensor_type
        dtype = _FLOAT_TYPES.get(ttype.elem_type, "float32")
        declared: list[int | str | None] = []
        if ttype.HasField("shape"):
            for d in ttype.shape.dim:
                if d.HasField("dim_value") and d.dim_value > 0:
                    declared.append(int(d.dim_value))
                else:
                    declared.append(d.dim_param or None)
        if override is not None:
            if declared and len(declared) != len(override):
                raise SpecError(
                    f"--input has {len(override)} dimensions but the model's input {value.name!r} has "
                    f"{len(declared)}",
                    where,
                )
            return value.name, tuple(override), dtype
        if not ttype.HasField("shape"):
            raise SpecError(f"the model's input {value.name!r} has no shape: give one with --input", where)
        shape = []
        for axis, dim in enumerate(declared):
            if isinstance(dim, int):
                shape.append(dim)
            elif axis == 0:
                # a symbolic leading dimension is the batch; cnncalc's figures are for the batch
                # given, so it reads as 1 (--input gives another)
                shape.append(1)
            else:
                what = f"symbolic ({dim!r})" if dim else "unknown"
                raise SpecError(
                    f"dimension {axis} of the model's input {value.name!r} is {what}: give the shape "
                    f"with --input",
                    where,
                )
        return value.name, tuple(shape), dtype

    def _order(self, nodes: list[onnx.NodeProto]) -> list[int]:
        """The nodes the graph outputs depend on, in topological order (file order when the file
        is already sorted, as the ONNX IR requires)."""
        producer: dict[str, int] = {}
        for i, node in enumerate(nodes):
            for t in node.output:
                if t:
                    producer[t] = i
        needed: set[int] = set()
        stack = [producer[o.name] for o in self.graph.output if o.name in producer]
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
            raise SpecError("the graph has a cycle", self._where(stuck, nodes[stuck]))
        return order

    def _infer(self) -> dict[str, tuple[int | None, ...]]:
        """Tensor shapes by ONNX shape inference for the input shape being read (None: unknown).

        Run on a copy whose input has that shape; large floating-point initializers keep only
        their dimensions, which is all inference reads of them.
        """
        import onnx

        graph = onnx.GraphProto(name=self.graph.name)
        for field in ("node", "input", "output", "value_info"):
            getattr(graph, field).extend(getattr(self.graph, field))
        for init in self.graph.initializer:
            if init.data_type in _FLOAT_TYPES and math.prod(init.dims) > 64:
                light = graph.initializer.add()
                light.name, light.data_type = init.name, init.data_type
                light.dims.extend(init.dims)
            else:
                graph.initializer.add().CopyFrom(init)
        for value in graph.input:
            if value.name == self.input_name:
                shape = value.type.tensor_type.shape
                del shape.dim[:]
                for d in self.input_shape:
                    shape.dim.add().dim_value = d
        for value in graph.output:  # declared output shapes may disagree with another input shape
            value.type.tensor_type.ClearField("shape")
        declared = tuple(d.dim_value for i in self.graph.input if i.name == self.input_name for d in _dims(i))
        if declared != self.input_shape:
            del graph.value_info[:]
        model = onnx.ModelProto(ir_version=self.model.ir_version, graph=graph)
        model.opset_import.extend(self.model.opset_import)
        model.functions.extend(self.model.functions)
        try:
            inferred = onnx.shape_inference.infer_shapes(model, strict_mode=False, data_prop=True)
        except Exception:  # inference is a cross-check only: a model it cannot handle is still read
            return {}
        shapes: dict[str, tuple[int | None, ...]] = {}
        for value in [*inferred.graph.value_info, *inferred.graph.output]:
            if value.type.tensor_type.HasField("shape"):
                shapes[value.name] = tuple(
                    int(d.dim_value) if d.HasField("dim_value") else None for d in _dims(value)
                )
        return shapes

    def _outputs(self) -> list[str]:
        """Item names of the graph outputs, plus any item nothing else reads (a tensor used only
        for its shape), which the network must list as an output too."""
        where = Position(self.path, 1, 1)
        names: list[str] = []
        for out in self.graph.output:
            if out.name in self.consts:
                raise SpecError(f"the model's output {out.name!r} is a constant, not computed", where)
            if out.name not in self.values:
                raise SpecError(f"the model's output {out.name!r} is not computed by any node", where)
            src = self.values[out.name][0]
            if src == "input":
                raise SpecError(f"the model's output {out.name!r} is its input: there are no layers", where)
            if src not in names:
                names.append(src)
        read = set()
        for item, _ in self.items:
            if isinstance(item, dict):
                src = item["from"]
                read.update(src if isinstance(src, list) else [src])
        for item, _ in self.items:
            if isinstance(item, dict) and item["name"] not in read and item["name"] not in names:
                names.append(item["name"])
        return names

    # ---- one node ----------------------------------------------------------------------------

    def _where(self, index: int, node: onnx.NodeProto) -> Position:
        label = f"{node.op_type}:{node.name}" if node.name else node.op_type
        return Position(f"{self.path}#node{index}:{label}", 1, 1)

    def _node(self, index: int, node: onnx.NodeProto) -> None:
        where = self._where(index, node)
        attrs = _attributes(node)
        op = node.op_type
        if index in self.fused:  # an Add already read as the bias of the Linear before it
            self.values[node.output[0]] = self.fused[index]
            return
        inputs = [t for t in node.input if t]
        standard = node.domain in ("", "ai.onnx")
        if standard and op in ("Shape", "Size") and inputs and inputs[0] in self.values:
            self._shape_of(node, attrs)
            return
        if all(t in self.consts for t in inputs):
            self._fold(node, where)
            return
        base = node.name or f"{op}_{index}"
        ctx = _Ctx(index, node, self._unique(base), where, attrs)
        handler = _HANDLERS.get(op) if standard else None
        if handler is None:
            self._unknown(ctx)
            return
        handler(self, ctx)

    def _unique(self, base: str) -> str:
        """A layer name from a node name: no dots (cnncalc's path separator), unique, not 'input'."""
        name = base.strip("/").replace(".", "_") or "node"
        candidate, k = name, 1
        while candidate in self.used:
            k += 1
            candidate = f"{name}_{k}"
        self.used.add(candidate)
        return candidate

    def _fold(self, node: onnx.NodeProto, where: Position) -> None:
        """A node whose inputs are all constants is evaluated (ONNX's reference evaluator): shape
        arithmetic such as Shape → Gather → Concat → Reshape becomes a constant, not a layer."""
        from onnx.reference import ReferenceEvaluator

        feeds = {t: self.consts[t] for t in node.input if t}
        try:
            results = ReferenceEvaluator(node, opsets=self.domains).run(None, feeds)
        except Exception as exc:  # the evaluator raises whatever the operator's code raises
            raise SpecError(
                f"cannot evaluate {node.op_type} on constant inputs: {shown(str(exc))}", where
            ) from None
        for name, value in zip(node.output, results):
            if name:
                self.consts[name] = value

    def _shape_of(self, node: onnx.NodeProto, attrs: dict[str, Any]) -> None:
        """spec Shape (start, end since opset 15) and Size: constants from the shape read so far."""
        import numpy as np

        shape = self.values[node.input[0]][1]
        if node.op_type == "Size":
            self.consts[node.output[0]] = np.array(math.prod(shape), dtype=np.int64)
            return
        start, end = attrs.get("start", 0), attrs.get("end", len(shape))
        self.consts[node.output[0]] = np.array(shape[start:end], dtype=np.int64)

    def _unknown(self, ctx: _Ctx) -> None:
        op = ctx.op if ctx.node.domain in ("", "ai.onnx") else f"{ctx.node.domain}.{ctx.op}"
        head = f"unsupported ONNX operator {op} (node {ctx.node.name!r})"
        if not self.skip_unknown:
            raise SpecError(
                f"{head}; --skip-unknown passes it as Identity if it keeps its input's shape", ctx.where
            )
        dynamic = [t for t in ctx.node.input if t in self.values]
        if not dynamic:
            raise SpecError(f"{head}: it reads no tensor computed from the network input", ctx.where)
        src, x = self.values[dynamic[0]]
        out = ctx.node.output[0]
        inferred = self.inferred.get(out)
        others = [t for t in ctx.node.output[1:] if t and (self.consumers.get(t) or t in self.graph_outputs)]
        if inferred != x or others:
            got = _known(inferred) if inferred is not None and None not in inferred else "no static shape"
            why = f"its other output {others[0]!r} is used" if others else f"shape inference gives {got}"
            raise SpecError(
                f"{head} cannot pass as Identity: its input is {fmt_shape(x)} and {why}", ctx.where
            )
        self._out(ctx, self._emit(ctx, "Identity", {}, [src], [x]))

    # ---- helpers for the operators -----------------------------------------------------------

    def _error(self, ctx: _Ctx, message: str) -> SpecError:
        error = SpecError(message, ctx.where)
        error.layer = ctx.name
        return error

    def _dyn(self, ctx: _Ctx, k: int = 0) -> tuple[str, Shape]:
        """Input ``k``: a tensor computed from the network input, with the shape read so far."""
        tensor = ctx.node.input[k] if k < len(ctx.node.input) else ""
        if tensor in self.values:
            return self.values[tensor]
        if tensor in self.consts:
            raise self._error(
                ctx,
                f"input {k} ({tensor!r}) of {ctx.op} is a constant: cnncalc reads {ctx.op} only on "
                f"tensors computed from the network input",
            )
        raise self._error(ctx, self._missing(tensor, k))

    def _missing(self, tensor: str, k: int) -> str:
        if not tensor:
            return f"input {k} is missing"
        for node in self.nodes:
            if tensor in node.output:
                j = list(node.output).index(tensor)
                return (
                    f"input {k} is output {j} of {node.op_type} node {node.name!r}, which cnncalc does "
                    f"not compute (only a layer's main output is read)"
                )
        return f"input {k} ({tensor!r}) is not produced by any node"

    def _const(self, ctx: _Ctx, k: int, what: str) -> Array | None:
        """Optional constant input ``k`` (None when absent): an initializer, a Constant node or
        something folded from them."""
        if k >= len(ctx.node.input) or not ctx.node.input[k]:
            return None
        tensor = ctx.node.input[k]
        if tensor in self.consts:
            return self.consts[tensor]
        raise self._error(
            ctx, f"{ctx.op} {what} ({tensor!r}) must be a constant (an initializer or a Constant node)"
        )

    def _need(self, ctx: _Ctx, k: int, what: str) -> Array:
        value = self._const(ctx, k, what)
        if value is None:
            raise self._error(ctx, f"{ctx.op} needs its {what} (input {k})")
        return value

    def _emit(
        self,
        ctx: _Ctx,
        kind: str,
        args: dict[str, Any],
        sources: list[str],
        shapes: list[Shape],
        name: str = "",
    ) -> tuple[str, Shape]:
        """Add one item and return its name and output shape, computed by cnncalc's own layer
        (errors name the layer, its input and the ONNX node, as the analysis would)."""
        from cnncalc.spec.build import build_layer

        name = name or ctx.name
        item: dict[str, Any] = {"type": kind, "name": name, **args}
        item["from"] = sources[0] if len(sources) == 1 else list(sources)
        layer, _ = build_layer(kind, [], [(k, v, ctx.where) for k, v in args.items()], ctx.where)
        try:
            out = layer.merge(shapes)[0] if layer.is_merge else layer.apply(shapes[0]).output
        except GeometryError as exc:
            inputs = " and ".join(fmt_shape(x) for x in shapes)
            error = GeometryError(
                f"layer {len(self.items)} {name!r} ({layer.kind}) on input {inputs}: {exc.message}",
                exc.argument,
            )
            error.layer = name
            raise error.located(ctx.where) from None
        self.items.append((item, ctx.where))
        return name, out

    def _out(self, ctx: _Ctx, value: tuple[str, Shape], checked: bool = True) -> None:
        """Record the node's output, checked against ONNX shape inference when it knows."""
        tensor = ctx.node.output[0]
        want = self.inferred.get(tensor)
        if checked and want is not None and None not in want and want != value[1]:
            raise self._error(
                ctx,
                f"cnncalc reads this {ctx.op} as giving {fmt_shape(value[1])}, but ONNX shape inference "
                f"gives {_known(want)} (see {SPEC}onnx__{ctx.op}.html)",
            )
        self.values[tensor] = value

    def _spatial(self, ctx: _Ctx, x: Shape) -> int:
        """The number of spatial axes of an (N, C, *spatial) input: 1 to 3, as torch.nn has."""
        n = len(x) - 2
        if n not in (1, 2, 3):
            raise self._error(ctx, f"{ctx.op} on a {len(x)}D input {fmt_shape(x)}: cnncalc reads 3D to 5D")
        return n

    def _ints(self, ctx: _Ctx, name: str, n: int, default: int) -> list[int]:
        value = [int(v) for v in ctx.attrs.get(name, [default] * n)]
        if len(value) != n:
            raise self._error(ctx, f"{ctx.op} {name} {value} must have {n} values, one per spatial axis")
        return value

    def _pads(
        self, ctx: _Ctx, sizes: Shape, kernel: list[int], strides: list[int], dilations: list[int]
    ) -> tuple[list[int], list[int]]:
        """Padding before and after each spatial axis, from ``pads`` or ``auto_pad``.

        spec Conv/MaxPool: pads = [x1_begin, x2_begin, ..., x1_end, x2_end]. SAME_UPPER and
        SAME_LOWER pad so that output = ceil(input / stride): total = max((ceil(in / s) - 1)·s
        + (k - 1)·d + 1 - in, 0), split equally, an odd one more at the end (UPPER) or at the
        beginning (LOWER). VALID pads nothing.
        """
        n = len(sizes)
        auto = ctx.attrs.get("auto_pad", "NOTSET")
        if auto == "NOTSET":
            pads = self._ints(ctx, "pads", 2 * n, 0)
            return pads[:n], pads[n:]
        if auto == "VALID":
            return [0] * n, [0] * n
        if auto not in ("SAME_UPPER", "SAME_LOWER"):
            raise self._error(
                ctx, f"{ctx.op} auto_pad {auto!r} is not NOTSET, SAME_UPPER, SAME_LOWER or VALID"
            )
        begin, end = [], []
        for size, k, s, d in zip(sizes, kernel, strides, dilations):
            total = max((-(-size // s) - 1) * s + (k - 1) * d + 1 - size, 0)
            small, big = total // 2, total - total // 2
            begin.append(small if auto == "SAME_UPPER" else big)
            end.append(big if auto == "SAME_UPPER" else small)
        return begin, end

    def _pad_layer(
        self,
        ctx: _Ctx,
        src: str,
        x: Shape,
        begin: list[int],
        end: list[int],
        value: float = 0.0,
    ) -> tuple[str, Shape]:
        """A padding layer for the last ``len(begin)`` axes (F.pad order: last axis first)."""
        n = len(begin)
        flat = [v for i in reversed(range(n)) for v in (begin[i], end[i])]
        if value == 0.0:
            return self._emit(
                ctx, f"ZeroPad{n}d", {"padding": flat}, [src], [x], self._unique(f"{ctx.name}_pad")
            )
        args = {"padding": flat, "value": value}
        return self._emit(ctx, f"ConstantPad{n}d", args, [src], [x], self._unique(f"{ctx.name}_pad"))

    def _reshape(self, ctx: _Ctx, src: str, x: Shape, target: Shape) -> tuple[str, Shape]:
        """Any reshape as Flatten and/or Unflatten of the axes that change (row-major order, as
        ONNX Reshape and torch.reshape both keep)."""
        if math.prod(x) != math.prod(target):
            raise self._error(
                ctx,
                f"{ctx.op} of {fmt_shape(x)} ({math.prod(x)} elements) to {fmt_shape(target)} is impossible",
            )
        if not target or not x:
            raise self._error(
                ctx, f"{ctx.op} from {fmt_shape(x)} to {fmt_shape(target)}: scalars are not read"
            )
        if x == target:
            return self._emit(ctx, "Identity", {}, [src], [x])
        steps = _reshape_steps(x, target)
        value = (src, x)
        for i, (kind, args) in enumerate(steps):
            name = ctx.name if i == len(steps) - 1 else self._unique(f"{ctx.name}_{kind.lower()}")
            value = self._emit(ctx, kind, args, [value[0]], [value[1]], name)
        return value

    # ---- operators -----------------------------------------------------------------------------

    def conv(self, ctx: _Ctx) -> None:
        """spec Conv: W is (M, C/group, k1, ..., kn); B is (M)."""
        src, x = self._dyn(ctx)
        n = self._spatial(ctx, x)
        w = self._need(ctx, 1, "weight")
        if w.ndim != n + 2:
            raise self._error(ctx, f"Conv weight of shape {fmt_shape(w.shape)} on a {len(x)}D input")
        kernel = [int(k) for k in w.shape[2:]]
        if "kernel_shape" in ctx.attrs and [int(k) for k in ctx.attrs["kernel_shape"]] != kernel:
            raise self._error(
                ctx, f"Conv kernel_shape {ctx.attrs['kernel_shape']} but the weight is {fmt_shape(w.shape)}"
            )
        group = int(ctx.attrs.get("group", 1))
        strides = self._ints(ctx, "strides", n, 1)
        dilations = self._ints(ctx, "dilations", n, 1)
        begin, end = self._pads(ctx, x[2:], kernel, strides, dilations)
        bias = self._const(ctx, 2, "bias")
        out_channels = int(w.shape[0])
        if bias is not None and bias.size != out_channels:
            raise self._error(ctx, f"Conv bias has {bias.size} values for {out_channels} output channels")
        padding = begin
        if begin != end:  # PyTorch pads both sides alike: asymmetric padding is a layer of its own
            src, x = self._pad_layer(ctx, src, x, begin, end)
            padding = [0] * n
        args = {
            "in_channels": int(w.shape[1]) * group,
            "out_channels": out_channels,
            "kernel_size": kernel,
            "stride": strides,
            "padding": padding,
            "dilation": dilations,
            "groups": group,
            "bias": bias is not None,
        }
        self._out(ctx, self._emit(ctx, f"Conv{n}d", args, [src], [x]))

    def conv_transpose(self, ctx: _Ctx) -> None:
        """spec ConvTranspose: W is (C, M/group, k1, ..., kn); output = s·(in - 1) + output_padding
        + (k - 1)·d + 1 - begin - end. With ``output_shape``, total padding = that expression for
        the wanted size, split as SAME_UPPER (begin = total/2) or else (end = total/2); auto_pad
        SAME wants output = in·s."""
        src, x = self._dyn(ctx)
        n = self._spatial(ctx, x)
        w = self._need(ctx, 1, "weight")
        if w.ndim != n + 2:
            raise self._error(ctx, f"ConvTranspose weight of shape {fmt_shape(w.shape)} on a {len(x)}D input")
        kernel = [int(k) for k in w.shape[2:]]
        group = int(ctx.attrs.get("group", 1))
        strides = self._ints(ctx, "strides", n, 1)
        dilations = self._ints(ctx, "dilations", n, 1)
        out_pad = self._ints(ctx, "output_padding", n, 0)
        auto = ctx.attrs.get("auto_pad", "NOTSET")
        wanted = [int(v) for v in ctx.attrs.get("output_shape", [])]
        if len(wanted) == n + 2:
            wanted = wanted[2:]
        if not wanted and auto in ("SAME_UPPER", "SAME_LOWER"):
            wanted = [size * s for size, s in zip(x[2:], strides)]
        if wanted:
            if len(wanted) != n:
                raise self._error(ctx, f"ConvTranspose output_shape {wanted} must have {n} values")
            begin, end = [], []
            for size, k, s, d, op, o in zip(x[2:], kernel, strides, dilations, out_pad, wanted):
                total = s * (size - 1) + op + (k - 1) * d + 1 - o
                if auto == "SAME_UPPER":
                    begin.append(total // 2)
                    end.append(total - total // 2)
                else:
                    begin.append(total - total // 2)
                    end.append(total // 2)
        elif auto in ("NOTSET", "VALID"):
            begin, end = self._pads(ctx, x[2:], kernel, strides, dilations)
        else:
            raise self._error(
                ctx, f"ConvTranspose auto_pad {auto!r} is not NOTSET, SAME_UPPER, SAME_LOWER or VALID"
            )
        bias = self._const(ctx, 2, "bias")
        out_channels = int(w.shape[1]) * group
        if bias is not None and bias.size != out_channels:
            raise self._error(
                ctx, f"ConvTranspose bias has {bias.size} values for {out_channels} output channels"
            )
        # PyTorch pads both sides alike and adds output_padding (< stride or dilation) at the end;
        # what is left over crops (negative) or extends the output in a padding layer after it
        padding = [max(0, min(b, e)) for b, e in zip(begin, end)]
        extra = [op if op < s or op < d else 0 for op, s, d in zip(out_pad, strides, dilations)]
        after = (
            [p - b for p, b in zip(padding, begin)],
            [p - e + op - q for p, e, op, q in zip(padding, end, out_pad, extra)],
        )
        args = {
            "in_channels": int(w.shape[0]),
            "out_channels": out_channels,
            "kernel_size": kernel,
            "stride": strides,
            "padding": padding,
            "output_padding": extra,
            "groups": group,
            "bias": bias is not None,
            "dilation": dilations,
        }
        # onnx's shape inference (1.23) sizes auto_pad SAME outputs otherwise than the spec's
        # in·s (adding output_padding, or not splitting the padding as written), so it is not the
        # judge of those
        checked = auto not in ("SAME_UPPER", "SAME_LOWER")
        if not any(after[0]) and not any(after[1]):
            self._out(ctx, self._emit(ctx, f"ConvTranspose{n}d", args, [src], [x]), checked)
            return
        name = self._unique(f"{ctx.name}_convtranspose")
        src, x = self._emit(ctx, f"ConvTranspose{n}d", args, [src], [x], name)
        flat = [v for i in reversed(range(n)) for v in (after[0][i], after[1][i])]
        self._out(ctx, self._emit(ctx, f"ZeroPad{n}d", {"padding": flat}, [src], [x]), checked)

    def pool(self, ctx: _Ctx) -> None:
        """spec MaxPool/AveragePool/LpPool: output = floor or ceil((in + begin + end - d·(k-1) - 1)
        / s) + 1, and in ceil mode a window that would start in the end padding is dropped.
        ONNX's stride defaults to 1 (PyTorch's to the kernel), so it is always written out."""
        src, x = self._dyn(ctx)
        n = self._spatial(ctx, x)
        if "kernel_shape" not in ctx.attrs:
            raise self._error(ctx, f"{ctx.op} has no kernel_shape")
        kernel = self._ints(ctx, "kernel_shape", n, 1)
        strides = self._ints(ctx, "strides", n, 1)
        dilations = self._ints(ctx, "dilations", n, 1)
        begin, end = self._pads(ctx, x[2:], kernel, strides, dilations)
        # with auto_pad, the spec's output size is floor mode's with those pads
        ceil = bool(ctx.attrs.get("ceil_mode", 0)) and ctx.attrs.get("auto_pad", "NOTSET") == "NOTSET"
        kind = _POOLS[ctx.op]
        if kind != "MaxPool" and any(d != 1 for d in dilations):
            raise self._error(ctx, f"{ctx.op} dilations {dilations}: PyTorch's {kind} has no dilation")
        want = tuple(
            _pooled(size, k, s, d, b, e, ceil)
            for size, k, s, d, b, e in zip(x[2:], kernel, strides, dilations, begin, end)
        )
        # PyTorch pools pad both sides alike, by at most half the kernel (LPPool not at all); the
        # rest is a padding layer before: -inf for max pooling, zeros otherwise (the sums of
        # count_include_pad=0 differ, the shapes do not). PyTorch drops a ceil-mode window that
        # starts in its padding, ONNX one that starts in the end padding, so after a padding layer
        # floor mode may be the one that gives ONNX's windows; failing all else, the end padding
        # is cut (or grown) to hold exactly the windows ONNX keeps, the last starting at
        # (out - 1)·s - begin and spanning d·(k - 1) + 1.
        half = [0 if kind == "LPPool" else min(b, e, k // 2) for b, e, k in zip(begin, end, kernel)]
        none = [0] * n
        fitted = [
            (o - 1) * s + d * (k - 1) + 1 - size - b
            for o, s, d, k, size, b in zip(want, strides, dilations, kernel, x[2:], begin)
        ]
        plans = [(half, mode) for mode in (ceil, False)] + [(none, mode) for mode in (ceil, False)]
        for inside, mode, ends in [(i, m, end) for i, m in plans] + [(none, False, fitted)]:
            before = [b - i for b, i in zip(begin, inside)]
            after = [e - i for e, i in zip(ends, inside)]
            padded = [size + b + a for size, b, a in zip(x[2:], before, after)]
            if kind == "AvgPool" and n == 3 and any(p < k for p, k in zip(padded, kernel)):
                continue  # Pool.h pool3d_shape_check: AvgPool3d's input must hold the kernel
            by_torch = tuple(
                _pooled(size, k, s, d, i, i, mode)
                for size, k, s, d, i in zip(padded, kernel, strides, dilations, inside)
            )
            if by_torch == want:
                ceil = mode
                break
        if any(before) or any(after):
            value = -math.inf if kind == "MaxPool" else 0.0
            src, x = self._pad_layer(ctx, src, x, before, after, value)
        args: dict[str, Any] = {"kernel_size": kernel, "stride": strides}
        if kind == "MaxPool":
            args.update(padding=inside, dilation=dilations, ceil_mode=ceil)
        elif kind == "AvgPool":
            args.update(
                padding=inside, ceil_mode=ceil, count_include_pad=bool(ctx.attrs.get("count_include_pad", 0))
            )
        else:  # lp_pool1d takes one int as its kernel size (torch/nn/functional.py)
            one = {"kernel_size": kernel[0], "stride": strides[0]} if n == 1 else args
            args = {"norm_type": float(ctx.attrs.get("p", 2)), **one, "ceil_mode": ceil}
        name, y = self._emit(ctx, f"{kind}{n}d", args, [src], [x])
        if y[2:] != want:
            raise self._error(
                ctx,
                f"{ctx.op} gives spatial size {fmt_shape(want)} by the ONNX spec, but no PyTorch pooling "
                f"reproduces it (got {fmt_shape(y[2:])})",
            )
        # onnx's shape inference (1.23) leaves out the spec's rule that drops a ceil-mode window
        # starting in the end padding, so it is not the judge of ceil mode here
        self._out(ctx, (name, y), checked=not ctx.attrs.get("ceil_mode", 0))

    def global_pool(self, ctx: _Ctx) -> None:
        """spec GlobalAveragePool/GlobalMaxPool: one value per channel, as adaptive pooling to 1."""
        src, x = self._dyn(ctx)
        n = self._spatial(ctx, x)
        kind = "AdaptiveAvgPool" if ctx.op == "GlobalAveragePool" else "AdaptiveMaxPool"
        self._out(ctx, self._emit(ctx, f"{kind}{n}d", {"output_size": 1}, [src], [x]))

    def gemm(self, ctx: _Ctx) -> None:
        """spec Gemm: Y = alpha·A'·B' + beta·C, A' (M, K), B' (K, N): Linear(K, N) when B (and C,
        one value per output) are constants and A is not transposed."""
        src, x = self._dyn(ctx)
        if len(x) != 2:
            raise self._error(ctx, f"Gemm multiplies matrices; its input is {len(x)}D {fmt_shape(x)}")
        if ctx.attrs.get("transA", 0):
            raise self._error(ctx, "Gemm with transA=1 transposes the input, which Linear cannot express")
        b = self._need(ctx, 1, "weight B")
        if b.ndim != 2:
            raise self._error(ctx, f"Gemm weight B must be 2D, got {fmt_shape(b.shape)}")
        k, m = (
            (int(b.shape[1]), int(b.shape[0]))
            if ctx.attrs.get("transB", 0)
            else (int(b.shape[0]), int(b.shape[1]))
        )
        c = self._const(ctx, 2, "bias C")
        bias = c is not None and float(ctx.attrs.get("beta", 1.0)) != 0.0
        if c is not None and bias and tuple(c.shape) not in ((m,), (1, m)):
            raise self._error(
                ctx, f"Gemm bias C of shape {fmt_shape(c.shape)} is not one value per output ({m})"
            )
        self._out(
            ctx, self._emit(ctx, "Linear", {"in_features": k, "out_features": m, "bias": bias}, [src], [x])
        )

    def matmul(self, ctx: _Ctx) -> None:
        """spec MatMul (numpy.matmul) with a constant 2D right operand: Linear without bias, or
        with the bias of an Add that is its only reader (how PyTorch exports Linear on 3D input)."""
        if ctx.node.input[0] in self.consts:
            raise self._error(ctx, "MatMul with a constant left operand has no Linear equivalent")
        src, x = self._dyn(ctx)
        if ctx.node.input[1] in self.values:
            raise self._error(ctx, "MatMul of two computed tensors (as in attention) has no layer in cnncalc")
        w = self._need(ctx, 1, "weight")
        if w.ndim != 2:
            raise self._error(ctx, f"MatMul weight must be 2D for a Linear layer, got {fmt_shape(w.shape)}")
        k, m = int(w.shape[0]), int(w.shape[1])
        out = ctx.node.output[0]
        readers = self.consumers.get(out, [])
        add = self.nodes[readers[0]] if len(readers) == 1 and out not in self.graph_outputs else None
        bias = False
        if add is not None and add.op_type == "Add" and len(add.input) == 2:
            other = add.input[1] if add.input[0] == out else add.input[0]
            value = self.consts.get(other)
            bias = value is not None and tuple(value.shape) == (m,)
        name, y = self._emit(ctx, "Linear", {"in_features": k, "out_features": m, "bias": bias}, [src], [x])
        self._out(ctx, (name, y))
        if bias:
            self.fused[readers[0]] = (name, y)

    def flatten(self, ctx: _Ctx) -> None:
        """spec Flatten: (d0·…·d(axis-1), d(axis)·…·dn), always 2D."""
        src, x = self._dyn(ctx)
        axis = int(ctx.attrs.get("axis", 1))
        if not -len(x) <= axis <= len(x):
            raise self._error(ctx, f"Flatten axis {axis} is out of range for a {len(x)}D input")
        if axis < 0:  # spec Flatten: accepted range [-r, r], negative counts from the back
            axis += len(x)
        self._out(ctx, self._reshape(ctx, src, x, (math.prod(x[:axis]), math.prod(x[axis:]))))

    def reshape(self, ctx: _Ctx) -> None:
        """spec Reshape: 0 copies the input's size at that index (unless allowzero=1), one -1 is
        inferred from the rest."""
        src, x = self._dyn(ctx)
        shape = self._const(ctx, 1, "shape") if self.opset >= 5 else None
        raw = [int(v) for v in (shape.reshape(-1) if shape is not None else ctx.attrs.get("shape", []))]
        if shape is None and "shape" not in ctx.attrs:
            raise self._error(ctx, "Reshape needs a constant shape")
        allowzero = bool(ctx.attrs.get("allowzero", 0))
        target = []
        for i, value in enumerate(raw):
            v = value
            if v == 0 and not allowzero:
                if i >= len(x):
                    raise self._error(
                        ctx, f"Reshape shape {raw} copies axis {i}, which a {len(x)}D input lacks"
                    )
                v = x[i]
            target.append(v)
        if target.count(-1) > 1 or any(v < -1 for v in target):
            raise self._error(ctx, f"Reshape shape {raw} is invalid (at most one -1, no other negatives)")
        if -1 in target:
            known = math.prod(v for v in target if v != -1)
            if known == 0 or math.prod(x) % known:
                raise self._error(ctx, f"Reshape of {fmt_shape(x)} to {raw}: the -1 cannot be inferred")
            target[target.index(-1)] = math.prod(x) // known
        self._out(ctx, self._reshape(ctx, src, x, tuple(target)))

    def squeeze(self, ctx: _Ctx) -> None:
        """spec Squeeze/Unsqueeze: axes from the attribute (before opset 13) or input 1."""
        src, x = self._dyn(ctx)
        axes_value = self._const(ctx, 1, "axes") if self.opset >= 13 else None
        axes = [
            int(a) for a in (axes_value.reshape(-1) if axes_value is not None else ctx.attrs.get("axes", []))
        ]
        if ctx.op == "Squeeze":
            drop = {a % len(x) for a in axes} if axes else {i for i, d in enumerate(x) if d == 1}
            if any(x[a] != 1 for a in drop):
                raise self._error(ctx, f"Squeeze axes {axes} of {fmt_shape(x)} are not all of size 1")
            target = tuple(d for i, d in enumerate(x) if i not in drop)
        else:
            rank = len(x) + len(axes)
            where = {a % rank for a in axes}
            rest = iter(x)
            target = tuple(1 if i in where else next(rest) for i in range(rank))
        self._out(ctx, self._reshape(ctx, src, x, target))

    def transpose(self, ctx: _Ctx) -> None:
        """spec Transpose (perm defaults to reversing the axes). cnncalc has no permute layer: a
        permutation that keeps the axes larger than 1 in their order is a reshape; others are
        refused."""
        src, x = self._dyn(ctx)
        perm = [int(p) for p in ctx.attrs.get("perm", list(reversed(range(len(x)))))]
        if sorted(perm) != list(range(len(x))):
            raise self._error(ctx, f"Transpose perm {perm} is not a permutation of {len(x)} axes")
        moved = [p for p in perm if x[p] != 1]
        if moved != sorted(moved):
            raise self._error(
                ctx,
                f"Transpose with perm {perm} on {fmt_shape(x)} is not supported: cnncalc has no permute "
                f"layer (only a permutation that keeps every axis larger than 1 in place is read)",
            )
        self._out(ctx, self._reshape(ctx, src, x, tuple(x[p] for p in perm)))

    def batch_norm(self, ctx: _Ctx) -> None:
        """spec BatchNormalization: scale and B are the affine parameters (PyTorch's weight and
        bias); input_mean and input_var are running statistics, buffers in PyTorch, so they are
        not counted. ONNX's momentum weighs the old statistic, PyTorch's the new one."""
        src, x = self._dyn(ctx)
        dims = {2: 1, 3: 1, 4: 2, 5: 3}.get(len(x))
        if dims is None:
            raise self._error(
                ctx, f"BatchNormalization on a {len(x)}D input: BatchNorm1d/2d/3d take 2D to 5D"
            )
        scale, bias = self._need(ctx, 1, "scale"), self._need(ctx, 2, "bias B")
        for k, what in ((3, "mean"), (4, "var")):
            self._need(ctx, k, f"running {what}")
        channels = x[1]
        for value, what in ((scale, "scale"), (bias, "bias B")):
            if value.size != channels:
                raise self._error(
                    ctx, f"BatchNormalization {what} has {value.size} values for {channels} channels"
                )
        momentum = float(f"{1 - _f32(ctx.attrs.get('momentum', 0.9)):.7g}")
        args = {"num_features": channels, "eps": _f32(ctx.attrs.get("epsilon", 1e-5)), "momentum": momentum}
        self._out(ctx, self._emit(ctx, f"BatchNorm{dims}d", args, [src], [x]))

    def instance_norm(self, ctx: _Ctx) -> None:
        """spec InstanceNormalization: per-channel scale and B, PyTorch's affine=True."""
        src, x = self._dyn(ctx)
        n = self._spatial(ctx, x)
        for k, what in ((1, "scale"), (2, "bias B")):
            if self._need(ctx, k, what).size != x[1]:
                raise self._error(ctx, f"InstanceNormalization {what} does not have {x[1]} values")
        args = {"num_features": x[1], "eps": _f32(ctx.attrs.get("epsilon", 1e-5)), "affine": True}
        self._out(ctx, self._emit(ctx, f"InstanceNorm{n}d", args, [src], [x]))

    def layer_norm(self, ctx: _Ctx) -> None:
        """spec LayerNormalization (opset 17): normalises the axes from ``axis`` on."""
        src, x = self._dyn(ctx)
        axis = int(ctx.attrs.get("axis", -1))
        if not -len(x) <= axis < len(x):
            raise self._error(ctx, f"LayerNormalization axis {axis} is out of range for {fmt_shape(x)}")
        normalized = list(x[axis:])
        scale, bias = self._need(ctx, 1, "scale"), self._const(ctx, 2, "bias B")
        for value, what in ((scale, "scale"), (bias, "bias B")):
            if value is not None and value.size != math.prod(normalized):
                raise self._error(
                    ctx, f"LayerNormalization {what} of shape {fmt_shape(value.shape)} is broadcast"
                )
        args = {
            "normalized_shape": normalized,
            "eps": _f32(ctx.attrs.get("epsilon", 1e-5)),
            "bias": bias is not None,
        }
        self._out(ctx, self._emit(ctx, "LayerNorm", args, [src], [x]))

    def lrn(self, ctx: _Ctx) -> None:
        """spec LRN: the same formula as PyTorch's LocalResponseNorm (alpha divided by size)."""
        src, x = self._dyn(ctx)
        if "size" not in ctx.attrs:
            raise self._error(ctx, "LRN has no size")
        args = {
            "size": int(ctx.attrs["size"]),
            "alpha": _f32(ctx.attrs.get("alpha", 1e-4)),
            "beta": _f32(ctx.attrs.get("beta", 0.75)),
            "k": _f32(ctx.attrs.get("bias", 1.0)),
        }
        self._out(ctx, self._emit(ctx, "LocalResponseNorm", args, [src], [x]))

    def plain(self, ctx: _Ctx) -> None:
        """Element-wise operators without arguments that change a shape (Relu, Sigmoid, …)."""
        src, x = self._dyn(ctx)
        self._out(ctx, self._emit(ctx, _PLAIN[ctx.op], {}, [src], [x]))

    def activation(self, ctx: _Ctx) -> None:
        """Element-wise operators with an argument, named as PyTorch names it."""
        src, x = self._dyn(ctx)
        a = ctx.attrs
        kind, args = {
            "LeakyRelu": ("LeakyReLU", {"negative_slope": _f32(a.get("alpha", 0.01))}),
            "Elu": ("ELU", {"alpha": _f32(a.get("alpha", 1.0))}),
            "Celu": ("CELU", {"alpha": _f32(a.get("alpha", 1.0))}),
            "Gelu": ("GELU", {"approximate": a.get("approximate", "none")}),
            "ThresholdedRelu": ("Threshold", {"threshold": _f32(a.get("alpha", 1.0)), "value": 0.0}),
            # spec HardSigmoid: max(0, min(1, alpha·x + beta)); PyTorch's is alpha 1/6, beta 1/2
            # (what it exports); other values change the values, never the shape
            "HardSigmoid": ("Hardsigmoid", {}),
            "Dropout": ("Dropout", {"p": self._dropout_ratio(ctx)}),
        }[ctx.op]
        self._out(ctx, self._emit(ctx, kind, args, [src], [x]))

    def _dropout_ratio(self, ctx: _Ctx) -> float:
        """spec Dropout: ratio is an attribute before opset 12, then optional input 1."""
        if self.opset < 12:
            return _f32(ctx.attrs.get("ratio", 0.5))
        ratio = self._const(ctx, 1, "ratio")
        return 0.5 if ratio is None else _f32(float(ratio))

    def softmax(self, ctx: _Ctx) -> None:
        """spec Softmax/LogSoftmax: axis defaults to -1 since opset 13, to 1 before (where the
        input was flattened to 2D around it; the output shape is the input's either way)."""
        src, x = self._dyn(ctx)
        axis = int(ctx.attrs.get("axis", -1 if self.opset >= 13 else 1))
        kind = "Softmax" if ctx.op == "Softmax" else "LogSoftmax"
        self._out(ctx, self._emit(ctx, kind, {"dim": axis}, [src], [x]))

    def clip(self, ctx: _Ctx) -> None:
        """spec Clip: min and max are attributes before opset 11, optional inputs since. 0..6 is
        ReLU6, 0..∞ ReLU, anything else Hardtanh."""
        src, x = self._dyn(ctx)
        if self.opset < 11:
            low, high = ctx.attrs.get("min"), ctx.attrs.get("max")
        else:
            lo, hi = self._const(ctx, 1, "min"), self._const(ctx, 2, "max")
            low = None if lo is None else float(lo)
            high = None if hi is None else float(hi)
        # Clip-6's defaults are the float limits: the same as no bound
        low = None if low is None or low <= -3.4e38 else _f32(low)
        high = None if high is None or high >= 3.4e38 else _f32(high)
        args: dict[str, Any] = {}
        if low == 0.0 and high == 6.0:
            kind = "ReLU6"
        elif low == 0.0 and high is None:
            kind = "ReLU"
        elif low is None and high is None:
            kind = "Identity"
        else:
            kind = "Hardtanh"
            args = {
                "min_val": -math.inf if low is None else low,
                "max_val": math.inf if high is None else high,
            }
        self._out(ctx, self._emit(ctx, kind, args, [src], [x]))

    def prelu(self, ctx: _Ctx) -> None:
        """spec PRelu: a slope broadcast to the input; PyTorch's PReLU has one or one per channel."""
        src, x = self._dyn(ctx)
        slope = self._need(ctx, 1, "slope")
        count = int(slope.size)
        channel_shaped = count == 1 or (len(x) >= 2 and count == x[1] and slope.shape[0] == count)
        if not channel_shaped:
            raise self._error(
                ctx, f"PRelu slope of shape {fmt_shape(slope.shape)} is not one value or one per channel"
            )
        self._out(ctx, self._emit(ctx, "PReLU", {"num_parameters": count}, [src], [x]))

    def arithmetic(self, ctx: _Ctx) -> None:
        """spec Add/Sub/Mul/Div. Two computed operands merge (Sub as Add and Div as Mul: the same
        broadcasting, no parameters and no MACs). A constant operand — a per-channel scale or
        shift, a normalisation — is an Identity: ONNX cannot tell a learnt nn.Parameter from a
        constant buffer, so it is not counted as a parameter; it must not change the shape."""
        import numpy as np

        dynamic = [t for t in ctx.node.input if t in self.values]
        if len(dynamic) == 2:
            a, b = self._dyn(ctx, 0), self._dyn(ctx, 1)
            kind = "Add" if ctx.op in ("Add", "Sub") else "Mul"
            self._out(ctx, self._emit(ctx, kind, {}, [a[0], b[0]], [a[1], b[1]]))
            return
        k = 0 if ctx.node.input[0] in self.values else 1
        src, x = self._dyn(ctx, k)
        other = self._need(ctx, 1 - k, "other operand")
        try:
            out = tuple(np.broadcast_shapes(x, other.shape))
        except ValueError:
            raise self._error(
                ctx, f"{ctx.op} of {fmt_shape(x)} and a constant {fmt_shape(other.shape)} do not broadcast"
            ) from None
        if out != x:
            raise self._error(
                ctx,
                f"{ctx.op} with a constant of shape {fmt_shape(other.shape)} turns {fmt_shape(x)} "
                f"into {fmt_shape(out)}",
            )
        self._out(ctx, self._emit(ctx, "Identity", {}, [src], [x]))

    def concat(self, ctx: _Ctx) -> None:
        """spec Concat: every input computed (a constant part has no layer that makes it)."""
        inputs = [self._dyn(ctx, k) for k in range(len(ctx.node.input))]
        axis = int(ctx.attrs.get("axis", 1))
        self._out(
            ctx, self._emit(ctx, "Concat", {"dim": axis}, [s for s, _ in inputs], [x for _, x in inputs])
        )

    def resize(self, ctx: _Ctx) -> None:
        """spec Resize (and the older Upsample): output = floor(in · scale), or ``sizes``; modes
        nearest, linear and cubic as torch.nn.Upsample's nearest, (bi/tri)linear and bicubic.

        The output shapes are exact. The receptive-field taps are PyTorch's: ONNX's other
        coordinate transformations (e.g. linear with asymmetric) shift them slightly.
        """
        import numpy as np

        src, x = self._dyn(ctx)
        if len(x) not in (3, 4, 5):
            raise self._error(ctx, f"{ctx.op} of a {len(x)}D input: cnncalc resizes 3D to 5D tensors")
        if ctx.op == "Upsample":
            scales = (
                self._const(ctx, 1, "scales") if self.opset >= 9 else np.array(ctx.attrs.get("scales", []))
            )
            sizes = None
        elif self.opset < 11:
            scales, sizes = self._const(ctx, 1, "scales"), None
        else:
            scales, sizes = self._const(ctx, 2, "scales"), self._const(ctx, 3, "sizes")
        ctm = ctx.attrs.get(
            "coordinate_transformation_mode", "half_pixel" if self.opset >= 11 else "asymmetric"
        )
        if ctm == "tf_crop_and_resize":
            raise self._error(
                ctx, f"{ctx.op} with coordinate_transformation_mode tf_crop_and_resize is not supported"
            )
        if ctx.attrs.get("keep_aspect_ratio_policy", "stretch") != "stretch":
            raise self._error(ctx, f"{ctx.op} keep_aspect_ratio_policy other than stretch is not supported")
        axes = [int(a) % len(x) for a in ctx.attrs.get("axes", range(len(x)))]
        args: dict[str, Any] = {}
        if sizes is not None and sizes.size:
            full = list(x)
            for a, v in zip(axes, sizes.reshape(-1)):
                full[a] = int(v)
            if full[:2] != list(x[:2]):
                raise self._error(
                    ctx, f"{ctx.op} to {fmt_shape(tuple(full))} resizes the batch or channel axis"
                )
            args["size"] = full[2:]
        elif scales is not None and scales.size:
            factors = [1.0] * len(x)
            for a, v in zip(axes, scales.reshape(-1)):
                factors[a] = _f32(float(v))
            if factors[:2] != [1.0, 1.0]:
                raise self._error(ctx, f"{ctx.op} scales {factors} resize the batch or channel axis")
            args["scale_factor"] = factors[2:]
        else:
            raise self._error(ctx, f"{ctx.op} needs constant scales or sizes")
        mode = ctx.attrs.get("mode", "nearest")
        if mode == "nearest":
            args["mode"] = "nearest"
        elif mode in ("linear", "bilinear", "trilinear"):
            args["mode"] = {3: "linear", 4: "bilinear", 5: "trilinear"}[len(x)]
            args["align_corners"] = ctm == "align_corners"
        elif mode in ("cubic", "bicubic") and len(x) == 4:
            args["mode"] = "bicubic"
            args["align_corners"] = ctm == "align_corners"
        else:
            raise self._error(
                ctx, f"{ctx.op} mode {mode!r} on a {len(x)}D input has no torch.nn.Upsample mode"
            )
        self._out(ctx, self._emit(ctx, "Upsample", args, [src], [x]))

    def pad(self, ctx: _Ctx) -> None:
        """spec Pad: pads = [x1_begin, x2_begin, ..., x1_end, x2_end] over all axes (or over
        ``axes``, opset 18); modes constant, reflect, edge and wrap are PyTorch's constant,
        reflect, replicate and circular padding. Negative pads crop."""
        src, x = self._dyn(ctx)
        rank = len(x)
        if self.opset < 11:
            pads = [int(v) for v in ctx.attrs.get("pads", [])]
            value = _f32(ctx.attrs.get("value", 0.0))
        else:
            pads = [int(v) for v in self._need(ctx, 1, "pads").reshape(-1)]
            fill = self._const(ctx, 2, "constant_value")
            value = 0.0 if fill is None or not fill.size else _f32(float(fill.reshape(-1)[0]))
        axes_value = self._const(ctx, 3, "axes") if self.opset >= 18 else None
        axes = (
            [int(a) % rank for a in axes_value.reshape(-1)] if axes_value is not None else list(range(rank))
        )
        if len(pads) != 2 * len(axes):
            raise self._error(ctx, f"Pad has {len(pads)} pads for {len(axes)} axes")
        begin, end = [0] * rank, [0] * rank
        for i, a in enumerate(axes):
            begin[a], end[a] = pads[i], pads[i + len(axes)]
        touched = [a for a in range(rank) if begin[a] or end[a]]
        if not touched:
            self._out(ctx, self._emit(ctx, "Identity", {}, [src], [x]))
            return
        mode = ctx.attrs.get("mode", "constant")
        kind = {
            "constant": "ConstantPad",
            "reflect": "ReflectionPad",
            "edge": "ReplicationPad",
            "wrap": "CircularPad",
        }.get(mode)
        if kind is None:
            raise self._error(ctx, f"Pad mode {mode!r} is not constant, reflect, edge or wrap")
        # PyTorch's padding layers pad the last 1 to 3 axes; non-constant modes pad the spatial ones
        n = max(rank - touched[0], 1 if mode == "constant" else rank - 2, 1)
        if n > 3:
            raise self._error(
                ctx,
                f"Pad of axes {touched} of a {rank}D input: PyTorch's padding layers pad at most the last 3",
            )
        if kind == "ConstantPad" and value == 0.0:
            kind = "ZeroPad"
        flat = [v for a in reversed(range(rank - n, rank)) for v in (begin[a], end[a])]
        args: dict[str, Any] = {"padding": flat}
        if kind == "ConstantPad":
            args["value"] = value
        self._out(ctx, self._emit(ctx, f"{kind}{n}d", args, [src], [x]))

    def depth_space(self, ctx: _Ctx) -> None:
        """spec DepthToSpace/SpaceToDepth: PyTorch's PixelShuffle/PixelUnshuffle (ONNX's DCR mode
        orders the channels differently; the shape is the same)."""
        src, x = self._dyn(ctx)
        if len(x) != 4:
            raise self._error(ctx, f"{ctx.op} needs a 4D input, got {fmt_shape(x)}")
        size = int(ctx.attrs.get("blocksize", 0))
        if ctx.op == "DepthToSpace":
            self._out(ctx, self._emit(ctx, "PixelShuffle", {"upscale_factor": size}, [src], [x]))
        else:
            self._out(ctx, self._emit(ctx, "PixelUnshuffle", {"downscale_factor": size}, [src], [x]))

    def erf(self, ctx: _Ctx) -> None:
        if self.skip_unknown:
            self._unknown(ctx)
            return
        raise self._error(
            ctx,
            f"unsupported ONNX operator Erf (node {ctx.node.name!r}): PyTorch exports GELU as Div, Erf, "
            f"Add, Mul before opset 20; export with opset_version=20 for a Gelu node, or pass "
            f"--skip-unknown",
        )


_HANDLERS: dict[str, Callable[[_Reader, _Ctx], None]] = {
    "Conv": _Reader.conv,
    "ConvTranspose": _Reader.conv_transpose,
    "MaxPool": _Reader.pool,
    "AveragePool": _Reader.pool,
    "LpPool": _Reader.pool,
    "GlobalAveragePool": _Reader.global_pool,
    "GlobalMaxPool": _Reader.global_pool,
    "Gemm": _Reader.gemm,
    "MatMul": _Reader.matmul,
    "Flatten": _Reader.flatten,
    "Reshape": _Reader.reshape,
    "Squeeze": _Reader.squeeze,
    "Unsqueeze": _Reader.squeeze,
    "Transpose": _Reader.transpose,
    "BatchNormalization": _Reader.batch_norm,
    "InstanceNormalization": _Reader.instance_norm,
    "LayerNormalization": _Reader.layer_norm,
    "LRN": _Reader.lrn,
    **dict.fromkeys(_PLAIN, _Reader.plain),
    **dict.fromkeys(
        ("LeakyRelu", "Elu", "Celu", "Gelu", "ThresholdedRelu", "HardSigmoid", "Dropout"), _Reader.activation
    ),
    "Softmax": _Reader.softmax,
    "LogSoftmax": _Reader.softmax,
    "Clip": _Reader.clip,
    "PRelu": _Reader.prelu,
    **dict.fromkeys(("Add", "Sub", "Mul", "Div"), _Reader.arithmetic),
    "Concat": _Reader.concat,
    "Resize": _Reader.resize,
    "Upsample": _Reader.resize,
    "Pad": _Reader.pad,
    "DepthToSpace": _Reader.depth_space,
    "SpaceToDepth": _Reader.depth_space,
    "Erf": _Reader.erf,
}


def _runs(a: Shape, b: Shape) -> list[tuple[int, int]] | None:
    """The runs of consecutive axes of ``a`` whose sizes multiply to each size of ``b`` (first
    and last axis of each run), or None when ``b`` does not merge ``a``'s axes that way."""
    runs, i = [], 0
    for size in b:
        if i == len(a):
            return None
        start, product = i, a[i]
        i += 1
        while i < len(a) and product < size:
            product *= a[i]
            i += 1
        if product != size:
            return None
        runs.append((start, i - 1))
    while i < len(a) and a[i] == 1:  # trailing axes of size 1 join the last run
        runs[-1] = (runs[-1][0], i)
        i += 1
    return runs if i == len(a) else None


def _reshape_steps(x: Shape, target: Shape) -> list[tuple[str, dict[str, Any]]]:
    """A reshape (row-major, as ONNX Reshape and torch.reshape both are) as Flatten and Unflatten
    layers: merges only, splits only, or else a Flatten and an Unflatten of the axes that change.
    Runs are taken from the right, so the axes to their left keep their indices."""
    merges = _runs(x, target)
    if merges is not None:
        return [
            ("Flatten", {"start_dim": s, "end_dim": -1 if e == len(x) - 1 else e})
            for s, e in reversed(merges)
            if e > s
        ]
    splits = _runs(target, x)
    if splits is not None:
        return [
            ("Unflatten", {"dim": axis, "unflattened_size": list(target[s : e + 1])})
            for axis, (s, e) in reversed(list(enumerate(splits)))
            if e > s
        ]
    p = 0
    while p < min(len(x), len(target)) and x[p] == target[p]:
        p += 1
    q = 0
    while q < min(len(x), len(target)) - p and x[-1 - q] == target[-1 - q]:
        q += 1
    middle_in, middle_out = x[p : len(x) - q], target[p : len(target) - q]
    last = p + len(middle_in) - 1
    # neither shape is a regrouping of the other, so both middles have two axes or more
    return [
        ("Flatten", {"start_dim": p, "end_dim": -1 if last == len(x) - 1 else last}),
        ("Unflatten", {"dim": p, "unflattened_size": list(middle_out)}),
    ]


def _pooled(size: int, k: int, s: int, d: int, begin: int, end: int, ceil: bool) -> int:
    """spec MaxPool, explicit padding: floor or ceil((in + begin + end - d·(k-1) - 1) / s) + 1;
    "sliding windows that would start in the right padded region are ignored"."""
    span = size + begin + end - d * (k - 1) - 1
    out = (-(-span // s) if ceil else span // s) + 1
    if ceil and (out - 1) * s >= size + begin:
        out -= 1
    return out


def _known(dims: tuple[int | None, ...]) -> str:
    """A shape from shape inference, unknown dimensions as ?."""
    return fmt_shape(tuple(-1 if d is None else d for d in dims)).replace("-1", "?")


def _f32(value: Any) -> float:
    """A float32 attribute as the decimal it was written as (0.9, not 0.8999999761581421)."""
    import numpy as np

    return float(str(np.float32(value)))


def _dims(value: onnx.ValueInfoProto) -> list[Any]:
    return list(value.type.tensor_type.shape.dim)


def _attributes(node: onnx.NodeProto) -> dict[str, Any]:
    """A node's attributes as Python values (strings decoded)."""
    from onnx import helper

    attrs: dict[str, Any] = {}
    for attr in node.attribute:
        value = helper.get_attribute_value(attr)
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        elif isinstance(value, list) and value and isinstance(value[0], bytes):
            value = [v.decode("utf-8", "replace") for v in value]
        attrs[attr.name] = value
    return attrs
