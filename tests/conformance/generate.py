"""Deterministic random generator of single-layer torch.nn conformance cases."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

Case = dict[str, Any]
Args = list[Any]
Kwargs = dict[str, Any]
Shape = list[int]
Built = tuple[Args, Kwargs, Shape]
Generator = Callable[[random.Random, bool], Built]

#: Upper bound on the element count of any generated input tensor.
MAX_NUMEL = 20000
#: Upper bound on any channel count used by a generated case.
MAX_CHANNELS = 12
#: Share of cases that are deliberately built to be rejected by PyTorch.
INVALID_RATE = 0.3

TYPES: tuple[str, ...] = (
    "Conv1d", "Conv2d", "Conv3d",
    "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
    "MaxPool1d", "MaxPool2d", "MaxPool3d",
    "AvgPool1d", "AvgPool2d", "AvgPool3d",
    "LPPool1d", "LPPool2d", "LPPool3d",
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d",
    "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d",
    "BatchNorm1d", "BatchNorm2d", "BatchNorm3d",
    "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d",
    "GroupNorm", "LayerNorm", "LocalResponseNorm",
    "Linear", "Flatten", "Unflatten",
    "Dropout", "Dropout1d", "Dropout2d", "Dropout3d",
    "AlphaDropout", "FeatureAlphaDropout", "Identity",
    "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d",
    "PixelShuffle", "PixelUnshuffle", "ChannelShuffle",
    "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
    "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
    "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
    "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d",
    "CircularPad1d", "CircularPad2d", "CircularPad3d",
    "ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "SELU", "CELU", "GELU",
    "SiLU", "Mish", "Sigmoid", "Tanh", "Hardswish", "Hardsigmoid",
    "Hardtanh", "Softplus", "Softmax", "LogSoftmax",
)  # fmt: skip


# --------------------------------------------------------------------------
# argument plumbing


class _Omit:
    """Marker: the parameter is not passed at all (blocks later positionals)."""


OMIT = _Omit()


class _Dflt:
    """Marker: a default value, passed only when a positional prefix needs it."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def _opt(rng: random.Random, value: Any, default: Any, p_set: float = 0.5) -> Any:
    """Either an explicit ``value`` or the (implicit) ``default``."""
    if rng.random() < p_set:
        return value
    return _Dflt(default)


def _split(
    rng: random.Random,
    params: list[tuple[str, Any]],
    nreq: int,
    kwonly: list[tuple[str, Any]] | None = None,
) -> tuple[Args, Kwargs]:
    """Pass a prefix of ``params`` positionally and the rest as keywords."""
    limit = len(params)
    for i, (_, value) in enumerate(params):
        if value is OMIT:
            limit = i
            break
    last_explicit = 0
    for i, (_, value) in enumerate(params[:limit]):
        if not isinstance(value, _Dflt):
            last_explicit = i + 1
    lo = min(nreq, limit)
    r = rng.random()
    if r < 0.15:
        npos = 0
    elif r < 0.5:
        npos = lo
    elif r < 0.8:
        npos = max(lo, last_explicit)
    else:
        npos = rng.randint(lo, limit)
    args: Args = [v.value if isinstance(v, _Dflt) else v for _, v in params[:npos]]
    kwargs: Kwargs = {}
    for name, value in [*params[npos:], *(kwonly or [])]:
        if value is OMIT:
            continue
        if isinstance(value, _Dflt):
            if rng.random() < 0.2:
                kwargs[name] = value.value
            continue
        kwargs[name] = value
    return args, kwargs


_JUNK_NAMES = ("bogus", "kernel", "strides", "pad", "activation", "channels")


def _junk(rng: random.Random, args: Args, kwargs: Kwargs, names: list[str]) -> None:
    """Make the call invalid: unknown keyword, or a duplicated argument."""
    if args and names and rng.random() < 0.4:
        kwargs[names[0]] = args[0]
    else:
        kwargs[rng.choice(_JUNK_NAMES)] = rng.choice([1, 2, True, "x"])


# --------------------------------------------------------------------------
# shapes


def _numel(shape: Shape) -> int:
    return math.prod(shape)


def _nc_input(rng: random.Random, channels: int, spatial: Shape, p_unbatched: float = 0.25) -> Shape:
    """A ``(N, C, *spatial)`` shape, or ``(C, *spatial)`` when unbatched."""
    if rng.random() < p_unbatched:
        return [channels, *spatial]
    return [rng.randint(1, 3), channels, *spatial]


def _wrong_rank(rng: random.Random, shape: Shape, allowed: set[int]) -> Shape:
    """Drop or add dimensions until the rank is not in ``allowed``."""
    choices = [r for r in range(0, 7) if r not in allowed and abs(r - len(shape)) <= 2]
    if not choices:
        choices = [r for r in range(0, 7) if r not in allowed]
    target = rng.choice(choices)
    out = list(shape)
    while len(out) > target:
        out.pop(0 if rng.random() < 0.7 else len(out) - 1)
    while len(out) < target:
        if rng.random() < 0.7:
            out.insert(0, rng.randint(1, 3))
        else:
            out.append(rng.randint(1, 5))
    return out


def _rand_shape(rng: random.Random, rank: int, hi: int = 6) -> Shape:
    shape = [rng.randint(1, hi) for _ in range(rank)]
    if rank >= 2:
        shape[1] = min(shape[1], MAX_CHANNELS)
    return shape


def _rand_rank(rng: random.Random) -> int:
    return rng.choice([0, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5])


def _ints(values: list[int], rng: random.Random, p_scalar: float = 0.5) -> Any:
    """An int when all entries agree (sometimes), otherwise a list."""
    if all(v == values[0] for v in values) and rng.random() < p_scalar:
        return values[0]
    return list(values)


def _wrong_len(rng: random.Random, values: list[int], d: int) -> list[int]:
    n = rng.choice([x for x in (1, 2, 3, 4) if x != d])
    return [values[i % len(values)] for i in range(n)]


def _spatial_for(rng: random.Random, eff: list[int], pad: list[int], span: int) -> Shape:
    out = []
    for e, p in zip(eff, pad):
        lo = max(1, e - 2 * p)
        out.append(rng.randint(lo, lo + span))
    return out


# --------------------------------------------------------------------------
# convolutions


def _gen_conv(d: int, transposed: bool) -> Generator:
    kmax = {1: 7, 2: 5, 3: 3}[d]
    span = {1: 14, 2: 8, 3: 4}[d]

    ps = 0.85 if d == 1 else 0.5  # 1-tuples are legal but unusual

    def gen(rng: random.Random, bad: bool) -> Built:
        g = rng.choice([1, 1, 1, 1, 2, 3, 4])
        cin = g * rng.randint(1, MAX_CHANNELS // g)
        cout = g * rng.randint(1, MAX_CHANNELS // g)
        k = [rng.randint(1, kmax) for _ in range(d)]
        if rng.random() < 0.5:
            k = [k[0]] * d
        stride = [rng.choice([1, 1, 1, 2, 2, 3]) for _ in range(d)]
        if rng.random() < 0.5:
            stride = [stride[0]] * d
        dil = [rng.choice([1, 1, 1, 1, 2, 3]) for _ in range(d)]
        if rng.random() < 0.6:
            dil = [dil[0]] * d
        eff = [dl * (kk - 1) + 1 for dl, kk in zip(dil, k)]
        pad_int = [rng.randint(0, max(0, (e - 1) // 2 + rng.choice([0, 0, 1]))) for e in eff]
        padding: Any
        r = rng.random()
        if not transposed and r < 0.15 and all(s == 1 for s in stride):
            padding = "same"
            pad_int = [e // 2 for e in eff]
        elif not transposed and r < 0.25:
            padding = "valid"
            pad_int = [0] * d
        else:
            padding = _ints(pad_int, rng, ps)
        mode = "zeros"
        if not transposed and rng.random() < 0.3:
            mode = rng.choice(["reflect", "replicate", "circular"])
        out_pad = [rng.randint(0, max(s, dl) - 1) if rng.random() < 0.4 else 0 for s, dl in zip(stride, dil)]
        bias: Any = rng.choice([True, False, None])
        spatial_pad = [0] * d if transposed else pad_int
        spatial = _spatial_for(
            rng, [1] * d if transposed else eff, spatial_pad, span if not transposed else max(3, span // 2)
        )
        shape = _nc_input(rng, cin, spatial)
        lead = shape[: len(shape) - d - 1]
        wrong_rank = False
        input_c = cin
        kernel: Any = _ints(k, rng, ps)
        stride_v: Any = _ints(stride, rng, ps)
        dil_v: Any = _ints(dil, rng, ps)
        out_pad_v: Any = _ints(out_pad, rng, ps)
        groups = g
        junk = False
        if bad:
            ops = [
                "groups_in",
                "groups_out",
                "groups_zero",
                "in_mismatch",
                "rank",
                "too_small",
                "kernel_zero",
                "stride_zero",
                "pad_neg",
                "dil_zero",
                "tuple_len",
                "junk",
            ]
            if transposed:
                ops += ["outpad", "outpad", "tmode", "tpad_str", "too_small"]
            else:
                ops += ["same_stride", "same_stride", "pad_str", "mode_bad", "pad_mode_big", "pad_mode_big"]
            op = rng.choice(ops)
            if op == "groups_in":
                groups = rng.choice([2, 3, 4, 5])
                cin = rng.choice([c for c in range(1, MAX_CHANNELS + 1) if c % groups])
                cout = groups * rng.randint(1, 2)
                input_c = cin
            elif op == "groups_out":
                groups = rng.choice([2, 3, 4])
                cin = groups * rng.randint(1, MAX_CHANNELS // groups)
                input_c = cin
                cout = rng.choice([c for c in range(1, MAX_CHANNELS + 1) if c % groups])
            elif op == "groups_zero":
                groups = rng.choice([0, -1])
            elif op == "in_mismatch":
                input_c = rng.choice(
                    [c for c in (cin - 1, cin + 1, cin * 2, cin // g) if 1 <= c <= MAX_CHANNELS and c != cin]
                    or [cin - 1]
                )
            elif op == "rank":
                shape = _wrong_rank(rng, shape, {d + 1, d + 2})
            elif op == "too_small":
                ax = rng.randrange(d)
                if transposed:
                    padding = [p if i != ax else rng.randint(2, 5) for i, p in enumerate(pad_int)]
                    stride_v = 1
                    spatial[ax] = 1
                    k[ax] = rng.randint(1, 3)
                    dil[ax] = 1
                    kernel = list(k)
                    dil_v = list(dil)
                    out_pad_v = 0
                else:
                    k[ax] = max(k[ax], 2) + 1
                    kernel = list(k)
                    eff_ax = dil[ax] * (k[ax] - 1) + 1
                    if mode != "zeros" or isinstance(padding, str):
                        padding = 0
                        pad_int = [0] * d
                    spatial[ax] = rng.randint(1, max(1, eff_ax - 2 * pad_int[ax] - 1))
            elif op == "kernel_zero":
                k[rng.randrange(d)] = rng.choice([0, -1])
                kernel = list(k)
            elif op == "stride_zero":
                stride[rng.randrange(d)] = rng.choice([0, -1])
                stride_v = list(stride)
                if padding == "same":
                    padding = 0
            elif op == "pad_neg":
                padding = [p if i else -rng.randint(1, 2) for i, p in enumerate(pad_int)]
            elif op == "dil_zero":
                dil[rng.randrange(d)] = rng.choice([0, -1])
                dil_v = list(dil)
            elif op == "tuple_len":
                which = rng.choice(["k", "s", "p", "d"])
                if which == "k":
                    kernel = _wrong_len(rng, k, d)
                elif which == "s":
                    stride_v = _wrong_len(rng, stride, d)
                elif which == "p":
                    padding = _wrong_len(rng, pad_int, d)
                else:
                    dil_v = _wrong_len(rng, dil, d)
            elif op == "junk":
                junk = True
            elif op == "outpad":
                ax = rng.randrange(d)
                out_pad[ax] = max(stride[ax], dil[ax]) + rng.randint(0, 1)
                out_pad_v = list(out_pad)
            elif op == "tmode":
                mode = rng.choice(["reflect", "replicate", "circular", "zero"])
            elif op == "tpad_str":
                padding = rng.choice(["same", "valid"])
            elif op == "same_stride":
                padding = "same"
                stride[rng.randrange(d)] = rng.choice([2, 3])
                stride_v = _ints(stride, rng, ps)
            elif op == "pad_str":
                padding = rng.choice(["full", "SAME", "none"])
            elif op == "mode_bad":
                mode = rng.choice(["zero", "constant", "reflection"])
            elif op == "pad_mode_big":
                mode = rng.choice(["reflect", "reflect", "circular", "circular", "replicate"])
                ax = rng.randrange(d)
                p = (
                    spatial[ax] + rng.choice([0, 0, 1])
                    if mode != "circular"
                    else spatial[ax] + rng.choice([1, 1, 2])
                )
                pad_int[ax] = p
                padding = list(pad_int)
            if op == "rank":
                wrong_rank = True
        if not wrong_rank:
            shape = [*lead, input_c, *spatial]
        if transposed:
            params: list[tuple[str, Any]] = [
                ("in_channels", cin),
                ("out_channels", cout),
                ("kernel_size", kernel),
                ("stride", _opt(rng, stride_v, 1, 1.0 if stride_v != 1 else 0.3)),
                ("padding", _opt(rng, padding, 0, 1.0 if padding != 0 else 0.3)),
                ("output_padding", _opt(rng, out_pad_v, 0, 1.0 if out_pad_v != 0 else 0.2)),
                ("groups", _opt(rng, groups, 1, 1.0 if groups != 1 else 0.3)),
                ("bias", OMIT if bias is None else bias),
                ("dilation", _opt(rng, dil_v, 1, 1.0 if dil_v != 1 else 0.3)),
                ("padding_mode", _opt(rng, mode, "zeros", 1.0 if mode != "zeros" else 0.2)),
            ]
        else:
            params = [
                ("in_channels", cin),
                ("out_channels", cout),
                ("kernel_size", kernel),
                ("stride", _opt(rng, stride_v, 1, 1.0 if stride_v != 1 else 0.3)),
                ("padding", _opt(rng, padding, 0, 1.0 if padding != 0 else 0.3)),
                ("dilation", _opt(rng, dil_v, 1, 1.0 if dil_v != 1 else 0.3)),
                ("groups", _opt(rng, groups, 1, 1.0 if groups != 1 else 0.3)),
                ("bias", OMIT if bias is None else bias),
                ("padding_mode", _opt(rng, mode, "zeros", 1.0 if mode != "zeros" else 0.2)),
            ]
        args, kwargs = _split(rng, params, 3)
        if junk:
            _junk(rng, args, kwargs, [n for n, _ in params])
        return args, kwargs, shape

    return gen


# --------------------------------------------------------------------------
# pooling


def _gen_pool(d: int, kind: str) -> Generator:
    """kind: 'max', 'avg' or 'lp'."""
    kmax = {1: 5, 2: 4, 3: 3}[d]
    span = {1: 14, 2: 8, 3: 4}[d]

    ps = 0.85 if d == 1 else 0.5  # 1-tuples are legal but unusual

    def gen(rng: random.Random, bad: bool) -> Built:
        k = [rng.randint(1, kmax) for _ in range(d)]
        if rng.random() < 0.5:
            k = [k[0]] * d
        stride: list[int] | None = None
        if rng.random() < 0.6:
            stride = [rng.randint(1, 3) for _ in range(d)]
            if rng.random() < 0.5:
                stride = [stride[0]] * d
        dil = [1] * d
        if kind == "max" and rng.random() < 0.3:
            dil = [rng.randint(1, 3) for _ in range(d)]
        pad = [0] * d
        if kind != "lp" and rng.random() < 0.5:
            pad = [rng.randint(0, kk // 2) for kk in k]
        ceil = rng.choice([True, False, None])
        cip: bool | None = rng.choice([True, False, None])
        div: Any = OMIT
        if kind == "avg" and d > 1 and rng.random() < 0.3:
            div = rng.choice([1, 2, 3, 5, None])
        norm: Any = rng.choice([1, 2, 2, 3, 1.5, 4.0])
        eff = [dl * (kk - 1) + 1 for dl, kk in zip(dil, k)]
        spatial = _spatial_for(rng, eff, pad, span)
        c = rng.randint(1, MAX_CHANNELS)
        shape = _nc_input(rng, c, spatial)
        kernel: Any = _ints(k, rng, ps)
        stride_v: Any = None if stride is None else _ints(stride, rng, ps)
        pad_v: Any = _ints(pad, rng, ps)
        dil_v: Any = _ints(dil, rng, ps)
        junk = False
        if bad:
            ops = [
                "kernel_zero",
                "stride_zero",
                "too_small",
                "too_small",
                "rank",
                "rank",
                "tuple_len",
                "junk",
            ]
            if kind != "lp":
                ops += ["pad_big", "pad_big", "pad_neg"]
            if kind == "max":
                ops += ["dil_zero"]
            if kind == "avg" and d > 1:
                ops += ["div_zero"]
            op = rng.choice(ops)
            if op == "kernel_zero":
                k[rng.randrange(d)] = rng.choice([0, -1])
                kernel = list(k)
            elif op == "stride_zero":
                st = stride or list(k)
                st[rng.randrange(d)] = rng.choice([0, -1])
                stride_v = list(st)
            elif op == "too_small":
                ax = rng.randrange(d)
                k[ax] = max(k[ax], 2) + rng.randint(0, 2)
                kernel = list(k)
                pad[ax] = 0
                pad_v = list(pad)
                e = dil[ax] * (k[ax] - 1) + 1
                spatial[ax] = rng.randint(1, e - 1)
                shape = [*shape[: len(shape) - d], *spatial]
            elif op == "rank":
                shape = _wrong_rank(rng, shape, {d + 1, d + 2})
            elif op == "tuple_len":
                which = rng.choice(["k", "k", "s", "p", "d"] if kind != "lp" else ["k", "s"])
                if which == "k":
                    kernel = _wrong_len(rng, k, d)
                elif which == "s":
                    stride_v = _wrong_len(rng, stride or k, d)
                elif which == "p":
                    pad_v = _wrong_len(rng, pad, d)
                else:
                    dil_v = _wrong_len(rng, dil, d)
            elif op == "junk":
                junk = True
            elif op == "pad_big":
                ax = rng.randrange(d)
                pad[ax] = k[ax] // 2 + rng.randint(1, 2)
                pad_v = list(pad)
            elif op == "pad_neg":
                pad[rng.randrange(d)] = -1
                pad_v = list(pad)
            elif op == "dil_zero":
                dil[rng.randrange(d)] = 0
                dil_v = list(dil)
            elif op == "div_zero":
                div = 0
        stride_p = stride_v if stride_v is not None else _opt(rng, None, None, 0.15)
        ceil_p: Any = OMIT if ceil is None else ceil
        if kind == "max":
            params: list[tuple[str, Any]] = [
                ("kernel_size", kernel),
                ("stride", stride_p),
                ("padding", _opt(rng, pad_v, 0, 1.0 if pad_v != 0 else 0.3)),
                ("dilation", _opt(rng, dil_v, 1, 1.0 if dil_v != 1 else 0.2)),
                ("return_indices", _Dflt(False)),
                ("ceil_mode", ceil_p),
            ]
            nreq = 1
        elif kind == "avg":
            params = [
                ("kernel_size", kernel),
                ("stride", stride_p),
                ("padding", _opt(rng, pad_v, 0, 1.0 if pad_v != 0 else 0.3)),
                ("ceil_mode", ceil_p if ceil_p is not OMIT else _Dflt(False)),
                ("count_include_pad", OMIT if cip is None else cip),
            ]
            if d > 1:
                params.append(("divisor_override", div))
            nreq = 1
        else:
            params = [
                ("norm_type", norm),
                ("kernel_size", kernel),
                ("stride", stride_p),
                ("ceil_mode", ceil_p),
            ]
            nreq = 2
        args, kwargs = _split(rng, params, nreq)
        if junk:
            _junk(rng, args, kwargs, [n for n, _ in params])
        return args, kwargs, shape

    return gen


def _gen_adaptive(d: int, kind: str) -> Generator:
    span = {1: 20, 2: 10, 3: 6}[d]

    def gen(rng: random.Random, bad: bool) -> Built:
        spatial = [rng.randint(1, span) for _ in range(d)]
        c = rng.randint(1, MAX_CHANNELS)
        shape = _nc_input(rng, c, spatial)
        outs: list[Any] = [rng.randint(1, span) for _ in range(d)]
        if rng.random() < 0.3:
            outs = [min(o, s) for o, s in zip(outs, spatial)]
        if d > 1 and rng.random() < 0.25:
            outs[rng.randrange(d)] = None
        out: Any = (
            outs[0]
            if (d == 1 and rng.random() < 0.7)
            else (_ints(outs, rng) if None not in outs else list(outs))
        )
        junk = False
        if bad:
            op = rng.choice(
                ["neg", "neg", "zero", "tuple_len", "tuple_len", "rank", "rank", "rank", "junk", "none_1d"]
            )
            if op == "neg":
                outs[rng.randrange(d)] = -rng.randint(1, 3)
                out = list(outs) if d > 1 or rng.random() < 0.5 else outs[0]
            elif op == "zero":
                outs[rng.randrange(d)] = 0
                out = list(outs) if d > 1 or rng.random() < 0.5 else outs[0]
            elif op == "tuple_len":
                n = rng.choice([x for x in (1, 2, 3, 4) if x != d])
                out = [rng.randint(1, span) for _ in range(n)]
            elif op == "rank":
                shape = _wrong_rank(rng, shape, {d + 1, d + 2})
            elif op == "junk":
                junk = True
            else:
                out = None if d == 1 else [None] * d
        params: list[tuple[str, Any]] = [("output_size", out)]
        if kind == "max":
            params.append(("return_indices", _Dflt(False)))
        args, kwargs = _split(rng, params, 1)
        if junk:
            _junk(rng, args, kwargs, [n for n, _ in params])
        return args, kwargs, shape

    return gen


# --------------------------------------------------------------------------
# normalisation


def _gen_batchnorm(d: int) -> Generator:
    span = {1: 12, 2: 8, 3: 5}[d]

    def gen(rng: random.Random, bad: bool) -> Built:
        c = rng.randint(1, MAX_CHANNELS)
        if d == 1:
            shape = (
                [rng.randint(1, 4), c] if rng.random() < 0.4 else [rng.randint(1, 3), c, rng.randint(1, span)]
            )
        else:
            shape = [rng.randint(1, 3), c, *[rng.randint(1, span) for _ in range(d)]]
        eps: Any = _opt(rng, rng.choice([1e-5, 1e-3, 0.1]), 1e-5, 0.3)
        momentum: Any = _opt(rng, rng.choice([0.1, 0.01, None]), 0.1, 0.3)
        affine: Any = _opt(rng, rng.choice([True, False]), True, 0.5)
        trs: Any = _opt(rng, rng.choice([True, True, False]), True, 0.5)
        bias: Any = OMIT if rng.random() < 0.85 else rng.choice([True, False])
        num = c
        junk = False
        if bad:
            op = rng.choice(["mismatch", "mismatch", "rank", "rank", "single", "junk", "zero_feat"])
            if op == "mismatch":
                num = rng.choice([x for x in (c - 1, c + 1, 2 * c) if 1 <= x <= MAX_CHANNELS and x != c])
            elif op == "rank":
                allowed = {2, 3} if d == 1 else {d + 2}
                shape = _wrong_rank(rng, shape, allowed)
            elif op == "single":
                trs = False
                shape = [1 for _ in shape]
                shape[1] = c
            elif op == "junk":
                junk = True
            else:
                num = 0
        params: list[tuple[str, Any]] = [
            ("num_features", num),
            ("eps", eps),
            ("momentum", momentum),
            ("affine", affine),
            ("track_running_stats", trs),
            ("device", OMIT),
        ]
        args, kwargs = _split(rng, params, 1, [("bias", bias)])
        if junk:
            _junk(rng, args, kwargs, [n for n, _ in params])
        return args, kwargs, shape

    return gen


def _gen_instancenorm(d: int) -> Generator:
    span = {1: 12, 2: 8, 3: 5}[d]

    def gen(rng: random.Random, bad: bool) -> Built:
        c = rng.randint(1, MAX_CHANNELS)
        spatial = [rng.randint(1, span) for _ in range(d)]
        if all(s == 1 for s in spatial):
            spatial[0] = 2
        shape = _nc_input(rng, c, spatial, 0.3)
        eps: Any = _opt(rng, rng.choice([1e-5, 1e-3]), 1e-5, 0.2)
        momentum: Any = _opt(rng, rng.choice([0.1, 0.2]), 0.1, 0.2)
        affine: Any = _opt(rng, rng.choice([True, False]), False, 0.6)
        trs: Any = _opt(rng, rng.choice([True, False]), False, 0.4)
        bias: Any = OMIT if rng.random() < 0.85 else rng.choice([True, False])
        num = c
        junk = False
        if rng.random() < 0.1:
            # accepted by torch (with a warning) when affine=False and no running stats
            num = rng.choice([x for x in (c - 1, c + 1, 2 * c) if 1 <= x <= MAX_CHANNELS and x != c])
            affine = _Dflt(False)
            trs = _Dflt(False)
        if bad:
            op = rng.choice(["mismatch", "mismatch", "rank", "rank", "single", "junk"])
            if op == "mismatch":
                num = rng.choice([x for x in (c - 1, c + 1, 2 * c) if 1 <= x <= MAX_CHANNELS and x != c])
                affine = True
            elif op == "rank":
                shape = _wrong_rank(rng, shape, {d + 1, d + 2})
            elif op == "single":
                shape = [*shape[: len(shape) - d], *[1] * d]
            else:
                junk = True
        params: list[tuple[str, Any]] = [
            ("num_features", num),
            ("eps", eps),
            ("momentum", momentum),
            ("affine", affine),
            ("track_running_stats", trs),
            ("device", OMIT),
        ]
        args, kwargs = _split(rng, params, 1, [("bias", bias)])
        if junk:
            _junk(rng, args, kwargs, [n for n, _ in params])
        return args, kwargs, shape

    return gen


def _gen_groupnorm(rng: random.Random, bad: bool) -> Built:
    c = rng.randint(1, MAX_CHANNELS)
    groups = rng.choice([gg for gg in range(1, c + 1) if c % gg == 0])
    rank = rng.choice([2, 3, 3, 4, 4, 5])
    shape = [rng.randint(1, 3), c, *[rng.randint(1, 6) for _ in range(rank - 2)]]
    eps: Any = _opt(rng, 1e-3, 1e-5, 0.2)
    affine: Any = _opt(rng, rng.choice([True, False]), True, 0.5)
    bias: Any = OMIT if rng.random() < 0.85 else rng.choice([True, False])
    num_c = c
    junk = False
    if bad:
        op = rng.choice(["div", "div", "mismatch", "mismatch", "rank", "zero", "junk"])
        if op == "div":
            groups = rng.choice([gg for gg in range(2, 13) if c % gg] or [c + 1])
        elif op == "mismatch":
            num_c = groups * rng.randint(1, max(1, MAX_CHANNELS // groups))
            if num_c == c:
                num_c = c + groups
        elif op == "rank":
            shape = shape[:1] if rng.random() < 0.5 else []
        elif op == "zero":
            groups = 0
        else:
            junk = True
    params: list[tuple[str, Any]] = [
        ("num_groups", groups),
        ("num_channels", num_c),
        ("eps", eps),
        ("affine", affine),
        ("device", OMIT),
    ]
    args, kwargs = _split(rng, params, 2, [("bias", bias)])
    if junk:
        _junk(rng, args, kwargs, [n for n, _ in params])
    return args, kwargs, shape


def _gen_layernorm(rng: random.Random, bad: bool) -> Built:
    rank = rng.choice([1, 2, 2, 3, 3, 4])
    shape = _rand_shape(rng, rank, 8)
    k = rng.randint(1, min(3, rank))
    norm_shape: Any = list(shape[rank - k :])
    if k == 1 and rng.random() < 0.6:
        norm_shape = norm_shape[0]
    eps: Any = _opt(rng, 1e-6, 1e-5, 0.2)
    ea: Any = _opt(rng, rng.choice([True, False]), True, 0.5)
    bias: Any = _opt(rng, rng.choice([True, False]), True, 0.4)
    junk = False
    if bad:
        op = rng.choice(["mismatch", "mismatch", "rank", "junk"])
        if op == "mismatch":
            ns = [norm_shape] if isinstance(norm_shape, int) else list(norm_shape)
            i = rng.randrange(len(ns))
            ns[i] = ns[i] + rng.choice([1, 2])
            norm_shape = ns if len(ns) > 1 or rng.random() < 0.5 else ns[0]
        elif op == "rank":
            norm_shape = [rng.randint(1, 4) for _ in range(rank + 1)]
        else:
            junk = True
    params: list[tuple[str, Any]] = [
        ("normalized_shape", norm_shape),
        ("eps", eps),
        ("elementwise_affine", ea),
        ("bias", bias),
    ]
    args, kwargs = _split(rng, params, 1)
    if junk:
        _junk(rng, args, kwargs, [n for n, _ in params])
    return args, kwargs, shape


def _gen_lrn(rng: random.Random, bad: bool) -> Built:
    rank = rng.choice([3, 3, 4, 4, 5])
    shape = _rand_shape(rng, rank, 7)
    size = rng.randint(1, 6)
    params: list[tuple[str, Any]] = [
        ("size", size),
        ("alpha", _opt(rng, 1e-3, 1e-4, 0.3)),
        ("beta", _opt(rng, 0.5, 0.75, 0.3)),
        ("k", _opt(rng, 2.0, 1.0, 0.3)),
    ]
    junk = False
    if bad:
        op = rng.choice(["rank", "rank", "rank", "zero", "junk"])
        if op == "rank":
            shape = shape[: rng.choice([0, 1, 2])]
        elif op == "zero":
            params[0] = ("size", rng.choice([0, -1]))
        else:
            junk = True
    args, kwargs = _split(rng, params, 1)
    if junk:
        _junk(rng, args, kwargs, [n for n, _ in params])
    return args, kwargs, shape


# --------------------------------------------------------------------------
# linear / reshaping / dropout / identity


def _gen_linear(rng: random.Random, bad: bool) -> Built:
    fin = rng.randint(1, MAX_CHANNELS)
    fout = rng.randint(1, MAX_CHANNELS)
    rank = rng.choice([1, 2, 2, 2, 3, 4])
    shape = [*_rand_shape(rng, rank - 1, 5), fin]
    bias: Any = rng.choice([True, False, None])
    junk = False
    if bad:
        op = rng.choice(["mismatch", "mismatch", "mismatch", "scalar", "junk"])
        if op == "mismatch":
            shape[-1] = rng.choice([x for x in (fin - 1, fin + 1, 2 * fin) if x >= 1 and x != fin])
        elif op == "scalar":
            shape = []
        else:
            junk = True
    params: list[tuple[str, Any]] = [
        ("in_features", fin),
        ("out_features", fout),
        ("bias", OMIT if bias is None else bias),
    ]
    args, kwargs = _split(rng, params, 2)
    if junk:
        _junk(rng, args, kwargs, [n for n, _ in params])
    return args, kwargs, shape


def _gen_flatten(rng: random.Random, bad: bool) -> Built:
    rank = _rand_rank(rng)
    shape = _rand_shape(rng, rank)
    lo, hi = -max(rank, 1), max(rank, 1) - 1
    start = rng.randint(lo, hi)
    end = rng.randint(lo, hi)
    s_n, e_n = start % max(rank, 1), end % max(rank, 1)
    if s_n > e_n:
        start, end = end, start
    start_p: Any = _opt(rng, start, 1, 0.8)
    end_p: Any = _opt(rng, end, -1, 0.7)
    if isinstance(start_p, _Dflt) and rank >= 2 and isinstance(end_p, int) and end_p % rank < 1:
        end_p = _Dflt(-1)
    junk = False
    if bad:
        op = rng.choice(["range", "range", "order", "order", "junk"])
        if op == "range":
            start_p = rng.choice([rank + rng.randint(0, 2), -rank - rng.randint(1, 2)])
        elif op == "order" and rank >= 2:
            a, b = sorted(rng.sample(range(rank), 2))
            start_p, end_p = b, a
        else:
            junk = True
    params: list[tuple[str, Any]] = [("start_dim", start_p), ("end_dim", end_p)]
    args, kwargs = _split(rng, params, 0)
    if junk:
        _junk(rng, args, kwargs, [n for n, _ in params])
    return args, kwargs, shape


def _factor(rng: random.Random, n: int) -> list[int]:
    parts: list[int] = []
    rest = n
    for _ in range(rng.randint(1, 3)):
        divs = [x for x in range(1, rest + 1) if rest % x == 0]
        f = rng.choice(divs)
        parts.append(f)
        rest //= f
    parts.append(rest)
    rng.shuffle(parts)
    if len(parts) > 1 and rng.random() < 0.5:
        parts = [p for p in parts if p != 1] or [1]
    return parts


def _gen_unflatten(rng: random.Random, bad: bool) -> Built:
    rank = rng.choice([1, 2, 2, 3, 3, 4])
    shape = _rand_shape(rng, rank, 12)
    dim = rng.randrange(rank)
    sizes: list[int] = _factor(rng, shape[dim])
    if rng.random() < 0.3:
        sizes[rng.randrange(len(sizes))] = -1
    dim_v = dim if rng.random() < 0.6 else dim - rank
    junk = False
    if bad:
        op = rng.choice(["prod", "prod", "range", "two_neg", "empty", "junk", "scalar"])
        if op == "prod":
            sizes = [s for s in sizes if s != -1] or [1]
            sizes[rng.randrange(len(sizes))] += 1
        elif op == "range":
            dim_v = rng.choice([rank, rank + 1, -rank - 1])
        elif op == "two_neg":
            sizes = [-1, -1, *sizes]
        elif op == "empty":
            sizes = []
        elif op == "scalar":
            shape = []
            dim_v = 0
        else:
            junk = True
    params: list[tuple[str, Any]] = [("dim", dim_v), ("unflattened_size", sizes)]
    args, kwargs = _split(rng, params, 2)
    if junk:
        _junk(rng, args, kwargs, [n for n, _ in params])
    return args, kwargs, shape


def _gen_dropout(kind: str) -> Generator:
    def gen(rng: random.Random, bad: bool) -> Built:
        if kind == "Dropout1d":
            rank = rng.choice([2, 3, 3])
        elif kind == "Dropout2d":
            rank = rng.choice([3, 4, 4])
        elif kind == "Dropout3d":
            rank = rng.choice([4, 5, 5])
        else:
            rank = _rand_rank(rng)
        shape = _rand_shape(rng, rank, 6)
        p: Any = _opt(rng, rng.choice([0.0, 0.1, 0.25, 0.5, 0.9, 1.0]), 0.5, 0.7)
        junk = False
        if bad:
            ops = ["p", "p", "p", "junk"]
            ops += ["rank"] * (3 if kind == "Dropout1d" else 1)
            op = rng.choice(ops)
            if op == "p":
                p = rng.choice([-0.1, 1.5, 2.0, -1.0])
            elif op == "rank":
                shape = _rand_shape(rng, rng.choice([r for r in range(0, 7) if r != rank]), 5)
            else:
                junk = True
        params: list[tuple[str, Any]] = [("p", p), ("inplace", _Dflt(False))]
        args, kwargs = _split(rng, params, 0)
        if junk:
            _junk(rng, args, kwargs, [n for n, _ in params])
        return args, kwargs, shape

    return gen


def _gen_identity(rng: random.Random, bad: bool) -> Built:
    shape = _rand_shape(rng, _rand_rank(rng))
    args: Args = []
    kwargs: Kwargs = {}
    if rng.random() < 0.5:
        args = [rng.choice([1, 54, "x", 0.5]) for _ in range(rng.randint(1, 3))]
    if rng.random() < 0.4:
        kwargs = {rng.choice(_JUNK_NAMES): rng.choice([1, "x", False])}
    return args, kwargs, shape


# --------------------------------------------------------------------------
# upsampling


_UP_RANKS: dict[str, tuple[int, ...]] = {
    "nearest": (3, 4, 5),
    "linear": (3,),
    "bilinear": (4,),
    "bicubic": (4,),
    "trilinear": (5,),
    "nearest-exact": (3, 4, 5),
    "area": (3, 4, 5),
}
_ALIGN_MODES = ("linear", "bilinear", "bicubic", "trilinear")
_SCALES: tuple[float | int, ...] = (
    2,
    3,
    2.0,
    0.5,
    1.5,
    0.7,
    2.25,
    1.0,
    1.1,
    0.3,
    0.57,
    1.15,
    0.29,
    2.5,
    1.7,
    0.45,
    1.25,
    0.33,
    0.1,
    1.45,
    0.55,
    2.1,
    0.35,
    0.15,
    1.3,
)


#: (scale, size) pairs where ``floor(size * scale)`` in binary floating point is one less
#: than with exact decimals (0.57 * 100 == 56.99999999999999): PyTorch uses the former.
_FLOAT_TRAPS: tuple[tuple[float, int], ...] = (
    (0.58, 50), (1.14, 50), (2.3, 50), (0.57, 100), (0.29, 100), (1.15, 100), (0.7, 90),
    (2.3, 90), (1.13, 100),
)  # fmt: skip


def _up_spatial(rng: random.Random, d: int) -> Shape:
    hi = {1: 30, 2: 12, 3: 6}[d]
    return [rng.randint(1, hi) for _ in range(d)]


def _up_scale(rng: random.Random, d: int) -> Any:
    if rng.random() < 0.6:
        return rng.choice(_SCALES if d < 3 else _SCALES[:8])
    vals = [rng.choice(_SCALES if d < 3 else _SCALES[:8]) for _ in range(d)]
    return vals


def _up_size(rng: random.Random, spatial: Shape) -> Any:
    vals = [rng.randint(1, 2 * s + 2) for s in spatial]
    if len(vals) == 1 and rng.random() < 0.5:
        return vals[0]
    if rng.random() < 0.3:
        return vals[0]
    return vals


def _gen_upsample(rng: random.Random, bad: bool) -> Built:
    mode = rng.choice(list(_UP_RANKS))
    rank = rng.choice(_UP_RANKS[mode])
    d = rank - 2
    spatial = _up_spatial(rng, d)
    shape = [rng.randint(1, 2), rng.randint(1, 4 if d == 3 else MAX_CHANNELS), *spatial]
    use_size = rng.random() < 0.4
    size: Any = _up_size(rng, spatial) if use_size else None
    scale: Any = None if use_size else _up_scale(rng, d)
    if not bad and rank == 3 and rng.random() < 0.3:
        scale, size0 = rng.choice(_FLOAT_TRAPS)
        scale = [scale] if rng.random() < 0.3 else scale
        spatial = [size0]
        shape = [rng.randint(1, 2), rng.randint(1, 4), size0]
        use_size, size = False, None
    align: Any = OMIT
    if mode in _ALIGN_MODES and rng.random() < 0.6:
        align = rng.choice([True, False, None])
    recompute: Any = OMIT
    if not use_size and rng.random() < 0.4:
        recompute = rng.choice([True, False, None])
    junk = False
    if bad:
        op = rng.choice(
            [
                "rank_mode",
                "rank_mode",
                "rank_mode",
                "both",
                "neither",
                "align_bad",
                "tuple_len",
                "zero_out",
                "neg",
                "bad_mode",
                "recompute_size",
                "junk",
            ]
        )
        if op == "rank_mode":
            mode = rng.choice(["linear", "bilinear", "bicubic", "trilinear"])
            new_rank = rng.choice([r for r in (2, 3, 4, 5, 6) if r not in _UP_RANKS[mode]])
            shape = _rand_shape(rng, new_rank, 8 if new_rank < 5 else 4)
            if align is OMIT and rng.random() < 0.3:
                align = False
        elif op == "both":
            size = _up_size(rng, spatial)
            scale = _up_scale(rng, d)
        elif op == "neither":
            size = None
            scale = None
        elif op == "align_bad":
            mode = rng.choice(["nearest", "nearest-exact", "area"])
            align = rng.choice([True, False])
        elif op == "tuple_len":
            n = rng.choice([x for x in (1, 2, 3, 4) if x != d and x > 1] or [2])
            if use_size:
                size = [rng.randint(1, 8) for _ in range(n)]
            else:
                scale = [rng.choice(_SCALES[:6]) for _ in range(n)]
        elif op == "zero_out":
            size = None
            scale = rng.choice([0.1, 0.15, 0.29, 0.3])
            spatial = [rng.randint(1, 3) for _ in spatial]
            shape = [*shape[:2], *spatial]
        elif op == "neg":
            if use_size:
                size = -rng.randint(1, 3)
            else:
                scale = rng.choice([-2, -0.5, 0, 0.0])
        elif op == "bad_mode":
            mode = rng.choice(["cubic", "Bilinear", "nearest_exact", "box"])
        elif op == "recompute_size":
            size = _up_size(rng, spatial)
            scale = None
            recompute = True
        else:
            junk = True
    if mode in _ALIGN_MODES or align is OMIT:
        pass
    elif not bad:
        align = OMIT
    if mode == "nearest":
        mode_p: Any = _opt(rng, mode, "nearest", 0.5)
    else:
        mode_p = mode
    params: list[tuple[str, Any]] = [
        ("size", size if size is not None else _Dflt(None)),
        ("scale_factor", scale if scale is not None else _Dflt(None)),
        ("mode", mode_p),
        ("align_corners", align),
        ("recompute_scale_factor", recompute),
    ]
    args, kwargs = _split(rng, params, 0)
    if junk:
        _junk(rng, args, kwargs, [n for n, _ in params])
    return args, kwargs, shape


def _gen_upsampling2d(bilinear: bool) -> Generator:
    def gen(rng: random.Random, bad: bool) -> Built:
        spatial = _up_spatial(rng, 2)
        shape = [rng.randint(1, 2), rng.randint(1, MAX_CHANNELS), *spatial]
        use_size = rng.random() < 0.4
        size: Any = _up_size(rng, spatial) if use_size else None
        scale: Any = None if use_size else _up_scale(rng, 2)
        if not bad and rng.random() < 0.15:
            trap, size0 = rng.choice(_FLOAT_TRAPS)
            shape = [1, rng.randint(1, 4), size0, rng.randint(1, 12)]
            use_size, size, scale = False, None, [trap, rng.choice([1.5, 2, 0.5])]
        junk = False
        if bad:
            op = rng.choice(["rank", "rank", "rank", "both", "neither", "tuple_len", "zero_out", "junk"])
            if op == "rank":
                new_rank = rng.choice([2, 3, 3, 5, 5])
                shape = _rand_shape(rng, new_rank, 8 if new_rank < 5 else 4)
            elif op == "both":
                size = _up_size(rng, spatial)
                scale = _up_scale(rng, 2)
            elif op == "neither":
                size = None
                scale = None
            elif op == "tuple_len":
                n = rng.choice([1, 3])
                if use_size:
                    size = [rng.randint(1, 8) for _ in range(n)]
                else:
                    scale = [rng.choice(_SCALES[:6]) for _ in range(n)]
            elif op == "zero_out":
                size = None
                scale = rng.choice([0.1, 0.15, 0.29, 0.3])
                shape = [*shape[:2], *[rng.randint(1, 3) for _ in range(2)]]
            else:
                junk = True
        params: list[tuple[str, Any]] = [
            ("size", size if size is not None else _Dflt(None)),
            ("scale_factor", scale if scale is not None else _Dflt(None)),
        ]
        args, kwargs = _split(rng, params, 0)
        if junk:
            _junk(rng, args, kwargs, [n for n, _ in params])
        return args, kwargs, shape

    return gen


# --------------------------------------------------------------------------
# pixel / channel shuffles


def _gen_pixel_shuffle(rng: random.Random, bad: bool) -> Built:
    r = rng.choice([1, 2, 2, 3])
    c = rng.randint(1, max(1, MAX_CHANNELS // (r * r)))
    lead = [rng.randint(1, 3) for _ in range(rng.choice([0, 1, 1, 2]))]
    shape = [*lead, c * r * r, rng.randint(1, 8), rng.randint(1, 8)]
    junk = False
    if bad:
        op = rng.choice(["div", "div", "rank", "zero", "junk"])
        if op == "div":
            r = rng.choice([2, 3])
            shape[-3] = rng.choice([x for x in range(1, MAX_CHANNELS + 1) if x % (r * r)])
        elif op == "rank":
            shape = shape[-rng.choice([1, 2]) :]
        elif op == "zero":
            r = rng.choice([0, -1])
        else:
            junk = True
    args, kwargs = _split(rng, [("upscale_factor", r)], 1)
    if junk:
        _junk(rng, args, kwargs, ["upscale_factor"])
    return args, kwargs, shape


def _gen_pixel_unshuffle(rng: random.Random, bad: bool) -> Built:
    r = rng.choice([1, 2, 2, 3])
    c = rng.randint(1, MAX_CHANNELS)
    lead = [rng.randint(1, 3) for _ in range(rng.choice([0, 1, 1, 2]))]
    shape = [*lead, c, r * rng.randint(1, 12 // r), r * rng.randint(1, 12 // r)]
    junk = False
    if bad:
        op = rng.choice(["div", "div", "rank", "zero", "junk"])
        if op == "div":
            r = rng.choice([2, 3])
            ax = rng.choice([-1, -2])
            shape[ax] = rng.choice([x for x in range(1, 12) if x % r])
        elif op == "rank":
            shape = shape[-rng.choice([1, 2]) :]
        elif op == "zero":
            r = rng.choice([0, -1])
        else:
            junk = True
    args, kwargs = _split(rng, [("downscale_factor", r)], 1)
    if junk:
        _junk(rng, args, kwargs, ["downscale_factor"])
    return args, kwargs, shape


def _gen_channel_shuffle(rng: random.Random, bad: bool) -> Built:
    g = rng.choice([1, 2, 2, 3, 4])
    c = g * rng.randint(1, MAX_CHANNELS // g)
    rank = rng.choice([3, 3, 4, 4, 5])
    shape = [rng.randint(1, 3), c, *[rng.randint(1, 6) for _ in range(rank - 2)]]
    junk = False
    if bad:
        op = rng.choice(["div", "div", "rank", "zero", "junk"])
        if op == "div":
            g = rng.choice([2, 3, 4, 5])
            shape[1] = rng.choice([x for x in range(1, MAX_CHANNELS + 1) if x % g])
        elif op == "rank":
            shape = shape[: rng.choice([1, 2])]
        elif op == "zero":
            g = rng.choice([0, -1])
        else:
            junk = True
    args, kwargs = _split(rng, [("groups", g)], 1)
    if junk:
        _junk(rng, args, kwargs, ["groups"])
    return args, kwargs, shape


# --------------------------------------------------------------------------
# padding layers


def _gen_pad(d: int, kind: str) -> Generator:
    """kind: 'zero', 'constant', 'reflect', 'replicate' or 'circular'."""
    span = {1: 12, 2: 8, 3: 5}[d]

    def gen(rng: random.Random, bad: bool) -> Built:
        c = rng.randint(1, MAX_CHANNELS)
        spatial = [rng.randint(1, span) for _ in range(d)]
        shape = _nc_input(rng, c, spatial, 0.3)
        pads: list[int] = []
        for ax in range(d):
            size = spatial[d - 1 - ax]  # padding tuple goes last dimension first
            for _ in range(2):
                if kind == "reflect":
                    p = rng.randint(0, size - 1)
                elif kind == "circular":
                    p = rng.randint(0, size)
                else:
                    p = rng.randint(0, 4)
                if kind in ("zero", "constant", "replicate", "circular") and rng.random() < 0.1:
                    p = -rng.randint(1, max(1, size // 3))
                pads.append(p)
        padding: Any = _ints(pads, rng, 0.6)
        value: Any = rng.choice([0.0, 1.0, -2.5, 3])
        junk = False
        if bad:
            ops = ["rank", "rank", "tuple_len", "neg_big", "junk"]
            if kind == "reflect":
                ops += ["big", "big", "big"]
            if kind == "circular":
                ops += ["big", "big", "big"]
            if kind == "constant":
                ops += ["no_value"]
            op = rng.choice(ops)
            if op == "rank" and kind in ("zero", "constant") and rng.random() < 0.7:
                # constant padding works on any rank that has enough dimensions
                shape = shape[len(shape) - rng.randint(0, d - 1) :]
            elif op == "rank":
                shape = _wrong_rank(rng, shape, {d + 1, d + 2})
            elif op == "tuple_len":
                n = rng.choice([x for x in range(1, 2 * d + 4) if x != 2 * d])
                padding = [pads[i % len(pads)] for i in range(n)]
            elif op == "neg_big":
                ax = rng.randrange(d)
                size = spatial[d - 1 - ax]
                pads[2 * ax] = -size - rng.randint(0, 1)
                pads[2 * ax + 1] = rng.choice([0, -1])
                padding = list(pads)
            elif op == "big":
                ax = rng.randrange(d)
                size = spatial[d - 1 - ax]
                pads[2 * ax + rng.randint(0, 1)] = size + (0 if kind == "reflect" else 1) + rng.randint(0, 2)
                padding = list(pads)
            elif op == "no_value":
                value = OMIT
            else:
                junk = True
        params: list[tuple[str, Any]] = [("padding", padding)]
        if kind == "constant":
            params.append(("value", value))
        args, kwargs = _split(rng, params, len(params))
        if junk:
            _junk(rng, args, kwargs, [n for n, _ in params])
        return args, kwargs, shape

    return gen


# --------------------------------------------------------------------------
# activations


def _act_shape(rng: random.Random) -> Shape:
    return _rand_shape(rng, _rand_rank(rng), 7)


def _gen_act(params_fn: Callable[[random.Random], list[tuple[str, Any]]]) -> Generator:
    def gen(rng: random.Random, bad: bool) -> Built:
        shape = _act_shape(rng)
        params = params_fn(rng)
        args, kwargs = _split(rng, params, 0)
        if bad:
            if not params or rng.random() < 0.3:
                args = [*args, *[rng.choice([1, True, 0.5]) for _ in range(len(params) + 1 - len(args))]]
                if params and len(args) <= len(params):
                    args.append(1)
                for name, _ in params[: len(args)]:
                    kwargs.pop(name, None)
            else:
                _junk(rng, args, kwargs, [n for n, _ in params])
        return args, kwargs, shape

    return gen


def _inplace(rng: random.Random) -> list[tuple[str, Any]]:
    return [("inplace", _Dflt(False))]


def _p_leaky(rng: random.Random) -> list[tuple[str, Any]]:
    return [
        ("negative_slope", _opt(rng, rng.choice([0.01, 0.2, 0.0, -0.5]), 0.01, 0.6)),
        ("inplace", _Dflt(False)),
    ]


def _p_alpha(rng: random.Random) -> list[tuple[str, Any]]:
    return [("alpha", _opt(rng, rng.choice([1.0, 0.5, 2.0]), 1.0, 0.6)), ("inplace", _Dflt(False))]


def _p_none(rng: random.Random) -> list[tuple[str, Any]]:
    return []


def _p_softplus(rng: random.Random) -> list[tuple[str, Any]]:
    return [
        ("beta", _opt(rng, rng.choice([1.0, 0.5, 2]), 1.0, 0.6)),
        ("threshold", _opt(rng, rng.choice([20.0, 10.0, 5]), 20.0, 0.4)),
    ]


def _gen_gelu(rng: random.Random, bad: bool) -> Built:
    shape = _act_shape(rng)
    approx: Any = _opt(rng, rng.choice(["none", "tanh"]), "none", 0.6)
    if bad and rng.random() < 0.6:
        approx = rng.choice(["fast", "Tanh", "erf", ""])
    params: list[tuple[str, Any]] = [("approximate", approx)]
    args, kwargs = _split(rng, params, 0)
    if bad and approx not in ("fast", "Tanh", "erf", ""):
        _junk(rng, args, kwargs, ["approximate"])
    return args, kwargs, shape


def _gen_celu(rng: random.Random, bad: bool) -> Built:
    shape = _act_shape(rng)
    alpha: Any = _opt(rng, rng.choice([1.0, 0.5, 2.0, 3]), 1.0, 0.6)
    junk = False
    if bad:
        if rng.random() < 0.5:
            alpha = rng.choice([0, 0.0])
        else:
            junk = True
    params: list[tuple[str, Any]] = [("alpha", alpha), ("inplace", _Dflt(False))]
    args, kwargs = _split(rng, params, 0)
    if junk:
        _junk(rng, args, kwargs, ["alpha", "inplace"])
    return args, kwargs, shape


def _gen_prelu(rng: random.Random, bad: bool) -> Built:
    shape = _act_shape(rng)
    n = 1
    if len(shape) >= 2 and rng.random() < 0.6:
        n = shape[1]
    init: Any = _opt(rng, rng.choice([0.25, 0.1, 0.0]), 0.25, 0.4)
    junk = False
    if bad:
        op = rng.choice(["mismatch", "mismatch", "mismatch", "scalar", "junk"])
        if op == "mismatch":
            if len(shape) < 2:
                shape = [rng.randint(2, 6)] if rng.random() < 0.7 else shape
                n = rng.randint(2, 6)
            else:
                n = rng.choice([x for x in (shape[1] + 1, shape[1] + 2, 2 * shape[1]) if x > 1])
        elif op == "scalar":
            shape = []
            n = rng.randint(2, 5)
        else:
            junk = True
    params: list[tuple[str, Any]] = [
        ("num_parameters", n if n != 1 else _opt(rng, 1, 1, 0.4)),
        ("init", init),
        ("device", OMIT),
    ]
    args, kwargs = _split(rng, params, 0)
    if junk:
        _junk(rng, args, kwargs, ["num_parameters", "init"])
    return args, kwargs, shape


def _gen_hardtanh(rng: random.Random, bad: bool) -> Built:
    shape = _act_shape(rng)
    lo = rng.choice([-1.0, -2.0, 0.0, -0.5, 1.0])
    hi = lo + rng.choice([0.5, 1.0, 2.0, 6.0])
    junk = False
    min_value: Any = OMIT
    max_value: Any = OMIT
    if bad:
        op = rng.choice(["order", "order", "equal", "junk"])
        if op == "order":
            lo, hi = hi, lo
        elif op == "equal":
            hi = lo
        else:
            junk = True
    elif rng.random() < 0.08:
        min_value = lo
        max_value = hi
        lo, hi = -1.0, 1.0
    params: list[tuple[str, Any]] = [
        ("min_val", _opt(rng, lo, -1.0, 1.0 if lo != -1.0 else 0.4)),
        ("max_val", _opt(rng, hi, 1.0, 1.0 if hi != 1.0 else 0.4)),
        ("inplace", _Dflt(False)),
        ("min_value", min_value),
        ("max_value", max_value),
    ]
    args, kwargs = _split(rng, params, 0)
    if junk:
        _junk(rng, args, kwargs, ["min_val", "max_val"])
    return args, kwargs, shape


def _gen_softmax(rng: random.Random, bad: bool) -> Built:
    shape = _act_shape(rng)
    rank = len(shape)
    lo, hi = -max(rank, 1), max(rank, 1) - 1
    dim: Any = rng.randint(lo, hi) if rng.random() < 0.8 else _Dflt(None)
    junk = False
    if bad:
        if rng.random() < 0.75:
            dim = rng.choice([hi + 1, hi + 2, lo - 1])
        else:
            junk = True
    params: list[tuple[str, Any]] = [("dim", dim)]
    args, kwargs = _split(rng, params, 0)
    if junk:
        _junk(rng, args, kwargs, ["dim"])
    return args, kwargs, shape


# --------------------------------------------------------------------------
# registry and driver


_GENERATORS: dict[str, Generator] = {
    "Conv1d": _gen_conv(1, False),
    "Conv2d": _gen_conv(2, False),
    "Conv3d": _gen_conv(3, False),
    "ConvTranspose1d": _gen_conv(1, True),
    "ConvTranspose2d": _gen_conv(2, True),
    "ConvTranspose3d": _gen_conv(3, True),
    "MaxPool1d": _gen_pool(1, "max"),
    "MaxPool2d": _gen_pool(2, "max"),
    "MaxPool3d": _gen_pool(3, "max"),
    "AvgPool1d": _gen_pool(1, "avg"),
    "AvgPool2d": _gen_pool(2, "avg"),
    "AvgPool3d": _gen_pool(3, "avg"),
    "LPPool1d": _gen_pool(1, "lp"),
    "LPPool2d": _gen_pool(2, "lp"),
    "LPPool3d": _gen_pool(3, "lp"),
    "AdaptiveAvgPool1d": _gen_adaptive(1, "avg"),
    "AdaptiveAvgPool2d": _gen_adaptive(2, "avg"),
    "AdaptiveAvgPool3d": _gen_adaptive(3, "avg"),
    "AdaptiveMaxPool1d": _gen_adaptive(1, "max"),
    "AdaptiveMaxPool2d": _gen_adaptive(2, "max"),
    "AdaptiveMaxPool3d": _gen_adaptive(3, "max"),
    "BatchNorm1d": _gen_batchnorm(1),
    "BatchNorm2d": _gen_batchnorm(2),
    "BatchNorm3d": _gen_batchnorm(3),
    "InstanceNorm1d": _gen_instancenorm(1),
    "InstanceNorm2d": _gen_instancenorm(2),
    "InstanceNorm3d": _gen_instancenorm(3),
    "GroupNorm": _gen_groupnorm,
    "LayerNorm": _gen_layernorm,
    "LocalResponseNorm": _gen_lrn,
    "Linear": _gen_linear,
    "Flatten": _gen_flatten,
    "Unflatten": _gen_unflatten,
    "Dropout": _gen_dropout("Dropout"),
    "Dropout1d": _gen_dropout("Dropout1d"),
    "Dropout2d": _gen_dropout("Dropout2d"),
    "Dropout3d": _gen_dropout("Dropout3d"),
    "AlphaDropout": _gen_dropout("AlphaDropout"),
    "FeatureAlphaDropout": _gen_dropout("FeatureAlphaDropout"),
    "Identity": _gen_identity,
    "Upsample": _gen_upsample,
    "UpsamplingNearest2d": _gen_upsampling2d(False),
    "UpsamplingBilinear2d": _gen_upsampling2d(True),
    "PixelShuffle": _gen_pixel_shuffle,
    "PixelUnshuffle": _gen_pixel_unshuffle,
    "ChannelShuffle": _gen_channel_shuffle,
    "ZeroPad1d": _gen_pad(1, "zero"),
    "ZeroPad2d": _gen_pad(2, "zero"),
    "ZeroPad3d": _gen_pad(3, "zero"),
    "ConstantPad1d": _gen_pad(1, "constant"),
    "ConstantPad2d": _gen_pad(2, "constant"),
    "ConstantPad3d": _gen_pad(3, "constant"),
    "ReflectionPad1d": _gen_pad(1, "reflect"),
    "ReflectionPad2d": _gen_pad(2, "reflect"),
    "ReflectionPad3d": _gen_pad(3, "reflect"),
    "ReplicationPad1d": _gen_pad(1, "replicate"),
    "ReplicationPad2d": _gen_pad(2, "replicate"),
    "ReplicationPad3d": _gen_pad(3, "replicate"),
    "CircularPad1d": _gen_pad(1, "circular"),
    "CircularPad2d": _gen_pad(2, "circular"),
    "CircularPad3d": _gen_pad(3, "circular"),
    "ReLU": _gen_act(_inplace),
    "ReLU6": _gen_act(_inplace),
    "LeakyReLU": _gen_act(_p_leaky),
    "PReLU": _gen_prelu,
    "ELU": _gen_act(_p_alpha),
    "SELU": _gen_act(_inplace),
    "CELU": _gen_celu,
    "GELU": _gen_gelu,
    "SiLU": _gen_act(_inplace),
    "Mish": _gen_act(_inplace),
    "Sigmoid": _gen_act(_p_none),
    "Tanh": _gen_act(_p_none),
    "Hardswish": _gen_act(_inplace),
    "Hardsigmoid": _gen_act(_inplace),
    "Hardtanh": _gen_hardtanh,
    "Softplus": _gen_act(_p_softplus),
    "Softmax": _gen_softmax,
    "LogSoftmax": _gen_softmax,
}

assert set(_GENERATORS) == set(TYPES), "generator registry out of sync with TYPES"


def generate_case(type_name: str, rng: random.Random, bad: bool) -> Case:
    """One case of ``type_name``; retries until the input respects MAX_NUMEL."""
    gen = _GENERATORS[type_name]
    for _ in range(200):
        args, kwargs, shape = gen(rng, bad)
        if _numel(shape) <= MAX_NUMEL:
            return {"type": type_name, "args": args, "kwargs": kwargs, "input": shape}
    raise RuntimeError(f"could not generate a small enough input for {type_name}")


def generate_cases(seed: int, n: int) -> list[Case]:
    """``n`` deterministic cases cycling over TYPES in per-round shuffled order."""
    order_rng = random.Random(f"cnncalc-order:{seed}")
    cases: list[Case] = []
    order: list[str] = []
    for i in range(n):
        if not order:
            order = list(TYPES)
            order_rng.shuffle(order)
        type_name = order.pop()
        rng = random.Random(f"cnncalc-case:{seed}:{i}")
        bad = rng.random() < INVALID_RATE
        cases.append(generate_case(type_name, rng, bad))
    return cases
