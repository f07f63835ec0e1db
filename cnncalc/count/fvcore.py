"""fvcore's convention (``fvcore.nn.FlopCountAnalysis``, fvcore 0.1.5; timm's published GFLOPs):
one per multiply-add of the ATen operators in ``_DEFAULT_SUPPORTED_OPS``
(fvcore/nn/flop_count.py), each by its handler in fvcore/nn/jit_handles.py, on the model in
eval mode. Every other operator counts 0 (the ones in ``_IGNORED_OPS`` silently, the rest with
an "unsupported operator" warning): pooling other than adaptive average pooling in 2d,
activations, additions, softmax, attention's ``scaled_dot_product_attention``.
"""

from __future__ import annotations

import math

from cnncalc.count import Convention, Rule, Site


def _spatial(site: Site) -> tuple[int, int]:
    """(batch, spatial axes) of a convolution's input: ATen batches an unbatched input first."""
    dims = site.layer.dims
    return (site.x[0] if len(site.x) == dims + 2 else 1), dims


def conv(site: Site) -> int:
    """conv_flop_jit (aten::_convolution): batch · prod(weight shape) · prod(output spatial)."""
    batch, dims = _spatial(site)
    return batch * site.geometry.weights * math.prod(site.output[-dims:])


def conv_transpose(site: Site) -> int:
    """conv_flop_jit of a transposed convolution: batch · prod(weight shape) · prod(input
    spatial)."""
    batch, dims = _spatial(site)
    return batch * site.geometry.weights * math.prod(site.x[-dims:])


def linear(site: Site) -> int:
    """linear_flop_jit (aten::linear): prod(input shape) · out_features."""
    return math.prod(site.x) * site.output[-1]


def matmul(site: Site) -> int | None:
    """matmul_flop_jit (aten::matmul, aten::mm) and bmm_flop_jit (aten::bmm): prod(first
    shape) · last axis of the second. Einsum's handler depends on the equation, which the layer
    does not keep: unknown."""
    a, b = site.inputs[:2]
    if "einsum" in site.function or len(a) < 2 or len(b) < 2:
        return None  # and matmul_flop_jit asserts on a vector operand
    return math.prod(a) * b[-1]


def batch_norm(site: Site) -> int:
    """batchnorm_flop_jit in eval mode: numel · (2 with affine, else 1)."""
    return math.prod(site.x) * (2 if getattr(site.layer, "affine", True) else 1)


def norm(site: Site) -> int:
    """norm_flop_counter (aten::group_norm, aten::layer_norm, aten::instance_norm): numel · (5
    with an affine weight, else 4)."""
    affine = getattr(site.layer, "affine", getattr(site.layer, "elementwise_affine", True))
    return math.prod(site.x) * (5 if affine else 4)


def upsample(site: Site) -> int:
    """elementwise_flop_counter: aten::upsample_nearest2d 1 per output element,
    aten::upsample_bilinear2d 4; other modes and ranks have no handler."""
    mode = getattr(site.layer, "mode", "bilinear" if "Bilinear" in site.kind else "nearest")
    if len(site.output) != 4:
        return 0
    return math.prod(site.output) * {"nearest": 1, "bilinear": 4}.get(mode, 0)


def adaptive_avg_pool2d(site: Site) -> int:
    """elementwise_flop_counter(1, 0) of aten::adaptive_avg_pool2d: 1 per input element."""
    return math.prod(site.x)


def attention(site: Site) -> int | None:
    """nn.MultiheadAttention runs aten::linear for its in- and out-projections (counted) and,
    called with need_weights=False, scaled_dot_product_attention (no handler); called with
    weights it multiplies with bmm/baddbmm, which the layer does not say: unknown."""
    if not site.sdpa:
        return None
    e: int = site.arg("embed_dim")
    return math.prod(site.x) * 3 * e + math.prod(site.x) * e


RULES: dict[str, Rule] = {
    **{f"Conv{n}d": conv for n in (1, 2, 3)},
    **{f"ConvTranspose{n}d": conv_transpose for n in (1, 2, 3)},
    **{f"BatchNorm{n}d": batch_norm for n in (1, 2, 3)},
    **{f"InstanceNorm{n}d": norm for n in (1, 2, 3)},
    "GroupNorm": norm,
    "LayerNorm": norm,
    "LayerNorm2d": norm,
    "Linear": linear,
    "MatMul": matmul,
    "Upsample": upsample,
    "UpsamplingNearest2d": upsample,
    "UpsamplingBilinear2d": upsample,
    "AdaptiveAvgPool2d": adaptive_avg_pool2d,
    "MultiheadAttention": attention,
}


def rule(site: Site) -> int | None:
    """The layer's figure: its kind's handler, 0 for a kind with none."""
    found = RULES.get(site.kind)
    return found(site) if found is not None else 0


CONVENTION = Convention(
    "fvcore", "MACs", rule, source="fvcore 0.1.5 FlopCountAnalysis(model.eval(), x).total()"
)
