"""The operator table: one small function per ATen operator of functional code, as fvcore maps
its ``jit_handles``. ``torch.export`` gives the functional ATen graph (``run_decompositions({})``:
no in-place operators, composite operators such as ``conv2d``, ``linear`` and
``scaled_dot_product_attention`` kept whole), so the table is finite and each entry reads its
arguments in the order ATen's schema declares them (``native_functions.yaml``).

A handler takes an :class:`OpCall` (arguments already turned into values) and returns an
:class:`Emit` (a cnncalc layer and the live tensors it reads), a value passed through
unchanged (``clone``, ``contiguous``), or a tuple of pieces (``chunk``: each piece is emitted
when a ``getitem`` takes it). It raises :class:`UnsupportedError` with the reason when the call has no
cnncalc equivalent.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cnncalc.layers.base import Shape
from cnncalc.readers.torch.values import Const, Live, lives


class UnsupportedError(Exception):
    """An operator call cnncalc cannot read, with the reason (one line)."""


@dataclass(frozen=True)
class OpCall:
    """One operator call: its name (``conv2d``), arguments as values, and what PyTorch computed."""

    name: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    val: Any
    shape: Shape | None

    def arg(self, index: int, name: str, default: Any = None) -> Any:
        """Argument ``index`` of the schema, given positionally or by ``name``."""
        if index < len(self.args):
            return self.args[index]
        return self.kwargs.get(name, default)

    @property
    def x(self) -> Live:
        """The first argument, which must be a live tensor."""
        first = self.args[0]
        if not isinstance(first, Live):
            raise UnsupportedError("its first argument does not depend on the input")
        return first


@dataclass(frozen=True)
class Emit:
    """A layer to add: its kind, arguments and the live tensors it reads."""

    kind: str
    fields: dict[str, Any] = field(default_factory=dict)
    inputs: tuple[Live, ...] = ()


Handler = Callable[[OpCall], Any]


def op_name(node: Any) -> str:
    """``aten.conv2d.default`` -> ``conv2d``; Python's ``getitem`` -> ``getitem``."""
    target = node.target
    packet = getattr(target, "_opname", None) or getattr(target, "__name__", str(target))
    return str(packet)


# ---- one live input, no arguments read -----------------------------------------------------------


def _unary(kind: str, *names: tuple[int, str, str]) -> Handler:
    """A layer of one input whose arguments are schema arguments ``(index, schema name, field)``."""

    def handle(call: OpCall) -> Emit:
        fields = {}
        for index, schema, field_name in names:
            value = call.arg(index, schema)
            if value is not None:
                fields[field_name] = _literal(value)
        return Emit(kind, fields, (call.x,))

    return handle


def _same(call: OpCall) -> Any:
    """An operator that returns its input's values (a copy, a view as-is, a dtype cast)."""
    return call.args[0]


def _literal(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_literal(v) for v in value)
    return value


def _ints(value: Any) -> tuple[int, ...]:
    return tuple(int(v) for v in (value if isinstance(value, (list, tuple)) else [value]))


def _weight(call: OpCall, index: int, name: str) -> Const:
    weight = call.arg(index, name)
    if not isinstance(weight, Const):
        raise UnsupportedError(f"its {name} depends on the input (a dynamic {name} has no cnncalc layer)")
    return weight


def _per_axis(value: Any, n: int) -> Any:
    """A per-axis argument as PyTorch's int form where every axis is the same."""
    values = _ints(value)
    if len(values) == 1:
        return values[0]
    return values[0] if len(set(values)) == 1 else values


# ---- layers with weights -------------------------------------------------------------------------


def _conv(n: int, transposed: bool = False) -> Handler:
    def handle(call: OpCall) -> Emit:
        weight = _weight(call, 1, "weight")
        bias = call.arg(2, "bias")
        stride = call.arg(3, "stride", 1)
        padding = call.arg(4, "padding", 0)
        if transposed:
            output_padding = call.arg(5, "output_padding", 0)
            groups = int(call.arg(6, "groups", 1))
            dilation = call.arg(7, "dilation", 1)
            in_ch, out_ch = weight.shape[0], weight.shape[1] * groups
        else:
            dilation = call.arg(5, "dilation", 1)
            groups = int(call.arg(6, "groups", 1))
            in_ch, out_ch = weight.shape[1] * groups, weight.shape[0]
        fields: dict[str, Any] = {
            "in_channels": in_ch,
            "out_channels": out_ch,
            "kernel_size": _per_axis(weight.shape[2:], n),
            "stride": _per_axis(stride, n),
            "padding": padding if isinstance(padding, str) else _per_axis(padding, n),
            "dilation": _per_axis(dilation, n),
            "groups": groups,
            "bias": bias is not None,
        }
        if transposed:
            fields["output_padding"] = _per_axis(output_padding, n)
        return Emit(f"ConvTranspose{n}d" if transposed else f"Conv{n}d", fields, (call.x,))

    return handle


def _linear(call: OpCall) -> Emit:
    weight = _weight(call, 1, "weight")
    if len(weight.shape) != 2:
        raise UnsupportedError(f"a weight of shape {weight.shape} is not a Linear's")
    bias = call.arg(2, "bias")
    return Emit(
        "Linear",
        {"in_features": weight.shape[1], "out_features": weight.shape[0], "bias": bias is not None},
        (call.x,),
    )


def _batch_norm(call: OpCall, first_stat: int, eps_index: int) -> Emit:
    x = call.x
    rank = len(x.shape)
    dims = {2: 1, 3: 1, 4: 2, 5: 3}.get(rank)
    if dims is None:
        raise UnsupportedError(f"batch norm of a {rank}D tensor")
    weight = call.arg(1, "weight")
    fields = {
        "num_features": x.shape[1],
        "eps": float(call.arg(eps_index, "eps", 1e-5)),
        "affine": weight is not None,
        "track_running_stats": call.arg(first_stat, "running_mean") is not None,
    }
    return Emit(f"BatchNorm{dims}d", fields, (x,))


def _layer_norm(call: OpCall) -> Emit:
    shape = _ints(call.arg(1, "normalized_shape"))
    fields = {
        "normalized_shape": shape[0] if len(shape) == 1 else shape,
        "eps": float(call.arg(4, "eps", 1e-5)),
        "elementwise_affine": call.arg(2, "weight") is not None,
        "bias": call.arg(3, "bias") is not None,
    }
    return Emit("LayerNorm", fields, (call.x,))


def _group_norm(call: OpCall) -> Emit:
    fields = {
        "num_groups": int(call.arg(1, "num_groups")),
        "num_channels": call.x.shape[1],
        "eps": float(call.arg(4, "eps", 1e-5)),
        "affine": call.arg(2, "weight") is not None,
    }
    return Emit("GroupNorm", fields, (call.x,))


def _prelu(call: OpCall) -> Emit:
    weight = _weight(call, 1, "weight")
    return Emit("PReLU", {"num_parameters": math.prod(weight.shape)}, (call.x,))


# ---- pooling, padding, resampling ----------------------------------------------------------------


def _spatial(call: OpCall) -> int:
    return len(call.x.shape) - 2


def _max_pool(call: OpCall) -> Emit:
    n = _spatial(call)
    kernel = call.arg(1, "kernel_size")
    stride = call.arg(2, "stride") or kernel
    fields = {
        "kernel_size": _per_axis(kernel, n),
        "stride": _per_axis(stride, n),
        "padding": _per_axis(call.arg(3, "padding", 0), n),
        "dilation": _per_axis(call.arg(4, "dilation", 1), n),
        "ceil_mode": bool(call.arg(5, "ceil_mode", False)),
    }
    return Emit(f"MaxPool{n}d", fields, (call.x,))


def _avg_pool(call: OpCall) -> Emit:
    n = _spatial(call)
    kernel = call.arg(1, "kernel_size")
    stride = call.arg(2, "stride") or kernel
    fields: dict[str, Any] = {
        "kernel_size": _per_axis(kernel, n),
        "stride": _per_axis(stride, n),
        "padding": _per_axis(call.arg(3, "padding", 0), n),
        "ceil_mode": bool(call.arg(4, "ceil_mode", False)),
        "count_include_pad": bool(call.arg(5, "count_include_pad", True)),
    }
    divisor = call.arg(6, "divisor_override")
    if divisor is not None:
        fields["divisor_override"] = int(divisor)
    return Emit(f"AvgPool{n}d", fields, (call.x,))


def _adaptive(kind: str) -> Handler:
    def handle(call: OpCall) -> Emit:
        n = _spatial(call) if len(call.x.shape) > 2 else 1
        return Emit(f"{kind}{n}d", {"output_size": _per_axis(call.arg(1, "output_size"), n)}, (call.x,))

    return handle


_PAD_KINDS = {
    "constant": "ConstantPad",
    "reflect": "ReflectionPad",
    "replicate": "ReplicationPad",
    "circular": "CircularPad",
}


def _pad(call: OpCall) -> Emit:
    pad = _ints(call.arg(1, "pad"))
    mode = call.arg(2, "mode", "constant") if call.name == "pad" else "constant"
    value = call.arg(3 if call.name == "pad" else 2, "value", 0.0)
    n = len(pad) // 2
    if mode not in _PAD_KINDS or len(pad) % 2 or not 1 <= n <= 3:
        raise UnsupportedError(f"padding {list(pad)} in mode {mode!r}")
    kind = f"{_PAD_KINDS[mode]}{n}d"
    padding: Any = pad[0] if len(set(pad)) == 1 else pad
    fields: dict[str, Any] = {"padding": padding}
    if mode == "constant":
        fields["value"] = float(value or 0.0)
    return Emit(kind, fields, (call.x,))


def _upsample(mode: str) -> Handler:
    def handle(call: OpCall) -> Emit:
        if call.shape is None:
            raise UnsupportedError("no output shape")
        fields: dict[str, Any] = {"size": _per_axis(call.shape[2:], _spatial(call)), "mode": mode}
        if mode != "nearest":
            fields["align_corners"] = bool(call.arg(2, "align_corners", False))
        return Emit("Upsample", fields, (call.x,))

    return handle


# ---- shapes --------------------------------------------------------------------------------------


def _view(call: OpCall) -> Any:
    """``view``/``reshape``: Flatten where it merges trailing axes, Reshape otherwise."""
    x = call.x
    out = call.shape
    assert out is not None
    if out == x.shape:
        return x
    start = _flatten_start(x.shape, out)
    if start is not None:
        return Emit("Flatten", {"start_dim": start}, (x,))
    return Emit("Reshape", {"shape": tuple(out)}, (x,))


def _flatten_start(x: Shape, out: Shape) -> int | None:
    """The start_dim of a Flatten(start_dim) that turns ``x`` into ``out``, if one does."""
    k = len(out) - 1
    if k < 0 or len(x) <= len(out) or x[:k] != out[:k]:
        return None
    return k if math.prod(x[k:]) == out[k] else None


def _flatten(call: OpCall) -> Emit:
    return Emit(
        "Flatten",
        {"start_dim": int(call.arg(1, "start_dim", 0)), "end_dim": int(call.arg(2, "end_dim", -1))},
        (call.x,),
    )


def _slice(call: OpCall) -> Any:
    x = call.x
    dim = int(call.arg(1, "dim", 0))
    start, end, step = call.arg(2, "start"), call.arg(3, "end"), int(call.arg(4, "step", 1))
    if call.shape == x.shape:  # x[:, :] takes everything
        return x
    size = x.shape[dim]
    end = None if end is not None and end >= size else end
    return Emit("Slice", {"dim": dim, "start": start, "end": end, "step": step}, (x,))


def _pieces(call: OpCall) -> tuple[Emit, ...]:
    """``split``/``split_with_sizes``/``chunk``/``unbind``: one layer per piece taken."""
    x = call.x
    dim = int(call.arg(2, "dim", 0)) if call.name != "unbind" else int(call.arg(1, "dim", 0))
    count = len(call.val)
    if call.name == "unbind":
        return tuple(Emit("Select", {"dim": dim, "index": i}, (x,)) for i in range(count))
    if call.name == "chunk":
        chunks = int(call.arg(1, "chunks"))
        return tuple(Emit("Chunk", {"chunks": chunks, "dim": dim, "index": i}, (x,)) for i in range(count))
    sizes = call.arg(1, "split_size")
    spec: Any = int(sizes) if isinstance(sizes, int) else _ints(sizes)
    return tuple(
        Emit("Split", {"split_size_or_sections": spec, "dim": dim, "index": i}, (x,)) for i in range(count)
    )


def _getitem(call: OpCall) -> Any:
    container, index = call.args[0], call.args[1]
    if not isinstance(container, (list, tuple)):
        raise UnsupportedError("indexing a tensor by a Python index")
    return container[index]


def _mean(call: OpCall) -> Emit:
    x = call.x
    dims = tuple(d % len(x.shape) for d in _ints(call.arg(1, "dim")))
    keepdim = bool(call.arg(2, "keepdim", False))
    spatial = tuple(range(2, len(x.shape)))
    from cnncalc.layers import lookup

    if lookup("Mean") is None and keepdim and dims == spatial and 1 <= len(spatial) <= 3:
        # global average pooling written as x.mean((2, 3), keepdim=True)
        return Emit(f"AdaptiveAvgPool{len(spatial)}d", {"output_size": 1}, (x,))
    dim: Any = dims[0] if len(dims) == 1 else dims
    return Emit(call.name.capitalize(), {"dim": dim, "keepdim": keepdim}, (x,))


# ---- merges and arithmetic -----------------------------------------------------------------------

_MERGES = {"add": "Add", "mul": "Mul", "sub": "Sub", "div": "Div"}
_LEARNED = {"add": "LearnedAdd", "mul": "LearnedMul"}


def _binary(call: OpCall) -> Any:
    """``a + b``, ``a * b``, ``a - b``, ``a / b``: a merge of live tensors, a learned tensor
    broadcast onto one, or arithmetic with a constant."""
    inputs = lives(call.args[:2])
    other = call.args[1] if isinstance(call.args[0], Live) else call.args[0]
    alpha = call.kwargs.get("alpha", 1)
    if alpha != 1:
        raise UnsupportedError(f"alpha={alpha}")
    if len(inputs) == 2 or (len(inputs) == 1 and call.args[0] is call.args[1]):
        return Emit(_MERGES[call.name], {}, tuple(inputs) * (2 if len(inputs) == 1 else 1))
    if isinstance(other, Const) and other.params:
        kind = _LEARNED.get(call.name)
        if kind is None:
            raise UnsupportedError(f"{call.name} with a learned tensor")
        return Emit(kind, {"shape": other.base}, tuple(inputs))
    reverse = {"sub": "rsub", "div": "rdiv"}  # 1 - x, 1 / x
    op = call.name if isinstance(call.args[0], Live) else reverse.get(call.name, call.name)
    value = float(other) if isinstance(other, (int, float)) else None
    return _arith(op, value, inputs[0])


def _arith(op: str, value: float | None, x: Live) -> Emit:
    from cnncalc.layers import lookup

    if lookup("Arith") is None:
        # element-wise with a constant: no parameters, no multiply-adds, the shape kept
        return Emit("Identity", {}, (x,))
    fields: dict[str, Any] = {"op": op}
    if value is not None:
        fields["value"] = value
    return Emit("Arith", fields, (x,))


def _unary_arith(op: str) -> Handler:
    def handle(call: OpCall) -> Emit:
        value = call.arg(1, "exponent") if op == "pow" else None
        if op.startswith("clamp"):
            value = call.arg(1, "min")
        return _arith(op, float(value) if value is not None else None, call.x)

    return handle


def _cat(call: OpCall) -> Emit:
    items = list(call.arg(0, "tensors"))
    dim = int(call.arg(1, "dim", 0))
    learned = [t for t in items if isinstance(t, Const)]
    inputs = lives(items)
    if not learned:
        return Emit("Concat", {"dim": dim}, tuple(items))
    if len(items) == 2 and len(learned) == 1 and learned[0].params and len(inputs) == 1:
        # torch.cat([cls_token.expand(n, -1, -1), x], 1): the token before the input or after it
        fields = {"shape": learned[0].base, "dim": dim, "first": items[0] is learned[0]}
        return Emit("LearnedConcat", fields, tuple(inputs))
    raise UnsupportedError("concatenation with constant tensors other than one learned tensor")


def _matmul(call: OpCall) -> Emit:
    inputs = lives(call.args[:2])
    if len(inputs) != 2:
        raise UnsupportedError("a product with a constant matrix")
    return Emit("MatMul", {}, tuple(inputs))


def _sdpa(call: OpCall) -> Emit:
    q, k, v = call.args[:3]
    if call.arg(3, "attn_mask") is not None:
        raise UnsupportedError("an attention mask")
    fields: dict[str, Any] = {"is_causal": bool(call.arg(5, "is_causal", False))}
    scale = call.kwargs.get("scale")
    if scale is not None:
        fields["scale"] = float(scale)
    inputs = (q, k, v)
    if not all(isinstance(t, Live) for t in inputs):
        raise UnsupportedError("a query, key or value that does not depend on the input")
    return Emit("ScaledDotProductAttention", fields, inputs)


def _hardtanh(call: OpCall) -> Emit:
    low, high = float(call.arg(1, "min_val", -1.0)), float(call.arg(2, "max_val", 1.0))
    if (low, high) == (0.0, 6.0):
        return Emit("ReLU6", {}, (call.x,))
    return Emit("Hardtanh", {"min_val": low, "max_val": high}, (call.x,))


def _clamp(call: OpCall) -> Emit:
    low, high = call.arg(1, "min"), call.arg(2, "max")
    if low is None or high is None:
        op, bound = ("clamp_min", low) if high is None else ("clamp_max", high)
        return _arith(op, float(bound), call.x)
    return _hardtanh(OpCall("hardtanh", (call.x, low, high), {}, call.val, call.shape))


def _dropout(call: OpCall) -> Emit:
    return Emit("Dropout", {"p": float(call.arg(1, "p", 0.5))}, (call.x,))


def _expand(call: OpCall) -> Any:
    x = call.x
    if call.shape == x.shape:
        return x
    return Emit("Expand", {"size": _ints(call.arg(1, "size"))}, (x,))


OPS: dict[str, Handler] = {
    # activations
    "relu": _unary("ReLU"),
    "gelu": _unary("GELU", (1, "approximate", "approximate")),
    "silu": _unary("SiLU"),
    "sigmoid": _unary("Sigmoid"),
    "tanh": _unary("Tanh"),
    "hardswish": _unary("Hardswish"),
    "hardsigmoid": _unary("Hardsigmoid"),
    "mish": _unary("Mish"),
    "elu": _unary("ELU", (1, "alpha", "alpha")),
    "leaky_relu": _unary("LeakyReLU", (1, "negative_slope", "negative_slope")),
    "softplus": _unary("Softplus", (1, "beta", "beta"), (2, "threshold", "threshold")),
    "hardtanh": _hardtanh,
    "clamp": _clamp,
    "softmax": _unary("Softmax", (1, "dim", "dim")),
    "_softmax": _unary("Softmax", (1, "dim", "dim")),
    "log_softmax": _unary("LogSoftmax", (1, "dim", "dim")),
    "dropout": _dropout,
    "prelu": _prelu,
    # weights
    "conv1d": _conv(1),
    "conv2d": _conv(2),
    "conv3d": _conv(3),
    "conv_transpose1d": _conv(1, transposed=True),
    "conv_transpose2d": _conv(2, transposed=True),
    "conv_transpose3d": _conv(3, transposed=True),
    "linear": _linear,
    "batch_norm": lambda call: _batch_norm(call, 3, 7),
    "_native_batch_norm_legit_no_training": lambda call: _batch_norm(call, 3, 6),
    "layer_norm": _layer_norm,
    "group_norm": _group_norm,
    # pooling, padding, resampling
    "max_pool1d": _max_pool,
    "max_pool2d": _max_pool,
    "max_pool2d_with_indices": _max_pool,
    "max_pool3d": _max_pool,
    "avg_pool1d": _avg_pool,
    "avg_pool2d": _avg_pool,
    "avg_pool3d": _avg_pool,
    "adaptive_avg_pool1d": _adaptive("AdaptiveAvgPool"),
    "adaptive_avg_pool2d": _adaptive("AdaptiveAvgPool"),
    "adaptive_avg_pool3d": _adaptive("AdaptiveAvgPool"),
    "adaptive_max_pool1d": _adaptive("AdaptiveMaxPool"),
    "adaptive_max_pool2d": _adaptive("AdaptiveMaxPool"),
    "adaptive_max_pool3d": _adaptive("AdaptiveMaxPool"),
    "pad": _pad,
    "constant_pad_nd": _pad,
    "upsample_nearest2d": _upsample("nearest"),
    "upsample_bilinear2d": _upsample("bilinear"),
    "upsample_bicubic2d": _upsample("bicubic"),
    "pixel_shuffle": _unary("PixelShuffle", (1, "upscale_factor", "upscale_factor")),
    "pixel_unshuffle": _unary("PixelUnshuffle", (1, "downscale_factor", "downscale_factor")),
    "channel_shuffle": _unary("ChannelShuffle", (1, "groups", "groups")),
    # shapes
    "view": _view,
    "reshape": _view,
    "_unsafe_view": _view,
    "flatten": _flatten,
    "permute": _unary("Permute", (1, "dims", "dims")),
    "transpose": _unary("Transpose", (1, "dim0", "dim0"), (2, "dim1", "dim1")),
    "squeeze": _unary("Squeeze", (1, "dim", "dim")),
    "unsqueeze": _unary("Unsqueeze", (1, "dim", "dim")),
    "select": _unary("Select", (1, "dim", "dim"), (2, "index", "index")),
    "slice": _slice,
    "expand": _expand,
    "repeat": _unary("Repeat", (1, "repeats", "repeats")),
    "split": _pieces,
    "split_with_sizes": _pieces,
    "chunk": _pieces,
    "unbind": _pieces,
    "getitem": _getitem,
    "mean": _mean,
    "sum": _mean,
    "amax": _mean,
    # merges and arithmetic
    "add": _binary,
    "mul": _binary,
    "sub": _binary,
    "div": _binary,
    "cat": _cat,
    "matmul": _matmul,
    "bmm": _matmul,
    "scaled_dot_product_attention": _sdpa,
    "neg": _unary_arith("neg"),
    "abs": _unary_arith("abs"),
    "sqrt": _unary_arith("sqrt"),
    "rsqrt": _unary_arith("rsqrt"),
    "exp": _unary_arith("exp"),
    "log": _unary_arith("log"),
    "erf": _unary_arith("erf"),
    "pow": _unary_arith("pow"),
    "clamp_min": _unary_arith("clamp_min"),
    # the same values
    "clone": _same,
    "contiguous": _same,
    "alias": _same,
    "detach": _same,
    "_to_copy": _same,
    "to": _same,
    "type_as": _same,
    "lift_fresh_copy": _same,
}
