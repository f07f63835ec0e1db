"""Operators that keep part of a computed tensor: Slice, Split and Gather with constant indices,
as torch.narrow (Narrow), slicing with a step (Slice) and indexing (Select)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cnncalc.layers.base import fmt_shape
from cnncalc.readers.onnx.context import Ctx, Output, Value

if TYPE_CHECKING:
    from cnncalc.readers.onnx.context import Array


def _axis(ctx: Ctx, axis: int, rank: int) -> int:
    """An axis attribute or value, negative counted from the end, refused when out of range."""
    if not -rank <= axis < rank:
        raise ctx.error(f"{ctx.op} axis {axis} is out of range for a {rank}D input")
    return axis % rank


def _int_list(ctx: Ctx, k: int, attr: str, old: bool) -> list[int] | None:
    """Integers from constant input ``k``, or in the older opsets (``old``) from the attribute
    ``attr``; None when not given."""
    if old:
        return [int(v) for v in ctx.attrs[attr]] if attr in ctx.attrs else None
    if k < len(ctx.node.input) and ctx.node.input[k]:
        return [int(v) for v in ctx.need(k, attr).reshape(-1)]
    return None


def slice_(ctx: Ctx) -> Value:
    """spec Slice: starts, ends, axes and steps (inputs since opset 10, attributes before); a
    negative start or end counts from the end, both are clamped to the axis as numpy's slices
    are (Python's ``slice.indices``). Each sliced axis is one layer: Narrow for step 1, Slice
    for a larger step; a negative step reverses the axis, which torch's slicing cannot do."""
    x = ctx.dyn()
    rank = len(x.shape)
    old = ctx.opset < 10
    starts = _int_list(ctx, 1, "starts", old)
    ends = _int_list(ctx, 2, "ends", old)
    if starts is None or ends is None or len(starts) != len(ends):
        raise ctx.error("Slice needs constant starts and ends of the same length")
    axes = _int_list(ctx, 3, "axes", old) or list(range(len(starts)))
    steps = (None if old else _int_list(ctx, 4, "steps", old)) or [1] * len(starts)
    if not len(axes) == len(steps) == len(starts):
        raise ctx.error(f"Slice has {len(starts)} starts, {len(axes)} axes and {len(steps)} steps")
    cuts = []
    for axis, start, end, step in zip(axes, starts, ends, steps):
        a = _axis(ctx, axis, rank)
        if step <= 0:
            raise ctx.error(f"Slice with step {step} on axis {a}: only positive steps are read")
        begin, stop, _ = slice(start, end, step).indices(x.shape[a])
        length = len(range(begin, stop, step))
        if (begin, length, step) != (0, x.shape[a], 1):  # an axis kept whole needs no layer
            cuts.append((a, begin, max(stop, begin), step, length))
    if not cuts:
        return ctx.emit("Identity", {}, [x])
    for i, (a, begin, stop, step, length) in enumerate(cuts):
        name = ctx.name if i == len(cuts) - 1 else ctx.sub_name(f"dim{a}")
        if step == 1:
            x = ctx.emit("Narrow", {"dim": a, "start": begin, "length": length}, [x], name)
        else:
            x = ctx.emit("Slice", {"dim": a, "start": begin, "end": stop, "step": step}, [x], name)
    return x


def split(ctx: Ctx) -> Output:
    """spec Split: ``split`` sizes (input 1 since opset 13, an attribute before) or equal parts,
    one per output (opset 18's num_outputs: ceil-sized parts, the last smaller). Each output
    that something reads is a Narrow of its part."""
    x = ctx.dyn()
    axis = _axis(ctx, int(ctx.attrs.get("axis", 0)), len(x.shape))
    size = x.shape[axis]
    count = len(ctx.node.output)
    sizes = _int_list(ctx, 1, "split", ctx.opset < 13)
    if sizes is None:
        parts = int(ctx.attrs.get("num_outputs", count))
        piece = -(-size // parts) if "num_outputs" in ctx.attrs else size // parts
        if "num_outputs" not in ctx.attrs and size % parts:
            raise ctx.error(f"Split of axis {axis} (size {size}) into {parts} equal parts is impossible")
        sizes = [min(piece, max(size - piece * i, 0)) for i in range(parts)]
    if len(sizes) != count or sum(sizes) != size or any(s < 0 for s in sizes):
        raise ctx.error(f"Split sizes {sizes} do not divide axis {axis} of size {size} into {count} outputs")
    values: list[tuple[str, Value]] = []
    start = 0
    for k, (tensor, length) in enumerate(zip(ctx.node.output, sizes)):
        used = ctx.model.consumers.get(tensor) or tensor in ctx.model.outputs
        if tensor and (k == 0 or used):
            name = ctx.name if k == 0 else ctx.layers.unique(f"{ctx.name}_{k}")
            args = {"dim": axis, "start": start, "length": length}
            values.append((tensor, ctx.emit("Narrow", args, [x], name)))
        start += length
    return Output(values[0][1], more=tuple(values[1:]))


def gather(ctx: Ctx) -> Value:
    """spec Gather with constant indices on a computed tensor: one index (a 0-D indices
    tensor) is Select, which drops the axis (``x[:, 0]``); a run of consecutive indices is
    Narrow (``x[:, 2:5]``); other index sets are refused."""
    x = ctx.dyn()
    rank = len(x.shape)
    axis = _axis(ctx, int(ctx.attrs.get("axis", 0)), rank)
    indices: Array = ctx.need(1, "indices")
    size = x.shape[axis]
    flat = [int(i) for i in indices.reshape(-1)]
    if any(not -size <= i < size for i in flat):
        raise ctx.error(f"Gather indices {flat[:8]} are out of range for axis {axis} of size {size}")
    flat = [i % size for i in flat]
    if indices.ndim == 0:
        return ctx.emit("Select", {"dim": axis, "index": flat[0]}, [x])
    if indices.ndim == 1 and flat and flat == list(range(flat[0], flat[0] + len(flat))):
        return ctx.emit("Narrow", {"dim": axis, "start": flat[0], "length": len(flat)}, [x])
    raise ctx.error(
        f"Gather of indices of shape {fmt_shape(indices.shape)} on axis {axis}: only one index or a run of "
        f"consecutive indices is read"
    )
