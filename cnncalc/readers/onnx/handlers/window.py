"""Sliding-window operators: Conv, ConvTranspose, MaxPool, AveragePool, LpPool and the global
pools, with ONNX's explicit and automatic padding mapped onto PyTorch's symmetric padding."""

from __future__ import annotations

import math
from typing import Any

from cnncalc.layers.base import Shape, fmt_shape
from cnncalc.readers.onnx.context import Ctx, Output, Value

# Pooling operators: ONNX name -> the torch.nn family (MaxPool2d, AvgPool2d, LPPool2d, ...).
POOLS = {"MaxPool": "MaxPool", "AveragePool": "AvgPool", "LpPool": "LPPool"}


def pads(
    ctx: Ctx, sizes: Shape, kernel: list[int], strides: list[int], dilations: list[int]
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
        given = ctx.ints("pads", 2 * n, 0)
        return given[:n], given[n:]
    if auto == "VALID":
        return [0] * n, [0] * n
    if auto not in ("SAME_UPPER", "SAME_LOWER"):
        raise ctx.error(f"{ctx.op} auto_pad {auto!r} is not NOTSET, SAME_UPPER, SAME_LOWER or VALID")
    begin, end = [], []
    for size, k, s, d in zip(sizes, kernel, strides, dilations):
        total = max((-(-size // s) - 1) * s + (k - 1) * d + 1 - size, 0)
        small, big = total // 2, total - total // 2
        begin.append(small if auto == "SAME_UPPER" else big)
        end.append(big if auto == "SAME_UPPER" else small)
    return begin, end


def pad_layer(ctx: Ctx, x: Value, begin: list[int], end: list[int], value: float = 0.0) -> Value:
    """A padding layer for the last ``len(begin)`` axes (F.pad order: last axis first)."""
    n = len(begin)
    flat = [v for i in reversed(range(n)) for v in (begin[i], end[i])]
    if value == 0.0:
        return ctx.emit(f"ZeroPad{n}d", {"padding": flat}, [x], ctx.sub_name("pad"))
    return ctx.emit(f"ConstantPad{n}d", {"padding": flat, "value": value}, [x], ctx.sub_name("pad"))


def conv(ctx: Ctx) -> Value:
    """spec Conv: W is (M, C/group, k1, ..., kn); B is (M)."""
    x = ctx.dyn()
    n = ctx.spatial(x.shape)
    w = ctx.need(1, "weight")
    if w.ndim != n + 2:
        raise ctx.error(f"Conv weight of shape {fmt_shape(w.shape)} on a {len(x.shape)}D input")
    kernel = [int(k) for k in w.shape[2:]]
    if "kernel_shape" in ctx.attrs and [int(k) for k in ctx.attrs["kernel_shape"]] != kernel:
        raise ctx.error(
            f"Conv kernel_shape {ctx.attrs['kernel_shape']} but the weight is {fmt_shape(w.shape)}"
        )
    group = int(ctx.attrs.get("group", 1))
    strides = ctx.ints("strides", n, 1)
    dilations = ctx.ints("dilations", n, 1)
    begin, end = pads(ctx, x.shape[2:], kernel, strides, dilations)
    bias = ctx.const(2, "bias")
    out_channels = int(w.shape[0])
    if bias is not None and bias.size != out_channels:
        raise ctx.error(f"Conv bias has {bias.size} values for {out_channels} output channels")
    padding = begin
    if begin != end:  # PyTorch pads both sides alike: asymmetric padding is a layer of its own
        x = pad_layer(ctx, x, begin, end)
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
    return ctx.emit(f"Conv{n}d", args, [x])


def conv_transpose(ctx: Ctx) -> Output:
    """spec ConvTranspose: W is (C, M/group, k1, ..., kn); output = s·(in - 1) + output_padding
    + (k - 1)·d + 1 - begin - end. With ``output_shape``, total padding = that expression for
    the wanted size, split as SAME_UPPER (begin = total/2) or else (end = total/2); auto_pad
    SAME wants output = in·s."""
    x = ctx.dyn()
    n = ctx.spatial(x.shape)
    w = ctx.need(1, "weight")
    if w.ndim != n + 2:
        raise ctx.error(f"ConvTranspose weight of shape {fmt_shape(w.shape)} on a {len(x.shape)}D input")
    kernel = [int(k) for k in w.shape[2:]]
    group = int(ctx.attrs.get("group", 1))
    strides = ctx.ints("strides", n, 1)
    dilations = ctx.ints("dilations", n, 1)
    out_pad = ctx.ints("output_padding", n, 0)
    auto = ctx.attrs.get("auto_pad", "NOTSET")
    wanted = [int(v) for v in ctx.attrs.get("output_shape", [])]
    if len(wanted) == n + 2:
        wanted = wanted[2:]
    if not wanted and auto in ("SAME_UPPER", "SAME_LOWER"):
        wanted = [size * s for size, s in zip(x.shape[2:], strides)]
    if wanted:
        if len(wanted) != n:
            raise ctx.error(f"ConvTranspose output_shape {wanted} must have {n} values")
        begin, end = [], []
        for size, k, s, d, op, o in zip(x.shape[2:], kernel, strides, dilations, out_pad, wanted):
            total = s * (size - 1) + op + (k - 1) * d + 1 - o
            if auto == "SAME_UPPER":
                begin.append(total // 2)
                end.append(total - total // 2)
            else:
                begin.append(total - total // 2)
                end.append(total // 2)
    elif auto in ("NOTSET", "VALID"):
        begin, end = pads(ctx, x.shape[2:], kernel, strides, dilations)
    else:
        raise ctx.error(f"ConvTranspose auto_pad {auto!r} is not NOTSET, SAME_UPPER, SAME_LOWER or VALID")
    bias = ctx.const(2, "bias")
    out_channels = int(w.shape[1]) * group
    if bias is not None and bias.size != out_channels:
        raise ctx.error(f"ConvTranspose bias has {bias.size} values for {out_channels} output channels")
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
        return Output(ctx.emit(f"ConvTranspose{n}d", args, [x]), checked)
    y = ctx.emit(f"ConvTranspose{n}d", args, [x], ctx.sub_name("convtranspose"))
    flat = [v for i in reversed(range(n)) for v in (after[0][i], after[1][i])]
    return Output(ctx.emit(f"ZeroPad{n}d", {"padding": flat}, [y]), checked)


def pool(ctx: Ctx) -> Output:
    """spec MaxPool/AveragePool/LpPool: output = floor or ceil((in + begin + end - d·(k-1) - 1)
    / s) + 1, and in ceil mode a window that would start in the end padding is dropped.
    ONNX's stride defaults to 1 (PyTorch's to the kernel), so it is always written out."""
    x = ctx.dyn()
    n = ctx.spatial(x.shape)
    if "kernel_shape" not in ctx.attrs:
        raise ctx.error(f"{ctx.op} has no kernel_shape")
    kernel = ctx.ints("kernel_shape", n, 1)
    strides = ctx.ints("strides", n, 1)
    dilations = ctx.ints("dilations", n, 1)
    begin, end = pads(ctx, x.shape[2:], kernel, strides, dilations)
    sizes = x.shape[2:]
    # with auto_pad, the spec's output size is floor mode's with those pads
    ceil = bool(ctx.attrs.get("ceil_mode", 0)) and ctx.attrs.get("auto_pad", "NOTSET") == "NOTSET"
    kind = POOLS[ctx.op]
    if kind != "MaxPool" and any(d != 1 for d in dilations):
        raise ctx.error(f"{ctx.op} dilations {dilations}: PyTorch's {kind} has no dilation")
    want = tuple(
        pooled(size, k, s, d, b, e, ceil)
        for size, k, s, d, b, e in zip(sizes, kernel, strides, dilations, begin, end)
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
        for o, s, d, k, size, b in zip(want, strides, dilations, kernel, sizes, begin)
    ]
    plans = [(half, mode) for mode in (ceil, False)] + [(none, mode) for mode in (ceil, False)]
    for inside, mode, ends in [(i, m, end) for i, m in plans] + [(none, False, fitted)]:
        before = [b - i for b, i in zip(begin, inside)]
        after = [e - i for e, i in zip(ends, inside)]
        padded = [size + b + a for size, b, a in zip(sizes, before, after)]
        if kind == "AvgPool" and n == 3 and any(p < k for p, k in zip(padded, kernel)):
            continue  # Pool.h pool3d_shape_check: AvgPool3d's input must hold the kernel
        by_torch = tuple(
            pooled(size, k, s, d, i, i, mode)
            for size, k, s, d, i in zip(padded, kernel, strides, dilations, inside)
        )
        if by_torch == want:
            ceil = mode
            break
    if any(before) or any(after):
        x = pad_layer(ctx, x, before, after, -math.inf if kind == "MaxPool" else 0.0)
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
    y = ctx.emit(f"{kind}{n}d", args, [x])
    if y.shape[2:] != want:
        raise ctx.error(
            f"{ctx.op} gives spatial size {fmt_shape(want)} by the ONNX spec, but no PyTorch pooling "
            f"reproduces it (got {fmt_shape(y.shape[2:])})"
        )
    # onnx's shape inference (1.23) leaves out the spec's rule that drops a ceil-mode window
    # starting in the end padding, so it is not the judge of ceil mode here
    return Output(y, checked=not ctx.attrs.get("ceil_mode", 0))


def global_pool(ctx: Ctx) -> Value:
    """spec GlobalAveragePool/GlobalMaxPool: one value per channel, as adaptive pooling to 1."""
    x = ctx.dyn()
    n = ctx.spatial(x.shape)
    kind = "AdaptiveAvgPool" if ctx.op == "GlobalAveragePool" else "AdaptiveMaxPool"
    return ctx.emit(f"{kind}{n}d", {"output_size": 1}, [x])


def pooled(size: int, k: int, s: int, d: int, begin: int, end: int, ceil: bool) -> int:
    """spec MaxPool, explicit padding: floor or ceil((in + begin + end - d·(k-1) - 1) / s) + 1;
    "sliding windows that would start in the right padded region are ignored"."""
    span = size + begin + end - d * (k - 1) - 1
    out = (-(-span // s) if ceil else span // s) + 1
    if ceil and (out - 1) * s >= size + begin:
        out -= 1
    return out
