"""Arithmetic: Sub and Div merges, element-wise operations with a constant, learned tensors.

Element-wise arithmetic counts no multiply-adds, as the activations and Add/Mul do (torchvision's
published ``_ops`` count only convolutions, linear layers and matrix products).
"""

import math
from typing import ClassVar, Literal

from cnncalc.errors import GeometryError
from cnncalc.layers.base import Geometry, Layer, Shape, fmt_shape, space
from cnncalc.layers.merge import _Elementwise, broadcast


class Sub(_Elementwise):
    """``a - b``: shapes equal or broadcastable."""

    verb = "subtract"


class Div(_Elementwise):
    """``a / b``: shapes equal or broadcastable."""

    verb = "divide"


# x op value (add, sub, mul, div, pow, ...), value op x (rsub, rdiv, rpow), or x op bound
_WITH_VALUE = ("add", "sub", "rsub", "mul", "div", "rdiv", "pow", "rpow", "fmod", "remainder")
_BOUNDS = ("clamp_min", "clamp_max")
_UNARY = (
    "neg", "abs", "sqrt", "rsqrt", "exp", "log", "log2", "log1p", "expm1", "erf", "reciprocal",
    "square", "sign", "floor", "ceil", "round", "trunc", "sin", "cos",
)  # fmt: skip

ArithOp = Literal[
    "add", "sub", "rsub", "mul", "div", "rdiv", "pow", "rpow", "fmod", "remainder",
    "clamp_min", "clamp_max",
    "neg", "abs", "sqrt", "rsqrt", "exp", "log", "log2", "log1p", "expm1", "erf", "reciprocal",
    "square", "sign", "floor", "ceil", "round", "trunc", "sin", "cos",
]  # fmt: skip


class Arith(Layer):
    """``x + 3``, ``1 - x``, ``x ** 2``, ``-x``, ``torch.erf(x)``: element-wise, shape kept.

    ``op`` with a ``value``: add, sub, mul, div, pow, fmod, remainder (x op value), rsub, rdiv,
    rpow (value op x), clamp_min, clamp_max; without: the unary functions.
    """

    op: ArithOp
    value: float | None = None

    def apply(self, x: Shape) -> Geometry:
        needs = self.op in _WITH_VALUE or self.op in _BOUNDS
        if needs and self.value is None:
            raise GeometryError(f"{self.op} needs a value", "value")
        if not needs and self.value is not None:
            raise GeometryError(f"{self.op} takes no value, got {self.value}", "value")
        return Geometry(x)


def _learned_shape(shape: tuple[int, ...]) -> int:
    """The parameter count of a learned tensor of ``shape``."""
    if any(s < 0 for s in shape):
        raise GeometryError(f"a learned tensor's shape must not be negative, got {fmt_shape(shape)}", "shape")
    return math.prod(shape)


class _Learned(Layer, abstract=True):
    """A learned tensor of ``shape`` broadcast onto the input (position embedding, layer scale)."""

    verb: ClassVar[str] = "add"

    shape: tuple[int, ...]

    def apply(self, x: Shape) -> Geometry:
        params = _learned_shape(self.shape)
        out = broadcast([x, self.shape], self.verb)
        # the same learned value at every position keeps positions; one that widens the input
        # spreads it in a way the receptive-field algebra does not follow
        return Geometry(out, params, spatial="identity" if out == x else "unknown")


class LearnedAdd(_Learned):
    """``x + p`` with ``p`` a learned tensor of ``shape``: position embeddings; prod(shape) parameters."""


class LearnedMul(_Learned):
    """``x * g`` with ``g`` a learned tensor of ``shape``: layer scale; prod(shape) parameters."""

    verb = "multiply"


class LearnedConcat(Layer):
    """``torch.cat([t.expand(...), x], dim)``: a learned tensor (a class token) broadcast to the
    input's other sizes and concatenated before it (after it with ``first=False``)."""

    shape: tuple[int, ...]
    dim: int = 1
    first: bool = True

    def apply(self, x: Shape) -> Geometry:
        params = _learned_shape(self.shape)
        if len(self.shape) != len(x):
            raise GeometryError(
                f"cannot concatenate a learned {len(self.shape)}D tensor {fmt_shape(self.shape)} "
                f"with a {len(x)}D input"
            )
        if not x or not -len(x) <= self.dim < len(x):
            raise GeometryError(f"dim {self.dim} is out of range for a {len(x)}D input", "dim")
        dim = self.dim % len(x)
        for axis, (a, b) in enumerate(zip(self.shape, x)):
            if axis != dim and a not in (1, b):
                raise GeometryError(
                    f"the learned tensor {fmt_shape(self.shape)} has size {a} at axis {axis}, "
                    f"where the input has {b}"
                )
        out = x[:dim] + (x[dim] + self.shape[dim],) + x[dim + 1 :]
        return Geometry(out, params, spatial="unknown" if dim in space(len(x)) else "identity")
