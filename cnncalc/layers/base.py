"""The layer base class, the registry of layer kinds, and the small shape helpers they share."""

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar, Literal, TypeVar, cast

from pydantic import BaseModel, ConfigDict

from cnncalc.errors import GeometryError

Shape = tuple[int, ...]

# An exact rational: an int where the value is whole (fast), a Fraction where a layer divides.
Q = int | Fraction

# A size argument as PyTorch takes it: one int for every axis, or one per axis.
IntOrTuple = int | tuple[int, ...]


@dataclass(frozen=True)
class Window:
    """One spatial axis of a sliding-window layer, seen from its input (Araujo et al., Distill 2019).

    Output unit ``u`` reads input positions ``u*stride - pad .. u*stride - pad + size - 1``.
    """

    size: Q
    stride: Q
    pad: Q


# How a layer moves in space: a window per spatial axis, "identity" (element-wise, no spatial
# change), or "global" (every output sees the whole input, e.g. Flatten, Linear, global pooling).
# "unknown" marks a layer whose map is not derived yet; it is reported, never guessed.
Spatial = tuple[Window, ...] | Literal["identity", "global", "unknown"]


# How a merge's output position maps to one of its inputs: (axis from the end, index) -> index
# in that input, or None where that input does not reach (another branch of a Concat).
MergeBack = Callable[[int, int], int | None]

# Which input positions feed an output position, per spatial axis: (axis, index) -> indices.
# Axes count from the first of the layer's spatial axes (its last ``len(windows)`` dimensions).
Back = Callable[[int, int], Iterable[int]]


@dataclass(frozen=True)
class Geometry:
    """What one layer does to one input shape: output shape, parameters, MACs, spatial map.

    A layer whose ``spatial`` is a tuple of windows also gives ``back``, the exact input positions
    behind every output position (dilation holes, padding and resampling included).
    """

    output: Shape
    params: int = 0
    macs: int = 0
    spatial: Spatial = "identity"
    back: Back | None = None
    # PixelShuffle picks input channels by output position ("shuffle"); PixelUnshuffle picks
    # output channels by input position ("unshuffle"). Per-axis position sets are the union over
    # channels, which is exact unless a shuffle follows an unshuffle.
    channel_space: str = ""
    # Convolutions: the number of weights (parameters without the bias), for conv-versus-dense.
    weights: int = 0


# Every layer kind by lower-cased name and Lazy alias, filled as the kinds' classes are defined.
REGISTRY: dict[str, type["Layer"]] = {}


class Layer(BaseModel):
    """A layer kind: its fields are PyTorch's constructor arguments, in PyTorch's positional order.

    A subclass is a kind, registered as it is defined, named ``kind`` (the canonical ``torch.nn``
    class name, by default the class's own name), and implements :meth:`apply`. A family base
    that only shares arithmetic is declared ``class ConvNd(Layer, abstract=True)`` and is no kind
    of its own; :func:`nd_kinds` makes a family's 1d/2d/3d kinds.
    """

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, defer_build=True)

    kind: ClassVar[str] = ""
    # The argument PyTorch's Lazy variant infers from the input (in_channels, in_features, ...).
    inferred: ClassVar[str | None] = None
    # Names under which the kind is also accepted, e.g. LazyConv2d; their positional order
    # leaves out the inferred argument.
    lazy_alias: ClassVar[str | None] = None
    # Other names of the same kind (View for Reshape, Bmm for MatMul), same arguments.
    aliases: ClassVar[tuple[str, ...]] = ()
    # Arguments PyTorch accepts only by keyword (``bias`` of the norms).
    keyword_only: ClassVar[tuple[str, ...]] = ()
    # Identity(*args, **kwargs) accepts and ignores anything.
    ignores_arguments: ClassVar[bool] = False
    # Family details that subclasses set by plain assignment (declared once here, because
    # re-annotating them in ~90 subclasses costs pydantic tens of milliseconds at start-up):
    dims: ClassVar[int] = 0  # spatial axes of an Nd layer
    ranks: ClassVar[tuple[int, ...] | None] = None  # accepted input ranks, where a family fixes them
    pad_mode: ClassVar[str] = ""  # F.pad mode of a padding layer

    # Merge layers (Add, Mul, Concat) take several inputs: the engine calls ``merge``.
    is_merge: ClassVar[bool] = False

    def __init_subclass__(cls, abstract: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if abstract:
            return
        if "kind" not in cls.__dict__:
            cls.kind = cls.__name__
        REGISTRY[cls.kind.lower()] = cls
        if cls.lazy_alias:
            REGISTRY[cls.lazy_alias.lower()] = cls
        for alias in cls.aliases:
            REGISTRY[alias.lower()] = cls

    def apply(self, x: Shape) -> Geometry:
        """Output shape, parameter count, MACs and spatial map for input shape ``x``."""
        raise NotImplementedError

    def merge(self, xs: list[Shape]) -> tuple[Shape, list[MergeBack]]:
        """A merge layer's output shape and, per input, how output positions map to it."""
        raise NotImplementedError

    def merge_figures(self, xs: list[Shape]) -> tuple[int, int, Spatial]:
        """A merge's parameters, MACs and spatial map, called after :meth:`merge` accepted ``xs``.

        "identity" (the default: Add, Concat) means the union of the inputs' fields through
        ``merge``'s backs; a merge that mixes positions (MatMul, attention) says "global" or
        "unknown".
        """
        return 0, 0, "identity"


L = TypeVar("L", bound=Layer)


def nd_kinds(
    family: type[L],
    stem: str,
    *,
    lazy: bool = False,
    dims: tuple[int, ...] = (1, 2, 3),
    ranks: tuple[tuple[int, ...] | None, ...] | None = None,
    **attrs: Any,
) -> tuple[type[L], ...]:
    """The kinds ``<stem>1d``, ``<stem>2d`` and ``<stem>3d`` of one family, registered:
    ``Conv1d, Conv2d, Conv3d = nd_kinds(ConvNd, "Conv", lazy=True)``.

    Each kind sets ``dims`` to its number of spatial axes, or, where the family tells its kinds
    apart by input rank instead (BatchNorm1d takes 2D or 3D input), takes its entry of ``ranks``.
    ``lazy`` adds the ``Lazy<kind>`` alias; ``attrs`` are class attributes the kinds share
    (``pad_mode``).
    """
    metaclass: type[type] = type(family)  # pydantic's, which builds the model's fields
    made = []
    for i, n in enumerate(dims):
        kind = f"{stem}{n}d"
        namespace: dict[str, Any] = {"__module__": family.__module__, "__qualname__": kind, **attrs}
        if ranks is None:
            namespace["dims"] = n
        else:
            namespace["ranks"] = ranks[i]
        if lazy:
            namespace["lazy_alias"] = f"Lazy{kind}"
        made.append(cast("type[L]", metaclass(kind, (family,), namespace)))
    return tuple(made)


# ---- helpers shared by the layer families -----------------------------------------------------

AXIS_NAMES = {1: ("length",), 2: ("height", "width"), 3: ("depth", "height", "width")}


def fmt_shape(x: Shape) -> str:
    """A shape as PyTorch prints a tuple: ``(1, 3, 224, 224)``."""
    return "(" + ", ".join(str(d) for d in x) + ("," if len(x) == 1 else "") + ")"


def as_tuple(value: IntOrTuple) -> tuple[int, ...]:
    """An int as a 1-tuple; a tuple as given."""
    return (value,) if isinstance(value, int) else value


def numel(x: Shape) -> int:
    """Number of elements of a tensor of shape ``x`` (exact, any size)."""
    return math.prod(x)


def ntuple(value: int | tuple[int, ...], n: int, name: str, single: bool = True) -> tuple[int, ...]:
    """PyTorch's ``_ntuple``: an int repeats n times; a tuple must have n entries.

    With ``single``, a 1-tuple also repeats, as ATen's ``expand_param_if_needed`` and the pooling
    functions do for strides, paddings, dilations and pooling kernels (not convolution kernels,
    whose weight shape comes from the tuple as given).
    """
    if isinstance(value, int):
        return (value,) * n
    if single and len(value) == 1:
        return tuple(value) * n
    if len(value) != n:
        raise GeometryError(f"{name} must be an int or a tuple of {n} ints, got {value!r}", name)
    return tuple(value)


def positive(values: tuple[int, ...], name: str) -> None:
    """Require every entry to be > 0, as PyTorch does for kernel sizes, strides and dilations."""
    if any(v <= 0 for v in values):
        raise GeometryError(f"{name} must be positive, got {_show(values)}", name)


def non_negative(values: tuple[int, ...], name: str) -> None:
    """Require every entry to be >= 0 (padding)."""
    if any(v < 0 for v in values):
        raise GeometryError(f"{name} must not be negative, got {_show(values)}", name)


def _show(values: tuple[int, ...]) -> str:
    return str(values[0]) if len(values) == 1 else fmt_shape(values)


def spatial_input(x: Shape, n: int, unbatched: bool = True) -> int:
    """Check that ``x`` is a (C, *spatial) or (N, C, *spatial) input with ``n`` spatial axes.

    Returns the index of the channel axis (0 unbatched, 1 batched).
    """
    batched = n + 2
    if len(x) == batched:
        return 1
    if unbatched and len(x) == n + 1:
        return 0
    want = f"{n + 1}D (unbatched) or {batched}D (batched)" if unbatched else f"{batched}D"
    raise GeometryError(f"expected a {want} input, got {len(x)}D input {fmt_shape(x)}")


def nonempty(x: Shape, start: int) -> None:
    """PyTorch refuses empty tensors in the non-batch axes of spatial layers."""
    if any(d <= 0 for d in x[start:]):
        raise GeometryError(f"expected non-empty sizes after the batch axis, got {fmt_shape(x)}")


def check_channels(given: int | None, actual: int, name: str, what: str = "channels") -> int:
    """Infer an input-size argument (Lazy semantics) or check it against the incoming shape."""
    if given is None:
        return actual
    if given != actual:
        raise GeometryError(f"{name}={given} but the input has {actual} {what}", argument=name)
    return given


def space(rank: int) -> range:
    """The position axes of a tensor of ``rank``: (N, C, *spatial) by PyTorch's convention, the
    last axis of a tensor of rank 2 or less (features, or the length of an unbatched (C, L))."""
    return range(2, rank) if rank >= 3 else range(1, rank)


def reduced_space(rank: int, dims: Iterable[int]) -> Spatial:
    """The map of a layer that mixes the axes ``dims`` (a reduction, a softmax, a norm): global
    over all position axes, identity over none, unknown over some."""
    axes, reduced = set(space(rank)), set(dims)
    if not axes & reduced:
        return "identity"
    return "global" if axes <= reduced else "unknown"


def sliding_back(
    sizes: Shape,
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    lefts: tuple[int, ...] | list[int],
    dilation: tuple[int, ...],
    remap: Callable[[int, int], int | None] | None = None,
) -> Back:
    """Inputs of a sliding window: output j reads j*s - left + d*m for m < k, where real.

    ``remap(index, size)`` maps an index outside the input to the input position a padding mode
    copies there (reflect, replicate, circular), or None for constant padding.
    """

    def back(axis: int, j: int) -> list[int] | range:
        size = sizes[axis]
        if remap is None:
            # only the taps that land in the input, by arithmetic: a kernel or dilation of 10^18
            # costs what the input holds, not what the kernel spans
            first, step = j * stride[axis] - lefts[axis], dilation[axis]
            m_lo = -(first // step) if first < 0 else 0
            m_hi = min(kernel[axis] - 1, (size - 1 - first) // step)
            if m_hi < m_lo:
                return range(0)
            return range(first + step * m_lo, first + step * m_hi + 1, step)
        found = []
        for m in range(kernel[axis]):
            q: int | None = j * stride[axis] - lefts[axis] + dilation[axis] * m
            if q is not None and not 0 <= q < size:
                q = remap(q, size) if remap is not None else None
            if q is not None:
                found.append(q)
        return found

    return back
