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

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from cnncalc.layers.base import Back, Q, Shape, Spatial
from cnncalc.report import Product


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
    if not n_axes:
        return Field(whole=any(f.whole for f in fields))
    if len(n_axes) > 1:
        return UNKNOWN
    n = n_axes.pop()
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
    return Field(tuple(union), misaligned=() if aligned else tuple(tuple(a) for a in inputs))


def step(field: Field, spatial: Spatial, x: Shape) -> Field:
    """The field after a layer with spatial map ``spatial`` applied to input shape ``x``."""
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
        return Field(union, whole=True)
    n = len(spatial)
    axes = field.axes if field.axes is not None else (IDENTITY,) * n
    if len(axes) != n:
        return UNKNOWN  # a layer with another number of spatial axes than before
    return Field(tuple([compose(a, w.size, w.stride, w.pad) for a, w in zip(axes, spatial)]))


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
