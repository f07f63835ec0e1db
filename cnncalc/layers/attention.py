"""Matrix products and attention: MatMul, scaled dot-product attention, MultiheadAttention.

MACs follow torchvision's published ``_ops`` (the GFLOPS column of its model tables counts
multiply-adds of convolutions, linear layers and matrix products): a product of (…, n, k) and
(…, k, m) counts prod(…)·n·k·m. Attention mixes every token with every other, which the
receptive-field algebra over trailing spatial axes does not follow: its map is "unknown".
"""

import math

from cnncalc.errors import GeometryError
from cnncalc.layers.base import Geometry, Layer, MergeBack, Shape, Spatial, fmt_shape
from cnncalc.layers.merge import broadcast


def _unmapped(axis: int, j: int) -> int | None:
    """A merge whose field is unknown: its backs are never followed (the engine stops first)."""
    return None


def matmul_shapes(a: Shape, b: Shape) -> tuple[Shape, int]:
    """torch.matmul's output shape and multiply-adds (aten/src/ATen/native/LinearAlgebra.cpp).

    A 1D left operand is a row (its prepended axis removed after), a 1D right operand a column
    (its appended axis removed after); leading axes broadcast.
    """
    if not a or not b:
        raise GeometryError(
            f"both arguments to matmul need to be at least 1D, got {len(a)}D and {len(b)}D tensors"
        )
    left = (1,) + a if len(a) == 1 else a
    right = b + (1,) if len(b) == 1 else b
    n, k = left[-2:]
    k2, m = right[-2:]
    if k != k2:
        raise GeometryError(
            f"cannot multiply {fmt_shape(a)} and {fmt_shape(b)}: inner sizes {k} and {k2} differ"
        )
    batch = (
        broadcast([left[:-2], right[:-2]], "broadcast the batch axes of")
        if len(left) + len(right) > 4
        else ()
    )
    out = batch + ((n,) if len(a) > 1 else ()) + ((m,) if len(b) > 1 else ())
    return out, math.prod(batch) * n * k * m


class MatMul(Layer):
    """``a @ b`` (``torch.matmul``, ``torch.bmm``): prod(batch)·n·k·m multiply-adds."""

    is_merge = True
    aliases = ("Bmm",)

    def apply(self, x: Shape) -> Geometry:
        raise GeometryError("MatMul multiplies two inputs; give it two (from: [a, b])")

    def _check(self, xs: list[Shape]) -> tuple[Shape, int]:
        if len(xs) != 2:
            raise GeometryError(f"MatMul multiplies two inputs, got {len(xs)}")
        return matmul_shapes(xs[0], xs[1])

    def merge(self, xs: list[Shape]) -> tuple[Shape, list[MergeBack]]:
        return self._check(xs)[0], [_unmapped, _unmapped]

    def merge_figures(self, xs: list[Shape]) -> tuple[int, int, Spatial]:
        return 0, self._check(xs)[1], "unknown"


class ScaledDotProductAttention(Layer):
    """``F.scaled_dot_product_attention(q, k, v)``: softmax(q kᵀ · scale) v over (…, L, E) queries,
    (…, S, E) keys and (…, S, Ev) values; MACs of q kᵀ and of the weights times v."""

    is_merge = True

    dropout_p: float = 0.0
    is_causal: bool = False
    scale: float | None = None
    enable_gqa: bool = False

    def apply(self, x: Shape) -> Geometry:
        raise GeometryError("ScaledDotProductAttention takes a query, a key and a value (from: [q, k, v])")

    def _check(self, xs: list[Shape]) -> tuple[Shape, int]:
        if len(xs) != 3:
            raise GeometryError(
                f"ScaledDotProductAttention takes a query, a key and a value, got {len(xs)} inputs"
            )
        q, k, v = xs
        if len(q) < 2 or len(k) < 2 or len(v) < 2:
            raise GeometryError("the query, key and value need at least 2 dimensions (…, length, features)")
        if k[-2] != v[-2]:
            raise GeometryError(f"the key has {k[-2]} positions and the value {v[-2]}")
        if self.enable_gqa and len(q) >= 3 and len(k) >= 3 and q[-3] != k[-3]:
            # grouped-query attention: each key/value head serves q_heads / kv_heads query heads
            for t in (k, v):
                if q[-3] % t[-3]:
                    raise GeometryError(f"{q[-3]} query heads are not a multiple of {t[-3]} key/value heads")
            k, v = k[:-3] + (q[-3],) + k[-2:], v[:-3] + (q[-3],) + v[-2:]
        scores, qk = matmul_shapes(q, k[:-2] + (k[-1], k[-2]))
        out, av = matmul_shapes(scores, v)
        return out, qk + av

    def merge(self, xs: list[Shape]) -> tuple[Shape, list[MergeBack]]:
        return self._check(xs)[0], [_unmapped] * 3

    def merge_figures(self, xs: list[Shape]) -> tuple[int, int, Spatial]:
        return 0, self._check(xs)[1], "unknown"


class MultiheadAttention(Layer):
    """``nn.MultiheadAttention(embed_dim, num_heads)`` as self-attention (query = key = value =
    the input): projections, q kᵀ, weights times v and the output projection."""

    embed_dim: int
    num_heads: int
    dropout: float = 0.0
    bias: bool = True
    add_bias_kv: bool = False
    add_zero_attn: bool = False
    kdim: int | None = None
    vdim: int | None = None
    batch_first: bool = False

    def _params(self) -> int:
        """torch/nn/modules/activation.py MultiheadAttention.__init__'s parameters."""
        e = self.embed_dim
        if e <= 0 or self.num_heads <= 0 or e % self.num_heads:
            raise GeometryError(f"embed_dim ({e}) must be divisible by num_heads ({self.num_heads})")
        kdim, vdim = self.kdim or e, self.vdim or e
        inputs = e * e + e * kdim + e * vdim  # one in_proj_weight, or q/k/v_proj_weight apart
        biases = 3 * e + e if self.bias else 0  # in_proj_bias and out_proj.bias
        return inputs + e * e + biases + (2 * e if self.add_bias_kv else 0)

    def apply(self, x: Shape) -> Geometry:
        params = self._params()
        e = self.embed_dim
        if len(x) not in (2, 3):
            raise GeometryError(f"expected a 2D (unbatched) or 3D (batched) input, got {fmt_shape(x)}")
        if x[-1] != e:
            raise GeometryError(f"embed_dim={e} but the input has {x[-1]} features", "embed_dim")
        for name, d in (("kdim", self.kdim), ("vdim", self.vdim)):
            if d not in (None, e):
                raise GeometryError(f"{name}={d} but self-attention gives keys and values of {e}", name)
        if len(x) == 2:
            batch, length = 1, x[0]
        else:
            batch, length = (x[0], x[1]) if self.batch_first else (x[1], x[0])
        keys = length + int(self.add_bias_kv) + int(self.add_zero_attn)
        tokens = batch * length
        # in-projection (3 E×E), q kᵀ and weights × v (E per head-pair summed over heads),
        # output projection (E×E)
        macs = tokens * 3 * e * e + 2 * tokens * keys * e + tokens * e * e
        return Geometry(x, params, macs, "unknown")
