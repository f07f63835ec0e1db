"""Normalisation layers: batch, instance, group, layer, RMS and local-response normalisation."""

import math

from cnncalc.errors import GeometryError
from cnncalc.layers.base import (
    Geometry,
    IntOrTuple,
    Layer,
    Shape,
    as_tuple,
    check_channels,
    fmt_shape,
    nd_kinds,
    spatial_input,
)


class _BatchNorm(Layer, abstract=True):
    """``BatchNorm{1,2,3}d``: per-channel weight and bias (running statistics are buffers)."""

    inferred = "num_features"
    keyword_only = ("bias",)

    num_features: int | None = None
    eps: float = 1e-5
    momentum: float | None = 0.1
    affine: bool = True
    track_running_stats: bool = True
    bias: bool = True

    def apply(self, x: Shape) -> Geometry:
        ranks = self.ranks or ()
        if len(x) not in ranks:
            want = " or ".join(f"{r}D" for r in ranks)
            raise GeometryError(f"expected a {want} input, got {len(x)}D input {fmt_shape(x)}")
        c = x[1]
        # torch/nn/modules/batchnorm.py: num_features is only checked through the weight and the
        # running statistics, so without both any channel count passes
        if self.affine or self.track_running_stats:
            c = check_channels(self.num_features, c, "num_features")
        elif self.num_features is not None:
            c = self.num_features
        if not self.track_running_stats:
            # no running statistics: batch statistics even in eval(), which need 2+ values
            _more_than_one(x[0] * math.prod(x[2:]), "value per channel", x)
        return Geometry(x, _affine(c, self.affine, self.bias))


def _more_than_one(count: int, what: str, x: Shape) -> None:
    """torch/nn/functional.py _verify_batch_size / _verify_spatial_size."""
    if count <= 1:
        raise GeometryError(f"normalising with input statistics needs more than 1 {what}, got {fmt_shape(x)}")


def _affine(count: int, affine: bool, bias: bool) -> int:
    return (count + (count if bias else 0)) if affine else 0


class _InstanceNorm(Layer, abstract=True):
    """``InstanceNorm{1,2,3}d``: affine parameters only with ``affine=True`` (off by default)."""

    inferred = "num_features"
    dims = 2
    keyword_only = ("bias",)

    num_features: int | None = None
    eps: float = 1e-5
    momentum: float = 0.1
    affine: bool = False
    track_running_stats: bool = False
    bias: bool = True

    def apply(self, x: Shape) -> Geometry:
        ch = spatial_input(x, self.dims)
        c = x[ch]
        # torch/nn/modules/instancenorm.py: a num_features mismatch is an error only with
        # affine=True; otherwise PyTorch warns and normalises anyway.
        if self.affine:
            c = check_channels(self.num_features, c, "num_features")
        elif self.num_features is not None:
            c = self.num_features
        if not self.track_running_stats and math.prod(x[ch + 1 :]) <= 1:
            raise GeometryError(
                f"instance normalisation needs more than 1 spatial element, got {fmt_shape(x)}"
            )
        return Geometry(x, _affine(c, self.affine, self.bias))


class GroupNorm(Layer):
    """``GroupNorm(num_groups, num_channels)``: channels split into groups, per-channel affine."""

    inferred = "num_channels"
    keyword_only = ("bias",)

    num_groups: int
    num_channels: int | None = None
    eps: float = 1e-5
    affine: bool = True
    bias: bool = True

    def apply(self, x: Shape) -> Geometry:
        if len(x) < 2:
            raise GeometryError(f"expected an input of at least 2D (N, C, ...), got {fmt_shape(x)}")
        c = x[1]
        given = self.num_channels if self.num_channels is not None else c
        if self.num_groups <= 0 or given % self.num_groups:
            raise GeometryError(f"num_channels ({given}) must be divisible by num_groups ({self.num_groups})")
        # torch/nn/functional.py group_norm: num_channels only shapes the affine weight
        if self.affine:
            check_channels(self.num_channels, c, "num_channels")
        elif c % self.num_groups:
            raise GeometryError(
                f"the input's {c} channels must be divisible by num_groups ({self.num_groups})"
            )
        _more_than_one(x[0] * c // self.num_groups * math.prod(x[2:]), "value per group", x)
        return Geometry(x, _affine(given, self.affine, self.bias))


def _check_trailing(x: Shape, shape: tuple[int, ...]) -> None:
    if len(x) < len(shape) or x[len(x) - len(shape) :] != shape:
        raise GeometryError(
            f"normalized_shape {fmt_shape(shape)} does not match the last dimensions of input {fmt_shape(x)}"
        )


class LayerNorm(Layer):
    """``LayerNorm(normalized_shape)``: normalises the trailing dimensions; elementwise affine."""

    normalized_shape: IntOrTuple
    eps: float = 1e-5
    elementwise_affine: bool = True
    bias: bool = True

    def apply(self, x: Shape) -> Geometry:
        shape = as_tuple(self.normalized_shape)
        _check_trailing(x, shape)
        return Geometry(x, _affine(math.prod(shape), self.elementwise_affine, self.bias))


class LayerNorm2d(Layer):
    """timm's ``LayerNorm2d(num_channels)``: LayerNorm over the channels of an (N, C, H, W) tensor
    at every position (timm/layers/norm.py); weight and bias per channel."""

    num_channels: int
    eps: float = 1e-6
    affine: bool = True

    def apply(self, x: Shape) -> Geometry:
        if len(x) != 4:
            raise GeometryError(f"expected a 4D (N, C, H, W) input, got {len(x)}D input {fmt_shape(x)}")
        check_channels(self.num_channels, x[1], "num_channels")
        return Geometry(x, _affine(self.num_channels, self.affine, True))


class RMSNorm(Layer):
    """``RMSNorm(normalized_shape)``: like LayerNorm, with a weight and no bias."""

    normalized_shape: IntOrTuple
    eps: float | None = None
    elementwise_affine: bool = True

    def apply(self, x: Shape) -> Geometry:
        shape = as_tuple(self.normalized_shape)
        _check_trailing(x, shape)
        return Geometry(x, math.prod(shape) if self.elementwise_affine else 0)


class LocalResponseNorm(Layer):
    """``LocalResponseNorm(size)``: normalises across neighbouring channels; no parameters."""

    size: int
    alpha: float = 1e-4
    beta: float = 0.75
    k: float = 1.0

    def apply(self, x: Shape) -> Geometry:
        if self.size <= 0:
            raise GeometryError(f"size must be positive, got {self.size}", "size")
        if len(x) < 3:
            raise GeometryError(f"expected an input of 3 or more dimensions, got {fmt_shape(x)}")
        return Geometry(x)


# torch/nn/modules/batchnorm.py _check_input_dim: BatchNorm1d takes (N, C) or (N, C, L)
BatchNorm1d, BatchNorm2d, BatchNorm3d = nd_kinds(
    _BatchNorm, "BatchNorm", lazy=True, ranks=((2, 3), (4,), (5,))
)
InstanceNorm1d, InstanceNorm2d, InstanceNorm3d = nd_kinds(_InstanceNorm, "InstanceNorm", lazy=True)
