"""Which input sizes a network accepts, per spatial axis, as an exact rule; and output-shape formulas.

Why the computation is complete. Every size map of the layers below is ``floor((a*x + b)/c)``
of its input size ``x`` (ceil_mode included, see :func:`_pool`), a constant (adaptive pooling,
``size=``), a sum (Concat) or a product with constants (Flatten), so every tensor dimension is
a quasi-affine function of the input size ``n`` (:mod:`cnncalc.engine.quasi`), exact for every
``n``. Each size-dependent check a layer makes ("atom": an output ≥ 1, a merge's equal sizes, a
Linear's in_features, a divisibility) is a sign condition on such functions, or a divisibility
that is constant on residue classes of a longer period. With ``T`` the least common period of
all of them, each function is ``a + b*q`` on the class ``n = r + T*q``, whose sign changes at
most at ``q = -a/b``. Between consecutive change points every atom has a constant truth value,
so validity is constant there; evaluating it once per piece (at its first point, with the
layers' own rules, :func:`refusal`) decides every size of the class, and
the last piece decides all large sizes. A layer whose map is not of this form is reported as
unknown for the axis, never guessed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from cnncalc.engine.quasi import (
    MAX_PERIOD,
    QA,
    Const,
    Expr,
    Floor,
    Lin,
    NotQuasiAffineError,
    Prod,
    Unknown,
    Var,
    affine_floor,
    const_value,
    floor_text,
    lin,
    names,
    prod,
    to_qa,
    to_text,
)
from cnncalc.errors import CnncalcError, GeometryError
from cnncalc.graph import NETWORK_INPUT, Network
from cnncalc.layers import activation, conv, linear, merge, norm, pad, pool, reshape
from cnncalc.layers.base import Layer, ntuple, positive

AXIS_LETTERS = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}

# How many valid sizes ``first`` lists.
FIRST = 5

Dims = tuple[Expr, ...]


# ---- the rule for one axis --------------------------------------------------------------------


@dataclass(frozen=True)
class ValidSet:
    """Sizes ``n >= 1``: n is valid exactly when n is in ``also``, or ``min`` is not None and
    ``n >= min`` and ``n % period`` is in ``residues`` (``also`` lists valid sizes below ``min``;
    a finite set has ``min`` None and every size in ``also``)."""

    min: int | None
    period: int
    residues: tuple[int, ...]
    also: tuple[int, ...] = ()

    def __contains__(self, n: object) -> bool:
        if not isinstance(n, int) or n < 1:
            return False
        if n in self.also:
            return True
        return self.min is not None and n >= self.min and n % self.period in self.residues

    @property
    def finite(self) -> bool:
        return self.min is None

    def first(self, count: int = FIRST) -> tuple[int, ...]:
        """The smallest ``count`` valid sizes (fewer if the set is smaller)."""
        return tuple(n for n, _ in zip(self._ascending(), range(count)))

    def _ascending(self) -> Iterator[int]:
        yield from self.also
        if self.min is not None:
            n = self.min
            while True:
                if n % self.period in self.residues:
                    yield n
                n += 1

    def nearest(self, n: int) -> tuple[int | None, int | None]:
        """The largest valid size ``<= n`` and the smallest ``>= n`` (None where there is none)."""
        below = max((m for m in self.also if m <= n), default=None)
        above = min((m for m in self.also if m >= n), default=None)
        if self.min is not None and self.residues:
            up = max(n, self.min)
            while up % self.period not in self.residues:
                up += 1
            above = up if above is None else min(above, up)
            down = n
            while down >= self.min and down % self.period not in self.residues:
                down -= 1
            if down >= self.min:
                below = down if below is None else max(below, down)
        return below, above

    def describe(self, name: str) -> str:
        """The rule in words: ``every multiple of 32 from 32``, ``H mod 32 in {0, 17..31} from 17``."""
        if self.min is None:
            if not self.also:
                return "no size"
            return "only " + ", ".join(str(n) for n in self.also)
        if self.period == 1:
            text = "every size" if self.min == 1 else f"every size from {self.min}"
        elif self.residues == (0,):
            text = f"every multiple of {self.period} from {self.min}"
        elif len(self.residues) == 1:
            text = f"{name} mod {self.period} = {self.residues[0]} from {self.min}"
        else:
            text = f"{name} mod {self.period} in {{{_ranges(self.residues)}}} from {self.min}"
        if self.also:
            text += ", and " + ", ".join(str(n) for n in self.also)
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "min": self.min,
            "period": self.period,
            "residues": list(self.residues),
            "also": list(self.also),
        }


def _ranges(values: Sequence[int]) -> str:
    parts = []
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and values[j + 1] == values[j] + 1:
            j += 1
        parts.append(
            str(values[i])
            if j == i
            else f"{values[i]}, {values[j]}"
            if j == i + 1
            else f"{values[i]}..{values[j]}"
        )
        i = j + 1
    return ", ".join(parts)


EVERY = ValidSet(1, 1, (0,))


@dataclass(frozen=True)
class Constraint:
    """One reason: the layers whose check limits the axis, what they require, and the sizes
    that requirement alone allows."""

    layers: tuple[str, ...]
    requirement: str
    valid: ValidSet

    def to_dict(self) -> dict[str, Any]:
        return {"layers": list(self.layers), "requirement": self.requirement, "valid": self.valid.to_dict()}


@dataclass(frozen=True)
class AxisSizes:
    """The sizes one input axis accepts (the others held at the network's input size)."""

    name: str
    dim: int
    valid: ValidSet | None  # None: not derived (``unknown`` says why)
    constraints: tuple[Constraint, ...] = ()
    unknown: str | None = None

    @property
    def first(self) -> tuple[int, ...]:
        return self.valid.first() if self.valid is not None else ()

    def nearest(self, n: int) -> tuple[int | None, int | None]:
        """The nearest valid sizes below (``<= n``) and above (``>= n``)."""
        return self.valid.nearest(n) if self.valid is not None else (None, None)

    def describe(self) -> str:
        if self.valid is None:
            return f"{self.name}: unknown ({self.unknown})"
        return f"{self.name}: {self.valid.describe(self.name)}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "dim": self.dim,
            "valid": self.valid.to_dict() if self.valid is not None else None,
            "constraints": [c.to_dict() for c in self.constraints],
            "first": list(self.first),
        }
        if self.unknown is not None:
            out["unknown"] = self.unknown
        return out


@dataclass(frozen=True)
class SizesReport:
    """Per spatial axis of the network input, the exact set of sizes the network accepts."""

    input_shape: tuple[int, ...]
    axes: tuple[AxisSizes, ...]

    def axis(self, name: str) -> AxisSizes:
        for a in self.axes:
            if a.name == name:
                return a
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {"input_shape": list(self.input_shape), "axes": [a.to_dict() for a in self.axes]}


# ---- the symbolic pass --------------------------------------------------------------------------


@dataclass(frozen=True)
class Atom:
    """A size-dependent check of one layer: ``test`` over the values of ``exprs``.

    Tests: ``ge0`` every value >= 0; ``eq0`` every value == 0; ``any_ge1`` some value >= 1;
    ``bcast`` the values equal apart from 1s (PyTorch broadcasting); ``mod`` the value divisible
    by ``modulus``.
    """

    node: int
    test: str
    exprs: tuple[Expr, ...]
    text: str
    modulus: int = 1

    def holds(self, values: Sequence[int]) -> bool:
        if self.test == "ge0":
            return all(v >= 0 for v in values)
        if self.test == "eq0":
            return all(v == 0 for v in values)
        if self.test == "any_ge1":
            return any(v >= 1 for v in values)
        if self.test == "bcast":
            return len(set(values) - {1}) <= 1
        assert self.test == "mod"
        return all(v % self.modulus == 0 for v in values)

    def forms(self) -> Iterator[tuple[Expr, int]]:
        """Expressions ``e`` and levels ``v`` such that the truth is constant where every
        ``e - v`` keeps its sign."""
        levels = {"ge0": (0,), "eq0": (0,), "any_ge1": (1,), "bcast": (1,), "mod": ()}[self.test]
        for e in self.exprs:
            for v in levels:
                yield e, v
        if self.test == "bcast":
            for i, a in enumerate(self.exprs):
                for b in self.exprs[i + 1 :]:
                    yield lin([(1, a), (-1, b)]), 0


@dataclass
class Symbolic:
    """Every node's output dimensions as expressions in the axis names, and every atom."""

    names: tuple[str, ...]
    sizes: dict[str, int]
    outputs: list[Dims] = field(default_factory=list)
    atoms: list[Atom] = field(default_factory=list)
    never: list[tuple[str, str]] = field(default_factory=list)  # size-independent refusals: (layer, why)
    unknown: list[str] = field(default_factory=list)
    shown: dict[int, Expr] = field(default_factory=dict)  # expressions named in atom texts


def axis_names(network: Network) -> tuple[str, ...]:
    """``L``, ``H W`` or ``D H W`` for the input's axes after batch and channels."""
    return AXIS_LETTERS.get(len(network.input_shape) - 2, ())


def symbolic(network: Network) -> Symbolic:
    """Walk the network with sizes as expressions (see the module docstring)."""
    letters = axis_names(network)
    shape = network.input_shape
    first = len(shape) - len(letters)
    sym = Symbolic(letters, {n: shape[first + i] for i, n in enumerate(letters)})
    start: Dims = tuple(Const(d) for d in shape[:first]) + tuple(Var(n) for n in letters)
    values: dict[int, Dims] = {NETWORK_INPUT: start}
    for node in network.nodes:
        xs = [values[i] for i in node.inputs]
        ctx = _Ctx(node.index, node.key, node.layer.kind, sym)
        try:
            out = _rule(node.layer, xs, ctx)
        except GeometryError as exc:
            sym.never.append((node.key, f"{node.key} ({node.layer.kind}): {exc.message}"))
            out = None
        except NotQuasiAffineError as exc:
            sym.unknown.append(f"{node.key} ({node.layer.kind}): {exc}")
            out = None
        if out is None:
            reason = Unknown(f"{node.key} ({node.layer.kind})")
            out = tuple(reason for _ in xs[0])
        values[node.index] = out
        sym.outputs.append(out)
    return sym


@dataclass
class _Ctx:
    node: int
    path: str
    kind: str
    sym: Symbolic

    def atom(self, test: str, exprs: Sequence[Expr], what: str, modulus: int = 1) -> None:
        if any(isinstance(e, Unknown) for e in exprs):
            return  # the unknown input is reported already
        values = [const_value(e) for e in exprs]
        if all(v is not None for v in values):
            # size-independent: decided here, alike for every size
            probe = Atom(self.node, test, tuple(exprs), what, modulus)
            if not probe.holds([v for v in values if v is not None]):
                self.sym.never.append((self.path, f"{self.path} ({self.kind}): {self._plain(what)}"))
            return
        self.sym.atoms.append(
            Atom(self.node, test, tuple(exprs), f"{self.path} ({self.kind}): {what}", modulus)
        )

    def _plain(self, what: str) -> str:
        return re.sub(r"<<(\d+)>>", lambda m: _text_or_unknown(self.sym.shown[int(m.group(1))]), what)

    def show(self, e: Expr) -> str:
        """A placeholder for ``e`` in an atom's text, printed once the valid sizes are known."""
        self.sym.shown[id(e)] = e
        return f"<<{id(e)}>>"


def _text_or_unknown(e: Expr) -> str:
    try:
        return to_text(e)
    except NotQuasiAffineError:
        return "?"


def _channel_axis(x: Dims, n: int) -> int:
    # layers/base.py spatial_input: (C, *spatial) or (N, C, *spatial)
    if len(x) == n + 2:
        return 1
    if len(x) == n + 1:
        return 0
    raise GeometryError(f"expected a {n + 1}D or {n + 2}D input, got {len(x)}D")


def _positive(ctx: _Ctx, out: Expr, what: str) -> None:
    ctx.atom("ge0", [lin([(1, out)], -1)], f"{what} = {ctx.show(out)} must be at least 1")


def _rule(layer: Layer, xs: list[Dims], ctx: _Ctx) -> Dims | None:
    """The output dimensions of one layer as expressions; atoms recorded in ``ctx``; None for a
    layer kind whose size map is not derived (reported unknown)."""
    x = xs[0]
    if isinstance(layer, conv.ConvNd):
        return _conv(layer, x, ctx)
    if isinstance(layer, conv._ConvTransposeNd):
        return _conv_transpose(layer, x, ctx)
    if isinstance(layer, pool._WindowPool):
        return _pool(layer, x, ctx)
    if isinstance(layer, pool._AdaptivePoolNd):
        n = layer.dims
        ch = _channel_axis(x, n)
        for e in x[ch:]:
            ctx.atom("ge0", [lin([(1, e)], -1)], "input sizes must not be empty")
        wanted = layer.output_size
        sizes = (wanted,) * n if wanted is None or isinstance(wanted, int) else wanted
        return x[: ch + 1] + tuple(e if o is None else Const(o) for o, e in zip(sizes, x[ch + 1 :]))
    if isinstance(layer, pad._PadNd):
        return _pad(layer, x, ctx)
    if isinstance(layer, reshape._Resize):
        return _resize(layer, x, ctx)
    if isinstance(layer, reshape.Flatten):
        if not x:
            return (Const(1),)
        r = len(x)
        start, end = layer.start_dim % r, layer.end_dim % r
        return x[:start] + (prod(list(x[start : end + 1])),) + x[end + 1 :]
    if isinstance(layer, reshape.Unflatten):
        dim = layer.dim % len(x)
        sizes = layer.unflattened_size
        known = math.prod(s for s in sizes if s != -1)
        if -1 in sizes:
            positive((known,), "unflattened_size")
            ctx.atom(
                "mod", [x[dim]], f"size {ctx.show(x[dim])} of dim {dim} must be divisible by {known}", known
            )
            split = affine_floor(x[dim], 1, 0, known)
            return x[:dim] + tuple(split if s == -1 else Const(s) for s in sizes) + x[dim + 1 :]
        ctx.atom("eq0", [lin([(1, x[dim])], -known)], f"size {ctx.show(x[dim])} of dim {dim} must be {known}")
        return x[:dim] + tuple(Const(s) for s in sizes) + x[dim + 1 :]
    if isinstance(layer, reshape.PixelShuffle):
        r = layer.upscale_factor
        positive((r,), "upscale_factor")
        ctx.atom("mod", [x[-3]], f"channels must be divisible by {r * r}", r * r)
        return x[:-3] + (affine_floor(x[-3], 1, 0, r * r), lin([(r, x[-2])]), lin([(r, x[-1])]))
    if isinstance(layer, reshape.PixelUnshuffle):
        r = layer.downscale_factor
        positive((r,), "downscale_factor")
        for e in x[-2:]:
            ctx.atom("mod", [e], f"size {ctx.show(e)} must be divisible by {r}", r)
        return x[:-3] + (lin([(r * r, x[-3])]), affine_floor(x[-2], 1, 0, r), affine_floor(x[-1], 1, 0, r))
    if isinstance(layer, reshape.ChannelShuffle):
        positive((layer.groups,), "groups")
        ctx.atom("mod", [x[1]], f"channels must be divisible by {layer.groups}", layer.groups)
        return x
    if isinstance(layer, reshape.Narrow):
        dim = layer.dim % len(x)
        size = x[dim]
        if layer.start < 0:
            ctx.atom(
                "ge0",
                [lin([(1, size)], layer.start)],
                f"start {layer.start} must lie in size {ctx.show(size)}",
            )
        else:
            need = layer.start + layer.length
            ctx.atom(
                "ge0", [lin([(1, size)], -need)], f"start + length = {need} must fit in size {ctx.show(size)}"
            )
        return x[:dim] + (Const(layer.length),) + x[dim + 1 :]
    if isinstance(layer, linear.Linear):
        if layer.in_features is not None:
            f = layer.in_features
            ctx.atom(
                "eq0", [lin([(1, x[-1])], -f)], f"in_features {f} must equal the input's {ctx.show(x[-1])}"
            )
        return x[:-1] + (Const(layer.out_features),)
    if isinstance(layer, (merge.Add, merge.Mul)):
        return _broadcast(xs, ctx)
    if isinstance(layer, merge.Concat):
        dim = layer.dim % len(x)
        for axis in range(len(x)):
            if axis != dim:
                for other in xs[1:]:
                    ctx.atom(
                        "eq0",
                        [lin([(1, x[axis]), (-1, other[axis])])],
                        f"sizes {ctx.show(x[axis])} and {ctx.show(other[axis])} of dim {axis} must be equal",
                    )
        total = lin([(1, other[dim]) for other in xs])
        return x[:dim] + (total,) + x[dim + 1 :]
    if isinstance(layer, norm._BatchNorm):
        if layer.num_features is not None and (layer.affine or layer.track_running_stats):
            ctx.atom("eq0", [lin([(1, x[1])], -layer.num_features)], "num_features must equal the channels")
        if not layer.track_running_stats:
            count = prod([x[0], *x[2:]])
            ctx.atom(
                "ge0", [lin([(1, count)], -2)], f"{ctx.show(count)} values per channel must be more than 1"
            )
        return x
    if isinstance(layer, norm._InstanceNorm):
        ch = _channel_axis(x, layer.dims)
        if layer.affine and layer.num_features is not None:
            ctx.atom("eq0", [lin([(1, x[ch])], -layer.num_features)], "num_features must equal the channels")
        if not layer.track_running_stats:
            count = prod(list(x[ch + 1 :]))
            ctx.atom(
                "ge0", [lin([(1, count)], -2)], f"{ctx.show(count)} spatial elements must be more than 1"
            )
        return x
    if isinstance(layer, norm.GroupNorm):
        g = layer.num_groups
        positive((g,), "num_groups")
        if layer.affine and layer.num_channels is not None:
            ctx.atom("eq0", [lin([(1, x[1])], -layer.num_channels)], "num_channels must equal the channels")
        else:
            ctx.atom("mod", [x[1]], f"channels must be divisible by {g}", g)
        count = prod([x[0], affine_floor(x[1], 1, 0, g), *x[2:]])
        ctx.atom("ge0", [lin([(1, count)], -2)], f"{ctx.show(count)} values per group must be more than 1")
        return x
    if isinstance(layer, (norm.LayerNorm, norm.RMSNorm)):
        shape = (
            (layer.normalized_shape,) if isinstance(layer.normalized_shape, int) else layer.normalized_shape
        )
        for e, want in zip(x[len(x) - len(shape) :], shape):
            ctx.atom(
                "eq0", [lin([(1, e)], -want)], f"size {ctx.show(e)} must equal normalized_shape's {want}"
            )
        return x
    if isinstance(layer, activation.PReLU):
        if layer.num_parameters != 1 and len(x) >= 2:
            ctx.atom(
                "eq0", [lin([(1, x[1])], -layer.num_parameters)], "num_parameters must equal the channels"
            )
        return x
    if isinstance(layer, (activation._Elementwise, norm.LocalResponseNorm)):
        return x  # element-wise: the shape is unchanged, and no check depends on a size
    raise NotQuasiAffineError(f"the size map of {layer.kind} is not derived")


def _conv(layer: conv.ConvNd, x: Dims, ctx: _Ctx) -> Dims:
    """torch/nn/modules/conv.py (Conv2d docs): out = floor((L + 2p - d(k-1) - 1)/s) + 1."""
    n = layer.dims
    ch = _channel_axis(x, n)
    k = ntuple(layer.kernel_size, n, "kernel_size", single=False)
    s = ntuple(layer.stride, n, "stride")
    d = ntuple(layer.dilation, n, "dilation")
    for values, name in ((k, "kernel_size"), (s, "stride"), (d, "dilation")):
        positive(values, name)
    sizes = list(x[ch + 1 :])
    if isinstance(layer.padding, str):
        # 'same': total d(k-1), left = total // 2 (stride 1 only); 'valid': none
        pads = [(di * (ki - 1) // 2, di * (ki - 1) - di * (ki - 1) // 2) for di, ki in zip(d, k)]
        if layer.padding == "valid":
            pads = [(0, 0)] * n
    else:
        p = ntuple(layer.padding, n, "padding")
        pads = [(pi, pi) for pi in p]
    if layer.padding_mode != "zeros" and any(a or b for a, b in pads):
        # _conv_forward: F.pad(x, pads, mode), then a convolution without padding
        for i, (left, right) in enumerate(pads):
            _pad_atoms(ctx, sizes[i], left, right, layer.padding_mode)
            sizes[i] = lin([(1, sizes[i])], left + right)
        pads = [(0, 0)] * n
    outs = []
    for size, ki, si, di, (left, right) in zip(sizes, k, s, d, pads):
        out = lin([(1, affine_floor(size, 1, left + right - di * (ki - 1) - 1, si))], 1)
        _positive(ctx, out, f"output size (stride {si}, kernel {ki}, padding {left})")
        outs.append(out)
    return x[:ch] + (Const(layer.out_channels), *outs)


def _conv_transpose(layer: conv._ConvTransposeNd, x: Dims, ctx: _Ctx) -> Dims:
    """torch/nn/modules/conv.py (ConvTranspose2d docs): out = (L-1)s - 2p + d(k-1) + op + 1."""
    n = layer.dims
    ch = _channel_axis(x, n)
    k = ntuple(layer.kernel_size, n, "kernel_size", single=False)
    s = ntuple(layer.stride, n, "stride")
    d = ntuple(layer.dilation, n, "dilation")
    p = ntuple(layer.padding, n, "padding")
    op = ntuple(layer.output_padding, n, "output_padding")
    outs = []
    for size, ki, si, di, pi, oi in zip(x[ch + 1 :], k, s, d, p, op):
        out = lin([(si, size)], -si - 2 * pi + di * (ki - 1) + oi + 1)
        _positive(ctx, out, f"output size (stride {si}, kernel {ki}, padding {pi})")
        outs.append(out)
    return x[:ch] + (Const(layer.out_channels), *outs)


def _pool(layer: pool._WindowPool, x: Dims, ctx: _Ctx) -> Dims:
    """aten/src/ATen/native/Pool.h pooling_output_shape, as one floor.

    out = floor((L + 2p - d(k-1) - 1 + (s-1 if ceil_mode))/s) + 1, and in ceil mode one less
    when the last window starts at or past L + p. That happens exactly when
    out - 1 > floor((L + p - 1)/s), and the two floors differ by at most 1 (their offsets differ
    by p - d(k-1) + s - 1 < s, as PyTorch requires p <= k/2), so
    out = floor((L + min(2p - d(k-1) + s - 2, p - 1))/s) + 1 for every L.
    """
    n = layer.dims
    ch = _channel_axis(x, n)
    for e in x[ch:]:
        ctx.atom("ge0", [lin([(1, e)], -1)], "input sizes must not be empty")
    kernel = getattr(layer, "kernel_size")  # noqa: B009 - every window pool has one; the family base declares none
    stride = getattr(layer, "stride", None)
    padding = getattr(layer, "padding", 0)
    dilation = getattr(layer, "dilation", 1)
    ceil_mode = bool(getattr(layer, "ceil_mode", False))
    k = ntuple(kernel, n, "kernel_size")
    s = k if stride is None or stride == () else ntuple(stride, n, "stride")
    p = ntuple(padding, n, "padding")
    d = ntuple(dilation, n, "dilation")
    for values, name in ((k, "kernel_size"), (s, "stride"), (d, "dilation")):
        positive(values, name)
    kernel_fits = n == 3 and isinstance(layer, (pool._AvgPoolNd, pool._LPPoolNd))
    outs = []
    for size, ki, si, pi, di in zip(x[ch + 1 :], k, s, p, d):
        if pi > ki // 2:
            raise GeometryError(f"padding ({pi}) must be at most half of the kernel size ({ki})")
        if kernel_fits:
            ctx.atom(
                "ge0", [lin([(1, size)], -ki)], f"size {ctx.show(size)} must be at least the kernel {ki}"
            )
        b = 2 * pi - di * (ki - 1) - 1
        if ceil_mode:
            b = min(b + si - 1, pi - 1)
        out = lin([(1, affine_floor(size, 1, b, si))], 1)
        _positive(ctx, out, f"output size (stride {si}, kernel {ki}{', ceil_mode' if ceil_mode else ''})")
        outs.append(out)
    return x[: ch + 1] + tuple(outs)


def _pad_atoms(ctx: _Ctx, size: Expr, before: int, after: int, mode: str) -> None:
    """layers/pad.py pad_shape's size checks for one axis."""
    total = lin([(1, size)], before + after)
    ctx.atom("ge0", [total], f"padded size {ctx.show(total)} must not be negative")
    if mode == "reflect":
        for v in (before, after):
            ctx.atom(
                "ge0",
                [lin([(1, size)], -v - 1)],
                f"reflection padding {v} must be smaller than {ctx.show(size)}",
            )
    if mode == "circular":
        for v in (before, after):
            ctx.atom("ge0", [lin([(1, size)], -v)], f"circular padding {v} must not exceed {ctx.show(size)}")


def _pad(layer: pad._PadNd, x: Dims, ctx: _Ctx) -> Dims:
    """torch.nn.functional.pad: (left, right) for the last axis first; out = L + before + after."""
    flat = (layer.padding,) * (2 * layer.dims) if isinstance(layer.padding, int) else layer.padding
    count = len(flat) // 2
    if len(flat) % 2 or count > len(x):
        raise GeometryError(f"{len(flat)} padding values do not fit a {len(x)}D input")
    pairs = [(flat[2 * i], flat[2 * i + 1]) for i in range(count)][::-1]
    first = len(x) - count
    outs = []
    for size, (before, after) in zip(x[first:], pairs):
        _pad_atoms(ctx, size, before, after, layer.pad_mode)
        outs.append(lin([(1, size)], before + after))
    if layer.pad_mode in ("reflect", "replicate"):
        ctx.atom("any_ge1", outs, "the padded output must not be empty")
    return x[:first] + tuple(outs)


# Upsampling by a float factor is floor(float(L) * scale) in double precision
# (torch/nn/functional.py interpolate). A float scale is p / 2^e exactly; the double product is
# exact while L * p < 2^53, which these bounds keep true for every L below 2^33.
_SCALE_NUMERATOR = 1 << 20
_SCALE_DENOMINATOR = 1 << 10


def _resize(layer: reshape._Resize, x: Dims, ctx: _Ctx) -> Dims:
    size = getattr(layer, "size", None)
    scale = getattr(layer, "scale_factor", None)
    mode = getattr(layer, "mode", "nearest")
    n = len(x) - 2
    if size is not None:
        outs: list[Expr] = [Const(v) for v in ((size,) * n if isinstance(size, int) else size)]
    elif scale is not None:
        scales = (scale,) * n if isinstance(scale, (int, float)) else scale
        outs = []
        for e, sc in zip(x[2:], scales):
            exact = Fraction(float(sc))
            if exact.numerator > _SCALE_NUMERATOR or exact.denominator > _SCALE_DENOMINATOR:
                raise NotQuasiAffineError(f"scale_factor {sc} is not a short binary fraction")
            outs.append(affine_floor(e, exact.numerator, 0, exact.denominator))
    else:
        raise GeometryError("either size or scale_factor should be defined")
    least = 0 if mode == "area" else 1
    for out in outs:
        ctx.atom("ge0", [lin([(1, out)], -least)], f"output size {ctx.show(out)} must be at least {least}")
    return x[:2] + tuple(outs)


def _broadcast(xs: list[Dims], ctx: _Ctx) -> Dims:
    """PyTorch broadcasting, right-aligned: sizes equal apart from 1s. The output takes the
    first input's size that is not the constant 1 (the sizes agree wherever the merge is valid,
    apart from sizes that are 1 at single points, which the traced check decides)."""
    rank = max(len(x) for x in xs)
    out: list[Expr] = []
    for axis in range(-rank, 0):
        sizes = [x[axis] for x in xs if len(x) >= -axis]
        chosen = next((e for e in sizes if const_value(e) != 1), sizes[0])
        if len(sizes) > 1:
            shown = " and ".join(ctx.show(e) for e in sizes)
            ctx.atom("bcast", sizes, f"sizes {shown} of dim {axis + rank} must be equal (or 1)")
        out.append(chosen)
    return tuple(out)


# ---- deciding an axis ---------------------------------------------------------------------------


def refusal(network: Network, input_shape: tuple[int, ...]) -> str | None:
    """Why the layers' own rules (``apply``/``merge``, as the analysis runs them) refuse the
    network at ``input_shape``, or None when they accept it."""
    shapes: dict[int, tuple[int, ...]] = {NETWORK_INPUT: input_shape}
    for node in network.nodes:
        xs = [shapes[i] for i in node.inputs]
        try:
            shapes[node.index] = (
                node.layer.merge(xs)[0] if node.layer.is_merge else node.layer.apply(xs[0]).output
            )
        except CnncalcError as exc:
            return f"{node.key} ({node.layer.kind}): {exc.message}"
    return None


def _check(network: Network, dim: int) -> Callable[[int], str | None]:
    """Why the layers refuse size n on input dimension ``dim``, or None (memoised)."""
    cache: dict[int, str | None] = {}
    shape = list(network.input_shape)

    def why(n: int) -> str | None:
        if n not in cache:
            shape[dim] = n
            cache[n] = refusal(network, tuple(shape))
        return cache[n]

    return why


def _change_points(a: int, b: int) -> tuple[int, ...]:
    """Where the sign of a + b*q can change as q grows: ceil(q*) and floor(q*) + 1, q* = -a/b."""
    if b == 0:
        return ()
    star = Fraction(-a, b)
    return (math.ceil(star), math.floor(star) + 1)


def _pieces(qas: list[QA], t: int, r: int) -> list[int]:
    """The first q of each piece of the class n = r + t*q on which every function keeps its sign."""
    q0 = 0 if r else 1
    points = {q0}
    for f in qas:
        a, b = f.on_class(r, t)
        points.update(q for q in _change_points(a, b) if q > q0)
    return sorted(points)


def _assemble(t: int, runs: dict[int, list[tuple[int, bool]]]) -> ValidSet:
    """A :class:`ValidSet` from, per class r mod t, its pieces (first n, valid) in order; the
    last piece of a class extends forever."""
    tail = {r: ps[-1][1] for r, ps in runs.items()}
    bound = 1
    for r, ps in runs.items():
        if tail[r]:
            i = len(ps) - 1
            while i > 0 and ps[i - 1][1]:
                i -= 1
            if i > 0:  # the class's last refused size, plus one
                bound = max(bound, ps[i][0] - t + 1)
        else:
            last = None
            for i, (_, valid) in enumerate(ps[:-1]):
                if valid:
                    last = ps[i + 1][0] - t  # the piece's last size
            if last is not None:
                bound = max(bound, last + 1)
    residues = sorted(r for r in runs if tail[r])
    also = []
    for ps in runs.values():
        for i, (n, valid) in enumerate(ps):
            if not valid:
                continue
            end = ps[i + 1][0] if i + 1 < len(ps) else None
            m = n
            while m < bound and (end is None or m < end):
                also.append(m)
                m += t
    if not residues:
        return ValidSet(None, 1, (), tuple(sorted(also)))
    # start at the first valid size of the periodic part, and shorten the period where the
    # residues repeat
    start = bound
    while start % t not in residues:
        start += 1
    period = t
    for p in sorted(d for d in range(1, t + 1) if t % d == 0):
        if all((r in residues) == (r % p in {s % p for s in residues}) for r in range(t)):
            period = p
            break
    reduced = tuple(sorted({r % period for r in residues}))
    return ValidSet(start, period, reduced, tuple(sorted(m for m in also if m < start)))


def _decide(network: Network, sym: Symbolic, axis: str, dim: int) -> AxisSizes:
    env = dict(sym.sizes)
    if sym.never:
        path, reason = sym.never[0]
        nothing = ValidSet(None, 1, ())
        return AxisSizes(axis, dim, nothing, (Constraint((path,), f"{reason} — at every size", nothing),))
    if sym.unknown:
        return AxisSizes(axis, dim, None, (), "; ".join(sym.unknown))
    try:
        # one memo for the whole axis (the expressions form a DAG); every expression keyed in it
        # stays alive in ``sym`` or ``shifted`` while it is used, so no id is reused
        memo: dict[int, QA] = {}
        shifted = [[lin([(1, e)], -v) for e, v in atom.forms()] for atom in sym.atoms]
        per_atom = [[to_qa(e, axis, env, memo) for e in atom.exprs] for atom in sym.atoms]
        t = 1
        for atom, fs in zip(sym.atoms, per_atom):
            for f in fs:
                t = math.lcm(t, f.period)
                if atom.test == "mod":
                    # f(n + T) = f(n) + s*T, so f mod m repeats after T * m / gcd(s*T, m)
                    step = int(f.slope * f.period)
                    t = math.lcm(t, f.period * (atom.modulus // math.gcd(step, atom.modulus)))
        if t > MAX_PERIOD:
            raise NotQuasiAffineError(f"the period {t} is too long to tabulate")
        forms = [[to_qa(e, axis, env, memo) for e in es] for es in shifted]
    except NotQuasiAffineError as exc:
        return AxisSizes(axis, dim, None, (), str(exc))
    ok = _check(network, dim)
    every = [f for fs in forms for f in fs]
    runs: dict[int, list[tuple[int, bool]]] = {}
    for r in range(t):
        pieces = _pieces(every, t, r)
        runs[r] = []
        for q in pieces:
            n = r + t * q
            refused = ok(n)
            accepted = refused is None
            derived = all(atom.holds([f(n) for f in fs]) for atom, fs in zip(sym.atoms, per_atom))
            if accepted != derived:
                # the layers' rules and the derived conditions disagree: not proven, not guessed
                return AxisSizes(
                    axis,
                    dim,
                    None,
                    (),
                    f"the derived conditions and the layers' rules disagree at {axis} = {n}"
                    + (f" (refused: {refused})" if refused else " (accepted)"),
                )
            runs[r].append((n, accepted))
    valid = _assemble(t, runs)
    constraints = _constraints(sym, axis, env, per_atom, forms, t, valid)
    return AxisSizes(axis, dim, valid, constraints)


def _atom_set(atom: Atom, fs: list[QA], forms: list[QA], t: int) -> ValidSet:
    runs: dict[int, list[tuple[int, bool]]] = {}
    for r in range(t):
        runs[r] = [(r + t * q, atom.holds([f(r + t * q) for f in fs])) for q in _pieces(forms, t, r)]
    return _assemble(t, runs)


def _subset(sets: Sequence[ValidSet], target: ValidSet) -> bool:
    """Whether the intersection of ``sets`` lies inside ``target`` (exact: beyond every ``min``
    and ``also``, membership repeats with the common period)."""
    edge = max([s.min or 0 for s in [*sets, target]] + [max(s.also, default=0) for s in [*sets, target]])
    period = math.lcm(*[s.period for s in [*sets, target]])
    return all(n in target for n in range(1, edge + period + 1) if all(n in s for s in sets))


def _constraints(
    sym: Symbolic,
    axis: str,
    env: dict[str, int],
    per_atom: list[list[QA]],
    forms: list[list[QA]],
    t: int,
    valid: ValidSet,
) -> tuple[Constraint, ...]:
    """The atoms that limit the axis, grouped by the sizes each allows alone, without those the
    others imply."""
    groups: dict[ValidSet, list[int]] = {}
    for i, atom in enumerate(sym.atoms):
        if not any(not f.is_const for f in per_atom[i]):
            continue  # does not depend on this axis
        alone = _atom_set(atom, per_atom[i], forms[i], t)
        if alone == EVERY:
            continue
        groups.setdefault(alone, []).append(i)
    kept = list(groups)
    # merges and divisibility first: they are the reasons people ask about
    kept.sort(key=lambda s: s.min is not None and s.period == 1)
    for s in list(reversed(kept)):
        others = [o for o in kept if o is not s]
        if others and _subset(others, s):
            kept.remove(s)
    out = []
    for s in kept:
        atoms = [sym.atoms[i] for i in groups[s]]
        layers = tuple(dict.fromkeys(a.text.split(" ")[0] for a in atoms))
        text = "; ".join(dict.fromkeys(_fill(a.text, sym, env) for a in atoms[:3]))
        if len(atoms) > 3:
            text += f"; and {len(atoms) - 3} more"
        out.append(Constraint(layers, f"{text} — {s.describe(axis)}", s))
    return tuple(out)


def _fill(text: str, sym: Symbolic, env: dict[str, int]) -> str:
    """An atom's text with its expressions printed, simplified where equal for every size."""
    every = {name: EVERY for name in sym.names}
    memo = _Memo()

    def one(match: re.Match[str]) -> str:
        return _render(sym.shown[int(match.group(1))], every, env, memo) or "?"

    return re.sub(r"<<(\d+)>>", one, text)


def valid_sizes(network: Network) -> SizesReport:
    """For each spatial axis of the network input (the others held at the input's sizes), the
    exact set of sizes the network accepts, with the checks that limit it."""
    sym = symbolic(network)
    first = len(network.input_shape) - len(sym.names)
    axes = tuple(_decide(network, sym, name, first + i) for i, name in enumerate(sym.names))
    return SizesReport(network.input_shape, axes)


# ---- formulas -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LayerFormula:
    """One layer's output shape as plain Python integer expressions in the axis names."""

    index: int
    path: str
    type: str
    output_shape_formula: tuple[str | None, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "path": self.path,
            "type": self.type,
            "output_shape_formula": list(self.output_shape_formula),
        }


@dataclass(frozen=True)
class FormulaReport:
    """Every layer's output-shape formulas, valid for every valid input size."""

    axes: tuple[str, ...]
    layers: tuple[LayerFormula, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"axes": list(self.axes), "layers": [layer.to_dict() for layer in self.layers]}


def shape_formulas(network: Network, sizes: SizesReport | None = None) -> FormulaReport:
    """Each layer's output shape in the input's axis names, simplified where equal on the valid
    sizes (checked exactly, class by class)."""
    sym = symbolic(network)
    sizes = sizes or valid_sizes(network)
    sets = {a.name: (a.valid if a.valid is not None else EVERY) for a in sizes.axes}
    env = dict(sym.sizes)
    memo = _Memo()
    layers = []
    for node, dims in zip(network.nodes, sym.outputs):
        texts = tuple(_render(e, sets, env, memo) for e in dims)
        layers.append(LayerFormula(node.index, node.key, node.layer.kind, texts))
    return FormulaReport(sym.names, tuple(layers))


@dataclass
class _Memo:
    """Printed texts and quasi-affine forms, by the id of expressions kept alive meanwhile."""

    texts: dict[int, str] = field(default_factory=dict)
    qas: dict[str, dict[int, QA]] = field(default_factory=dict)


def _render(e: Expr, sets: dict[str, ValidSet], env: dict[str, int], memo: _Memo) -> str | None:
    if id(e) in memo.texts:
        return memo.texts[id(e)]
    try:
        used = names(e)
        text = None
        if len(used) == 1:
            (axis,) = used
            text = _simplest(to_qa(e, axis, env, memo.qas.setdefault(axis, {})), axis, sets[axis])
        if text is None:
            text = _compound(e, sets, env, memo) if isinstance(e, (Lin, Floor, Prod)) else to_text(e)
    except NotQuasiAffineError:
        return None
    memo.texts[id(e)] = text
    return text


def _compound(e: Expr, sets: dict[str, ValidSet], env: dict[str, int], memo: _Memo) -> str:
    def part(sub: Expr) -> str:
        text = _render(sub, sets, env, memo)
        if text is None:
            raise NotQuasiAffineError("unknown")
        simple = isinstance(sub, (Var, Const)) or text.isidentifier() or text.isdigit()
        return text if simple else f"({text})"

    if isinstance(e, Prod):
        return " * ".join(part(f) for f in e.factors)
    if isinstance(e, Floor):
        return f"{part(e.arg)} // {e.den}"
    assert isinstance(e, Lin)
    parts = []
    for i, (k, t) in enumerate(e.terms):
        body = part(t) if abs(k) != 1 else (_render(t, sets, env, memo) or "?")
        term = body if abs(k) == 1 else f"{abs(k)} * {body}"
        parts.append((term if k > 0 else f"-{term}") if i == 0 else f"{'+' if k > 0 else '-'} {term}")
    if e.const:
        parts.append(f"{'+' if e.const > 0 else '-'} {abs(e.const)}")
    return " ".join(parts)


def _simplest(f: QA, axis: str, valid: ValidSet) -> str | None:
    """The shortest ``(A*axis + B) // C`` equal to ``f`` on every valid size, or None.

    Both sides are quasi-affine with the same slope A/C, so they agree on a whole residue class
    mod lcm(periods) as soon as they agree at one of its sizes: one size per class suffices.
    """
    if valid.min is None and not valid.also:
        return None
    text = _single_floor(f, axis, valid)
    if text is not None:
        return text
    # a multiple of one: 2 * ((H + 31) // 32)
    points = list(valid.also)
    if valid.min is not None:
        span = math.lcm(f.period, valid.period)
        points += [n for n in range(valid.min, valid.min + span) if n % valid.period in valid.residues]
    # k divides f on the listed sizes and on every valid size beyond (f grows by slope * span)
    k = math.gcd(*(f(n) for n in points), int(f.slope * math.lcm(f.period, valid.period)))
    if k > 1:
        inner = _single_floor(QA(f.slope / k, tuple(c / k for c in f.offsets)), axis, valid)
        if inner is not None:
            return f"{k} * ({inner})" if not inner.isidentifier() else f"{k} * {inner}"
    return None


def _single_floor(f: QA, axis: str, valid: ValidSet) -> str | None:
    """``(A*axis + B) // C`` equal to ``f`` on every valid size, with the least C, or None."""
    p, q = f.slope.numerator, f.slope.denominator
    for m in range(1, 65):
        a, c = p * m, q * m
        period = math.lcm(f.period, valid.period, c)
        points = list(valid.also)
        if valid.min is not None:
            points += [n for n in range(valid.min, valid.min + period) if n % valid.period in valid.residues]
        lo, hi = -(10**30), 10**30
        for n in points:
            base = c * f(n) - a * n
            lo, hi = max(lo, base), min(hi, base + c - 1)
            if lo > hi:
                break
        if lo <= hi:
            b = min(max(0, lo), hi)
            return floor_text(axis, a, b, c)
        if p == 0:
            return None
    return None
