"""Element-wise layers: activations, dropout and Identity keep the shape and see one position."""

from typing import Literal

from cnncalc.errors import GeometryError
from cnncalc.layers.base import Geometry, Layer, Shape, fmt_shape, nd_kinds, reduced_space


class _Elementwise(Layer, abstract=True):
    """A layer that maps each element on its own: same shape, no parameters, no MACs."""

    def apply(self, x: Shape) -> Geometry:
        return Geometry(x)


class _Inplace(_Elementwise, abstract=True):
    inplace: bool = False


def _dim_check(x: Shape, dim: int | None) -> None:
    rank = max(len(x), 1)
    if dim is not None and not -rank <= dim < rank:
        raise GeometryError(f"dim {dim} is out of range for a {len(x)}D input {fmt_shape(x)}")


# ---- activations without arguments of interest ------------------------------------------------


class ReLU(_Inplace):
    pass


class ReLU6(_Inplace):
    pass


class SELU(_Inplace):
    pass


class SiLU(_Inplace):
    pass


class Mish(_Inplace):
    pass


class Hardswish(_Inplace):
    pass


class Hardsigmoid(_Inplace):
    pass


class Sigmoid(_Elementwise):
    pass


class Tanh(_Elementwise):
    pass


class LogSigmoid(_Elementwise):
    pass


class Softsign(_Elementwise):
    pass


class Tanhshrink(_Elementwise):
    pass


# ---- activations with arguments ---------------------------------------------------------------


class LeakyReLU(_Elementwise):
    pass

    negative_slope: float = 0.01
    inplace: bool = False


class ELU(_Elementwise):
    pass

    alpha: float = 1.0
    inplace: bool = False


class CELU(_Elementwise):
    pass

    alpha: float = 1.0
    inplace: bool = False

    def apply(self, x: Shape) -> Geometry:
        if self.alpha == 0:
            raise GeometryError("CELU: alpha must not be zero")
        return Geometry(x)


class GELU(_Elementwise):
    pass

    approximate: Literal["none", "tanh"] = "none"


class Hardtanh(_Elementwise):
    pass

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


class Softplus(_Elementwise):
    pass

    beta: float = 1.0
    threshold: float = 20.0


class Hardshrink(_Elementwise):
    pass

    lambd: float = 0.5


class Softshrink(_Elementwise):
    pass

    lambd: float = 0.5

    def apply(self, x: Shape) -> Geometry:
        if self.lambd < 0:
            raise GeometryError(f"Softshrink: lambd must be at least 0, got {self.lambd}")
        return Geometry(x)


class Threshold(_Elementwise):
    pass

    threshold: float
    value: float
    inplace: bool = False


class PReLU(Layer):
    """``PReLU(num_parameters=1)``: a learnt slope, shared or one per channel (axis 1)."""

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


class _Softmax(_Elementwise, abstract=True):
    dim: int | None = None

    def apply(self, x: Shape) -> Geometry:
        _dim_check(x, self.dim)
        # torch/nn/functional.py _get_softmax_dim: without a dim, 0 for 0-, 1- and 3-D inputs, else 1
        dim = self.dim if self.dim is not None else (0 if len(x) in (0, 1, 3) else 1)
        # normalising over a position axis mixes the positions along it
        return Geometry(x, spatial=reduced_space(len(x), [dim % max(len(x), 1)]))


class Softmax(_Softmax):
    pass


class LogSoftmax(_Softmax):
    pass


class Softmin(_Softmax):
    pass


class Softmax2d(_Elementwise):
    pass

    def apply(self, x: Shape) -> Geometry:
        if len(x) not in (3, 4):
            raise GeometryError(f"Softmax2d expects a 3D or 4D input, got {fmt_shape(x)}")
        return Geometry(x)


# ---- dropout: identity at inference, with PyTorch's checks ------------------------------------


class _Dropout(_Elementwise, abstract=True):
    p: float = 0.5
    inplace: bool = False

    def apply(self, x: Shape) -> Geometry:
        if not 0 <= self.p <= 1:
            raise GeometryError(f"dropout probability has to be between 0 and 1, but got {self.p}")
        if self.ranks is not None and len(x) not in self.ranks:
            want = " or ".join(f"{r}D" for r in self.ranks)
            raise GeometryError(f"{self.kind} expects a {want} input, got {fmt_shape(x)}")
        return Geometry(x)


class Dropout(_Dropout):
    pass


# Dropout1d takes (N, C, L) or (C, L) only; Dropout2d and Dropout3d warn and accept any rank
Dropout1d, Dropout2d, Dropout3d = nd_kinds(_Dropout, "Dropout", ranks=((2, 3), None, None))


class AlphaDropout(_Dropout):
    pass


class FeatureAlphaDropout(_Dropout):
    pass


class Identity(_Elementwise):
    """``Identity(*args, **kwargs)``: accepts and ignores any arguments, as PyTorch does."""

    ignores_arguments = True
