"""ptflops' convention (``ptflops.get_model_complexity_info``, ptflops 0.7.5, its default
pytorch backend): forward hooks on modules whose class is exactly one of ``MODULES_MAPPING``
(ptflops/pytorch_ops.py), plus the functions it patches while the model runs (``F.relu``,
``F.elu``, ``F.relu6``, ``F.gelu``, ``F.silu``, ``F.softmax``, the pooling functions,
``F.interpolate``, ``torch.matmul``/``mm``/``bmm``, ``torch.add``, ``torch.mul``). Patching
counts a call wherever it happens, so a module whose forward calls a patched function counts
twice: ``nn.ReLU`` counts its output once by its hook and its input once through ``F.relu``.
ptflops reports one image (``get_model_complexity_info(model, input_res)`` builds a batch of
one): the figure of a batch of N is counted and divided by N (unknown where that is no whole
number).
Convolutions and linear layers count their bias; ``a + b`` and ``a * b`` are not patched (0).
A module of a class ptflops does not map exactly (a subclass) counts what its forward calls,
which cnncalc does not see: unknown.
"""

from __future__ import annotations

import math
from fractions import Fraction

from cnncalc.count import MOVES, Convention, Rule, Site


def conv(site: Site) -> int:
    """conv_flops_counter_hook: prod(kernel) · in · out/groups per output position, plus the
    bias once per output element."""
    bias = math.prod(site.output) if site.arg("bias") else 0
    return site.geometry.macs + bias


def linear(site: Site) -> int:
    """linear_flops_counter_hook: (in · out + out with a bias) per row of the input."""
    rows = math.prod(site.x[:-1])
    return (site.x[-1] * site.output[-1] + (site.output[-1] if site.arg("bias") else 0)) * rows


def _numel_in(site: Site) -> int:
    return math.prod(site.x)


def twice(site: Site) -> int:
    """A hooked module that calls its patched function: its hook (numel) and the function's."""
    return 2 * math.prod(site.x)


def norm(site: Site) -> int:
    """bn_flops_counter_hook (BatchNorm, InstanceNorm, GroupNorm, LayerNorm): numel(input), twice
    with ``module.affine`` (LayerNorm has none: once)."""
    return math.prod(site.x) * (2 if getattr(site.layer, "affine", False) else 1)


def _interpolate(site: Site) -> int | None:
    """_interpolate_functional_flops_hook: prod(size) · N · C with a size, else numel(input) ·
    scale**dims; None where that is not a whole number."""
    x = site.x
    size = site.arg("size")
    scale = site.arg("scale_factor")
    dims = len(x) - 2
    if size is not None:
        sizes = size if isinstance(size, (tuple, list)) else (size,) * dims
        return math.prod(sizes) * math.prod(x[:2])
    if scale is None:
        return None
    if isinstance(scale, (tuple, list)) and len(scale) == dims:
        product = Fraction(1)
        for s in scale:
            product *= Fraction(s)
        return math.prod(x) * int(product)
    flops = math.prod(x) * Fraction(scale[0] if isinstance(scale, (tuple, list)) else scale) ** dims
    return int(flops) if flops.denominator == 1 else None


def upsample(site: Site) -> int | None:
    """nn.Upsample: upsample_flops_counter_hook (the elements of ``output[0]``, the output of
    a batch of one) and F.interpolate's."""
    inner = _interpolate(site)
    return None if inner is None else math.prod(site.output) + inner


MODULE_RULES: dict[str, Rule] = {
    **{f"Conv{n}d": conv for n in (1, 2, 3)},
    **{f"ConvTranspose{n}d": conv for n in (1, 2, 3)},
    # a hook, and the patched F.relu / F.prelu / F.elu / F.gelu their forward calls
    **{kind: twice for kind in ("ReLU", "PReLU", "ELU", "GELU")},
    # a hook; F.leaky_relu and F.hardtanh are not patched
    "LeakyReLU": _numel_in,
    "ReLU6": _numel_in,
    "SiLU": _numel_in,  # no hook; F.silu is patched
    "Softmax": _numel_in,  # no hook; F.softmax is patched
    # a hook on the input, and the patched pooling function their forward calls
    **{
        f"{pool}{n}d": twice
        for pool in ("MaxPool", "AvgPool", "AdaptiveMaxPool", "AdaptiveAvgPool")
        for n in (1, 2, 3)
    },
    **{f"{n}": norm for n in ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "GroupNorm", "LayerNorm")},
    **{f"InstanceNorm{n}d": norm for n in (1, 2, 3)},
    "Linear": linear,
    "Upsample": upsample,
    # subclasses of nn.Upsample: no hook of their own, F.interpolate is patched
    "UpsamplingNearest2d": _interpolate,
    "UpsamplingBilinear2d": _interpolate,
}

# kinds with a rule above that a subclass may change: counted only for torch.nn's own class
_HOOKED = set(MODULE_RULES)


def multihead_attention(site: Site) -> int | None:
    """multihead_attention_counter_hook, for self-attention called with need_weights=False
    (the softmax and bmm it runs with weights are patched too: unknown)."""
    if not site.sdpa:
        return None
    e: int = site.arg("embed_dim")
    heads: int = site.arg("num_heads")
    x = site.x
    batch, length = (x[0], x[1]) if site.arg("batch_first") else (x[1], x[0])
    flops = length * e + 3 * length * e * e
    if site.arg("bias"):
        flops += 3 * length * e
    head = e // heads
    flops += heads * (length * length * head + length * length + length * length * head)
    flops += length * e * (e + 1)
    return flops * batch


def _broadcast(site: Site) -> int:
    """_elementwise_tensor_flops_hook: elements of the broadcast result."""
    return math.prod(site.output)


def _matmul(site: Site) -> int:
    """_matmul_tensor_flops_hook: prod(first shape) · last axis of the second."""
    return math.prod(site.inputs[0]) * site.inputs[1][-1]


# functional calls by the name torch.export gives the function: only those ptflops patches
FUNCTION_RULES: dict[str, Rule] = {
    **{f"function.{name}": _numel_in for name in ("relu", "elu", "relu6", "silu", "softmax")},
    "builtin_function_or_method.gelu": _numel_in,
    **{
        f"{kind}.{pool}{n}d": _numel_in
        for kind in ("function", "builtin_function_or_method")
        for pool in ("max_pool", "avg_pool", "adaptive_avg_pool", "adaptive_max_pool")
        for n in (1, 2, 3)
    },
    "function.interpolate": _interpolate,
    # torch.add and Tensor.add, not a + b (operator.add: 0)
    **{
        f"{kind}.{name}": _broadcast
        for kind in ("builtin_function_or_method", "method_descriptor")
        for name in ("add", "mul")
    },
    # torch.matmul and Tensor.matmul, not a @ b (operator.matmul: 0); mm; bmm
    **{
        f"{kind}.{name}": _matmul
        for kind in ("builtin_function_or_method", "method_descriptor")
        for name in ("matmul", "mm", "bmm")
    },
}


def rule(site: Site) -> int | None:
    """The layer's count for one image: :func:`batch_rule` over the batch size."""
    figure = batch_rule(site)
    if figure is None or figure % site.batch:
        return None
    return figure // site.batch


def batch_rule(site: Site) -> int | None:
    """A hooked module's count, a patched function's, 0 for anything else."""
    if site.kind == "MultiheadAttention" and site.is_module:
        return multihead_attention(site)
    if site.is_module:
        found = MODULE_RULES.get(site.kind)
        if site.exact_module:
            return found(site) if found is not None else 0
        return 0 if found is None and site.kind in MOVES else None
    if site.function.endswith("?"):
        return None  # a + b or a.add(b): the export does not say which
    found = FUNCTION_RULES.get(site.function)
    return found(site) if found is not None else 0


CONVENTION = Convention(
    "ptflops",
    "MACs",
    rule,
    source="ptflops 0.7.5 get_model_complexity_info(model, (C, H, W), backend='pytorch')",
)
