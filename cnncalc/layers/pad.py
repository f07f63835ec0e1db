"""Padding layers: zero, constant, reflection, replication and circular padding, per side."""

from __future__ import annotations

from typing import ClassVar

from cnncalc.errors import GeometryError
from cnncalc.layers.base import (
    AXIS_NAMES,
    Geometry,
    Layer,
    Shape,
    fmt_shape,
    register,
    spatial_input,
    window,
)


class _PadNd(Layer):
    """Pads the last ``dims`` axes; ``padding`` is an int or (left, right[, top, bottom[, front,
    back]]) — last axis first, as in ``torch.nn.functional.pad``."""

    dims: ClassVar[int] = 2
    mode: ClassVar[str] = "constant"

    padding: int | tuple[int, ...]

    def _sides(self) -> list[tuple[int, int]]:
        """(before, after) per padded axis, in the input's axis order."""
        n = self.dims
        pad = self.padding
        flat = (pad,) * (2 * n) if isinstance(pad, int) else pad
        if len(flat) != 2 * n:
            raise GeometryError(f"padding must be an int or a tuple of {2 * n} ints, got {pad!r}")
        pairs = [(flat[2 * i], flat[2 * i + 1]) for i in range(n)]
        return pairs[::-1]

    def _check_rank(self, x: Shape) -> None:
        spatial_input(x, self.dims)

    def apply(self, x: Shape) -> Geometry:
        n = self.dims
        sides = self._sides()
        self._check_rank(x)
        head = x[: len(x) - n]
        out = []
        for axis, size, (before, after) in zip(AXIS_NAMES[n], x[len(x) - n :], sides):
            self._check_axis(axis, size, before, after)
            out.append(size + before + after)
        rf = tuple(window(1, 1, before) for before, _ in sides)
        return Geometry(head + tuple(out), spatial=rf)

    def _check_axis(self, axis: str, size: int, before: int, after: int) -> None:
        result = size + before + after
        if result <= 0:
            raise GeometryError(
                f"{axis} {size} + {before} + {after} = {result} is not positive ({self.mode} padding)"
            )


class _ZeroPadNd(_PadNd):
    """Constant padding with zeros: negative sizes crop, any rank with enough axes."""

    def _check_rank(self, x: Shape) -> None:
        # F.pad in constant mode pads the last axes of a tensor of any rank that has enough of them
        if len(x) < self.dims:
            raise GeometryError(
                f"padding {2 * self.dims} values needs an input of at least {self.dims}D, got {fmt_shape(x)}"
            )

    def _check_axis(self, axis: str, size: int, before: int, after: int) -> None:
        result = size + before + after
        if result < 0:
            raise GeometryError(
                f"{axis} {size} + {before} + {after} = {result} is negative (constant padding)"
            )


class _ConstantPadNd(_ZeroPadNd):
    value: float


class _ReflectionPadNd(_PadNd):
    mode: ClassVar[str] = "reflection"

    def _check_axis(self, axis: str, size: int, before: int, after: int) -> None:
        # aten/src/ATen/native/ReflectionPad.cpp: each pad must be smaller than the input size
        if before >= size or after >= size:
            raise GeometryError(
                f"reflection padding ({before}, {after}) must be smaller than the {axis} ({size})"
            )
        super()._check_axis(axis, size, before, after)


class _ReplicationPadNd(_PadNd):
    mode: ClassVar[str] = "replication"


class _CircularPadNd(_PadNd):
    mode: ClassVar[str] = "circular"

    def _check_axis(self, axis: str, size: int, before: int, after: int) -> None:
        # aten/src/ATen/native/PadNd.cpp _pad_circular: wrapping more than once is refused
        if before > size or after > size:
            raise GeometryError(f"circular padding ({before}, {after}) must not exceed the {axis} ({size})")
        super()._check_axis(axis, size, before, after)


@register
class ZeroPad1d(_ZeroPadNd):
    kind: ClassVar[str] = "ZeroPad1d"
    dims: ClassVar[int] = 1


@register
class ZeroPad2d(_ZeroPadNd):
    kind: ClassVar[str] = "ZeroPad2d"
    dims: ClassVar[int] = 2


@register
class ZeroPad3d(_ZeroPadNd):
    kind: ClassVar[str] = "ZeroPad3d"
    dims: ClassVar[int] = 3


@register
class ConstantPad1d(_ConstantPadNd):
    kind: ClassVar[str] = "ConstantPad1d"
    dims: ClassVar[int] = 1


@register
class ConstantPad2d(_ConstantPadNd):
    kind: ClassVar[str] = "ConstantPad2d"
    dims: ClassVar[int] = 2


@register
class ConstantPad3d(_ConstantPadNd):
    kind: ClassVar[str] = "ConstantPad3d"
    dims: ClassVar[int] = 3


@register
class ReflectionPad1d(_ReflectionPadNd):
    kind: ClassVar[str] = "ReflectionPad1d"
    dims: ClassVar[int] = 1


@register
class ReflectionPad2d(_ReflectionPadNd):
    kind: ClassVar[str] = "ReflectionPad2d"
    dims: ClassVar[int] = 2


@register
class ReflectionPad3d(_ReflectionPadNd):
    kind: ClassVar[str] = "ReflectionPad3d"
    dims: ClassVar[int] = 3


@register
class ReplicationPad1d(_ReplicationPadNd):
    kind: ClassVar[str] = "ReplicationPad1d"
    dims: ClassVar[int] = 1


@register
class ReplicationPad2d(_ReplicationPadNd):
    kind: ClassVar[str] = "ReplicationPad2d"
    dims: ClassVar[int] = 2


@register
class ReplicationPad3d(_ReplicationPadNd):
    kind: ClassVar[str] = "ReplicationPad3d"
    dims: ClassVar[int] = 3


@register
class CircularPad1d(_CircularPadNd):
    kind: ClassVar[str] = "CircularPad1d"
    dims: ClassVar[int] = 1


@register
class CircularPad2d(_CircularPadNd):
    kind: ClassVar[str] = "CircularPad2d"
    dims: ClassVar[int] = 2


@register
class CircularPad3d(_CircularPadNd):
    kind: ClassVar[str] = "CircularPad3d"
    dims: ClassVar[int] = 3
