"""Padding layers: zero, constant, reflection, replication and circular padding, per side.

Every padding layer is ``torch.nn.functional.pad`` with a fixed mode, so the rules live in
:func:`pad_shape`, which convolutions with ``padding_mode`` other than zeros use as well.
"""

from collections.abc import Callable

from cnncalc.errors import GeometryError
from cnncalc.layers.base import AXIS_NAMES, Geometry, Layer, Shape, Window, fmt_shape, nd_kinds, sliding_back

# How each mode is named in messages.
MODE_NAMES = {
    "constant": "constant",
    "reflect": "reflection",
    "replicate": "replication",
    "circular": "circular",
}


def pad_shape(x: Shape, flat: tuple[int, ...], mode: str) -> tuple[Shape, list[int]]:
    """The shape ``F.pad(x, flat, mode)`` returns, with PyTorch's checks, and the left pads.

    ``flat`` is (left, right) for the last axis, then for the one before, and so on. Sources:
    torch/nn/functional.py ``pad``; aten/src/ATen/native/PadNd.cpp; torch/_meta_registrations.py
    ``_pad1d_common``/``_pad2d_common``/``_pad3d_common``. The left pads come back in axis order.
    """
    if len(flat) % 2:
        raise GeometryError(f"padding must have an even number of values, got {len(flat)}", "padding")
    n = len(flat) // 2
    name = MODE_NAMES[mode]
    if mode == "constant":
        if n > len(x):
            raise GeometryError(
                f"{len(flat)} padding values pad {n} axes, but the input {fmt_shape(x)} has {len(x)}",
                "padding",
            )
    elif n not in (1, 2, 3) or len(x) not in (n + 1, n + 2):
        raise GeometryError(
            f"{name} padding with {len(flat)} values needs a {n + 1}D or {n + 2}D input, "
            f"got {len(x)}D input {fmt_shape(x)}",
            "padding",
        )
    pairs = [(flat[2 * i], flat[2 * i + 1]) for i in range(n)][::-1]
    sizes = x[len(x) - n :]
    axes = AXIS_NAMES.get(n, tuple(f"axis {len(x) - n + i}" for i in range(n)))
    out = []
    for axis, size, (before, after) in zip(axes, sizes, pairs):
        result = size + before + after
        if mode == "reflect" and (before >= size or after >= size):
            raise GeometryError(
                f"reflection padding ({before}, {after}) must be smaller than the {axis} ({size})", "padding"
            )
        if mode == "circular" and (before > size or after > size):
            raise GeometryError(
                f"circular padding ({before}, {after}) must not exceed the {axis} ({size})", "padding"
            )
        if result < 0:
            raise GeometryError(f"{axis} {size} + {before} + {after} = {result} is negative", "padding")
        out.append(result)
    # reflection and replication kernels want a non-empty result: in 1D the length must be >= 1,
    # in 2D and 3D PyTorch only refuses when every padded axis is 0 (``output_w >= 1 or ...``).
    if mode in ("reflect", "replicate") and not any(o >= 1 for o in out):
        raise GeometryError(f"{name} padding leaves an empty output {fmt_shape(tuple(out))}", "padding")
    return x[: len(x) - n] + tuple(out), [before for before, _ in pairs]


def pad_source(mode: str) -> Callable[[int, int], int | None]:
    """For a position ``q`` outside an input of ``size``, the input position ``F.pad`` copies
    there in ``mode`` (None for constant padding)."""

    def reflect(q: int, size: int) -> int | None:
        period = 2 * (size - 1)
        if period == 0:
            return 0
        q %= period
        return q if q < size else period - q

    def replicate(q: int, size: int) -> int | None:
        return min(max(q, 0), size - 1)

    def circular(q: int, size: int) -> int | None:
        return q % size

    def constant(q: int, size: int) -> int | None:
        return None

    return {"reflect": reflect, "replicate": replicate, "circular": circular}.get(mode, constant)


class _PadNd(Layer, abstract=True):
    """Pads the last axes; ``padding`` is an int (every side of ``dims`` axes) or (left, right,
    top, bottom, front, back) — last axis first, as in ``torch.nn.functional.pad``."""

    dims = 2
    pad_mode = "constant"

    padding: int | tuple[int, ...]

    def apply(self, x: Shape) -> Geometry:
        pad = self.padding
        flat = (pad,) * (2 * self.dims) if isinstance(pad, int) else pad
        y, lefts = pad_shape(x, flat, self.pad_mode)
        n = len(lefts)
        back = sliding_back(x[len(x) - n :], (1,) * n, (1,) * n, lefts, (1,) * n, pad_source(self.pad_mode))
        return Geometry(y, spatial=tuple(Window(1, 1, left) for left in lefts), back=back)


class _ConstantPadNd(_PadNd, abstract=True):
    value: float


ZeroPad1d, ZeroPad2d, ZeroPad3d = nd_kinds(_PadNd, "ZeroPad")
ConstantPad1d, ConstantPad2d, ConstantPad3d = nd_kinds(_ConstantPadNd, "ConstantPad")
ReflectionPad1d, ReflectionPad2d, ReflectionPad3d = nd_kinds(_PadNd, "ReflectionPad", pad_mode="reflect")
ReplicationPad1d, ReplicationPad2d, ReplicationPad3d = nd_kinds(
    _PadNd, "ReplicationPad", pad_mode="replicate"
)
CircularPad1d, CircularPad2d, CircularPad3d = nd_kinds(_PadNd, "CircularPad", pad_mode="circular")
