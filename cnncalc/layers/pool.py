"""Pooling: max, average, power-average and adaptive pooling in 1, 2 and 3 dimensions."""

from fractions import Fraction

from cnncalc.errors import GeometryError
from cnncalc.layers.base import (
    AXIS_NAMES,
    Back,
    Geometry,
    IntOrTuple,
    Layer,
    Shape,
    Window,
    nd_kinds,
    non_negative,
    nonempty,
    ntuple,
    positive,
    sliding_back,
    spatial_input,
)


def pooled_size(axis: str, size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """aten/src/ATen/native/Pool.h ``pooling_output_shape``, with its checks.

    out = floor_or_ceil((L + 2p - d(k-1) - 1) / s) + 1, and in ceil mode the last window must
    start inside the input or its left padding.
    """
    # Pool.h pool2d_shape_check: "pad should be smaller than or equal to half of kernel size";
    # pooling_output_shape also bounds it by half the dilated kernel, which is never stricter.
    if p > k // 2:
        raise GeometryError(f"padding ({p}) must be at most half of the kernel size ({k}) on the {axis}")
    numerator = size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
    out = numerator // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    if out <= 0:
        rounding = "ceil" if ceil_mode else "floor"
        raise GeometryError(
            f"{axis} {rounding}(({size} + 2*{p} - {d}*({k}-1) - 1) / {s}) + 1 = {out} is not positive"
        )
    return out


class _WindowPool(Layer, abstract=True):
    """Shared arithmetic of MaxPool, AvgPool and LPPool: a window slid over each channel."""

    dims = 2

    def _pool(
        self,
        x: Shape,
        kernel_size: IntOrTuple,
        stride: IntOrTuple | None,
        padding: IntOrTuple,
        dilation: IntOrTuple,
        ceil_mode: bool,
        kernel_fits: bool = False,
    ) -> Geometry:
        n = self.dims
        ch = spatial_input(x, n)
        nonempty(x, ch)
        k = ntuple(kernel_size, n, "kernel_size")
        # stride=None (or an empty tuple, as F.max_pool2d accepts) means stride = kernel_size
        s = k if stride is None or stride == () else ntuple(stride, n, "stride")
        p = ntuple(padding, n, "padding")
        d = ntuple(dilation, n, "dilation")
        positive(k, "kernel_size")
        positive(s, "stride")
        positive(d, "dilation")
        non_negative(p, "padding")
        if kernel_fits:
            # aten/src/ATen/native/Pool.h pool3d_shape_check (average pooling in 3D only): the
            # unpadded input must be at least as large as the kernel
            for axis, size, ki in zip(AXIS_NAMES[n], x[ch + 1 :], k):
                if size < ki:
                    raise GeometryError(f"{axis} ({size}) is smaller than the kernel ({ki})")
        out = [
            pooled_size(axis, size, ki, si, pi, di, ceil_mode)
            for axis, size, ki, si, pi, di in zip(AXIS_NAMES[n], x[ch + 1 :], k, s, p, d)
        ]
        rf: tuple[Window, ...] = tuple(
            Window(di * (ki - 1) + 1, si, pi) for ki, si, pi, di in zip(k, s, p, d)
        )
        back = sliding_back(x[ch + 1 :], k, s, p, d)
        return Geometry(x[: ch + 1] + tuple(out), spatial=rf, back=back)


class _MaxPoolNd(_WindowPool, abstract=True):
    kernel_size: IntOrTuple
    stride: IntOrTuple | None = None
    padding: IntOrTuple = 0
    dilation: IntOrTuple = 1
    return_indices: bool = False
    ceil_mode: bool = False

    def apply(self, x: Shape) -> Geometry:
        if self.return_indices:
            raise GeometryError("return_indices=True returns a tuple, which cnncalc cannot chain")
        return self._pool(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode)


class _AvgPoolNd(_WindowPool, abstract=True):
    kernel_size: IntOrTuple
    stride: IntOrTuple | None = None
    padding: IntOrTuple = 0
    ceil_mode: bool = False
    count_include_pad: bool = True

    def apply(self, x: Shape) -> Geometry:
        return self._pool(
            x, self.kernel_size, self.stride, self.padding, 1, self.ceil_mode, kernel_fits=self.dims == 3
        )


class _AvgPoolDivisor(_AvgPoolNd, abstract=True):
    divisor_override: int | None = None

    def apply(self, x: Shape) -> Geometry:
        if self.divisor_override is not None and self.divisor_override == 0:
            raise GeometryError("divisor_override must not be zero")
        return super().apply(x)


class _LPPoolNd(_WindowPool, abstract=True):
    """``LPPool``: average pooling of x**p without padding, then a power (torch/nn/functional.py)."""

    norm_type: float
    kernel_size: IntOrTuple
    stride: IntOrTuple | None = None
    ceil_mode: bool = False

    def apply(self, x: Shape) -> Geometry:
        kernel = self.kernel_size
        # torch/nn/functional.py lp_pool1d multiplies by kernel_size itself (an int only);
        # lp_pool2d/3d unpack exactly 2 or 3 values
        if not isinstance(kernel, int) and (self.dims == 1 or len(kernel) != self.dims):
            want = "an int" if self.dims == 1 else f"an int or a tuple of {self.dims} ints"
            raise GeometryError(f"{self.kind} kernel_size must be {want}, got {kernel!r}", "kernel_size")
        return self._pool(x, kernel, self.stride, 0, 1, self.ceil_mode, kernel_fits=self.dims == 3)


class _AdaptivePoolNd(Layer, abstract=True):
    """Adaptive pooling: output size given; unit i pools input [floor(iL/o), ceil((i+1)L/o))."""

    dims = 2

    output_size: int | tuple[int | None, ...] | None

    def apply(self, x: Shape) -> Geometry:
        n = self.dims
        ch = spatial_input(x, n)
        nonempty(x, ch)
        wanted = self.output_size
        if wanted is None and n == 1:
            # adaptive_avg_pool1d takes _single(None), which the 1D kernel refuses
            raise GeometryError("output_size None is not allowed in 1D", "output_size")
        sizes = (wanted,) * n if wanted is None or isinstance(wanted, int) else wanted
        if len(sizes) != n:
            raise GeometryError(f"output_size must be an int or a tuple of {n}, got {wanted!r}")
        out = tuple(size if o is None else o for o, size in zip(sizes, x[ch + 1 :]))
        non_negative(out, "output_size")
        rf, back = adaptive_windows(x[ch + 1 :], out)
        return Geometry(x[: ch + 1] + out, spatial=rf, back=back)


def adaptive_windows(sizes: Shape, out: Shape) -> tuple[tuple[Window, ...], Back]:
    """Adaptive pooling's windows: unit j of o pools input [floor(jL/o), ceil((j+1)L/o)).

    aten/src/ATen/native/AdaptivePooling.h start_index/end_index. The windows differ in size
    when o does not divide L; the receptive-field algebra takes the largest, with stride L/o.
    """

    def bounds(size: int, o: int, j: int) -> range:
        return range(j * size // o, -(-(j + 1) * size // o))

    windows = []
    for size, o in zip(sizes, out):
        largest = max((len(bounds(size, o, j)) for j in range(o)), default=1) if o else 1
        windows.append(Window(Fraction(largest), Fraction(size, o) if o else Fraction(1), Fraction(0)))

    def back(axis: int, j: int) -> range:
        return bounds(sizes[axis], out[axis], j)

    return tuple(windows), back


class _AdaptiveMaxPoolNd(_AdaptivePoolNd, abstract=True):
    return_indices: bool = False


MaxPool1d, MaxPool2d, MaxPool3d = nd_kinds(_MaxPoolNd, "MaxPool")
# AvgPool1d has no divisor_override (torch.nn.AvgPool1d), AvgPool2d and AvgPool3d do
(AvgPool1d,) = nd_kinds(_AvgPoolNd, "AvgPool", dims=(1,))
AvgPool2d, AvgPool3d = nd_kinds(_AvgPoolDivisor, "AvgPool", dims=(2, 3))
LPPool1d, LPPool2d, LPPool3d = nd_kinds(_LPPoolNd, "LPPool")
AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveAvgPool3d = nd_kinds(_AdaptivePoolNd, "AdaptiveAvgPool")
AdaptiveMaxPool1d, AdaptiveMaxPool2d, AdaptiveMaxPool3d = nd_kinds(_AdaptiveMaxPoolNd, "AdaptiveMaxPool")
