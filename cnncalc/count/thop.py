"""thop's convention (``thop.profile``, ultralytics-thop 2.2.3): per-module hooks
(thop/profile.py ``register_hooks``, formulas in thop/vision/basic_hooks.py and calc_func.py),
found through the module's class hierarchy, plus the matrix products that functional code runs
outside every module with a rule of its own (``functional_hooks``: torch.matmul, ``@``, bmm,
einsum, F.linear, F.multi_head_attention_forward, F.scaled_dot_product_attention). A module
without a rule counts 0 (SiLU, GELU, Sigmoid, Hardswish, LocalResponseNorm, ...); so do
additions, concatenations and every other functional call. Code inside a module of a class
derived from a hooked torch.nn class (torchvision's LayerNorm2d) counts by that class's hook,
once, on the row of that class's own operation (:func:`_inside`).
"""

from __future__ import annotations

import math

from cnncalc.count import MOVES, Convention, Rule, Site


def conv(site: Site) -> int:
    """count_convNd: numel(output) · (input channels / groups) · prod(kernel); no bias."""
    out_channels: int = site.arg("out_channels")
    k = site.geometry.weights // (out_channels * _in_per_group(site))
    return math.prod(site.output) * _in_per_group(site) * k


def _in_per_group(site: Site) -> int:
    channels = site.x[-(site.layer.dims + 1)]
    groups: int = site.arg("groups")
    return channels // groups


def conv_transpose(site: Site) -> int:
    """count_convtNd: numel(input) · (output channels / groups) · prod(kernel)."""
    groups: int = site.arg("groups")
    out_per_group = site.output[-(site.layer.dims + 1)] // groups
    k = site.geometry.weights // (site.x[-(site.layer.dims + 1)] * out_per_group)
    return math.prod(site.x) * out_per_group * k


def normalization(site: Site) -> int:
    """count_normalization (BatchNorm, InstanceNorm, LayerNorm, GroupNorm, RMSNorm):
    2 · numel(input), twice that with affine or elementwise_affine."""
    affine = site.arg("affine", False) or site.arg("elementwise_affine", False)
    return 2 * math.prod(site.x) * (2 if affine else 1)


def prelu(site: Site) -> int:
    """count_prelu in eval mode: numel(input)."""
    return math.prod(site.x)


def softmax(site: Site) -> int:
    """count_softmax: rows · (n exponentials + n - 1 additions + n divisions) over the softmax
    axis of n; LogSoftmax adds one per row, Softmin one per element."""
    x = site.x
    if site.kind == "Softmax2d":
        dim: int | None = -3
    else:
        dim = site.arg("dim")
    if dim is None:  # torch's deprecated implicit dimension
        dim = 0 if len(x) in (0, 1, 3) else 1
    n = x[dim] if x else 1
    rows = math.prod(x) // n if n else 0
    ops = rows * (n + max(n - 1, 0) + n)
    if site.kind == "Softmin":
        ops += math.prod(x)
    elif site.kind == "LogSoftmax":
        ops += rows
    return ops


def _tuple(value: int | tuple[int, ...], dims: int) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * dims


def avg_pool(site: Site) -> int:
    """count_avgpool: one addition per input element each window reads (clipped to the padded
    or the real input, as count_include_pad says), one division per output element."""
    dims = site.layer.dims
    kernel = _tuple(site.arg("kernel_size"), dims)
    stride = _tuple(site.arg("stride") if site.arg("stride") is not None else site.arg("kernel_size"), dims)
    padding = _tuple(site.arg("padding"), dims)
    windows = 1
    for size, out, k, s, p in zip(site.x[-dims:], site.output[-dims:], kernel, stride, padding):
        lower, upper = (-p, size + p) if site.arg("count_include_pad") else (0, size)
        windows *= sum(max(min(i * s - p + k, upper) - max(i * s - p, lower), 0) for i in range(out))
    return math.prod(site.x[:-dims]) * windows + math.prod(site.output)


def adaptive_avg_pool(site: Site) -> int:
    """count_adap_avgpool: over every axis, the sizes of the windows the pool slices
    (output j reads [j·I // O, ceil((j + 1)·I / O))), plus one division per output element."""
    total = 1
    for i, o in zip(site.x, site.output):
        total *= o if i == o else sum(-(-(j + 1) * i // o) - j * i // o for j in range(o))
    return total + math.prod(site.output)


# count_upsample: operations per output element by mode
_UPSAMPLE = {"nearest": 0, "nearest-exact": 0, "linear": 5, "bilinear": 11, "bicubic": 259, "trilinear": 31}


def upsample(site: Site) -> int:
    """count_upsample: per output element, 0 (nearest), 5 (linear), 11 (bilinear), 259
    (bicubic) or 31 (trilinear)."""
    mode = getattr(site.layer, "mode", "bilinear" if "Bilinear" in site.kind else "nearest")
    return _UPSAMPLE.get(mode, 0) * math.prod(site.output)


def linear(site: Site) -> int:
    """count_linear: in_features · numel(output); no bias."""
    return site.x[-1] * math.prod(site.output)


def multihead_attention(site: Site) -> int:
    """count_multihead_attention: projections, both attention products and the softmax, for
    self-attention (query, key and value the input)."""
    e: int = site.arg("embed_dim")
    heads: int = site.arg("num_heads")
    x = site.x
    if len(x) == 2:
        batch, length = 1, x[0]
    else:
        batch, length = (x[0], x[1]) if site.arg("batch_first") else (x[1], x[0])
    appended = int(site.arg("add_bias_kv")) + int(site.arg("add_zero_attn"))
    attended = length + appended
    projections = e * (2 * length * e + length * (e + e))
    attention = 2 * length * attended * e
    rows = batch * heads * length
    return batch * (projections + attention) + rows * (attended + max(attended - 1, 0) + attended)


def matmul(site: Site) -> int | None:
    """_count_matmul (torch.matmul, ``@``, bmm, F.linear): numel(output) · last axis of the first
    operand; torch.mm has no hook (0); einsum's count depends on the equation: unknown."""
    function = site.function
    if "einsum" in function:
        return None
    if function.endswith(".mm"):
        return 0
    return math.prod(site.output) * site.x[-1]


def sdpa(site: Site) -> int:
    """_count_sdpa: numel(output) / value width · key length · (query width + value width)."""
    q, k, v = site.inputs[:3]
    return math.prod(site.output) // v[-1] * k[-2] * (q[-1] + v[-1])


MODULE_RULES: dict[str, Rule] = {
    **{f"Conv{n}d": conv for n in (1, 2, 3)},
    **{f"ConvTranspose{n}d": conv_transpose for n in (1, 2, 3)},
    **{f"{norm}{n}d": normalization for norm in ("BatchNorm", "InstanceNorm") for n in (1, 2, 3)},
    "LayerNorm": normalization,
    "LayerNorm2d": normalization,  # timm's, an nn.LayerNorm subclass
    "GroupNorm": normalization,
    "RMSNorm": normalization,
    "PReLU": prelu,
    **{kind: softmax for kind in ("Softmax", "LogSoftmax", "Softmin", "Softmax2d")},
    **{f"AvgPool{n}d": avg_pool for n in (1, 2, 3)},
    **{f"AdaptiveAvgPool{n}d": adaptive_avg_pool for n in (1, 2, 3)},
    "Linear": linear,
    "Upsample": upsample,
    "UpsamplingNearest2d": upsample,
    "UpsamplingBilinear2d": upsample,
    "MultiheadAttention": multihead_attention,
}

FUNCTION_RULES: dict[str, Rule] = {
    "MatMul": matmul,
    "Linear": matmul,  # F.linear
    "ScaledDotProductAttention": sdpa,
    "MultiheadAttention": multihead_attention,  # F.multi_head_attention_forward
}


def _inside(site: Site) -> int | None:
    """A row inside a module of a class derived from a hooked torch.nn class: thop's hook counts
    the module, on its input, and suppresses what runs inside. Where the module rearranges its
    input and runs its base's own operation (torchvision's LayerNorm2d: permute, F.layer_norm,
    permute back), that operation's row has the hook's figure (same elements, same affine) and
    the rearrangements 0; any other row has no figure of its own."""
    if site.kind == site.within:
        return MODULE_RULES[site.kind](site)
    return 0 if site.kind in MOVES else None


def rule(site: Site) -> int | None:
    """A module's hook, a functional product's count, 0 for anything else."""
    if site.within in MODULE_RULES:
        return _inside(site)
    found = (MODULE_RULES if site.is_module else FUNCTION_RULES).get(site.kind)
    return found(site) if found is not None else 0


CONVENTION = Convention(
    "thop", "MACs", rule, source="ultralytics-thop 2.2.3 thop.profile(model, inputs=(x,))[0]"
)
