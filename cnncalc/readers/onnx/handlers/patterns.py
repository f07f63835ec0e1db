"""Node patterns that PyTorch's exporter writes for one module: read as that module when every
node and constant of the pattern is there, and as the separate operators otherwise."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from cnncalc.readers.onnx.context import Ctx, Output

if TYPE_CHECKING:
    from cnncalc.readers.onnx.context import Array

_STANDARD = ("", "ai.onnx")

# torch/onnx/symbolic_opset9.py gelu (approximate="none"): x · (erf(x / √2) + 1) · 0.5, as
# Div(x, √2) → Erf → Add(·, 1) → Mul(x, ·) → Mul(·, 0.5). Each step: operator and the other
# operand (a constant, or "x": the GELU's input itself).
_ERF_GELU: tuple[tuple[str, float | str | None], ...] = (
    ("Erf", None),
    ("Add", 1.0),
    ("Mul", "x"),
    ("Mul", 0.5),
)


def erf_gelu(ctx: Ctx) -> Output | None:
    """``nn.GELU()`` as torch.onnx exports it before opset 20, read from its Div node: the Div by
    √2 and the four nodes after it, each the only reader of the one before, with the constants
    1 and 0.5 and the same x in the first Mul. None when any part differs."""
    node = ctx.node
    if len(node.input) != 2 or node.input[0] not in ctx.values or not _is(ctx, node.input[1], math.sqrt(2)):
        return None
    x = node.input[0]
    chain: list[int] = []
    tensor = node.output[0]
    for op, operand in _ERF_GELU:
        index = ctx.sole_reader(tensor)
        if index is None:
            return None
        step = ctx.model.nodes[index]
        if step.op_type != op or step.domain not in _STANDARD:
            return None
        if operand is not None:
            if len(step.input) != 2 or tensor not in step.input:
                return None
            other = step.input[1] if step.input[0] == tensor else step.input[0]
            if not (other == x if operand == "x" else _is(ctx, other, float(operand))):
                return None
        chain.append(index)
        tensor = step.output[0]
    # torch names the nodes after the module ("/blocks/0/mlp/act/Div"): the layer takes its path
    module = node.name.rpartition("/")[0]
    name = ctx.layers.unique(module) if module.strip("/") else ctx.name
    return Output(ctx.emit("GELU", {"approximate": "none"}, [ctx.values[x]], name), fuses=tuple(chain))


def _is(ctx: Ctx, tensor: str, value: float) -> bool:
    """Whether ``tensor`` is a one-element constant equal to ``value`` (to float32 precision,
    the precision the exporter writes it in)."""
    constant = ctx.consts.get(tensor)
    if constant is None:  # a Constant node later in the file, not folded yet
        constant = _constant_node(ctx, tensor)
    if constant is None or constant.size != 1:
        return False
    number = float(constant.reshape(-1)[0])
    return abs(number - value) <= 1e-6 * abs(value)


def _constant_node(ctx: Ctx, tensor: str) -> Array | None:
    """The value of a Constant node's ``value`` tensor that makes ``tensor``, if one does."""
    from onnx import numpy_helper

    for node in ctx.model.nodes:
        if node.op_type == "Constant" and list(node.output) == [tensor]:
            for attr in node.attribute:
                if attr.name == "value":
                    return numpy_helper.to_array(attr.t)
    return None
