"""Reductions over axes: ReduceMean, ReduceSum and ReduceMax as torch.mean, torch.sum and
torch.amax over the same dims, and ReduceL2 (torch.linalg.vector_norm, which F.normalize
exports) as the square root of a Sum of squares."""

from __future__ import annotations

from cnncalc.readers.onnx.context import Ctx, Value

# ONNX name -> cnncalc kind (torch's function)
REDUCTIONS = {"ReduceMean": "Mean", "ReduceSum": "Sum", "ReduceMax": "Amax", "ReduceL2": "Sum"}


def reduce(ctx: Ctx) -> Value:
    """spec ReduceMean/ReduceSum/ReduceMax: ``axes`` is an attribute, or input 1 for ReduceSum
    since opset 13 and for all three since opset 18; keepdims defaults to 1. No axes reduces
    every axis, unless noop_with_empty_axes=1 (opset 13 on), which makes it an identity."""
    x = ctx.dyn()
    rank = len(x.shape)
    from_input = ctx.opset >= 18 or (ctx.op == "ReduceSum" and ctx.opset >= 13)
    given = ctx.const(1, "axes") if from_input else None
    raw = [int(a) for a in (given.reshape(-1) if given is not None else ctx.attrs.get("axes", []))]
    if any(not -rank <= a < rank for a in raw):
        raise ctx.error(f"{ctx.op} axes {raw} are out of range for a {rank}D input")
    keepdim = bool(ctx.attrs.get("keepdims", 1))
    if not raw and ctx.attrs.get("noop_with_empty_axes", 0):
        return ctx.emit("Identity", {}, [x])
    dim: int | list[int] | None = None
    if raw:
        axes = sorted({a % rank for a in raw})
        dim = axes[0] if len(axes) == 1 else axes
    args = {"dim": dim, "keepdim": keepdim}
    if ctx.op != "ReduceL2":
        return ctx.emit(REDUCTIONS[ctx.op], args, [x])
    # spec ReduceL2: sqrt(sum(x²)) over the axes
    squares = ctx.emit("Arith", {"op": "square"}, [x], ctx.sub_name("square"))
    total = ctx.emit("Sum", args, [squares], ctx.sub_name("sum"))
    return ctx.emit("Arith", {"op": "sqrt"}, [total])
