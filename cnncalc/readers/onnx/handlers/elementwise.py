"""Element-wise operators: activations, Softmax, Clip, PRelu, Dropout, the arithmetic of Add,
Sub, Mul, Div and Pow, and the functions of one tensor (Sqrt, Exp, Erf, ...) — none changes a
shape except by broadcasting."""

from __future__ import annotations

import math
from typing import Any

from cnncalc.layers.base import fmt_shape
from cnncalc.readers.onnx.context import Ctx, Output, Value, f32
from cnncalc.readers.onnx.handlers import patterns

# Element-wise operators with no arguments that matter: ONNX name -> torch.nn class.
PLAIN = {
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

# Element-wise operators with an argument, read by :func:`activation`.
WITH_ARGUMENT = ("LeakyRelu", "Elu", "Celu", "Gelu", "ThresholdedRelu", "HardSigmoid", "Dropout")


def plain(ctx: Ctx) -> Value:
    """spec Relu, Sigmoid, Tanh, HardSwish, Mish, Softplus, Softsign, Selu, Identity: element-wise,
    with no argument that changes a shape; the output shape is the input's."""
    return ctx.emit(PLAIN[ctx.op], {}, [ctx.dyn()])


def activation(ctx: Ctx) -> Value:
    """Element-wise operators with an argument, named as PyTorch names it."""
    x = ctx.dyn()
    a = ctx.attrs
    if ctx.op == "LeakyRelu":  # spec LeakyRelu
        return ctx.emit("LeakyReLU", {"negative_slope": f32(a.get("alpha", 0.01))}, [x])
    if ctx.op in ("Elu", "Celu"):  # spec Elu, Celu
        return ctx.emit(ctx.op.upper(), {"alpha": f32(a.get("alpha", 1.0))}, [x])
    if ctx.op == "Gelu":  # spec Gelu (opset 20)
        return ctx.emit("GELU", {"approximate": a.get("approximate", "none")}, [x])
    if ctx.op == "ThresholdedRelu":  # spec ThresholdedRelu: x if x > alpha, else 0
        return ctx.emit("Threshold", {"threshold": f32(a.get("alpha", 1.0)), "value": 0.0}, [x])
    if ctx.op == "HardSigmoid":
        # spec HardSigmoid: max(0, min(1, alpha·x + beta)); PyTorch's is alpha 1/6, beta 1/2
        # (what it exports); other values change the values, never the shape
        return ctx.emit("Hardsigmoid", {}, [x])
    return ctx.emit("Dropout", {"p": _dropout_ratio(ctx)}, [x])


def _dropout_ratio(ctx: Ctx) -> float:
    """spec Dropout: ratio is an attribute before opset 12, then optional input 1."""
    if ctx.opset < 12:
        return f32(ctx.attrs.get("ratio", 0.5))
    ratio = ctx.const(1, "ratio")
    return 0.5 if ratio is None else f32(float(ratio))


def softmax(ctx: Ctx) -> Value:
    """spec Softmax/LogSoftmax: axis defaults to -1 since opset 13, to 1 before (where the
    input was flattened to 2D around it; the output shape is the input's either way)."""
    x = ctx.dyn()
    axis = int(ctx.attrs.get("axis", -1 if ctx.opset >= 13 else 1))
    return ctx.emit(ctx.op, {"dim": axis}, [x])


def clip(ctx: Ctx) -> Value:
    """spec Clip: min and max are attributes before opset 11, optional inputs since. 0..6 is
    ReLU6, 0..∞ ReLU, anything else Hardtanh."""
    x = ctx.dyn()
    if ctx.opset < 11:
        low, high = ctx.attrs.get("min"), ctx.attrs.get("max")
    else:
        lo, hi = ctx.const(1, "min"), ctx.const(2, "max")
        low = None if lo is None else float(lo)
        high = None if hi is None else float(hi)
    # Clip-6's defaults are the float limits: the same as no bound
    low = None if low is None or low <= -3.4e38 else f32(low)
    high = None if high is None or high >= 3.4e38 else f32(high)
    if low == 0.0 and high == 6.0:
        return ctx.emit("ReLU6", {}, [x])
    if low == 0.0 and high is None:
        return ctx.emit("ReLU", {}, [x])
    if low is None and high is None:
        return ctx.emit("Identity", {}, [x])
    args: dict[str, Any] = {
        "min_val": -math.inf if low is None else low,
        "max_val": math.inf if high is None else high,
    }
    return ctx.emit("Hardtanh", args, [x])


def prelu(ctx: Ctx) -> Value:
    """spec PRelu: a slope broadcast to the input; PyTorch's PReLU has one or one per channel."""
    x = ctx.dyn()
    slope = ctx.need(1, "slope")
    count = int(slope.size)
    channel_shaped = count == 1 or (len(x.shape) >= 2 and count == x.shape[1] and slope.shape[0] == count)
    if not channel_shaped:
        raise ctx.error(f"PRelu slope of shape {fmt_shape(slope.shape)} is not one value or one per channel")
    return ctx.emit("PReLU", {"num_parameters": count}, [x])


# Element-wise functions of one tensor: ONNX name -> Arith op (and its constant, if any).
UNARY: dict[str, tuple[str, float | None]] = {
    "Neg": ("neg", None),
    "Abs": ("abs", None),
    "Sqrt": ("sqrt", None),
    "Exp": ("exp", None),
    "Log": ("log", None),
    "Erf": ("erf", None),
    "Reciprocal": ("reciprocal", None),
}


def unary(ctx: Ctx) -> Value:
    """spec Neg, Abs, Sqrt, Exp, Log, Erf, Reciprocal: element-wise, shape kept."""
    op, value = UNARY[ctx.op]
    return ctx.emit("Arith", {"op": op, "value": value}, [ctx.dyn()])


def power(ctx: Ctx) -> Value:
    """spec Pow with a one-element constant exponent: x ** c."""
    x = ctx.dyn()
    exponent = ctx.need(1, "exponent")
    if exponent.size != 1:
        raise ctx.error(f"Pow with an exponent of shape {fmt_shape(exponent.shape)}: only one value is read")
    return ctx.emit("Arith", {"op": "pow", "value": number(exponent)}, [x])


def arithmetic(ctx: Ctx) -> Value | Output:
    """spec Add/Sub/Mul/Div. Two computed operands merge (broadcast as PyTorch does, no
    parameters and no MACs). A Div by √2 that starts the exporter's GELU is that GELU. A
    one-element constant operand is element-wise arithmetic (Arith). A larger constant — a
    layer-scale gamma, a position embedding, the weight and bias torch's GroupNorm export
    applies after InstanceNormalization — is a stored tensor, read as LearnedAdd (Add, Sub) or
    LearnedMul (Mul, Div) with its elements as parameters: ONNX cannot tell a learnt
    nn.Parameter from a constant buffer, and a tensor stored in the file is counted. It must
    not change the computed operand's shape."""
    import numpy as np

    if ctx.op == "Div" and (gelu := patterns.erf_gelu(ctx)) is not None:
        return gelu
    dynamic = [t for t in ctx.node.input if t in ctx.values]
    if len(dynamic) == 2:
        return ctx.emit(ctx.op, {}, [ctx.dyn(0), ctx.dyn(1)])
    k = 0 if ctx.node.input[0] in ctx.values else 1
    x = ctx.dyn(k)
    other = ctx.need(1 - k, "other operand")
    try:
        out = tuple(np.broadcast_shapes(x.shape, other.shape))
    except ValueError:
        raise ctx.error(
            f"{ctx.op} of {fmt_shape(x.shape)} and a constant {fmt_shape(other.shape)} do not broadcast"
        ) from None
    if out != x.shape:
        raise ctx.error(
            f"{ctx.op} with a constant of shape {fmt_shape(other.shape)} turns {fmt_shape(x.shape)} "
            f"into {fmt_shape(out)}"
        )
    if other.size == 1:
        op = ctx.op.lower() if k == 0 or ctx.op in ("Add", "Mul") else "r" + ctx.op.lower()
        return ctx.emit("Arith", {"op": op, "value": number(other)}, [x])
    kind = "LearnedAdd" if ctx.op in ("Add", "Sub") else "LearnedMul"
    if k == 1 and ctx.op in ("Sub", "Div"):
        raise ctx.error(f"{ctx.op} of a constant tensor by a computed one is not read (only x {ctx.op} c)")
    return ctx.emit(kind, {"shape": [int(d) for d in other.shape]}, [x])


def number(value: Any) -> float:
    """A one-element constant as the decimal it was written as (float32 constants as written)."""
    import numpy as np

    scalar = value.reshape(-1)[0]
    return f32(scalar) if scalar.dtype == np.float32 else float(scalar)
