"""Element-wise layers: activations, dropout and Identity keep the shape and see one position."""

from typing import Literal

from cnncalc.errors import GeometryError
from cnncalc.layers.base import Geometry, Layer, Shape, fmt_shape, register


class _Elementwise(Layer):
    """A layer that maps each element on its own: same shape, no parameters, no MACs."""

    def apply(self, x: Shape) -> Geometry:
        return Geometry(x)


class _Inplace(_Elementwise):
    inplace: bool = False


def _dim_check(x: Shape, dim: int | None) -> None:
    rank = max(len(x), 1)
    if dim is not None and not -rank <= dim < rank:
        raise GeometryError(f"dim {dim} is out of range for a {len(x)}D input {fmt_shape(x)}")


# ---- activations without arguments of interest ------------------------------------------------


@register
class ReLU(_Inplace):
    kind = "ReLU"


@register
class ReLU6(_Inplace):
    kind = "ReLU6"


@register
class SELU(_Inplace):
    kind = "SELU"


@register
class SiLU(_Inplace):
    kind = "SiLU"


@register
class Mish(_Inplace):
    kind = "Mish"


@register
class Hardswish(_Inplace):
    kind = "Hardswish"


@register
class Hardsigmoid(_Inplace):
    kind = "Hardsigmoid"


@register
class Sigmoid(_Elementwise):
    kind = "Sigmoid"


@register
class Tanh(_Elementwise):
    kind = "Tanh"


@register
class LogSigmoid(_Elementwise):
    kind = "LogSigmoid"


@register
class Softsign(_Elementwise):
    kind = "Softsign"


@register
class Tanhshrink(_Elementwise):
    kind = "Tanhshrink"


# ---- activations with arguments ---------------------------------------------------------------


@register
class LeakyReLU(_Elementwise):
    kind = "LeakyReLU"

    negative_slope: float = 0.01
    inplace: bool = False


@register
class ELU(_Elementwise):
    kind = "ELU"

    alpha: float = 1.0
    inplace: bool = False


@register
class CELU(_Elementwise):
    kind = "CELU"

    alpha: float = 1.0
    inplace: bool = False

    def apply(self, x: Shape) -> Geometry:
        if self.alpha == 0:
            raise GeometryError("CELU: alpha must not be zero")
        return Geometry(x)


@register
class GELU(_Elementwise):
    kind = "GELU"

    approximate: Literal["none", "tanh"] = "none"


@register
class Hardtanh(_Elementwise):
    kind = "Hardtanh"

    min_val: float = -1.0
    max_val: float = 1.0
    inplace: bool = False
    min_value: float | None = None
    max_value: float | None = None

    def apply(self, x: Shape) -> Geometry:
        # torch/nn/modules/activation.py Hardtanh.__init__ asserts max_val > min_val
        low = self.min_val if self.min_value is None else self.min_value
        high = self.max_val if self.max_value is None else self.max_value
        if not high > low:
            raise GeometryError(f"Hardtanh: max_val ({high}) must be greater than min_val ({low})")
        return Geometry(x)


@register
class Softplus(_Elementwise):
    kind = "Softplus"

    beta: float = 1.0
    threshold: float = 20.0


@register
class Hardshrink(_Elementwise):
    kind = "Hardshrink"

    lambd: float = 0.5


@register
class Softshrink(_Elementwise):
    kind = "Softshrink"

    lambd: float = 0.5

    def apply(self, x: Shape) -> Geometry:
        if self.lambd < 0:
            raise GeometryError(f"Softshrink: lambd must be at least 0, got {self.lambd}")
        return Geometry(x)


@register
class Threshold(_Elementwise):
    kind = "Threshold"

    threshold: float
    value: float
    inplace: bool = False


@register
class PReLU(Layer):
    """``PReLU(num_parameters=1)``: a learnt slope, shared or one per channel (axis 1)."""

    kind = "PReLU"

    num_parameters: int = 1
    init: float = 0.25

    def apply(self, x: Shape) -> Geometry:
        if self.num_parameters <= 0:
            raise GeometryError(f"num_parameters must be positive, got {self.num_parameters}")
        # aten/src/ATen/native/Activation.cpp prelu: the channel axis is 1 (size 1 below 2D)
        channels = x[1] if len(x) >= 2 else 1
        if self.num_parameters not in (1, channels):
            raise GeometryError(f"num_parameters={self.num_parameters} but the input has {channels} channels")
        return Geometry(x, self.num_parameters)


class _Softmax(_Elementwise):
    dim: int | None = None

    def apply(self, x: Shape) -> Geometry:
        _dim_check(x, self.dim)
        return Geometry(x)


@register
class Softmax(_Softmax):
    kind = "Softmax"


@register
class LogSoftmax(_Softmax):
    kind = "LogSoftmax"


@register
class Softmin(_Softmax):
    kind = "Softmin"


@register
class Softmax2d(_Elementwise):
    kind = "Softmax2d"

    def apply(self, x: Shape) -> Geometry:
        if len(x) not in (3, 4):
            raise GeometryError(f"Softmax2d expects a 3D or 4D input, got {fmt_shape(x)}")
        return Geometry(x)


# ---- dropout: identity at inference, with PyTorch's checks ------------------------------------


class _Dropout(_Elementwise):
    p: float = 0.5
    inplace: bool = False

    def apply(self, x: Shape) -> Geometry:
        if not 0 <= self.p <= 1:
            raise GeometryError(f"dropout probability has to be between 0 and 1, but got {self.p}")
        if self.ranks is not None and len(x) not in self.ranks:
            want = " or ".join(f"{r}D" for r in self.ranks)
            raise GeometryError(f"{self.kind} expects a {want} input, got {fmt_shape(x)}")
        return Geometry(x)


@register
class Dropout(_Dropout):
    kind = "Dropout"


@register
class Dropout1d(_Dropout):
    kind = "Dropout1d"
    ranks = (2, 3)


@register
class Dropout2d(_Dropout):
    kind = "Dropout2d"


@register
class Dropout3d(_Dropout):
    kind = "Dropout3d"


@register
class AlphaDropout(_Dropout):
    kind = "AlphaDropout"


@register
class FeatureAlphaDropout(_Dropout):
    kind = "FeatureAlphaDropout"


@register
class Identity(_Elementwise):
    """``Identity(*args, **kwargs)``: accepts and ignores any arguments, as PyTorch does."""

    kind = "Identity"
    ignores_arguments = True
