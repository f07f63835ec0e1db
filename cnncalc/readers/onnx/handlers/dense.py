"""Operators with learnt weights other than the windows: Gemm and MatMul as Linear, and the
normalisations (BatchNormalization, InstanceNormalization, LayerNormalization, LRN)."""

from __future__ import annotations

import math

from cnncalc.layers.base import fmt_shape
from cnncalc.readers.onnx.context import Ctx, Output, Value, f32


def gemm(ctx: Ctx) -> Value:
    """spec Gemm: Y = alpha·A'·B' + beta·C, A' (M, K), B' (K, N): Linear(K, N) when B (and C,
    one value per output) are constants and A is not transposed."""
    x = ctx.dyn()
    if len(x.shape) != 2:
        raise ctx.error(f"Gemm multiplies matrices; its input is {len(x.shape)}D {fmt_shape(x.shape)}")
    if ctx.attrs.get("transA", 0):
        raise ctx.error("Gemm with transA=1 transposes the input, which Linear cannot express")
    b = ctx.need(1, "weight B")
    if b.ndim != 2:
        raise ctx.error(f"Gemm weight B must be 2D, got {fmt_shape(b.shape)}")
    rows, cols = int(b.shape[0]), int(b.shape[1])
    k, m = (cols, rows) if ctx.attrs.get("transB", 0) else (rows, cols)
    c = ctx.const(2, "bias C")
    bias = c is not None and float(ctx.attrs.get("beta", 1.0)) != 0.0
    if c is not None and bias and tuple(c.shape) not in ((m,), (1, m)):
        raise ctx.error(f"Gemm bias C of shape {fmt_shape(c.shape)} is not one value per output ({m})")
    return ctx.emit("Linear", {"in_features": k, "out_features": m, "bias": bias}, [x])


def matmul(ctx: Ctx) -> Output:
    """spec MatMul (numpy.matmul): of two computed tensors, MatMul (torch.matmul); with a
    constant 2D right operand, Linear without bias, or with the bias of an Add that is its only
    reader (how PyTorch exports Linear on 3D input)."""
    if ctx.node.input[0] in ctx.consts:
        raise ctx.error("MatMul with a constant left operand has no Linear equivalent")
    x = ctx.dyn()
    if ctx.node.input[1] in ctx.values:  # attention's q·kᵀ and attn·v: torch.matmul
        return Output(ctx.emit("MatMul", {}, [x, ctx.dyn(1)]))
    w = ctx.need(1, "weight")
    if w.ndim != 2:
        raise ctx.error(f"MatMul weight must be 2D for a Linear layer, got {fmt_shape(w.shape)}")
    k, m = int(w.shape[0]), int(w.shape[1])
    out = ctx.node.output[0]
    reader = ctx.sole_reader(out)
    add = None if reader is None else ctx.model.nodes[reader]
    bias = False
    if add is not None and add.op_type == "Add" and len(add.input) == 2:
        other = add.input[1] if add.input[0] == out else add.input[0]
        value = ctx.consts.get(other)
        bias = value is not None and tuple(value.shape) == (m,)
    y = ctx.emit("Linear", {"in_features": k, "out_features": m, "bias": bias}, [x])
    return Output(y, fuses=(reader,) if bias and reader is not None else ())


def einsum(ctx: Ctx) -> Value:
    """spec Einsum of two computed tensors in the forms attention writes as a batched matrix
    product: ``…ik,…kj->…ij`` (MatMul) and ``…ik,…jk->…ij`` (MatMul with the second operand's
    last two axes transposed, q·kᵀ); the leading letters the same in all three. Other
    equations are refused."""
    equation = str(ctx.attrs.get("equation", "")).replace(" ", "")
    terms = equation.replace("->", ",").split(",")
    if len(ctx.node.input) != 2 or len(terms) != 3 or "..." in equation:
        raise ctx.error(f"Einsum {equation!r}: only two-operand batched matrix products are read")
    a, b, out = terms
    batch = a[:-2]
    ok = len(a) == len(b) == len(out) >= 2 and b[:-2] == batch and out[:-2] == batch
    i, k = (a[-2], a[-1]) if ok else ("", "")
    if ok and b[-2:] == k + out[-1] and out[-2] == i:
        return ctx.emit("MatMul", {}, [ctx.dyn(0), ctx.dyn(1)])
    if ok and b[-2:] == out[-1] + k and out[-2] == i:
        y = ctx.dyn(1)
        rank = len(y.shape)
        flipped = ctx.emit("Transpose", {"dim0": rank - 2, "dim1": rank - 1}, [y], ctx.sub_name("transpose"))
        return ctx.emit("MatMul", {}, [ctx.dyn(0), flipped])
    raise ctx.error(f"Einsum {equation!r}: only two-operand batched matrix products are read")


def batch_norm(ctx: Ctx) -> Value:
    """spec BatchNormalization: scale and B are the affine parameters (PyTorch's weight and
    bias); input_mean and input_var are running statistics, buffers in PyTorch, so they are
    not counted. ONNX's momentum weighs the old statistic, PyTorch's the new one."""
    x = ctx.dyn()
    dims = {2: 1, 3: 1, 4: 2, 5: 3}.get(len(x.shape))
    if dims is None:
        raise ctx.error(f"BatchNormalization on a {len(x.shape)}D input: BatchNorm1d/2d/3d take 2D to 5D")
    scale, bias = ctx.need(1, "scale"), ctx.need(2, "bias B")
    for k, what in ((3, "mean"), (4, "var")):
        ctx.need(k, f"running {what}")
    channels = x.shape[1]
    for value, what in ((scale, "scale"), (bias, "bias B")):
        if value.size != channels:
            raise ctx.error(f"BatchNormalization {what} has {value.size} values for {channels} channels")
    momentum = float(f"{1 - f32(ctx.attrs.get('momentum', 0.9)):.7g}")
    args = {"num_features": channels, "eps": f32(ctx.attrs.get("epsilon", 1e-5)), "momentum": momentum}
    return ctx.emit(f"BatchNorm{dims}d", args, [x])


def instance_norm(ctx: Ctx) -> Value:
    """spec InstanceNormalization: per-channel scale and B, PyTorch's affine=True."""
    x = ctx.dyn()
    n = ctx.spatial(x.shape)
    channels = x.shape[1]
    for k, what in ((1, "scale"), (2, "bias B")):
        if ctx.need(k, what).size != channels:
            raise ctx.error(f"InstanceNormalization {what} does not have {channels} values")
    args = {"num_features": channels, "eps": f32(ctx.attrs.get("epsilon", 1e-5)), "affine": True}
    return ctx.emit(f"InstanceNorm{n}d", args, [x])


def layer_norm(ctx: Ctx) -> Value:
    """spec LayerNormalization (opset 17): normalises the axes from ``axis`` on."""
    x = ctx.dyn()
    axis = int(ctx.attrs.get("axis", -1))
    if not -len(x.shape) <= axis < len(x.shape):
        raise ctx.error(f"LayerNormalization axis {axis} is out of range for {fmt_shape(x.shape)}")
    normalized = list(x.shape[axis:])
    scale, bias = ctx.need(1, "scale"), ctx.const(2, "bias B")
    for value, what in ((scale, "scale"), (bias, "bias B")):
        if value is not None and value.size != math.prod(normalized):
            raise ctx.error(f"LayerNormalization {what} of shape {fmt_shape(value.shape)} is broadcast")
    args = {
        "normalized_shape": normalized,
        "eps": f32(ctx.attrs.get("epsilon", 1e-5)),
        "bias": bias is not None,
    }
    return ctx.emit("LayerNorm", args, [x])


def lrn(ctx: Ctx) -> Value:
    """spec LRN: the same formula as PyTorch's LocalResponseNorm (alpha divided by size)."""
    x = ctx.dyn()
    if "size" not in ctx.attrs:
        raise ctx.error("LRN has no size")
    args = {
        "size": int(ctx.attrs["size"]),
        "alpha": f32(ctx.attrs.get("alpha", 1e-4)),
        "beta": f32(ctx.attrs.get("beta", 0.75)),
        "k": f32(ctx.attrs.get("bias", 1.0)),
    }
    return ctx.emit("LocalResponseNorm", args, [x])
