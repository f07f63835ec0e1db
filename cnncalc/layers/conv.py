"""Convolutions and transposed convolutions in 1, 2 and 3 dimensions (``torch.nn.Conv*d``)."""

import math
from fractions import Fraction
from typing import Literal

from cnncalc.errors import GeometryError
from cnncalc.layers.base import (
    AXIS_NAMES,
    Back,
    Geometry,
    IntOrTuple,
    Layer,
    Shape,
    Window,
    as_tuple,
    check_channels,
    nd_kinds,
    non_negative,
    ntuple,
    numel,
    positive,
    sliding_back,
    spatial_input,
)
from cnncalc.layers.pad import pad_shape, pad_source

PaddingMode = Literal["zeros", "reflect", "replicate", "circular"]


def _check_channels_and_groups(cin: int, cout: int, groups: int) -> None:
    # torch/nn/modules/conv.py, ConvNd.__init__
    if cout <= 0:
        raise GeometryError(f"out_channels must be positive, got {cout}")
    if groups <= 0:
        raise GeometryError(f"groups must be a positive integer, got {groups}")
    if cin % groups:
        raise GeometryError(f"in_channels ({cin}) must be divisible by groups ({groups})")
    if cout % groups:
        raise GeometryError(f"out_channels ({cout}) must be divisible by groups ({groups})")


class ConvNd(Layer, abstract=True):
    """``torch.nn.Conv{1,2,3}d``: output = floor((L + 2p - d(k-1) - 1) / s) + 1 per axis."""

    dims = 2
    inferred = "in_channels"

    in_channels: int | None = None
    out_channels: int
    kernel_size: IntOrTuple
    stride: IntOrTuple = 1
    padding: IntOrTuple | Literal["same", "valid"] = 0
    dilation: IntOrTuple = 1
    groups: int = 1
    bias: bool = True
    padding_mode: PaddingMode = "zeros"

    def pointwise(self) -> bool:
        """A 1×1 convolution without stride, padding or groups: Linear(c_in, c_out) applied at
        every position (D2L 7.4.3)."""
        n = self.dims
        return (
            self.kernel_size in (1, (1,) * n)
            and self.stride in (1, (1,) * n, (1,))
            and self.padding in (0, (0,) * n, (0,), "valid", "same")
            and self.groups == 1
        )

    def apply(self, x: Shape) -> Geometry:
        n = self.dims
        ch = spatial_input(x, n)
        cin = check_channels(self.in_channels, x[ch], "in_channels")
        k = ntuple(self.kernel_size, n, "kernel_size", single=False)
        s = ntuple(self.stride, n, "stride")
        d = ntuple(self.dilation, n, "dilation")
        positive(k, "kernel_size")
        positive(s, "stride")
        positive(d, "dilation")
        _check_channels_and_groups(cin, self.out_channels, self.groups)
        sizes = x[ch + 1 :]
        if isinstance(self.padding, str):
            if self.padding == "same":
                if any(v != 1 for v in s):
                    raise GeometryError("padding='same' is not supported for strided convolutions")
                # torch/nn/modules/conv.py: total = d*(k-1), left = total // 2, the rest right.
                pads = [(di * (ki - 1) // 2, di * (ki - 1) - di * (ki - 1) // 2) for di, ki in zip(d, k)]
            else:
                pads = [(0, 0)] * n
        elif self.padding_mode != "zeros" and not any(as_tuple(self.padding)):
            pads = [(0, 0)] * n  # F.pad with all-zero padding changes nothing, whatever its length
        else:
            p = ntuple(self.padding, n, "padding")
            if self.padding_mode == "zeros":
                non_negative(p, "padding")
            pads = [(pi, pi) for pi in p]
        lefts = [left for left, _ in pads]  # the receptive field sees padding the same either way
        if self.padding_mode != "zeros" and any(left or right for left, right in pads):
            # torch/nn/modules/conv.py _conv_forward: F.pad(x, pads, mode) and then a convolution
            # without padding; negative pads crop, as F.pad does.
            flat = tuple(v for pair in reversed(pads) for v in pair)
            padded, _ = pad_shape(x, flat, self.padding_mode)
            sizes = tuple(padded[ch + 1 :])
            pads = [(0, 0)] * n
        out_spatial = []
        for axis, size, ki, si, di, (left, right) in zip(AXIS_NAMES[n], sizes, k, s, d, pads):
            out = (size + left + right - di * (ki - 1) - 1) // si + 1
            if out <= 0:
                pad_text = f"2*{left}" if left == right else f"{left} + {right}"
                raise GeometryError(
                    f"{axis} ({size} + {pad_text} - {di}*({ki}-1) - 1) / {si} + 1 = {out} is not positive"
                )
            out_spatial.append(out)
        y = x[:ch] + (self.out_channels, *out_spatial)
        per_out = cin // self.groups * math.prod(k)
        params = self.out_channels * per_out + (self.out_channels if self.bias else 0)
        rf = tuple(Window(di * (ki - 1) + 1, si, left) for ki, si, di, left in zip(k, s, d, lefts))
        remap = pad_source(self.padding_mode) if self.padding_mode != "zeros" else None
        back = sliding_back(x[ch + 1 :], k, s, lefts, d, remap)
        return Geometry(y, params, numel(y) * per_out, rf, back, weights=self.out_channels * per_out)


class _ConvTransposeNd(Layer, abstract=True):
    """``torch.nn.ConvTranspose{1,2,3}d``: output = (L-1)s - 2p + d(k-1) + output_padding + 1."""

    dims = 2
    inferred = "in_channels"

    in_channels: int | None = None
    out_channels: int
    kernel_size: IntOrTuple
    stride: IntOrTuple = 1
    padding: IntOrTuple = 0
    output_padding: IntOrTuple = 0
    groups: int = 1
    bias: bool = True
    dilation: IntOrTuple = 1
    padding_mode: PaddingMode = "zeros"

    def apply(self, x: Shape) -> Geometry:
        n = self.dims
        if self.padding_mode != "zeros":
            raise GeometryError(
                f'only "zeros" padding_mode is supported for {self.kind}, got {self.padding_mode!r}'
            )
        ch = spatial_input(x, n)
        cin = check_channels(self.in_channels, x[ch], "in_channels")
        k = ntuple(self.kernel_size, n, "kernel_size", single=False)
        s = ntuple(self.stride, n, "stride")
        d = ntuple(self.dilation, n, "dilation")
        p = ntuple(self.padding, n, "padding")
        op = ntuple(self.output_padding, n, "output_padding")
        positive(k, "kernel_size")
        positive(s, "stride")
        positive(d, "dilation")
        non_negative(p, "padding")
        non_negative(op, "output_padding")
        _check_channels_and_groups(cin, self.out_channels, self.groups)
        out_spatial = []
        for axis, size, ki, si, di, pi, oi in zip(AXIS_NAMES[n], x[ch + 1 :], k, s, d, p, op):
            # aten/src/ATen/native/ConvUtils.h: output padding must be smaller than stride or dilation
            if oi >= si and oi >= di:
                raise GeometryError(
                    f"output_padding ({oi}) must be smaller than either stride ({si}) "
                    f"or dilation ({di}) on the {axis}"
                )
            out = (size - 1) * si - 2 * pi + di * (ki - 1) + oi + 1
            if out <= 0:
                raise GeometryError(
                    f"{axis} ({size}-1)*{si} - 2*{pi} + {di}*({ki}-1) + {oi} + 1 = {out} is not positive"
                )
            out_spatial.append(out)
        y = x[:ch] + (self.out_channels, *out_spatial)
        per_in = self.out_channels // self.groups * math.prod(k)
        params = cin * per_in + (self.out_channels if self.bias else 0)
        # Input i feeds outputs i*s - p + d*m (m < k), so output j reads the i with
        # i*s = j + p - d*m: a window of d(k-1)/s + 1 input units, stride 1/s, left pad (d(k-1) - p)/s.
        rf = tuple(
            Window(Fraction(di * (ki - 1), si) + 1, Fraction(1, si), Fraction(di * (ki - 1) - pi, si))
            for ki, si, di, pi in zip(k, s, d, p)
        )
        back = _transposed_back(x[ch + 1 :], k, s, p, d)
        return Geometry(y, params, numel(x) * per_in, rf, back, weights=cin * per_in)


class LocallyConnected2d(Layer):
    """A 2D convolution with its own weights at every output position (no torch.nn module;
    Darknet's ``[local]``, src/local_layer.c): output = floor((L + 2p - k) / s) + 1 per axis.

    Parameters: ``out_channels·in_channels·k²`` weights and (with ``bias``) ``out_channels``
    biases at each of the ``out_h·out_w`` positions (make_local_layer allocates
    ``c·n·size²·locations`` weights and ``outputs`` biases); MACs ``in_channels·k²`` per output
    value, as a convolution's. Each output reads the window a convolution reads.
    """

    inferred = "in_channels"

    in_channels: int | None = None
    out_channels: int
    kernel_size: int
    stride: int = 1
    padding: int = 0
    bias: bool = True

    def apply(self, x: Shape) -> Geometry:
        if len(x) != 4:
            raise GeometryError(f"{self.kind} needs a 4D input (N, C, H, W), got {len(x)}D")
        cin = check_channels(self.in_channels, x[1], "in_channels")
        k, s, p = self.kernel_size, self.stride, self.padding
        positive((k,), "kernel_size")
        positive((s,), "stride")
        positive((self.out_channels,), "out_channels")
        non_negative((p,), "padding")
        out_spatial = []
        for axis, size in zip(AXIS_NAMES[2], x[2:]):
            out = (size + 2 * p - k) // s + 1
            if out <= 0:
                raise GeometryError(f"{axis} ({size} + 2*{p} - {k}) / {s} + 1 = {out} is not positive")
            out_spatial.append(out)
        y = (x[0], self.out_channels, *out_spatial)
        locations = out_spatial[0] * out_spatial[1]
        weights = self.out_channels * cin * k * k * locations
        params = weights + (self.out_channels * locations if self.bias else 0)
        rf = (Window(k, s, p), Window(k, s, p))
        back = sliding_back(x[2:], (k, k), (s, s), (p, p), (1, 1))
        return Geometry(y, params, numel(y) * cin * k * k, rf, back, weights=weights)


def _transposed_back(
    sizes: Shape, k: tuple[int, ...], s: tuple[int, ...], p: tuple[int, ...], d: tuple[int, ...]
) -> Back:
    """Inputs of a transposed convolution's output j: every i with i*s - p + d*m = j, m < k."""

    def back(axis: int, j: int) -> list[int]:
        found = []
        for m in range(k[axis]):
            i, rest = divmod(j + p[axis] - d[axis] * m, s[axis])
            if rest == 0 and 0 <= i < sizes[axis]:
                found.append(i)
        return found

    return back


Conv1d, Conv2d, Conv3d = nd_kinds(ConvNd, "Conv", lazy=True)
ConvTranspose1d, ConvTranspose2d, ConvTranspose3d = nd_kinds(_ConvTransposeNd, "ConvTranspose", lazy=True)
