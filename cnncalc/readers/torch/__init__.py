"""Read a PyTorch ``nn.Module`` (optional extra ``cnncalc[torch]``) by tracing it with torch.fx.

``package.module:factory`` names a function returning the module (or the module object itself).
Every traced module call becomes the cnncalc layer of the same ``torch.nn`` class, with its
arguments read back from the module's attributes; additions, multiplications and ``torch.cat``
become merges; a few functional forms (``F.relu``, ``torch.flatten``, ``x.view(x.size(0), -1)``,
…) map to their module equivalents. Anything else is an error naming the module path or the
function, never skipped.
"""

from __future__ import annotations

import importlib
import operator
import warnings
from typing import Any

from cnncalc.errors import Position, SourceError, SpecError
from cnncalc.graph import NetworkBuilder
from cnncalc.layers import lookup
from cnncalc.readers import Read, ReadOptions, Source
from cnncalc.spec.build import make_layer


def read(source: Source, options: ReadOptions) -> Read:
    """Trace ``package.module:factory`` and build the network it computes on the input shape."""
    spec = source.name
    input_shape = options.input_shape
    where = Position(f"<torch {spec}>", 1, 1)
    if input_shape is None:
        raise SpecError("--from-torch needs the input shape: --input 1,3,224,224", where)
    torch = _import_torch(where)
    model = _model(spec, torch, where)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            traced = torch.fx.symbolic_trace(model)
    except Exception as exc:  # torch.fx raises many kinds; each is the user's model, reported
        raise SpecError(f"torch.fx cannot trace the model: {str(exc).splitlines()[0]}", where) from None
    builder = NetworkBuilder(
        input_shape, name=spec.rsplit(":", 1)[-1], source=where.file, limits=options.limits
    )
    _add_nodes(builder, traced, torch, spec)
    return Read(builder.build())


def _import_torch(where: Position) -> Any:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns when NumPy is missing
            import torch
            import torch.fx
    except ImportError:
        raise SourceError(
            "reading PyTorch modules needs torch: pip install 'cnncalc[torch]'", where
        ) from None
    return torch


def _model(spec: str, torch: Any, where: Position) -> Any:
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise SpecError(f"--from-torch wants package.module:factory, got {spec!r}", where)
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # the user's module failed to import: say how
        raise SourceError(f"cannot import {module_name!r}: {exc}", where) from None
    target = getattr(module, attr, None)
    if target is None:
        raise SpecError(f"{module_name!r} has no attribute {attr!r}", where)
    model = target if isinstance(target, torch.nn.Module) else target() if callable(target) else None
    if not isinstance(model, torch.nn.Module):
        raise SpecError(f"{spec!r} did not give a torch.nn.Module", where)
    return model.eval()


# torch functions and tensor methods with a module equivalent: name -> (layer type, argument names
# in the function's positional order after the input)
_FUNCTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "relu": ("ReLU", ()),
    "relu6": ("ReLU6", ()),
    "sigmoid": ("Sigmoid", ()),
    "tanh": ("Tanh", ()),
    "gelu": ("GELU", ()),
    "silu": ("SiLU", ()),
    "hardswish": ("Hardswish", ()),
    "hardsigmoid": ("Hardsigmoid", ()),
    "mish": ("Mish", ()),
    "leaky_relu": ("LeakyReLU", ("negative_slope",)),
    "softmax": ("Softmax", ("dim",)),
    "log_softmax": ("LogSoftmax", ("dim",)),
    "dropout": ("Dropout", ("p",)),
    "adaptive_avg_pool1d": ("AdaptiveAvgPool1d", ("output_size",)),
    "adaptive_avg_pool2d": ("AdaptiveAvgPool2d", ("output_size",)),
    "adaptive_avg_pool3d": ("AdaptiveAvgPool3d", ("output_size",)),
    "adaptive_max_pool2d": ("AdaptiveMaxPool2d", ("output_size",)),
    "max_pool2d": ("MaxPool2d", ("kernel_size", "stride", "padding", "dilation", "ceil_mode")),
    "avg_pool2d": ("AvgPool2d", ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad")),
    "interpolate": ("Upsample", ("size", "scale_factor", "mode", "align_corners")),
    "pixel_shuffle": ("PixelShuffle", ("upscale_factor",)),
}
# arguments where an int stands for the same value on every axis (torch.nn.modules.utils._ntuple)
_PER_AXIS = {"kernel_size", "stride", "padding", "dilation", "output_padding", "output_size", "size"}
_ELEMENTWISE_OPS = {operator.add: "Add", operator.iadd: "Add", operator.mul: "Mul", operator.imul: "Mul"}


def _add_nodes(builder: NetworkBuilder, traced: Any, torch: Any, spec: str) -> None:
    modules = dict(traced.named_modules())
    names: dict[Any, str] = {}
    skipped: set[Any] = set()  # non-tensor nodes such as x.size(0)
    for index, node in enumerate(traced.graph.nodes):
        where = Position(f"<torch {spec}>", index + 1, 1)
        tensors = [a for a in _flatten(node.args) if hasattr(a, "op") and a not in skipped]
        sources = [names[a] for a in tensors]
        if node.op == "placeholder":
            if "input" in names.values():
                raise SpecError(f"the model takes several inputs ({node.name}); cnncalc reads one", where)
            names[node] = "input"
            continue
        if node.op == "output":
            builder.output(*sources)
            continue
        if node.op == "call_method" and node.target in ("size", "dim"):
            skipped.add(node)
            continue
        if not sources:
            raise SpecError(f"{node.op} {node.target!r} ({node.name}) reads no tensor", where)
        kind, fields = _node_layer(node, modules, torch, where)
        builder.add(make_layer(kind, where, **fields), node.name, sources, position=where)
        names[node] = node.name


def _node_layer(
    node: Any, modules: dict[str, Any], torch: Any, where: Position
) -> tuple[str, dict[str, Any]]:
    """The layer kind and arguments of one traced node."""
    if node.op == "call_module":
        module = modules[node.target]
        kind = type(module).__name__
        cls = lookup(kind)
        if cls is None or cls.is_merge:
            raise SpecError(f"module {node.target!r} ({kind}) has no cnncalc layer", where)
        fields: dict[str, Any] = {}
        for field in cls.model_fields:
            if field == "bias":
                fields[field] = getattr(module, "bias", None) is not None
                continue
            if not hasattr(module, field):
                continue
            value = getattr(module, field)
            if isinstance(value, torch.Tensor):
                continue
            if isinstance(value, (tuple, torch.Size)):
                # modules store (3, 3) for kernel_size=3: write it back as PyTorch's int form
                same = field in _PER_AXIS and len(set(value)) == 1
                value = value[0] if same else list(value)
            fields[field] = value
        return kind, fields
    if node.op in ("call_function", "call_method"):
        return _function_layer(node, where)
    raise SpecError(
        f"{node.op} {node.target!r} ({node.name}) is not supported: only module calls and functions", where
    )


def _function_layer(node: Any, where: Position) -> tuple[str, dict[str, Any]]:
    target = node.target
    name = target if isinstance(target, str) else getattr(target, "__name__", str(target))
    tensors = [a for a in _flatten(node.args) if hasattr(a, "op")]
    if target in _ELEMENTWISE_OPS or name in ("add", "mul", "add_", "mul_"):
        kind = _ELEMENTWISE_OPS.get(target) or ("Add" if name.startswith("add") else "Mul")
        # with a constant operand (x + 1, x * 0.5) the shape is kept: an element-wise identity
        return (kind, {}) if len(tensors) > 1 else ("Identity", {})
    if name == "cat":
        dim = node.kwargs.get("dim", node.args[1] if len(node.args) > 1 else 0)
        return "Concat", {"dim": dim}
    if name == "flatten":
        start = node.kwargs.get("start_dim", node.args[1] if len(node.args) > 1 else 0)
        end = node.kwargs.get("end_dim", node.args[2] if len(node.args) > 2 else -1)
        return "Flatten", {"start_dim": start, "end_dim": end}
    if name in ("view", "reshape") and _is_flatten_to_batch(node):
        return "Flatten", {"start_dim": 1}
    if name in _FUNCTIONS:
        kind, params = _FUNCTIONS[name]
        values = dict(zip(params, node.args[1:]))
        values.update({k: v for k, v in node.kwargs.items() if k in params})
        # arguments of the functional form that change no figure (inplace, training) are not read
        return kind, {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}
    raise SpecError(f"function {name!r} ({node.name}) has no cnncalc layer", where)


def _is_flatten_to_batch(node: Any) -> bool:
    """``x.view(x.size(0), -1)`` or ``x.reshape(x.size(0), -1)``: Flatten(1)."""
    args = node.args
    if len(args) != 3 or args[2] != -1:
        return False
    size = args[1]
    return (
        hasattr(size, "op")
        and size.op == "call_method"
        and size.target == "size"
        and size.args[0] is args[0]
        and (size.args[1:] == (0,) or size.kwargs.get("dim") == 0)
    )


def _flatten(args: Any) -> list[Any]:
    out: list[Any] = []
    for a in args:
        if isinstance(a, (list, tuple)):
            out.extend(_flatten(a))
        else:
            out.append(a)
    return out
