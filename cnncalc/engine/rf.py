"""Receptive fields: the Distill algebra per layer, and the exact input region of any unit.

Convention of Araujo, Norris and Sim, "Computing Receptive Fields of Convolutional Neural
Networks" (Distill, 2019): input position i is centred at coordinate i; unit u of a layer sees
input coordinates [u*S - P, u*S - P + r - 1], with r the size, S the effective stride and P the
effective padding. A layer with kernel extent k, stride s and left padding p (all in its input's
units, possibly fractional) composes as

    r <- r + (k - 1) * S,    P <- P + p * S,    S <- S * s        (Distill, eq. 1-3 generalised)

with exact fractions, so transposed convolutions and upsampling (stride < 1) stay exact.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from cnncalc.layers.base import Back, Q, Shape, Spatial, Window
from cnncalc.records import quick_init
from cnncalc.report import Product


@quick_init
@dataclass(frozen=True)
class AxisField:
    """Receptive field of a layer along one spatial axis."""

    size: Q
    stride: Q
    padding: Q

    @property
    def centre0(self) -> Q:
        """Input coordinate of the centre of unit 0: ``(r - 1)/2 - P``."""
        return Fraction(self.size - 1) / 2 - self.padding

    def region(self, u: int) -> tuple[Q, Q]:
        """The unclipped input interval unit ``u`` sees: ``[u*S - P, u*S - P + r - 1]``."""
        start = u * self.stride - self.padding
        return start, start + self.size - 1


IDENTITY = AxisField(1, 1, 0)


@quick_init
@dataclass(frozen=True)
class Field:
    """The receptive field after a layer: one AxisField per spatial axis (the last ``len(axes)``
    dimensions), ``whole`` once every unit sees the union of all positions (Flatten, Linear,
    global pooling). ``axes`` is None before any spatial layer, or when it cannot be known."""

    axes: tuple[AxisField, ...] | None = None
    whole: bool = False
    known: bool = True
    # at a merge whose inputs disagree in effective stride or centre offset (Distill's alignment
    # condition): each input's fields, for the report
    misaligned: tuple[tuple[AxisField, ...], ...] = ()
    # every input position affects some unit of this layer (the union of the units' supports is
    # the whole input): a layer that then pools everything depends on every input position
    covers: bool = True
    # a stride below 1 (upsampling, transposed convolution) on the way: the Distill size is no
    # longer the extent of a unit's support, which engine.analyze then computes exactly
    fractional: bool = False


START = Field()
UNKNOWN = Field(known=False)


def compose(axis: AxisField, k: Q, s: Q, p: Q) -> AxisField:
    """One layer's window (extent k, stride s, left pad p, in its input's units) after ``axis``."""
    return AxisField(axis.size + (k - 1) * axis.stride, axis.stride * s, axis.padding + p * axis.stride)


def merge(fields: Sequence[Field]) -> Field:
    """The field of a merge (Add, Mul, Concat): the union of its inputs' regions.

    With equal strides the union is again a window: P = max P_i and r - 1 = max(r_i - 1 - P_i) + P
    (the leftmost start and the rightmost end of unit u's regions). When strides or centre offsets
    (r - 1)/2 - P differ, the paths are misaligned (Distill, "alignment"): the union of unit 0's
    regions is still reported, with the larger stride, and the inputs' fields are kept.
    """
    if not all(f.known for f in fields):
        return UNKNOWN
    n_axes = {len(f.axes) for f in fields if f.axes is not None}
    covers = any(f.covers for f in fields)  # every position of every input reaches the output
    fractional = any(f.fractional for f in fields)
    if not n_axes:
        return Field(whole=any(f.whole for f in fields), covers=covers)
    if len(n_axes) > 1:
        return UNKNOWN
    n = n_axes.pop()
    if any(f.whole for f in fields) and not all(f.whole for f in fields):
        # a global path (e.g. squeeze-and-excitation): every unit sees everything; the stride and
        # padding are those of the positional paths (the global one's output has no positions)
        local = merge([f for f in fields if not f.whole])
        return Field(local.axes, whole=True, fractional=local.fractional) if local.known else UNKNOWN
    inputs = [f.axes if f.axes is not None else (IDENTITY,) * n for f in fields]
    union = []
    aligned = True
    for axis in range(n):
        parts = [axes[axis] for axes in inputs]
        pad = max(p.padding for p in parts)
        end = max(p.size - 1 - p.padding for p in parts)
        stride = max(p.stride for p in parts)
        if len({p.stride for p in parts}) > 1 or len({p.centre0 for p in parts}) > 1:
            aligned = False
        union.append(AxisField(end + pad + 1, stride, pad))
    for f in fields:  # a global path (e.g. squeeze-and-excitation): every unit sees everything
        if f.whole:
            return Field(f.axes, whole=True)
    misaligned = () if aligned else tuple(tuple(a) for a in inputs)
    return Field(tuple(union), misaligned=misaligned, covers=covers, fractional=fractional)


def step(field: Field, spatial: Spatial, x: Shape, back: Back | None = None, y: Shape | None = None) -> Field:
    """The field after a layer with spatial map ``spatial`` applied to input shape ``x``
    (``back``, the layer's exact map, tells whether a window as large as the input reads it all;
    ``y``, the output shape, whether the layer has any unit at all)."""
    if not field.known or spatial == "unknown":
        return UNKNOWN
    if spatial == "identity" or field.whole:
        return field
    if spatial == "global":
        axes = field.axes
        if axes is None:
            n = len(x) - 2  # nothing spatial seen yet: (N, C, *spatial) by PyTorch's convention
            if n < 1:
                return UNKNOWN
            axes = (IDENTITY,) * n
        sizes = x[len(x) - len(axes) :]
        # every output sees the union of units 0 .. L-1 of its input
        union = tuple(
            AxisField(a.size + (size - 1) * a.stride, a.stride, a.padding) for a, size in zip(axes, sizes)
        )
        return Field(union, whole=field.covers, covers=field.covers, fractional=field.fractional)
    n = len(spatial)
    axes = field.axes if field.axes is not None else (IDENTITY,) * n
    if len(axes) != n:
        return UNKNOWN  # a layer with another number of spatial axes than before
    composed = tuple([compose(a, w.size, w.stride, w.pad) for a, w in zip(axes, spatial)])
    # The common layer (stride 1, a kernel smaller than its input, on a field that already
    # covers and has no stride below 1) costs one comparison per axis here: a long stack stays fast.
    sizes = x[len(x) - n :]
    if y is not None and 0 in y[len(y) - n :]:
        # no output unit along some axis (an adaptive pool to 0): nothing is read, the layer's
        # map has no unit to ask
        return Field(composed, covers=False, fractional=field.fractional)
    covers, fractional, spans = field.covers, field.fractional, False
    for axis, (w, size) in enumerate(zip(spatial, sizes)):
        if w.stride < 1:
            fractional = True  # every input position feeds some output of an upsampling layer
        elif covers and not (w.stride == 1 and 2 * w.size <= size + 2 * w.pad + 1):
            # stride 1 with at least as many units as the extent reads every position (a dilation
            # d <= extent leaves no gap over that many units); anything else is checked exactly
            covers = back is not None and _reads_all(w, size, axis, back)
        spans = spans or w.size >= size
    if spans and covers and back is not None and _each_reads_all(spatial, sizes, back):
        # every output unit reads every position of an input whose positions, together, depend
        # on every network input position (adaptive pooling to 1, a kernel as large as the input)
        return Field(composed, whole=True)
    if covers and not fractional:
        return Field(composed)
    return Field(composed, covers=covers, fractional=fractional)


def _out_size(w: Window, size: int) -> int:
    """Output units of a window along an axis of ``size``: the last unit starts within reach."""
    if w.stride <= 0:
        return 0
    return max(math.floor((size - 1 + w.pad - (w.size - 1) + w.pad) / w.stride) + 1, 0)


def _reads_all(w: Window, size: int, axis: int, back: Back) -> bool:
    """Whether the units together read every input position along ``axis``: no stride or
    dilation skips one and the last window reaches the end. Exact, by the layer's map: it runs
    only for strided layers and windows nearly as large as their input."""
    found = _union(back(axis, u) for u in range(_out_size(w, size)))
    return len(found & set(range(size))) == size


def _each_reads_all(spatial: tuple[Window, ...], sizes: Shape, back: Back) -> bool:
    """Whether every output unit's window spans the whole input (checked on the extents first,
    then exactly with the layer's map, so only layers that pool everything pay for it)."""
    for axis, (w, size) in enumerate(zip(spatial, sizes)):
        if size < 1 or w.size < size:
            return False
        outs = _out_size(w, size)
        if outs < 1 or (outs - 1) * w.stride - w.pad > 0 or w.size - 1 - w.pad < size - 1:
            return False
        full = set(range(size))
        if any(not full <= set(back(axis, u)) for u in range(outs)):
            return False
    return True


@dataclass(frozen=True)
class Hop:
    """One layer on the way back from a unit to the input: how its outputs map to its inputs."""

    spatial: Spatial
    back: Back | None
    in_sizes: Shape  # the layer input's sizes along the field's axes
    channel_space: str = ""


def through(hop: Hop, product: Product) -> Product | None:
    """Map a product of per-axis position sets back through one layer (None: unknown map)."""
    if hop.spatial == "identity":
        return product
    if hop.spatial == "global":
        return tuple(frozenset(range(size)) for size in hop.in_sizes)
    if hop.spatial == "unknown" or hop.back is None or len(hop.spatial) != len(product):
        return None
    back = hop.back
    return tuple(
        frozenset(_union(back(axis, j) for j in positions)) for axis, positions in enumerate(product)
    )


def add_product(products: list[Product], new: Product, cap: int = 64) -> tuple[list[Product], bool]:
    """Add a product to a union of products, dropping those another contains; past ``cap``
    products, collapse to one per-axis union (a superset: returns False for "still exact")."""
    if any(not axis for axis in new):
        return products, True
    if any(all(a >= b for a, b in zip(p, new)) for p in products):
        return products, True
    kept = [p for p in products if not all(a <= b for a, b in zip(p, new))]
    kept.append(new)
    if len(kept) > cap:
        return [tuple(frozenset().union(*axis) for axis in zip(*kept))], False
    return kept, True


def _union(groups: Iterable[Iterable[int]]) -> set[int]:
    """The union of position groups. Ranges are merged as intervals first (per step and residue),
    so the overlapping windows of a wide kernel cost the input's size, not their summed length."""
    found: set[int] = set()
    spans: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for group in groups:
        if isinstance(group, range):
            if len(group):
                spans.setdefault((group.step, group.start % group.step), []).append((group.start, group[-1]))
        else:
            found.update(group)
    for (step, _), pairs in spans.items():
        pairs.sort()
        lo, hi = pairs[0]
        for a, b in pairs[1:]:
            if a <= hi + step:
                hi = max(hi, b)
            else:
                found.update(range(lo, hi + 1, step))
                lo, hi = a, b
        found.update(range(lo, hi + 1, step))
    return found
