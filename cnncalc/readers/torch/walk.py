"""The walk over a graph captured by ``torch.export``: module calls become rows, operators of
functional code become rows through the operator table, constants fold away.

Every node of the graph holds a value (:mod:`.values`): the network input and what depends on
it are :class:`Live`; parameters, buffers and what is computed from them alone are
:class:`Const` and never become rows. A call of a leaf module that cnncalc knows
(:mod:`.modules`) becomes one layer named by the module's path; other live operators are looked
up in :data:`.ops.OPS`. The module tree becomes the blocks. Each layer's output shape is checked
against the shape PyTorch computed while exporting, and its parameter count against the
parameters it reads: a disagreement is an error, never a silent wrong figure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cnncalc.errors import CnncalcError, GeometryError, Position, SpecError
from cnncalc.graph import NETWORK_INPUT, NetworkBuilder
from cnncalc.layers import lookup
from cnncalc.layers.base import Layer, Shape
from cnncalc.readers.torch.modules import unit_fields, unit_kind
from cnncalc.readers.torch.ops import OPS, Emit, OpCall, UnsupportedError, op_name
from cnncalc.readers.torch.values import Const, Live, tensors


@dataclass
class Walked:
    """What the walk found besides the layers: parameters read twice (tied, counted once) and
    every parameter the graph reads, by name."""

    shared_params: int = 0
    used: set[str] = field(default_factory=set)


# one module call around a node: (call key, path, class name)
_Call = tuple[str, str, str]


@dataclass
class _Frame:
    """One open block: the module call it records."""

    key: str
    path: str
    exit: Callable[[], None]


class Walk:
    """Reads one exported program into a builder."""

    def __init__(self, program: Any, model: Any, builder: NetworkBuilder, torch: Any, label: str) -> None:
        self.program = program
        self.model = model
        self.builder = builder
        self.torch = torch
        self.label = label
        self.values: dict[Any, Any] = {}
        self.param_sizes: dict[str, int] = {}  # placeholder's parameter -> numel
        self.result = Walked()
        self.frames: list[_Frame] = []
        self.counts: dict[tuple[str, str], int] = {}
        self.where = Position(label, 1, 1)

    # ---- the whole graph ---------------------------------------------------------------------

    def run(self) -> Walked:
        graph = self.program.graph
        nodes = list(graph.nodes)
        needed = _needed(nodes, self.program)
        self._placeholders(nodes)
        position = {node: i for i, node in enumerate(nodes)}
        index = 0
        while index < len(nodes):
            node = nodes[index]
            self.where = Position(self.label, index + 1, 1)
            if node.op == "output":
                self._close_to([])
                self._output(node)
            elif node.op == "call_function" and node in needed:
                if not self._is_live(node):
                    self.values[node] = self._constant(node)
                else:
                    unit = self._unit_of(node)
                    if unit is None:
                        self._enter(self._stack(node))
                        self._operator(node)
                    else:
                        run = [n for n in _unit_run(nodes, index, unit[0]) if n in needed]
                        stack = self._stack(node)
                        self._enter(stack[: [key for key, _, _ in stack].index(unit[0])])
                        while len(run) > 1 and op_name(run[0]) in _PIECE_OPS:
                            # the export files a split in the caller under the next module's
                            # call (timm's CSP stages): the pieces are the caller's operators
                            self._operator(run.pop(0))
                        self._module(unit, run)
                        index = position[run[-1]]
            index += 1
        return self.result

    def _placeholders(self, nodes: list[Any]) -> None:
        """Parameters and buffers are constants; the first tensor input is the network input."""
        from torch.export.graph_signature import InputKind

        by_name = {n.name: n for n in nodes if n.op == "placeholder"}
        network_input: Any = None
        for spec in self.program.graph_signature.input_specs:
            node = by_name[spec.arg.name]
            val = node.meta.get("val")
            shape = tuple(int(d) for d in val.shape) if hasattr(val, "shape") else ()
            if spec.kind == InputKind.PARAMETER:
                self.values[node] = Const(shape, frozenset([spec.target]), shape)
                self.param_sizes[spec.target] = _numel(shape)
            elif spec.kind == InputKind.USER_INPUT and network_input is None and hasattr(val, "shape"):
                network_input = node
                self.values[node] = Live(NETWORK_INPUT, shape)
            elif hasattr(val, "shape"):
                self.values[node] = Const(shape, frozenset(), shape)
            else:
                self.values[node] = val

    def _output(self, node: Any) -> None:
        """The forward's outputs (not the buffers a training-mode forward updates)."""
        from torch.export.graph_signature import OutputKind

        kinds = [spec.kind for spec in self.program.graph_signature.output_specs]
        given = [
            value
            for value, kind in zip(self._arg(tuple(node.args[0])), kinds)
            if kind == OutputKind.USER_OUTPUT
        ]
        outs = [v for v in tensors(given) if isinstance(v, Live)]
        if not outs:
            raise SpecError("the model's output does not depend on its input", self.where)
        handles = [v.handle for v in outs]
        if handles != [self.builder.last]:
            self.builder.output(*handles)

    # ---- values -------------------------------------------------------------------------------

    def _arg(self, arg: Any) -> Any:
        if isinstance(arg, (list, tuple)):
            return type(arg)(self._arg(a) for a in arg)
        if hasattr(arg, "op") and hasattr(arg, "meta"):
            return self.values[arg]
        return arg

    def _is_live(self, node: Any) -> bool:
        """Whether the node reads the input: a live tensor, or a piece of a split not yet taken."""
        return _live(self._arg((node.args, tuple(node.kwargs.values()))))

    def _constant(self, node: Any) -> Any:
        """A node that does not depend on the input: its value as the export computed it."""
        val = node.meta.get("val")
        args = tensors(self._arg((node.args, tuple(node.kwargs.values()))))
        params = frozenset().union(*(a.params for a in args if isinstance(a, Const)))
        if hasattr(val, "shape"):
            shape = _shape(val)
            base = shape
            if op_name(node) in ("expand", "expand_as", "repeat") and args and isinstance(args[0], Const):
                base = args[0].base
            return Const(shape, params, base)
        if isinstance(val, (list, tuple)) and any(hasattr(v, "shape") for v in val):
            return tuple(Const(_shape(v), params, _shape(v)) if hasattr(v, "shape") else v for v in val)
        if val is None and op_name(node) == "getitem":
            container, item = self._arg(node.args[0]), node.args[1]
            return container[item]
        return _python(val)

    # ---- module tree → blocks -------------------------------------------------------------------

    def _stack(self, node: Any) -> list[_Call]:
        """The module calls around a node, outermost first: (call key, path, class name)."""
        stack = node.meta.get("nn_module_stack") or {}
        out = []
        for key, (path, cls) in stack.items():
            if not path:
                continue
            suffix = key.rpartition("@")[2] if "@" in key else ""
            out.append((key, f"{path}@{suffix}" if suffix else path, _class_name(cls)))
        return out

    def _enter(self, stack: list[_Call]) -> None:
        """Close the blocks the node is not in, open the ones it is newly in."""
        keys = [k for k, _, _ in stack]
        depth = 0
        while depth < len(self.frames) and depth < len(keys) and self.frames[depth].key == keys[depth]:
            depth += 1
        self._close_to(keys[:depth])
        for key, path, cls in stack[depth:]:
            manager = self.builder.block(path, cls, self.where, empty_ok=True)
            manager.__enter__()
            self.frames.append(_Frame(key, path, _closer(manager)))

    def _close_to(self, keys: list[str]) -> None:
        while len(self.frames) > len(keys):
            self.frames.pop().exit()

    # ---- module units ---------------------------------------------------------------------------

    def _unit_of(self, node: Any) -> tuple[str, str, bool, str] | None:
        """The outermost module call around the node that reads as one layer:
        (call key, path, True, kind); None when the node is read as an operator."""
        for key, path, _ in self._stack(node):
            module = self._module_at(path.partition("@")[0])
            kind = unit_kind(module, self.torch) if module is not None else None
            if kind is not None:
                return key, path, True, kind
        return None

    def _module_at(self, path: str) -> Any:
        try:
            return self.model.get_submodule(path)
        except AttributeError:
            return None

    def _module(self, unit: tuple[str, str, bool, str], run: list[Any]) -> None:
        """One call of a leaf module read as one layer from the module's attributes."""
        _, path, _, kind = unit
        module = self._module_at(path.partition("@")[0])
        where = f"module {path!r} ({type(module).__name__})"
        inside: set[Any] = set()  # the live nodes of the call
        inputs: list[Live] = []
        params: set[str] = set()
        for node in run:
            outside = [self.values[a] for a in node.all_input_nodes if a not in inside]
            if any(a in inside for a in node.all_input_nodes) or any(isinstance(v, Live) for v in outside):
                inside.add(node)
            else:
                self.values[node] = self._constant(node)
                continue
            for value in outside:
                if isinstance(value, Live) and value not in inputs:
                    inputs.append(value)
                elif isinstance(value, Const):
                    params |= value.params
        if len(inputs) != 1:
            raise SpecError(f"{where} is called with {len(inputs)} tensors; cnncalc reads one", self.where)
        try:
            layer = _make(kind, unit_fields(kind, module, self.torch), self.where)
        except CnncalcError as exc:
            raise SpecError(f"{where}: {exc.message}", self.where) from None
        calls = [n for n in run if n in inside]
        out = [n for n in calls if any(u not in inside for u in n.users)] or [calls[-1]]
        shape = self._check(layer, [inputs[0].shape], out[-1], where)
        self._count(layer, [inputs[0].shape], frozenset(params), where)
        origin = f"module:{type(module).__module__}.{type(module).__qualname__}"
        if any(op_name(n) == "scaled_dot_product_attention" for n in calls):
            origin += ":sdpa"  # MultiheadAttention called with need_weights=False
        handle = self.builder.add(layer, path, [inputs[0].handle], position=self.where, origin=origin)
        value = Live(handle, shape)
        for node in out:
            val = node.meta.get("val")
            if isinstance(val, (list, tuple)) and val and _shape_or_none(val[0]) == shape:
                # MultiheadAttention's (output, None): the layer is the first
                self.values[node] = (value, *([None] * (len(val) - 1)))
            elif _shape_or_none(val) != shape:
                raise SpecError(f"{where} returns several tensors; cnncalc reads one", self.where)
        for node in calls:
            if node not in out or not isinstance(self.values.get(node), tuple):
                self.values[node] = value

    # ---- operators ------------------------------------------------------------------------------

    def _operator(self, node: Any) -> None:
        """A live operator of functional code, through the operator table."""
        name = op_name(node)
        stack = self._stack(node)
        where = f"aten.{name}" + (f" in module {stack[-1][1]!r} ({stack[-1][2]})" if stack else "")
        val = node.meta.get("val")
        if val is not None and not hasattr(val, "shape") and not isinstance(val, (list, tuple)):
            self.values[node] = _python(val)  # x.size(0) and the like: a number of the export
            return
        handler = OPS.get(name)
        if handler is None:
            raise SpecError(f"{where} has no cnncalc layer", self.where)
        call = OpCall(
            name,
            self._arg(tuple(node.args)),
            {k: self._arg(v) for k, v in node.kwargs.items()},
            val,
            _shape_or_none(val),
        )
        try:
            result = handler(call)
        except UnsupportedError as exc:
            raise SpecError(f"{where}: {exc}", self.where) from None
        if isinstance(result, Emit):
            result = self._emit(result, call, node, stack, where)
            if isinstance(val, (list, tuple)):
                # batch norm's (output, mean, invstd), max pooling's (output, indices): the
                # layer is the first; the others are statistics no later layer reads
                result = (result, *([None] * (len(val) - 1)))
        self.values[node] = result

    def _emit(self, emit: Emit, call: OpCall, node: Any, stack: list[_Call], where: str) -> Live:
        if lookup(emit.kind) is None:
            raise SpecError(
                f"{where} needs the layer kind {emit.kind}, which this cnncalc does not have yet",
                self.where,
            )
        try:
            layer = _make(emit.kind, emit.fields, self.where)
        except CnncalcError as exc:
            raise SpecError(f"{where}: {exc.message}", self.where) from None
        shapes = [v.shape for v in emit.inputs]
        shape = self._check(layer, shapes, node, where)
        params = frozenset().union(*(c.params for c in tensors(call.args) if isinstance(c, Const)))
        self._count(layer, shapes, params, where)
        scope = stack[-1][1] if stack else ""
        handle = self.builder.add(
            layer,
            self._name(scope, layer.kind),
            [v.handle for v in emit.inputs],
            position=self.where,
            origin=_origin(node) + self._within(stack),
        )
        return Live(handle, shape)

    def _within(self, stack: list[_Call]) -> str:
        """``@<class>`` when a functional row runs inside a module whose class derives from a
        torch.nn layer class (timm's and torchvision's LayerNorm2d from nn.LayerNorm): a counter
        hooking modules by class hierarchy counts that module, not the row (cnncalc.count)."""
        for _, path, _ in reversed(stack):
            module = self._module_at(path.partition("@")[0])
            if module is None or type(module).__module__.startswith("torch.nn."):
                continue
            for cls in type(module).__mro__[1:]:
                if cls.__module__.startswith("torch.nn.modules.") and cls.__name__ not in _CONTAINERS:
                    return f"@{cls.__name__}"
        return ""

    def _name(self, scope: str, kind: str) -> str:
        key = (scope, kind.lower())
        self.counts[key] = self.counts.get(key, 0) + 1
        local = f"{kind.lower()}_{self.counts[key]}"
        return f"{scope}.{local}" if scope else local

    # ---- checks ---------------------------------------------------------------------------------

    def _check(self, layer: Layer, shapes: list[Shape], node: Any, where: str) -> Shape:
        """The layer's output shape, which must be the one PyTorch computed."""
        try:
            if layer.is_merge and len(shapes) > 1:
                shape = layer.merge(shapes)[0]
            else:
                shape = layer.apply(shapes[0]).output
        except GeometryError as exc:
            raise SpecError(f"{where}: {exc.message}", self.where) from None
        val = node.meta.get("val")
        want = _shape_or_none(val[0] if isinstance(val, (list, tuple)) and val else val)
        if want is not None and want != shape:
            raise SpecError(
                f"{where}: cnncalc's {layer.kind} gives shape {shape}, PyTorch {want}", self.where
            )
        return shape

    def _count(self, layer: Layer, shapes: list[Shape], params: frozenset[str], where: str) -> None:
        """The parameters the layer counts must be those it reads; a parameter read again (tied,
        or a module called twice) is counted once in the totals."""
        counted = 0 if layer.is_merge and len(shapes) > 1 else layer.apply(shapes[0]).params
        reads = sum(self.param_sizes[p] for p in params)
        if counted != reads and layer.kind.startswith("Learned"):
            raise SpecError(
                f"{where}: a tensor of {counted:,} elements computed from {reads:,} parameters "
                f"({', '.join(sorted(params))}, gathered or tiled: a relative position bias) has no "
                "cnncalc layer",
                self.where,
            )
        if counted != reads:
            raise SpecError(
                f"{where}: cnncalc's {layer.kind} counts {counted:,} parameters, the module reads {reads:,}",
                self.where,
            )
        self.result.shared_params += sum(self.param_sizes[p] for p in params & self.result.used)
        self.result.used |= params


_PIECE_OPS = {"split", "split_with_sizes", "chunk", "unbind", "getitem"}

# torch.nn classes that hold modules and compute nothing of their own
_CONTAINERS = {"Module", "Sequential", "ModuleList", "ModuleDict"}

# Tensor methods that torch.export names like their operators (``a @ b`` and ``a.matmul(b)`` are
# both ``method_descriptor.matmul``), and the operator's symbol
_OPERATORS = {"matmul": "@", "add": "+", "sub": "-", "mul": "*", "div": "/"}


def _origin(node: Any) -> str:
    """How the forward called a functional row's operator (:attr:`cnncalc.graph.Node.origin`):
    export's ``torch_fn`` (``function.relu`` for F.relu), with ``a + b`` told from ``a.add(b)``
    by the source line of the call: ``operator.add`` or ``method_descriptor.add``, and
    ``method_descriptor.add?`` where the line has both spellings or is not available."""
    torch_fn = node.meta.get("torch_fn")
    if not torch_fn:
        return ""
    origin = str(torch_fn[1])
    kind, _, name = origin.partition(".")
    if kind != "method_descriptor" or name not in _OPERATORS:
        return origin
    lines = [line.strip() for line in str(node.meta.get("stack_trace") or "").splitlines() if line.strip()]
    code = lines[-1] if lines and not lines[-1].startswith("File ") else ""
    code = code.replace(f"torch.{name}(", "(")  # torch.add(a, b) is builtin_function_or_method.add
    method, operator = f".{name}(" in code, _OPERATORS[name] in code.replace(f".{name}(", "")
    if method != operator:
        return origin if method else f"operator.{name}"
    return origin + "?"


def _live(value: Any) -> bool:
    if isinstance(value, (Live, Emit)):
        return True
    return isinstance(value, (list, tuple)) and any(_live(v) for v in value)


def _closer(manager: Any) -> Callable[[], None]:
    def close() -> None:
        manager.__exit__(None, None, None)

    return close


def _make(kind: str, fields: dict[str, Any], where: Position) -> Layer:
    from cnncalc.spec.build import make_layer

    return make_layer(kind, where, **fields)


def _unit_run(nodes: list[Any], start: int, key: str) -> list[Any]:
    """The nodes of one module call: from ``start`` while the call key is in their stack."""
    run = []
    for node in nodes[start:]:
        if node.op != "call_function" or key not in (node.meta.get("nn_module_stack") or {}):
            break
        run.append(node)
    return run


def _needed(nodes: list[Any], program: Any) -> set[Any]:
    """The nodes the forward's outputs depend on (dead code is never read)."""
    from torch.export.graph_signature import OutputKind

    kinds = [spec.kind for spec in program.graph_signature.output_specs]
    output = next(n for n in nodes if n.op == "output")
    needed: set[Any] = {output}
    stack = [
        a for a, kind in zip(output.args[0], kinds) if kind == OutputKind.USER_OUTPUT and hasattr(a, "op")
    ]
    while stack:
        node = stack.pop()
        if node in needed:
            continue
        needed.add(node)
        stack.extend(node.all_input_nodes)
    return needed


def _numel(shape: Shape) -> int:
    out = 1
    for d in shape:
        out *= d
    return out


def _shape(val: Any) -> Shape:
    return tuple(int(d) for d in val.shape)


def _shape_or_none(val: Any) -> Shape | None:
    return _shape(val) if hasattr(val, "shape") else None


def _python(val: Any) -> Any:
    """An int, float or bool the export computed (SymInts of static shapes are plain ints)."""
    if isinstance(val, (list, tuple)):
        return type(val)(_python(v) for v in val)
    for cast in (int, float):
        if type(val).__name__ == f"Sym{cast.__name__.capitalize()}":
            return cast(val)
    return val


def _class_name(qualified: Any) -> str:
    text = qualified if isinstance(qualified, str) else getattr(qualified, "__name__", str(qualified))
    return text.rpartition(".")[2]
