"""What PyTorch's autograd saves for backward, per layer kind: the rule table of the memory engine.

Every entry follows the derivative formula of the ATen operator the ``torch.nn`` module calls, as
written in PyTorch's ``tools/autograd/derivatives.yaml``: the tensors a formula names are the
tensors the autograd node keeps (``self`` is the operator's input, ``result`` its output). The
rules were derived, and are checked, by measuring PyTorch 2.13 on CPU with
``torch.autograd.graph.saved_tensors_hooks`` (``scripts/measure_saved.py`` prints the table).

Three facts shape the table:

* An operator none of whose inputs requires grad builds no autograd node and saves nothing (a
  ReLU on the network input, a frozen BatchNorm before any trainable layer).
* Formulas split per input save only what the inputs that need a gradient use: ``addmm`` keeps
  its input only when the weight needs a gradient, ``mul`` keeps each factor for the other's.
* An in-place operator whose formula reads ``result`` (``relu_``, ``leaky_relu_``, ``elu_``)
  keeps its output, the input's own storage; one without an in-place formula (``hardtanh_``,
  ``silu_``, ``hardswish_``, ``mish_``, ``threshold_``) reuses the out-of-place formula on
  ``self`` and keeps a copy of the input taken before it is overwritten.

Rules are for CPU tensors: PyTorch's CPU dropout multiplies by a mask of the input's dtype
(``aten/src/ATen/native/Dropout.cpp`` ``_dropout_impl``), where CUDA's fused ``native_dropout``
keeps a bool mask.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from cnncalc.errors import GeometryError
from cnncalc.layers.base import Layer, Shape, fmt_shape, ntuple
from cnncalc.layers.merge import broadcast
from cnncalc.layers.pad import pad_shape

INT64_BYTES = 8  # max-pooling indices are torch.int64


@dataclass(frozen=True)
class Context:
    """One layer at one call: its input and output shapes, dtype size, and which inputs (and
    whether its parameters) require grad."""

    layer: Layer
    inputs: tuple[Shape, ...]
    output: Shape
    itemsize: int
    input_grad: tuple[bool, ...]
    param_grad: bool

    @property
    def x(self) -> Shape:
        return self.inputs[0]

    def nbytes(self, shape: Shape) -> int:
        return math.prod(shape) * self.itemsize


@dataclass(frozen=True)
class Saved:
    """One tensor the autograd node keeps: the layer's input ``index``, its output, or a tensor of
    its own (``new``) of ``nbytes`` bytes."""

    role: Literal["input", "output", "new"]
    what: str
    nbytes: int = 0
    index: int = 0


INPUT = Saved("input", "input")
OUTPUT = Saved("output", "output")


def new(what: str, nbytes: int) -> Saved:
    return Saved("new", what, nbytes)


# What a rule returns: the tensors saved, or None where this configuration has no measured rule.
Saves = Callable[[Context], tuple[Saved, ...] | None]


def _never(layer: Layer) -> bool:
    return False


def _nothing(ctx: Context) -> tuple[Saved, ...]:
    return ()


def _none_workspace(ctx: Context) -> int:
    return 0


def _no_params(layer: Layer) -> int:
    return 0


def _no_check(ctx: Context) -> str | None:
    return None


@dataclass(frozen=True)
class Rule:
    """How one layer kind keeps tensors for backward.

    ``source``: the derivatives.yaml entry (or the composite function) the rule follows.
    ``alias``: the output shares the input's storage in a train-mode forward (a view, an in-place
    operator, Identity); ``eval_alias`` the same in eval mode (dropout returns its input).
    ``workspace``: bytes of temporaries alive while the output is computed in inference.
    ``param_tensors``: how many parameter tensors the module holds (optimizer state is per tensor).
    ``check``: a reason PyTorch refuses the layer in training, or None.
    """

    source: str
    saves: Saves = _nothing
    alias: Callable[[Layer], bool] = _never
    eval_alias: Callable[[Layer], bool] | None = None
    workspace: Callable[[Context], int] = _none_workspace
    param_tensors: Callable[[Layer], int] = _no_params
    check: Callable[[Context], str | None] = _no_check

    @property
    def checked(self) -> bool:
        """True when PyTorch may refuse the layer in training (the rule has a ``check``)."""
        return self.check is not _no_check

    def aliases(self, layer: Layer, *, training: bool) -> bool:
        if not training and self.eval_alias is not None:
            return self.eval_alias(layer)
        return self.alias(layer)


def _flag(layer: Layer, name: str) -> bool:
    return bool(getattr(layer, name, False))


def _inplace(layer: Layer) -> bool:
    return _flag(layer, "inplace")


def _weight_and_bias(flag: str) -> Callable[[Layer], int]:
    """``weight`` (and ``bias`` when the layer has one) exist when ``flag`` is set."""

    def count(layer: Layer) -> int:
        if flag and not _flag(layer, flag):
            return 0
        return 1 + (1 if getattr(layer, "bias", True) else 0)

    return count


# ---- convolutions and Linear ----------------------------------------------------------------


def _conv_padded(layer: Layer, x: Shape) -> Shape | None:
    """The shape ``F.pad`` gives before a convolution with ``padding_mode`` other than zeros
    (torch/nn/modules/conv.py ``_conv_forward``), or None when none is applied."""
    mode = str(getattr(layer, "padding_mode", "zeros"))
    padding = getattr(layer, "padding", 0)
    if mode == "zeros" or padding == "valid":
        return None
    n = layer.dims
    if padding == "same":
        k = ntuple(getattr(layer, "kernel_size", 1), n, "kernel_size", single=False)
        d = ntuple(getattr(layer, "dilation", 1), n, "dilation")
        pads = [(di * (ki - 1) // 2, di * (ki - 1) - di * (ki - 1) // 2) for di, ki in zip(d, k)]
    else:
        p = ntuple(padding, n, "padding")
        pads = [(pi, pi) for pi in p]
    if not any(a or b for a, b in pads):
        return None
    flat = tuple(v for pair in reversed(pads) for v in pair)
    return pad_shape(x, flat, mode)[0]


def _conv(ctx: Context) -> tuple[Saved, ...]:
    # convolution: "input, weight, bias: convolution_backward(grad, input, weight, ...)" — one
    # formula for all three, so the input is kept whichever of them needs a gradient
    padded = _conv_padded(ctx.layer, ctx.x)
    if padded is None:
        return (INPUT,)
    mode = str(getattr(ctx.layer, "padding_mode", "zeros"))
    # reflection_padNd / replication_padNd: "self: ..._backward(grad, self, padding)"; the
    # circular mode is built from slices and cat, which keep nothing
    first = (INPUT,) if mode in ("reflect", "replicate") and ctx.input_grad[0] else ()
    return (*first, new(f"padded input {fmt_shape(padded)}", ctx.nbytes(padded)))


def _conv_workspace(ctx: Context) -> int:
    padded = _conv_padded(ctx.layer, ctx.x)
    return 0 if padded is None else ctx.nbytes(padded)


def _linear(ctx: Context) -> tuple[Saved, ...]:
    # addmm / mm: "mat1: mm_mat1_backward(grad, mat2, ...)", "mat2: mm_mat2_backward(grad, mat1,
    # ...)": the input (mat1) is kept for the weight's gradient only; the weight is a parameter
    return (INPUT,) if ctx.param_grad else ()


# ---- normalisation ------------------------------------------------------------------------


def _stats(ctx: Context, count: int, what: str) -> tuple[Saved, ...]:
    # the saved mean and inverse standard deviation, in the input's dtype on CPU
    return (
        new(f"{what} mean ({count})", count * ctx.itemsize),
        new(f"{what} invstd ({count})", count * ctx.itemsize),
    )


def _batch_norm(ctx: Context) -> tuple[Saved, ...]:
    # _batch_norm_with_update / _native_batch_norm_legit: "input, weight, bias:
    # batchnorm_backward(grad, input, weight, running_mean, running_var, result1, result2, ...)"
    # — input, save_mean (result1) and save_invstd (result2), one value per channel
    return (INPUT, *_stats(ctx, ctx.x[1], "per-channel"))


def _batch_norm_check(ctx: Context) -> str | None:
    # torch/nn/functional.py _verify_batch_size
    x = ctx.x
    if x[0] * math.prod(x[2:]) <= 1:
        return (
            f"PyTorch refuses it in training: expected more than 1 value per channel when training, "
            f"got input size {fmt_shape(x)}"
        )
    return None


def _instance_norm(ctx: Context) -> tuple[Saved, ...] | None:
    # torch.instance_norm: batch_norm over a (1, N·C, ...) view of the input, so the statistics
    # are per (sample, channel); with affine, weight.repeat(N) is kept as well (a new tensor)
    if _flag(ctx.layer, "track_running_stats"):
        return None  # running statistics repeated per sample: not measured
    x = ctx.x
    batched = len(x) == ctx.layer.dims + 2
    count = x[0] * x[1] if batched else x[0]
    extra = (new(f"repeated weight ({count})", count * ctx.itemsize),) if _flag(ctx.layer, "affine") else ()
    return (INPUT, *_stats(ctx, count, "per-instance"), *extra)


def _layer_norm(ctx: Context) -> tuple[Saved, ...]:
    # native_layer_norm: "input, weight, bias: native_layer_norm_backward(grad, input,
    # normalized_shape, result1, result2, weight, bias, ...)" — mean and rstd per leading index
    shape = getattr(ctx.layer, "normalized_shape", 1)
    trailing = 1 if isinstance(shape, int) else len(shape)
    count = math.prod(ctx.x[: len(ctx.x) - trailing])
    return (INPUT, *_stats(ctx, count, "per-row"))


def _group_norm(ctx: Context) -> tuple[Saved, ...]:
    # native_group_norm: "input, weight, bias: native_group_norm_backward(grad, input, result1,
    # result2, weight, N, C, HxW, group, ...)" — mean and rstd of shape (N, group)
    groups = int(getattr(ctx.layer, "num_groups", 1))
    return (INPUT, *_stats(ctx, ctx.x[0] * groups, "per-group"))


# ---- activations --------------------------------------------------------------------------


def _keeps_input(ctx: Context) -> tuple[Saved, ...]:
    return (INPUT,)


def _keeps_output(ctx: Context) -> tuple[Saved, ...]:
    return (OUTPUT,)


def _result_inplace(ctx: Context) -> tuple[Saved, ...]:
    # out of place the formula reads self; the in-place variant has its own formula on result,
    # which is the input's storage
    return (OUTPUT,) if _inplace(ctx.layer) else (INPUT,)


def _copy_inplace(ctx: Context) -> tuple[Saved, ...]:
    # no in-place formula: autograd applies the out-of-place one to a copy of self taken before
    # the in-place kernel overwrites it
    if _inplace(ctx.layer):
        return (new("copy of the input (in-place)", ctx.nbytes(ctx.x)),)
    return (INPUT,)


def _log_sigmoid(ctx: Context) -> tuple[Saved, ...]:
    # log_sigmoid_forward: "self: log_sigmoid_backward(grad, self, buffer)"; the CPU kernel's
    # buffer has the input's size
    return (INPUT, new("buffer", ctx.nbytes(ctx.x)))


def _softsign(ctx: Context) -> tuple[Saved, ...]:
    # torch/nn/functional.py softsign: input / (input.abs() + 1); abs keeps self, div keeps
    # both operands (div.Tensor: "other: div_tensor_other_backward(grad, self, other)")
    return (INPUT, new("1 + |input|", ctx.nbytes(ctx.x)))


def _tanhshrink(ctx: Context) -> tuple[Saved, ...]:
    # torch/nn/functional.py tanhshrink: input - input.tanh(); tanh keeps its result
    return (new("tanh(input)", ctx.nbytes(ctx.x)),)


def _full_size(ctx: Context) -> int:
    return ctx.nbytes(ctx.x)


# ---- dropout (aten/src/ATen/native/Dropout.cpp _dropout_impl on CPU) -------------------------


def _dropout_p(layer: Layer) -> float:
    return float(getattr(layer, "p", 0.5))


def _dropout_alias(layer: Layer) -> bool:
    # p == 0 returns the input itself; the in-place variants multiply into it
    return _dropout_p(layer) == 0 or _inplace(layer)


def _always(layer: Layer) -> bool:
    return True


def _dropout(feature: bool) -> Saves:
    def saves(ctx: Context) -> tuple[Saved, ...]:
        p = _dropout_p(ctx.layer)
        if p == 0:
            return ()
        if p == 1:
            # multiply by at::zeros({}): mul keeps the 0-d zero for the input's gradient
            return (new("zero scalar", ctx.itemsize),)
        x = ctx.x
        if feature:
            # the noise has shape (N, C, 1, ...): one value per sample and channel; an unbatched
            # input (Dropout1d on (C, L), Dropout3d on (C, D, H, W)) gets a batch axis of 1
            unbatched = (ctx.layer.kind, len(x)) in (("Dropout1d", 2), ("Dropout3d", 4))
            count = x[0] if unbatched else x[0] * x[1]
            return (new(f"mask ({count})", count * ctx.itemsize),)
        # mul.Tensor: "self: mul_tensor_backward(grad, other, ...)": the scaled mask
        return (new("mask", ctx.nbytes(x)),)

    return saves


# ---- pooling ---------------------------------------------------------------------------------


def _max_pool(ctx: Context) -> tuple[Saved, ...]:
    # max_poolNd_with_indices / adaptive_max_poolNd: "self: ..._backward(grad, self, ...,
    # result1)" — the input and the int64 indices, one per output element
    n = math.prod(ctx.output)
    return (INPUT, new(f"int64 indices {fmt_shape(ctx.output)}", n * INT64_BYTES))


def _adaptive_avg(ctx: Context) -> tuple[Saved, ...]:
    # adaptive_avg_poolNd calls mean() when every output size is 1 ("mean.dim: self:
    # mean_backward(grad, self.sym_sizes(), ...)" keeps no tensor); otherwise
    # _adaptive_avg_poolNd: "self: _adaptive_avg_poolNd_backward(grad, self)"
    dims = ctx.layer.dims or len(ctx.output) - 2  # Upsample(mode='area') has no dims of its own
    if all(o == 1 for o in ctx.output[len(ctx.output) - dims :]):
        return ()
    return (INPUT,)


def _upsample(ctx: Context) -> tuple[Saved, ...]:
    # upsample_nearestNd / upsample_(bi|tri)linear / upsample_bicubic2d: "self: ..._backward(grad,
    # output_size, self.sym_sizes(), ...)" keep no tensor; mode 'area' is adaptive average pooling
    if getattr(ctx.layer, "mode", "nearest") == "area":
        return _adaptive_avg(ctx)
    return ()


# ---- views --------------------------------------------------------------------------------


def _contiguous_strides(shape: Shape) -> tuple[int, ...]:
    strides = []
    step = 1
    for size in reversed(shape):
        strides.append(step)
        step *= max(size, 1)
    return tuple(reversed(strides))


# ---- merges -------------------------------------------------------------------------------


def _mul(ctx: Context) -> tuple[Saved, ...]:
    # mul.Tensor: "self: mul_tensor_backward(grad, other, ...)", "other: mul_tensor_backward(grad,
    # self, ...)": each factor is kept for the other's gradient. Three or more inputs multiply
    # left to right, so the running product is the first factor of the next mul.
    saved: list[Saved] = []
    left_grad = ctx.input_grad[0]
    left: Saved = Saved("input", "input 0", index=0)
    shape = ctx.inputs[0]
    for k in range(1, len(ctx.inputs)):
        right = Saved("input", f"input {k}", index=k)
        if left_grad:
            saved.append(right)
        if ctx.input_grad[k]:
            saved.append(left)
        shape = broadcast([shape, ctx.inputs[k]], "multiply")
        left_grad = left_grad or ctx.input_grad[k]
        left = OUTPUT if k == len(ctx.inputs) - 1 else new(f"product of inputs 0-{k}", ctx.nbytes(shape))
    return tuple(saved)


def _chain_workspace(ctx: Context) -> int:
    # the running result of a three-or-more-input merge lives while the next step computes
    shape = ctx.inputs[0]
    largest = 0
    for k in range(1, len(ctx.inputs) - 1):
        shape = broadcast([shape, ctx.inputs[k]], "merge")
        largest = max(largest, ctx.nbytes(shape))
    return largest


# ---- the table ------------------------------------------------------------------------------

_CONV = Rule(
    "convolution: input, weight, bias: convolution_backward(grad, input, weight, ...)",
    _conv,
    workspace=_conv_workspace,
    param_tensors=_weight_and_bias(""),
)
_CONV_T = Rule(
    "convolution (transposed): input, weight, bias: convolution_backward(grad, input, weight, ...)",
    _conv,
    param_tensors=_weight_and_bias(""),
)
_BATCH_NORM = Rule(
    "_batch_norm_with_update: input, weight, bias: batchnorm_backward(grad, input, weight, "
    "running_mean, running_var, result1, result2, ...)",
    _batch_norm,
    param_tensors=_weight_and_bias("affine"),
    check=_batch_norm_check,
)
_INSTANCE_NORM = Rule(
    "instance_norm → _native_batch_norm_legit.no_stats: input, weight, bias: batchnorm_backward(grad, "
    "input, weight, ..., result1, result2, ...)",
    _instance_norm,
    param_tensors=_weight_and_bias("affine"),
)
_SELF = "self: {}(grad, self, ...)"
_RESULT = "self: {}(grad, result, ...)"


def _self(name: str, backward: str) -> str:
    return f"{name}: " + _SELF.format(backward)


RULES: dict[str, Rule] = {
    **{f"Conv{n}d": _CONV for n in (1, 2, 3)},
    **{f"ConvTranspose{n}d": _CONV_T for n in (1, 2, 3)},
    "Linear": Rule(
        "addmm / mm: mat1: mm_mat1_backward(grad, mat2, ...); mat2: mm_mat2_backward(grad, mat1, ...)",
        _linear,
        param_tensors=_weight_and_bias(""),
    ),
    **{f"BatchNorm{n}d": _BATCH_NORM for n in (1, 2, 3)},
    **{f"InstanceNorm{n}d": _INSTANCE_NORM for n in (1, 2, 3)},
    "LayerNorm": Rule(
        "native_layer_norm: input, weight, bias: native_layer_norm_backward(grad, input, normalized_shape, "
        "result1, result2, weight, bias, ...)",
        _layer_norm,
        param_tensors=_weight_and_bias("elementwise_affine"),
    ),
    "GroupNorm": Rule(
        "native_group_norm: input, weight, bias: native_group_norm_backward(grad, input, result1, "
        "result2, weight, N, C, HxW, group, ...)",
        _group_norm,
        param_tensors=_weight_and_bias("affine"),
    ),
    "ReLU": Rule(
        "relu: self: threshold_backward(grad, result, 0); relu_ likewise on result",
        _keeps_output,
        alias=_inplace,
    ),
    "LeakyReLU": Rule(
        "leaky_relu: self: leaky_relu_backward(grad, self, negative_slope, false); leaky_relu_: "
        "leaky_relu_backward(grad, result, negative_slope, true)",
        _result_inplace,
        alias=_inplace,
    ),
    **{
        kind: Rule(
            "elu: self: elu_backward(grad, alpha, scale, input_scale, false, self); elu_: elu_backward(..., "
            f"true, result) ({kind} is elu with its own scales)",
            _result_inplace,
            alias=_inplace,
        )
        for kind in ("ELU", "CELU", "SELU")
    },
    **{
        kind: Rule(
            _self(op, backward) + f"; {op}_ has no formula of its own (a copy of self is kept)",
            _copy_inplace,
            alias=_inplace,
        )
        for kind, op, backward in (
            ("ReLU6", "hardtanh", "hardtanh_backward"),
            ("Hardtanh", "hardtanh", "hardtanh_backward"),
            ("SiLU", "silu", "silu_backward"),
            ("Mish", "mish", "mish_backward"),
            ("Hardswish", "hardswish", "hardswish_backward"),
            ("Hardsigmoid", "hardsigmoid", "hardsigmoid_backward"),
            ("Threshold", "threshold", "threshold_backward"),
        )
    },
    **{
        kind: Rule(_self(op, backward), _keeps_input)
        for kind, op, backward in (
            ("GELU", "gelu", "gelu_backward"),
            ("Softplus", "softplus", "softplus_backward"),
            ("Hardshrink", "hardshrink", "hardshrink_backward"),
            ("Softshrink", "softshrink", "softshrink_backward"),
        )
    },
    "PReLU": Rule(
        "_prelu_kernel: self, weight: _prelu_kernel_backward(grad, self, weight)",
        _keeps_input,
        param_tensors=lambda layer: 1,
    ),
    "Sigmoid": Rule("sigmoid: " + _RESULT.format("sigmoid_backward"), _keeps_output),
    "Tanh": Rule("tanh: " + _RESULT.format("tanh_backward"), _keeps_output),
    "LogSigmoid": Rule(
        "log_sigmoid_forward: self: log_sigmoid_backward(grad, self, buffer)",
        _log_sigmoid,
        workspace=_full_size,
    ),
    "Softsign": Rule(
        "input / (input.abs() + 1): abs keeps self; div.Tensor keeps self and other",
        _softsign,
        workspace=_full_size,
    ),
    "Tanhshrink": Rule("input - input.tanh(): tanh keeps result", _tanhshrink, workspace=_full_size),
    **{
        kind: Rule(
            "_softmax / _log_softmax: self: _softmax_backward_data(grad, result, dim, ...)", _keeps_output
        )
        for kind in ("Softmax", "LogSoftmax", "Softmin", "Softmax2d")
    },
    **{
        kind: Rule(
            "_dropout_impl (CPU): input * noise; mul.Tensor: self: mul_tensor_backward(grad, other, ...)",
            _dropout(feature=kind not in {"Dropout", "AlphaDropout"}),
            alias=_dropout_alias,
            eval_alias=_always,
        )
        for kind in ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout")
    },
    "Identity": Rule("returns its input", alias=_always),
    **{
        f"MaxPool{n}d": Rule(
            f"max_pool{n if n > 1 else 2}d_with_indices: "
            f"self: max_pool{n if n > 1 else 2}d_with_indices_backward(grad, self, ..., result1)",
            _max_pool,
        )
        for n in (1, 2, 3)
    },
    **{
        f"AdaptiveMaxPool{n}d": Rule(
            f"adaptive_max_pool{n if n > 1 else 2}d: self: adaptive_max_pool{n if n > 1 else 2}d_backward"
            "(grad, self, result1)",
            _max_pool,
        )
        for n in (1, 2, 3)
    },
    **{
        f"AvgPool{n}d": Rule(
            f"avg_pool{n if n > 1 else 2}d: self: avg_pool{n if n > 1 else 2}d_backward(grad, self, ...)",
            _keeps_input,
        )
        for n in (1, 2, 3)
    },
    **{
        f"AdaptiveAvgPool{n}d": Rule(
            f"_adaptive_avg_pool{n if n > 1 else 2}d: self: _adaptive_avg_pool{n if n > 1 else 2}d_backward"
            "(grad, self); mean.dim (every output size 1) keeps nothing",
            _adaptive_avg,
        )
        for n in (1, 2, 3)
    },
    **{
        kind: Rule(
            "upsample_*: self: upsample_*_backward(grad, output_size, self.sym_sizes(), ...); "
            "mode 'area': _adaptive_avg_poolNd",
            _upsample,
        )
        for kind in ("Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d")
    },
    **{
        f"{name}Pad{n}d": Rule("constant_pad_nd: self: constant_pad_nd_backward(grad, pad)")
        for name in ("Zero", "Constant")
        for n in (1, 2, 3)
    },
    **{
        f"{name}Pad{n}d": Rule(
            f"{op}_pad{n}d: self: {op}_pad{n}d_backward(grad, self, padding)", _keeps_input
        )
        for name, op in (("Reflection", "reflection"), ("Replication", "replication"))
        for n in (1, 2, 3)
    },
    **{f"CircularPad{n}d": Rule("_pad_circular: slices and cat, which keep no tensor") for n in (1, 2, 3)},
    "PixelShuffle": Rule("pixel_shuffle: self: pixel_unshuffle(grad, upscale_factor)"),
    "PixelUnshuffle": Rule("pixel_unshuffle: self: pixel_shuffle(grad, downscale_factor)"),
    "ChannelShuffle": Rule("channel_shuffle: self: channel_shuffle(grad, groups / ...) (a permutation)"),
    # views: reshape and narrow return a view of the input's storage when the strides allow
    "Flatten": Rule("flatten → view / _reshape_alias: no tensor kept", alias=lambda layer: True),
    "Unflatten": Rule("unflatten → view: no tensor kept", alias=_always),
    "Narrow": Rule(
        "narrow → slice: self: slice_backward_wrapper(grad, self.sym_sizes(), ...)", alias=_always
    ),
    "Add": Rule(
        "add.Tensor: self: handle_r_to_c(self.scalar_type(), grad); other: maybe_multiply(grad, alpha)",
        workspace=_chain_workspace,
    ),
    "Mul": Rule(
        "mul.Tensor: self: mul_tensor_backward(grad, other, ...); "
        "other: mul_tensor_backward(grad, self, ...)",
        _mul,
        workspace=_chain_workspace,
    ),
    "Concat": Rule("cat: tensors: cat_tensors_backward(grad, to_args_sizes_symint(tensors), ...)"),
}


def rule_for(layer: Layer) -> Rule | None:
    """The rule of a layer kind, or None for a kind whose saved tensors are not known."""
    return RULES.get(layer.kind)


def view_strides(layer: Layer, x: Shape, strides: tuple[int, ...], out: Shape) -> tuple[int, ...] | None:
    """The output strides of a view layer (Flatten, Unflatten, Narrow) on an input with
    ``strides``, or None where PyTorch copies instead (``reshape`` of axes a view cannot merge)."""
    kind = layer.kind
    if kind == "Narrow":
        return strides
    if kind == "Unflatten":
        dim = int(getattr(layer, "dim", 0)) % len(x)
        inner = _contiguous_strides(out[dim : dim + len(out) - len(x) + 1])
        return strides[:dim] + tuple(s * strides[dim] for s in inner) + strides[dim + 1 :]
    if kind == "Flatten":
        if not x:
            return (1,)
        start = int(getattr(layer, "start_dim", 1)) % len(x)
        end = int(getattr(layer, "end_dim", -1)) % len(x)
        axes = [i for i in range(start, end + 1) if x[i] != 1]
        # computeStride (aten/src/ATen/TensorUtils.cpp): merged axes must be laid out back to back
        if any(strides[a] != strides[b] * x[b] for a, b in itertools.pairwise(axes)):
            return None
        last = strides[axes[-1]] if axes else 1
        return strides[:start] + (last,) + strides[end + 1 :]
    raise GeometryError(f"{kind} is not a view layer")
