"""Layers that rearrange or resample: Flatten, Unflatten, pixel and channel shuffles, Upsample."""

import math
from fractions import Fraction
from typing import Literal

from cnncalc.errors import GeometryError
from cnncalc.layers.base import AXIS_NAMES, Back, Geometry, Layer, Shape, Spatial, Window, fmt_shape
from cnncalc.layers.pool import adaptive_windows


def _axis(dim: int, rank: int) -> int:
    """Normalise a possibly negative axis as PyTorch's ``maybe_wrap_dim`` does (scalars: rank 1)."""
    r = max(rank, 1)
    if not -r <= dim < r:
        raise GeometryError(f"dimension {dim} is out of range for a {rank}D input (expected [{-r}, {r - 1}])")
    return dim + r if dim < 0 else dim


class Flatten(Layer):
    """``Flatten(start_dim=1, end_dim=-1)``: merge axes start..end into one."""

    start_dim: int = 1
    end_dim: int = -1

    def apply(self, x: Shape) -> Geometry:
        if not x:  # torch.flatten of a 0-d tensor gives a 1-element vector
            _axis(self.start_dim, 0)
            _axis(self.end_dim, 0)
            return Geometry((1,), spatial="global")
        start, end = _axis(self.start_dim, len(x)), _axis(self.end_dim, len(x))
        if start > end:
            raise GeometryError(f"start_dim ({self.start_dim}) comes after end_dim ({self.end_dim})")
        merged = math.prod(x[start : end + 1])
        # merging everything after the batch (or channel) axis mixes all positions; merging only
        # some spatial axes reshapes space in a way the receptive-field algebra does not follow
        spatial: Spatial = "global" if start <= 1 and end == len(x) - 1 else "unknown"
        return Geometry(x[:start] + (merged,) + x[end + 1 :], spatial=spatial)


class Unflatten(Layer):
    """``Unflatten(dim, unflattened_size)``: split one axis into several (one may be -1)."""

    dim: int
    unflattened_size: tuple[int, ...]

    def apply(self, x: Shape) -> Geometry:
        if not x:
            raise GeometryError("Unflatten needs an input of at least 1 dimension, got a scalar")
        dim = _axis(self.dim, len(x))
        sizes = self.unflattened_size
        if not sizes:
            raise GeometryError("unflattened_size must not be empty")
        if sizes.count(-1) > 1 or any(s < -1 for s in sizes):
            raise GeometryError(f"unflattened_size {fmt_shape(sizes)} is invalid")
        known = math.prod(s for s in sizes if s != -1)
        if -1 in sizes:
            if known == 0 or x[dim] % known:
                raise GeometryError(
                    f"unflattened_size {fmt_shape(sizes)} does not divide size {x[dim]} of dim {dim}"
                )
            sizes = tuple(x[dim] // known if s == -1 else s for s in sizes)
        elif known != x[dim]:
            raise GeometryError(
                f"unflattened_size {fmt_shape(sizes)} has {known} elements, "
                f"but dim {dim} of {fmt_shape(x)} has {x[dim]}"
            )
        return Geometry(x[:dim] + sizes + x[dim + 1 :], spatial="unknown")


class PixelShuffle(Layer):
    """``PixelShuffle(r)``: (*, C·r², H, W) → (*, C, H·r, W·r)."""

    upscale_factor: int

    def apply(self, x: Shape) -> Geometry:
        r = self.upscale_factor
        if len(x) < 3:
            raise GeometryError(f"PixelShuffle expects at least a 3D input, got {fmt_shape(x)}")
        if r <= 0:
            raise GeometryError(f"upscale_factor must be positive, got {r}")
        c, h, w = x[-3:]
        if c % (r * r):
            raise GeometryError(f"channels ({c}) must be divisible by upscale_factor² ({r * r})")
        windows = (Window(Fraction(1), Fraction(1, r), Fraction(0)),) * 2

        def back(axis: int, j: int) -> list[int]:
            return [j // r]

        return Geometry(
            x[:-3] + (c // (r * r), h * r, w * r), spatial=windows, back=back, channel_space="shuffle"
        )


class PixelUnshuffle(Layer):
    """``PixelUnshuffle(r)``: (*, C, H·r, W·r) → (*, C·r², H, W)."""

    downscale_factor: int

    def apply(self, x: Shape) -> Geometry:
        r = self.downscale_factor
        if len(x) < 3:
            raise GeometryError(f"PixelUnshuffle expects at least a 3D input, got {fmt_shape(x)}")
        if r <= 0:
            raise GeometryError(f"downscale_factor must be positive, got {r}")
        c, h, w = x[-3:]
        for axis, size in (("height", h), ("width", w)):
            if size % r:
                raise GeometryError(f"{axis} ({size}) must be divisible by downscale_factor ({r})")
        windows = (Window(Fraction(r), Fraction(r), Fraction(0)),) * 2

        def back(axis: int, j: int) -> range:
            return range(j * r, j * r + r)

        return Geometry(
            x[:-3] + (c * r * r, h // r, w // r), spatial=windows, back=back, channel_space="unshuffle"
        )


class ChannelShuffle(Layer):
    """``ChannelShuffle(groups)``: permutes channels (axis 1); the shape is unchanged."""

    groups: int

    def apply(self, x: Shape) -> Geometry:
        if len(x) <= 2:
            raise GeometryError(f"ChannelShuffle expects more than 2 dimensions, got {fmt_shape(x)}")
        if self.groups <= 0:
            raise GeometryError(f"groups must be positive, got {self.groups}")
        if x[1] % self.groups:
            raise GeometryError(f"channels ({x[1]}) must be divisible by groups ({self.groups})")
        return Geometry(x)


UpsampleMode = Literal["nearest", "linear", "bilinear", "bicubic", "trilinear", "area", "nearest-exact"]
_MODE_RANK = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}


class _Resize(Layer, abstract=True):
    """``torch.nn.functional.interpolate``'s size rules."""

    def _resize(
        self,
        x: Shape,
        size: int | tuple[int, ...] | None,
        scale_factor: float | tuple[float, ...] | None,
        mode: str,
        align_corners: bool | None,
        recompute_scale_factor: bool | None = None,
    ) -> Geometry:
        n = len(x) - 2
        if n not in (1, 2, 3):
            raise GeometryError(f"Upsample supports 3D, 4D and 5D inputs, got {fmt_shape(x)}")
        if align_corners is not None and mode in ("nearest", "area", "nearest-exact"):
            raise GeometryError(f"align_corners can only be set with an interpolating mode, not {mode!r}")
        want = _MODE_RANK.get(mode)
        if want is not None and want != len(x):
            raise GeometryError(f"mode {mode!r} needs a {want}D input, got {len(x)}D input {fmt_shape(x)}")
        if size is not None and scale_factor is not None:
            raise GeometryError("only one of size or scale_factor should be defined")
        if size is not None:
            if recompute_scale_factor:
                raise GeometryError("recompute_scale_factor is not meaningful with an explicit size")
            out = (size,) * n if isinstance(size, int) else size
            scales: tuple[float, ...] = ()
            if len(out) != n:
                raise GeometryError(f"size {fmt_shape(out)} must have {n} entries for {fmt_shape(x)}")
        elif scale_factor is not None:
            scales = (scale_factor,) * n if isinstance(scale_factor, (int, float)) else scale_factor
            if len(scales) != n:
                raise GeometryError(f"scale_factor must have {n} entries for {fmt_shape(x)}")
            if not all(isinstance(s, (int, float)) and math.isfinite(s) for s in scales):
                raise GeometryError(
                    f"scale_factor must be finite numbers, got {scale_factor}", "scale_factor"
                )
            # torch/nn/functional.py interpolate: floor(float(size) * scale) in double precision;
            # the float product is PyTorch's rule, so it is reproduced here as is.
            try:
                out = tuple(math.floor(float(d) * float(s)) for d, s in zip(x[2:], scales))
            except OverflowError:  # a size or product past 1.8e308, which no double holds
                raise GeometryError(f"{fmt_shape(x)} is too large to scale in double precision") from None
        else:
            raise GeometryError("either size or scale_factor should be defined")
        minimum = 0 if mode == "area" else 1  # area mode is adaptive average pooling: 0 allowed
        for axis, o in zip(AXIS_NAMES[n], out):
            if o < minimum:
                raise GeometryError(f"output {axis} {o} is not positive")
        if mode == "area":
            windows, back = adaptive_windows(x[2:], out)
            return Geometry(x[:2] + tuple(out), spatial=windows, back=back)
        # the scale PyTorch's kernels use: 1/scale_factor when one is passed on, else in/out
        given = None if size is not None or recompute_scale_factor else scales
        invs = []
        for i, (l_in, l_out) in enumerate(zip(x[2:], out)):
            if align_corners:
                inv = Fraction(l_in - 1, l_out - 1) if l_out > 1 else Fraction(0)
            elif given is not None and float(given[i]) > 0:
                inv = 1 / Fraction(repr(float(given[i])))
            else:
                inv = Fraction(l_in, l_out)
            invs.append(inv)
        windows, back = _interpolation(mode, bool(align_corners), x[2:], tuple(invs))
        return Geometry(x[:2] + tuple(out), spatial=windows, back=back)


def _cubic_weights(t: Fraction) -> tuple[Fraction, ...]:
    """aten/src/ATen/native/UpSample.h get_cubic_upsample_coefficients, A = -0.75."""
    a = Fraction(-3, 4)

    def near(v: Fraction) -> Fraction:  # |v| <= 1
        return ((a + 2) * v - (a + 3)) * v * v + 1

    def far(v: Fraction) -> Fraction:  # 1 < |v| < 2
        return ((a * v - 5 * a) * v + 8 * a) * v - 4 * a

    return far(t + 1), near(t), near(1 - t), far(2 - t)


def _interpolation(
    mode: str, align_corners: bool, sizes: Shape, invs: tuple[Fraction, ...]
) -> tuple[tuple[Window, ...], Back]:
    """Source positions of interpolation (aten/src/ATen/native/UpSample.h), exactly.

    nearest: floor(j*inv); nearest-exact: floor((j + 1/2)*inv); linear modes read src and
    src + 1 with src = (j + 1/2)*inv - 1/2 (clamped at 0), or j*inv with align_corners; bicubic
    reads floor(src) - 1 .. floor(src) + 2, clamped. Taps with weight 0 feed nothing. As windows
    in the receptive-field algebra: stride inv, size 1 (nearest), 2 (linear) or 4 (cubic).
    """
    if mode in ("nearest", "nearest-exact"):
        shift = Fraction(1, 2) if mode == "nearest-exact" else Fraction(0)
        windows = tuple(Window(Fraction(1), inv, -shift * inv) for inv in invs)

        def nearest(axis: int, j: int) -> list[int]:
            return [min(math.floor((j + shift) * invs[axis]), sizes[axis] - 1)]

        return windows, nearest

    cubic = mode == "bicubic"
    taps = 4 if cubic else 2
    windows = tuple(
        Window(Fraction(taps), inv, (1 if cubic else 0) + (Fraction(0) if align_corners else (1 - inv) / 2))
        for inv in invs
    )

    def interpolate(axis: int, j: int) -> list[int]:
        size, inv = sizes[axis], invs[axis]
        src = j * inv if align_corners else (j + Fraction(1, 2)) * inv - Fraction(1, 2)
        if not cubic:
            src = max(src, Fraction(0))
            i0 = math.floor(src)
            i1 = i0 + 1 if i0 < size - 1 else i0
            return [i0] if src == i0 else [i0, i1]
        i0 = math.floor(src)
        weights = _cubic_weights(src - i0)
        return sorted({min(max(i0 - 1 + m, 0), size - 1) for m in range(4) if weights[m] != 0})

    return windows, interpolate


class Upsample(_Resize):
    """``Upsample(size=None, scale_factor=None, mode='nearest')``."""

    size: int | tuple[int, ...] | None = None
    scale_factor: float | tuple[float, ...] | None = None
    mode: UpsampleMode = "nearest"
    align_corners: bool | None = None
    recompute_scale_factor: bool | None = None

    def apply(self, x: Shape) -> Geometry:
        return self._resize(
            x, self.size, self.scale_factor, self.mode, self.align_corners, self.recompute_scale_factor
        )


class UpsamplingNearest2d(_Resize):
    """``UpsamplingNearest2d``: Upsample with mode='nearest'."""

    size: int | tuple[int, ...] | None = None
    scale_factor: float | tuple[float, ...] | None = None

    def apply(self, x: Shape) -> Geometry:
        return self._resize(x, self.size, self.scale_factor, "nearest", None)


class UpsamplingBilinear2d(_Resize):
    """``UpsamplingBilinear2d``: Upsample with mode='bilinear', align_corners=True."""

    size: int | tuple[int, ...] | None = None
    scale_factor: float | tuple[float, ...] | None = None

    def apply(self, x: Shape) -> Geometry:
        return self._resize(x, self.size, self.scale_factor, "bilinear", True)


class Narrow(Layer):
    """``torch.narrow(x, dim, start, length)`` as a layer: keep ``length`` entries of one axis.

    Not a torch.nn module: it expresses Darknet's grouped routes and ONNX's Slice/Split. Rules of
    ``torch.narrow``: ``start`` may be negative (counted from the end), ``length`` >= 0 and
    ``start + length`` within the axis.
    """

    dim: int
    start: int
    length: int

    def apply(self, x: Shape) -> Geometry:
        if not x:
            raise GeometryError("Narrow needs an input of at least 1 dimension, got a scalar")
        dim = _axis(self.dim, len(x))
        size = x[dim]
        start = self.start + size if self.start < 0 else self.start
        if not 0 <= start <= size:
            raise GeometryError(f"start {self.start} is out of range for dim {dim} of size {size}", "start")
        if self.length < 0 or start + self.length > size:
            raise GeometryError(
                f"start ({start}) + length ({self.length}) exceeds the size {size} of dim {dim}", "length"
            )
        out = x[:dim] + (self.length,) + x[dim + 1 :]
        # slicing the batch or channel axis keeps every position; slicing space is not modelled
        return Geometry(out, spatial="identity" if dim <= 1 and len(x) > 2 else "unknown")
