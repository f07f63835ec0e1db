"""Tensor operations as layers: permutations, reshapes, reductions, selection, expansion, drop path.

None of them has parameters or multiply-adds. Their receptive-field rule follows the engine's
convention that a tensor of rank >= 3 is (N, C, *spatial) and a tensor of rank <= 2 has its
last axis as its only position axis: an operation that leaves every position axis in place is
"identity"; one that reduces all of them is "global"; anything that moves, merges or partly
reduces position axes is "unknown" (reported, never guessed).
"""

import math
import warnings
from collections.abc import Iterable
from typing import Literal

from pydantic import Field

from cnncalc.errors import GeometryError
from cnncalc.layers.base import Geometry, Layer, Shape, Spatial, Window, fmt_shape, reduced_space, space
from cnncalc.layers.reshape import _axis


def kept_in_place(x: Shape, out: Shape, moved: Iterable[int]) -> Spatial:
    """ "identity" when the rank is kept and no position axis is in ``moved`` or resized."""
    touched = set(moved)
    if len(x) == len(out) and all(a not in touched and x[a] == out[a] for a in space(len(x))):
        return "identity"
    return "unknown"


def _dims(value: int | tuple[int, ...], rank: int, name: str = "dim") -> tuple[int, ...]:
    """Axes normalised as torch's ``dim_list_to_bitset`` does: in range and each at most once."""
    dims = tuple(_axis(d, rank) for d in ((value,) if isinstance(value, int) else value))
    for d in dims:
        if dims.count(d) > 1:
            raise GeometryError(f"dim {d} appears multiple times in the list of dims", name)
    return dims


# ---- layout -------------------------------------------------------------------------------------


# torch.permute's argument is ``dims``, which is also Layer's class-level count of spatial axes
# for the Nd families; pydantic warns that the field shadows it (only Nd kinds read that count).
with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)

    class Permute(Layer):
        """``x.permute(dims)``: the axes in a new order (one entry per axis)."""

        # required (Field()): without it pydantic would take Layer's class-level 0 as a default
        dims: tuple[int, ...] = Field()  # type: ignore[misc, assignment]  # torch's name; see above

        def apply(self, x: Shape) -> Geometry:
            if len(self.dims) != len(x):
                raise GeometryError(
                    f"number of dims don't match in permute: {len(self.dims)} dims for "
                    f"{len(x)}D input {fmt_shape(x)}",
                    "dims",
                )
            dims = _dims(self.dims, len(x), "dims")
            out = tuple(x[d] for d in dims)
            return Geometry(out, spatial=kept_in_place(x, out, [i for i, d in enumerate(dims) if i != d]))


class Transpose(Layer):
    """``x.transpose(dim0, dim1)``: two axes swapped."""

    dim0: int
    dim1: int

    def apply(self, x: Shape) -> Geometry:
        a, b = _axis(self.dim0, len(x)), _axis(self.dim1, len(x))
        if not x:
            return Geometry(x)
        out = list(x)
        out[a], out[b] = x[b], x[a]
        return Geometry(tuple(out), spatial=kept_in_place(x, tuple(out), [a, b] if a != b else []))


def infer_size(shape: tuple[int, ...], total: int, name: str) -> Shape:
    """ATen's ``infer_size``: one -1 takes what the others leave; the element count must match."""
    if shape.count(-1) > 1:
        raise GeometryError("only one dimension can be inferred", name)
    if any(s < -1 for s in shape):
        raise GeometryError(f"invalid shape dimension {min(shape)}", name)
    known = math.prod(s for s in shape if s != -1)
    if -1 in shape:
        if known == 0:
            raise GeometryError(
                f"cannot reshape a tensor of {total} elements into shape {fmt_shape(shape)}: "
                "the unspecified dimension -1 can be any value",
                name,
            )
        if total % known == 0:
            return tuple(total // known if s == -1 else s for s in shape)
    elif known == total:
        return shape
    raise GeometryError(f"shape {fmt_shape(shape)} is invalid for an input of size {total}", name)


class Reshape(Layer):
    """``x.reshape(shape)`` / ``x.view(shape)``: the same elements in a new shape (one -1 inferred)."""

    aliases = ("View",)

    shape: tuple[int, ...]

    def apply(self, x: Shape) -> Geometry:
        out = infer_size(self.shape, math.prod(x), "shape")
        spatial: Spatial
        if len(x) >= 3 and len(out) == 2 and out[0] == x[0]:
            spatial = "global"  # x.reshape(N, -1): every position into one axis, as Flatten
        else:
            spatial = kept_in_place(x, out, [])
        return Geometry(out, spatial=spatial)


class Squeeze(Layer):
    """``x.squeeze(dim)``: axes of size 1 removed (all of them, or those of ``dim`` that are 1)."""

    dim: int | tuple[int, ...] | None = None

    def apply(self, x: Shape) -> Geometry:
        dims = range(len(x)) if self.dim is None else _dims(self.dim, len(x))
        out = tuple(s for i, s in enumerate(x) if not (i in dims and s == 1))
        return Geometry(out, spatial="identity" if out == x else "unknown")


class Unsqueeze(Layer):
    """``x.unsqueeze(dim)``: an axis of size 1 inserted at ``dim`` (counted in the output)."""

    dim: int

    def apply(self, x: Shape) -> Geometry:
        r = len(x) + 1  # the dim counts in the output
        if not -r <= self.dim < r:
            raise GeometryError(
                f"dimension {self.dim} is out of range for unsqueezing a {len(x)}D input "
                f"(expected [{-r}, {r - 1}])",
                "dim",
            )
        d = self.dim % r
        return Geometry(x[:d] + (1,) + x[d:], spatial="unknown")


# ---- selection ----------------------------------------------------------------------------------


def _sliced(x: Shape, dim: int, start: int, length: int, step: int) -> Geometry:
    """Entries start, start + step, … of axis ``dim``: exact windows where it is a position axis."""
    out = x[:dim] + (length,) + x[dim + 1 :]
    if dim not in space(len(x)):
        return Geometry(out)
    if len(x) < 3:
        return Geometry(out, spatial="unknown")
    # output j of the sliced axis reads input start + j*step: a window of size 1, stride step,
    # padding -start; the other position axes are untouched
    windows = tuple(Window(1, step, -start) if a == dim else Window(1, 1, 0) for a in range(2, len(x)))

    def back(axis: int, j: int) -> list[int]:
        return [start + j * step] if axis + 2 == dim else [j]

    return Geometry(out, spatial=windows, back=back)


class Select(Layer):
    """``x.select(dim, index)`` / ``x[:, index]``: one entry of an axis, the axis removed."""

    dim: int
    index: int

    def apply(self, x: Shape) -> Geometry:
        if not x:
            raise GeometryError("select() cannot be applied to a 0-dim tensor")
        d = _axis(self.dim, len(x))
        if not -x[d] <= self.index < x[d]:
            raise GeometryError(f"index {self.index} is out of range for dim {d} of size {x[d]}", "index")
        out = x[:d] + x[d + 1 :]
        # taking one batch entry or one channel leaves the position axes last, in order
        spatial: Spatial = "identity" if len(x) >= 3 and d < 2 else "unknown"
        return Geometry(out, spatial=spatial)


class Slice(Layer):
    """``x[..., start:end:step]`` along ``dim``: Python's slice rules, ``step`` positive."""

    dim: int = 0
    start: int | None = None
    end: int | None = None
    step: int = 1

    def apply(self, x: Shape) -> Geometry:
        if not x:
            raise GeometryError("slice() cannot be applied to a 0-dim tensor")
        d = _axis(self.dim, len(x))
        if self.step <= 0:
            raise GeometryError(f"slice step must be positive, got {self.step}", "step")
        size = x[d]

        def clamp(v: int | None, default: int) -> int:
            if v is None:
                return default
            return min(max(v + size if v < 0 else v, 0), size)

        start, end = clamp(self.start, 0), clamp(self.end, size)
        length = -(-(end - start) // self.step) if end > start else 0
        return _sliced(x, d, start, length, self.step)


def _piece(x: Shape, dim: int, sizes: list[int], index: int) -> Geometry:
    """Piece ``index`` (Python indexing) of axis ``dim`` cut into ``sizes``."""
    if not -len(sizes) <= index < len(sizes):
        raise GeometryError(f"index {index} is out of range for {len(sizes)} pieces", "index")
    index %= len(sizes)
    return _sliced(x, dim, sum(sizes[:index]), sizes[index], 1)


def split_sizes(size: int, split_size: int) -> list[int]:
    """aten/src/ATen/native/TensorShape.cpp split: pieces of split_size, the last one smaller."""
    if split_size < 0 or (split_size == 0 and size != 0):
        raise GeometryError(
            f"split_size can only be 0 if the dimension size is 0, but got {split_size}",
            "split_size_or_sections",
        )
    count = max(-(-size // split_size), 1) if split_size else 1
    return [split_size] * (count - 1) + [size - split_size * (count - 1)]


class Split(Layer):
    """Piece ``index`` of ``torch.split(x, split_size_or_sections, dim)``."""

    split_size_or_sections: int | tuple[int, ...]
    dim: int = 0
    index: int = 0

    def apply(self, x: Shape) -> Geometry:
        if not x:
            raise GeometryError("split expects at least a 1-dimensional tensor")
        d = _axis(self.dim, len(x))
        spec = self.split_size_or_sections
        if isinstance(spec, int):
            sizes = split_sizes(x[d], spec)
        else:
            if any(s < 0 for s in spec) or sum(spec) != x[d]:
                raise GeometryError(
                    f"split sizes {fmt_shape(spec)} must be non-negative and sum to "
                    f"the size {x[d]} of dim {d}",
                    "split_size_or_sections",
                )
            sizes = list(spec)
        return _piece(x, d, sizes, self.index)


class Chunk(Layer):
    """Piece ``index`` of ``torch.chunk(x, chunks, dim)`` (pieces of ceil(size / chunks))."""

    chunks: int
    dim: int = 0
    index: int = 0

    def apply(self, x: Shape) -> Geometry:
        if not x:
            raise GeometryError("chunk expects at least a 1-dimensional tensor")
        if self.chunks <= 0:
            raise GeometryError(f"chunk expects chunks to be greater than 0, got {self.chunks}", "chunks")
        d = _axis(self.dim, len(x))
        size = x[d]
        each = -(-size // self.chunks)
        # aten chunk: an empty axis still gives ``chunks`` empty pieces
        sizes = [0] * self.chunks if size == 0 else split_sizes(size, each)
        return _piece(x, d, sizes, self.index)


# ---- expansion ----------------------------------------------------------------------------------


class Expand(Layer):
    """``x.expand(size)``: axes of size 1 repeated (without copying) to ``size``; -1 keeps one."""

    size: tuple[int, ...]

    def apply(self, x: Shape) -> Geometry:
        want = self.size
        if len(want) < len(x):
            raise GeometryError(
                f"the number of sizes provided ({len(want)}) must be greater or equal to the "
                f"number of dimensions in the tensor ({len(x)})",
                "size",
            )
        lead = len(want) - len(x)
        out = []
        for i, w in enumerate(want):
            if i < lead:
                if w < 0:
                    raise GeometryError(
                        f"the expanded size {w} isn't allowed in a leading, new dimension", "size"
                    )
                out.append(w)
                continue
            have = x[i - lead]
            if w != -1 and (w < -1 or have not in (1, w)):
                raise GeometryError(
                    f"the expanded size {w} must match the existing size {have} at dim {i}", "size"
                )
            out.append(have if w == -1 else w)
        return Geometry(tuple(out), spatial=kept_in_place(x, tuple(out), []))


class Repeat(Layer):
    """``x.repeat(repeats)``: the tensor tiled ``repeats[i]`` times along each axis."""

    repeats: tuple[int, ...]

    def apply(self, x: Shape) -> Geometry:
        reps = self.repeats
        if len(reps) < len(x):
            raise GeometryError(
                "number of dimensions of repeat dims can not be smaller than number of dimensions of tensor",
                "repeats",
            )
        if any(r < 0 for r in reps):
            raise GeometryError(f"repeats must not be negative, got {fmt_shape(reps)}", "repeats")
        padded = (1,) * (len(reps) - len(x)) + x
        out = tuple(s * r for s, r in zip(padded, reps))
        return Geometry(out, spatial=kept_in_place(x, out, []))


# ---- reductions ---------------------------------------------------------------------------------


class _Reduction(Layer, abstract=True):
    """``torch.<op>(x, dim, keepdim)``: ``dim`` None or () reduces every axis."""

    dim: int | tuple[int, ...] | None = None
    keepdim: bool = False

    def apply(self, x: Shape) -> Geometry:
        every = self.dim is None or self.dim == ()
        dims = tuple(range(len(x))) if every else _dims(self.dim or 0, len(x))
        self.check(x, dims)
        if self.keepdim:
            out = tuple(1 if i in dims else s for i, s in enumerate(x))
        else:
            out = tuple(s for i, s in enumerate(x) if i not in dims)
        return Geometry(out, spatial=reduced_space(len(x), dims))

    def check(self, x: Shape, dims: tuple[int, ...]) -> None:
        """PyTorch's own refusals of a reduction (none for mean and sum)."""


class Mean(_Reduction):
    """``x.mean(dim, keepdim)``: the average over the axes ``dim``."""


class Sum(_Reduction):
    """``x.sum(dim, keepdim)``: the sum over the axes ``dim``."""


class Amax(_Reduction):
    """``x.amax(dim, keepdim)``: the maximum over the axes ``dim``."""

    def check(self, x: Shape, dims: tuple[int, ...]) -> None:
        # aten amax: a maximum over no elements is refused
        if x and any(x[d] == 0 for d in dims):
            raise GeometryError(f"amax: expected reduction dims to have non-zero size, got {fmt_shape(x)}")


# ---- stochastic depth: identity at inference ----------------------------------------------------


class StochasticDepth(Layer):
    """``torchvision.ops.StochasticDepth(p, mode)``: drops residual branches in training only."""

    p: float
    mode: Literal["batch", "row"]

    def apply(self, x: Shape) -> Geometry:
        # torchvision/ops/stochastic_depth.py checks p before the eval-mode shortcut
        if not 0.0 <= self.p <= 1.0:
            raise GeometryError(f"drop probability has to be between 0 and 1, but got {self.p}", "p")
        return Geometry(x)


class DropPath(Layer):
    """``timm.layers.DropPath(drop_prob)``: drops residual branches in training only."""

    drop_prob: float = 0.0
    scale_by_keep: bool = True

    def apply(self, x: Shape) -> Geometry:
        return Geometry(x)
