"""Operators that move elements around: Flatten, Reshape, Squeeze and Unsqueeze (as Flatten and
Unflatten layers), Transpose (Permute), Expand, Concat, Pad, Resize/Upsample, DepthToSpace and
SpaceToDepth."""

from __future__ import annotations

import math
from typing import Any

from cnncalc.layers.base import Shape, fmt_shape
from cnncalc.readers.onnx.context import Ctx, Value, f32


def flatten(ctx: Ctx) -> Value:
    """spec Flatten: (d0·…·d(axis-1), d(axis)·…·dn), always 2D."""
    x = ctx.dyn()
    rank = len(x.shape)
    axis = int(ctx.attrs.get("axis", 1))
    if not -rank <= axis <= rank:
        raise ctx.error(f"Flatten axis {axis} is out of range for a {rank}D input")
    if axis < 0:  # spec Flatten: accepted range [-r, r], negative counts from the back
        axis += rank
    return reshape_to(ctx, x, (math.prod(x.shape[:axis]), math.prod(x.shape[axis:])))


def reshape(ctx: Ctx) -> Value:
    """spec Reshape: 0 copies the input's size at that index (unless allowzero=1), one -1 is
    inferred from the rest."""
    x = ctx.dyn()
    shape = ctx.const(1, "shape") if ctx.opset >= 5 else None
    raw = [int(v) for v in (shape.reshape(-1) if shape is not None else ctx.attrs.get("shape", []))]
    if shape is None and "shape" not in ctx.attrs:
        raise ctx.error("Reshape needs a constant shape")
    allowzero = bool(ctx.attrs.get("allowzero", 0))
    target = []
    for i, value in enumerate(raw):
        v = value
        if v == 0 and not allowzero:
            if i >= len(x.shape):
                raise ctx.error(f"Reshape shape {raw} copies axis {i}, which a {len(x.shape)}D input lacks")
            v = x.shape[i]
        target.append(v)
    if target.count(-1) > 1 or any(v < -1 for v in target):
        raise ctx.error(f"Reshape shape {raw} is invalid (at most one -1, no other negatives)")
    if -1 in target:
        known = math.prod(v for v in target if v != -1)
        total = math.prod(x.shape)
        if known == 0 or total % known:
            raise ctx.error(f"Reshape of {fmt_shape(x.shape)} to {raw}: the -1 cannot be inferred")
        target[target.index(-1)] = total // known
    return reshape_to(ctx, x, tuple(target))


def squeeze(ctx: Ctx) -> Value:
    """spec Squeeze/Unsqueeze: axes from the attribute (before opset 13) or input 1."""
    x = ctx.dyn()
    axes_value = ctx.const(1, "axes") if ctx.opset >= 13 else None
    axes = [int(a) for a in (axes_value.reshape(-1) if axes_value is not None else ctx.attrs.get("axes", []))]
    if ctx.op == "Squeeze":
        drop = {a % len(x.shape) for a in axes} if axes else {i for i, d in enumerate(x.shape) if d == 1}
        if any(x.shape[a] != 1 for a in drop):
            raise ctx.error(f"Squeeze axes {axes} of {fmt_shape(x.shape)} are not all of size 1")
        return reshape_to(ctx, x, tuple(d for i, d in enumerate(x.shape) if i not in drop))
    rank = len(x.shape) + len(axes)
    inserted = {a % rank for a in axes}
    rest = iter(x.shape)
    return reshape_to(ctx, x, tuple(1 if i in inserted else next(rest) for i in range(rank)))


def transpose(ctx: Ctx) -> Value:
    """spec Transpose (perm defaults to reversing the axes): torch.permute. A permutation that
    moves only axes of size 1 changes no element's order, so it is read as the reshape it is."""
    x = ctx.dyn()
    rank = len(x.shape)
    perm = [int(p) for p in ctx.attrs.get("perm", list(reversed(range(rank))))]
    if sorted(perm) != list(range(rank)):
        raise ctx.error(f"Transpose perm {perm} is not a permutation of {rank} axes")
    moved = [p for p in perm if x.shape[p] != 1]
    if moved == sorted(moved):
        return reshape_to(ctx, x, tuple(x.shape[p] for p in perm))
    return ctx.emit("Permute", {"dims": perm}, [x])


def expand(ctx: Ctx) -> Value:
    """spec Expand: the input broadcast with a constant shape, both ways (numpy's rule, so a
    1 in the shape keeps the input's size): torch.expand to the broadcast shape."""
    import numpy as np

    x = ctx.dyn()
    shape = [int(v) for v in ctx.need(1, "shape").reshape(-1)]
    try:
        out = tuple(int(d) for d in np.broadcast_shapes(x.shape, tuple(shape)))
    except ValueError:
        raise ctx.error(f"Expand of {fmt_shape(x.shape)} to {shape}: the shapes do not broadcast") from None
    if out == x.shape:
        return ctx.emit("Identity", {}, [x])
    return ctx.emit("Expand", {"size": list(out)}, [x])


def reshape_to(ctx: Ctx, x: Value, target: Shape) -> Value:
    """Any reshape as Flatten and/or Unflatten of the axes that change (row-major order, as
    ONNX Reshape and torch.reshape both keep)."""
    if math.prod(x.shape) != math.prod(target):
        raise ctx.error(
            f"{ctx.op} of {fmt_shape(x.shape)} ({math.prod(x.shape)} elements) to {fmt_shape(target)} "
            f"is impossible"
        )
    if not target or not x.shape:
        raise ctx.error(f"{ctx.op} from {fmt_shape(x.shape)} to {fmt_shape(target)}: scalars are not read")
    if x.shape == target:
        return ctx.emit("Identity", {}, [x])
    steps = reshape_steps(x.shape, target)
    for i, (kind, args) in enumerate(steps):
        name = ctx.name if i == len(steps) - 1 else ctx.sub_name(kind.lower())
        x = ctx.emit(kind, args, [x], name)
    return x


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


def reshape_steps(x: Shape, target: Shape) -> list[tuple[str, dict[str, Any]]]:
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


def concat(ctx: Ctx) -> Value:
    """spec Concat. Computed inputs are one Concat; a constant before them (a class token,
    torchvision's ViT: ``torch.cat([class_token.expand(n, -1, -1), x], dim=1)``) is a stored
    tensor concatenated in front, LearnedConcat, its elements counted as parameters."""
    names = list(ctx.node.input)
    axis = int(ctx.attrs.get("axis", 1))
    if names and names[0] in ctx.consts and all(t in ctx.values for t in names[1:]):
        token = ctx.consts[names[0]]
        rest = [ctx.dyn(k) for k in range(1, len(names))]
        x = rest[0] if len(rest) == 1 else ctx.emit("Concat", {"dim": axis}, rest, ctx.sub_name("concat"))
        return ctx.emit("LearnedConcat", {"shape": [int(d) for d in token.shape], "dim": axis}, [x])
    inputs = [ctx.dyn(k) for k in range(len(names))]
    return ctx.emit("Concat", {"dim": axis}, inputs)


def pad(ctx: Ctx) -> Value:
    """spec Pad: pads = [x1_begin, x2_begin, ..., x1_end, x2_end] over all axes (or over
    ``axes``, opset 18); modes constant, reflect, edge and wrap are PyTorch's constant,
    reflect, replicate and circular padding. Negative pads crop."""
    x = ctx.dyn()
    rank = len(x.shape)
    if ctx.opset < 11:
        pads = [int(v) for v in ctx.attrs.get("pads", [])]
        value = f32(ctx.attrs.get("value", 0.0))
    else:
        pads = [int(v) for v in ctx.need(1, "pads").reshape(-1)]
        fill = ctx.const(2, "constant_value")
        value = 0.0 if fill is None or not fill.size else f32(float(fill.reshape(-1)[0]))
    axes_value = ctx.const(3, "axes") if ctx.opset >= 18 else None
    axes = [int(a) % rank for a in axes_value.reshape(-1)] if axes_value is not None else list(range(rank))
    if len(pads) != 2 * len(axes):
        raise ctx.error(f"Pad has {len(pads)} pads for {len(axes)} axes")
    begin, end = [0] * rank, [0] * rank
    for i, a in enumerate(axes):
        begin[a], end[a] = pads[i], pads[i + len(axes)]
    touched = [a for a in range(rank) if begin[a] or end[a]]
    if not touched:
        return ctx.emit("Identity", {}, [x])
    mode = ctx.attrs.get("mode", "constant")
    kind = {
        "constant": "ConstantPad",
        "reflect": "ReflectionPad",
        "edge": "ReplicationPad",
        "wrap": "CircularPad",
    }.get(mode)
    if kind is None:
        raise ctx.error(f"Pad mode {mode!r} is not constant, reflect, edge or wrap")
    # PyTorch's padding layers pad the last 1 to 3 axes; non-constant modes pad the spatial ones
    n = max(rank - touched[0], 1 if mode == "constant" else rank - 2, 1)
    if n > 3:
        raise ctx.error(
            f"Pad of axes {touched} of a {rank}D input: PyTorch's padding layers pad at most the last 3"
        )
    if kind == "ConstantPad" and value == 0.0:
        kind = "ZeroPad"
    flat = [v for a in reversed(range(rank - n, rank)) for v in (begin[a], end[a])]
    args: dict[str, Any] = {"padding": flat}
    if kind == "ConstantPad":
        args["value"] = value
    return ctx.emit(f"{kind}{n}d", args, [x])


def resize(ctx: Ctx) -> Value:
    """spec Resize (and the older Upsample): output = floor(in · scale), or ``sizes``; modes
    nearest, linear and cubic as torch.nn.Upsample's nearest, (bi/tri)linear and bicubic.

    The output shapes are exact. The receptive-field taps are PyTorch's: ONNX's other
    coordinate transformations (e.g. linear with asymmetric) shift them slightly.
    """
    import numpy as np

    x = ctx.dyn()
    rank = len(x.shape)
    if rank not in (3, 4, 5):
        raise ctx.error(f"{ctx.op} of a {rank}D input: cnncalc resizes 3D to 5D tensors")
    if ctx.op == "Upsample":
        scales = ctx.const(1, "scales") if ctx.opset >= 9 else np.array(ctx.attrs.get("scales", []))
        sizes = None
    elif ctx.opset < 11:
        scales, sizes = ctx.const(1, "scales"), None
    else:
        scales, sizes = ctx.const(2, "scales"), ctx.const(3, "sizes")
    ctm = ctx.attrs.get("coordinate_transformation_mode", "half_pixel" if ctx.opset >= 11 else "asymmetric")
    if ctm == "tf_crop_and_resize":
        raise ctx.error(f"{ctx.op} with coordinate_transformation_mode tf_crop_and_resize is not supported")
    if ctx.attrs.get("keep_aspect_ratio_policy", "stretch") != "stretch":
        raise ctx.error(f"{ctx.op} keep_aspect_ratio_policy other than stretch is not supported")
    axes = [int(a) % rank for a in ctx.attrs.get("axes", range(rank))]
    args: dict[str, Any] = {}
    if sizes is not None and sizes.size:
        full = list(x.shape)
        for a, v in zip(axes, sizes.reshape(-1)):
            full[a] = int(v)
        if full[:2] != list(x.shape[:2]):
            raise ctx.error(f"{ctx.op} to {fmt_shape(tuple(full))} resizes the batch or channel axis")
        args["size"] = full[2:]
    elif scales is not None and scales.size:
        factors = [1.0] * rank
        for a, v in zip(axes, scales.reshape(-1)):
            factors[a] = f32(float(v))
        if factors[:2] != [1.0, 1.0]:
            raise ctx.error(f"{ctx.op} scales {factors} resize the batch or channel axis")
        args["scale_factor"] = factors[2:]
    else:
        raise ctx.error(f"{ctx.op} needs constant scales or sizes")
    mode = ctx.attrs.get("mode", "nearest")
    if mode == "nearest":
        args["mode"] = "nearest"
    elif mode in ("linear", "bilinear", "trilinear"):
        args["mode"] = {3: "linear", 4: "bilinear", 5: "trilinear"}[rank]
        args["align_corners"] = ctm == "align_corners"
    elif mode in ("cubic", "bicubic") and rank == 4:
        args["mode"] = "bicubic"
        args["align_corners"] = ctm == "align_corners"
    else:
        raise ctx.error(f"{ctx.op} mode {mode!r} on a {rank}D input has no torch.nn.Upsample mode")
    return ctx.emit("Upsample", args, [x])


def depth_space(ctx: Ctx) -> Value:
    """spec DepthToSpace/SpaceToDepth: PyTorch's PixelShuffle/PixelUnshuffle (ONNX's DCR mode
    orders the channels differently; the shape is the same)."""
    x = ctx.dyn()
    if len(x.shape) != 4:
        raise ctx.error(f"{ctx.op} needs a 4D input, got {fmt_shape(x.shape)}")
    size = int(ctx.attrs.get("blocksize", 0))
    if ctx.op == "DepthToSpace":
        return ctx.emit("PixelShuffle", {"upscale_factor": size}, [x])
    return ctx.emit("PixelUnshuffle", {"downscale_factor": size}, [x])
