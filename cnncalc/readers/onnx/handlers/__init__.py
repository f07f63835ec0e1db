"""The ONNX operators cnncalc reads: operator name -> the handler that translates one node.

A handler takes the node's :class:`~cnncalc.readers.onnx.context.Ctx`, adds the layers that
compute it and returns its output (see the context module). An operator missing here is
unsupported: an error naming it and the node, or with ``skip_unknown`` an Identity where ONNX's
shape inference proves that it keeps the shape (:mod:`cnncalc.readers.onnx.walk`); never dropped.
"""

from __future__ import annotations

from collections.abc import Callable

from cnncalc.readers.onnx.context import Ctx, Output, Value
from cnncalc.readers.onnx.handlers import dense, elementwise, reduce, select, tensor, window

Handler = Callable[[Ctx], Value | Output]

SUPPORTED_OPS: dict[str, Handler] = {
    "Conv": window.conv,
    "ConvTranspose": window.conv_transpose,
    **dict.fromkeys(window.POOLS, window.pool),
    "GlobalAveragePool": window.global_pool,
    "GlobalMaxPool": window.global_pool,
    "Gemm": dense.gemm,
    "MatMul": dense.matmul,
    "Einsum": dense.einsum,
    "BatchNormalization": dense.batch_norm,
    "InstanceNormalization": dense.instance_norm,
    "LayerNormalization": dense.layer_norm,
    "LRN": dense.lrn,
    **dict.fromkeys(elementwise.PLAIN, elementwise.plain),
    **dict.fromkeys(elementwise.WITH_ARGUMENT, elementwise.activation),
    "Softmax": elementwise.softmax,
    "LogSoftmax": elementwise.softmax,
    "Clip": elementwise.clip,
    "PRelu": elementwise.prelu,
    **dict.fromkeys(("Add", "Sub", "Mul", "Div"), elementwise.arithmetic),
    "Flatten": tensor.flatten,
    "Reshape": tensor.reshape,
    "Squeeze": tensor.squeeze,
    "Unsqueeze": tensor.squeeze,
    "Transpose": tensor.transpose,
    "Expand": tensor.expand,
    "Slice": select.slice_,
    "Split": select.split,
    "Gather": select.gather,
    **dict.fromkeys(reduce.REDUCTIONS, reduce.reduce),
    **dict.fromkeys(elementwise.UNARY, elementwise.unary),
    "Pow": elementwise.power,
    "Concat": tensor.concat,
    "Pad": tensor.pad,
    "Resize": tensor.resize,
    "Upsample": tensor.resize,
    "DepthToSpace": tensor.depth_space,
    "SpaceToDepth": tensor.depth_space,
}

# Unsupported operators with a better way out than --skip-unknown alone.
HINTS: dict[str, str] = {}
