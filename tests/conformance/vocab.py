"""Conformance cases for the tensor, arithmetic and attention kinds, and their PyTorch oracle.

A case is ``{"type", "args", "kwargs", "inputs"}`` (one input shape, or several for a merge).
The oracle runs the PyTorch function or module the kind stands for (``x.permute``,
``torch.split(...)[index]``, ``nn.MultiheadAttention``, timm's ``LayerNorm2d`` …) and records the
output shape, the parameter count and the multiply-adds that ``torch.utils.flop_counter`` counts
(FLOPs / 2), or None where that counter does not see the operation (``mv``/``dot`` of a 1-D
operand).
"""

from __future__ import annotations

import functools
import math
import random
import sys
import types
import warnings
from collections.abc import Callable
from typing import Any

Case = dict[str, Any]
Shape = list[int]
Built = tuple[list[Any], dict[str, Any], list[Shape]]
Generator = Callable[[random.Random, bool], Built]

INVALID_RATE = 0.3
MAX_NUMEL = 4000


def _shape(rng: random.Random, rank: int, hi: int = 5, lo: int = 1) -> Shape:
    return [rng.randint(lo, hi) for _ in range(rank)]


def _dim(rng: random.Random, rank: int) -> int:
    r = max(rank, 1)
    return rng.randint(-r, r - 1)


def _bad_dim(rng: random.Random, rank: int) -> int:
    r = max(rank, 1)
    return rng.choice([r, r + 1, -r - 1])


def _kw(
    rng: random.Random, names: list[str], values: list[Any], required: int
) -> tuple[list[Any], dict[str, Any]]:
    """A prefix of ``values`` positionally (at least the required ones, sometimes none), the rest by name."""
    npos = rng.choice([0, required, len(values), rng.randint(required, len(values))])
    return list(values[:npos]), dict(zip(names[npos:], values[npos:]))


# ---- layout -------------------------------------------------------------------------------------


def _permute(rng: random.Random, bad: bool) -> Built:
    x = _shape(rng, rng.randint(0, 5))
    dims = list(range(len(x)))
    rng.shuffle(dims)
    dims = [d - len(x) if rng.random() < 0.3 else d for d in dims]
    if bad:
        dims = dims + [0] if rng.random() < 0.5 or len(dims) < 2 else [dims[0]] + dims[:-1]
    return [dims], {}, [x]


def _transpose(rng: random.Random, bad: bool) -> Built:
    x = _shape(rng, rng.randint(0, 5))
    a, b = _dim(rng, len(x)), _dim(rng, len(x))
    if bad:
        b = _bad_dim(rng, len(x))
    args, kwargs = _kw(rng, ["dim0", "dim1"], [a, b], 2)
    return args, kwargs, [x]


def _factor(rng: random.Random, total: int) -> Shape:
    """A random shape with ``total`` elements."""
    out = []
    rest = total
    for _ in range(rng.randint(0, 3)):
        divisors = [d for d in range(1, rest + 1) if rest % d == 0]
        d = rng.choice(divisors)
        out.append(d)
        rest //= d
    return [*out, rest]


def _reshape(rng: random.Random, bad: bool) -> Built:
    x = _shape(rng, rng.randint(1, 4))
    shape = _factor(rng, math.prod(x))
    if rng.random() < 0.5:
        shape[rng.randrange(len(shape))] = -1
    if bad:
        op = rng.choice(["total", "two", "neg"])
        if op == "total":
            shape = [*shape, 2] if -1 not in shape else [*shape, 0]
        elif op == "two":
            shape = [*shape, -1, -1]
        else:
            shape = [*shape, -2]
    return [shape], {}, [x]


def _squeeze(rng: random.Random, bad: bool) -> Built:
    x = [rng.choice([1, 1, 2, 3]) for _ in range(rng.randint(0, 5))]
    dim: Any = rng.choice([None, "int", "tuple"])
    if dim == "int":
        dim = _bad_dim(rng, len(x)) if bad else _dim(rng, len(x))
    elif dim == "tuple":
        dims = list(range(len(x)))
        dim = rng.sample(dims, rng.randint(0, len(dims))) if dims else [0]
        if bad:
            dim = [*dim, dim[0]] if dim else [_bad_dim(rng, len(x))]
    elif bad:
        dim = _bad_dim(rng, len(x))
    return ([] if dim is None and rng.random() < 0.5 else [dim]), {}, [x]


def _unsqueeze(rng: random.Random, bad: bool) -> Built:
    x = _shape(rng, rng.randint(0, 4))
    r = len(x) + 1
    dim = rng.choice([r, -r - 1]) if bad else rng.randint(-r, r - 1)
    return [dim], {}, [x]


def _select(rng: random.Random, bad: bool) -> Built:
    x = _shape(rng, rng.randint(1 if not bad else 0, 4))
    d = _dim(rng, len(x))
    size = x[d] if x else 1
    index = rng.randint(-size, size - 1)
    if bad and x:
        if rng.random() < 0.5:
            index = rng.choice([size, -size - 1])
        else:
            d = _bad_dim(rng, len(x))
    args, kwargs = _kw(rng, ["dim", "index"], [d, index], 2)
    return args, kwargs, [x]


def _slice(rng: random.Random, bad: bool) -> Built:
    x = _shape(rng, rng.randint(1, 4), hi=9)
    d = _dim(rng, len(x))
    size = x[d]
    start = rng.choice([None, rng.randint(-size - 2, size + 2)])
    end = rng.choice([None, rng.randint(-size - 2, size + 2)])
    step = rng.choice([1, 1, 2, 3])
    if bad:
        op = rng.choice(["step", "dim", "scalar"])
        if op == "step":
            step = rng.choice([0, -1])
        elif op == "dim":
            d = _bad_dim(rng, len(x))
        else:
            x = []
    args, kwargs = _kw(rng, ["dim", "start", "end", "step"], [d, start, end, step], 0)
    return args, kwargs, [x]


def _split(rng: random.Random, bad: bool) -> Built:
    x = _shape(rng, rng.randint(1, 4), hi=8)
    d = _dim(rng, len(x))
    size = x[d]
    spec: Any
    if rng.random() < 0.5:
        spec = rng.randint(1, size + 1)
        count = -(-size // spec)
    else:
        spec = _factor_sum(rng, size)
        count = len(spec)
    index = rng.randint(-count, count - 1)
    if bad:
        op = rng.choice(["index", "sum", "zero"])
        if op == "index":
            index = rng.choice([count, -count - 1])
        elif op == "sum":
            spec = [size + 1] if rng.random() < 0.5 else [size, 1]
        else:
            spec = 0
    args, kwargs = _kw(rng, ["split_size_or_sections", "dim", "index"], [spec, d, index], 1)
    return args, kwargs, [x]


def _factor_sum(rng: random.Random, size: int) -> list[int]:
    """Random non-negative parts summing to ``size``."""
    parts = []
    rest = size
    while rest > 0 and len(parts) < 4:
        p = rng.randint(0, rest)
        parts.append(p)
        rest -= p
    return [*parts, rest]


def _chunk(rng: random.Random, bad: bool) -> Built:
    x = _shape(rng, rng.randint(1, 4), hi=8)
    d = _dim(rng, len(x))
    chunks = rng.randint(1, 6)
    each = -(-x[d] // chunks)
    count = -(-x[d] // each)
    index = rng.randint(-count, count - 1)
    if bad:
        if rng.random() < 0.5:
            chunks = rng.choice([0, -1])
        else:
            index = count
    args, kwargs = _kw(rng, ["chunks", "dim", "index"], [chunks, d, index], 1)
    return args, kwargs, [x]


def _expand(rng: random.Random, bad: bool) -> Built:
    x = [rng.choice([1, 1, 2, 3]) for _ in range(rng.randint(0, 4))]
    size = [rng.randint(1, 4) if s == 1 else rng.choice([s, -1]) for s in x]
    size = [rng.randint(1, 3) for _ in range(rng.randint(0, 2))] + size
    if bad:
        op = rng.choice(["short", "mismatch", "lead"])
        if op == "short" and x:
            size = size[-len(x) + 1 :] if len(x) > 1 else []
        elif op == "mismatch" and any(s > 1 for s in x):
            i = next(i for i, s in enumerate(reversed(x)) if s > 1)
            size[len(size) - 1 - i] = x[len(x) - 1 - i] + 1
        else:
            size = [-1, *size]
    return [size], {}, [x]


def _repeat(rng: random.Random, bad: bool) -> Built:
    x = _shape(rng, rng.randint(0, 3), hi=3)
    reps = [rng.randint(0, 3) for _ in range(len(x) + rng.randint(0, 2))]
    if bad:
        reps = reps[: len(x) - 1] if x else [-1]
    return [reps], {}, [x]


def _reduction(rng: random.Random, bad: bool) -> Built:
    x = _shape(rng, rng.randint(0, 4))
    rank = len(x)
    dim: Any = rng.choice([None, "int", "tuple"])
    if dim == "int":
        dim = _bad_dim(rng, rank) if bad else _dim(rng, rank)
    elif dim == "tuple":
        dim = rng.sample(range(rank), rng.randint(1, rank)) if rank else [0]
        if bad:
            dim = [*dim, dim[0] - rank if dim[0] >= 0 else dim[0]]
    elif bad:
        dim = _bad_dim(rng, rank)
    keepdim = rng.random() < 0.5
    args, kwargs = _kw(rng, ["dim", "keepdim"], [dim, keepdim], 0)
    return args, kwargs, [x]


def _stochastic_depth(rng: random.Random, bad: bool) -> Built:
    p = rng.choice([0.0, 0.1, 0.5, 1.0])
    mode = rng.choice(["batch", "row"])
    if bad:
        p = rng.choice([-0.1, 1.5])
    args, kwargs = _kw(rng, ["p", "mode"], [p, mode], 2)
    return args, kwargs, [_shape(rng, rng.randint(1, 4))]


def _drop_path(rng: random.Random, bad: bool) -> Built:
    values = [rng.choice([0.0, 0.1, 0.3]), rng.random() < 0.5]
    args, kwargs = _kw(rng, ["drop_prob", "scale_by_keep"], values, 0)
    if bad:
        kwargs["bogus"] = 1
    return args, kwargs, [_shape(rng, rng.randint(1, 4))]


# ---- arithmetic ---------------------------------------------------------------------------------


def _broadcastable(rng: random.Random, x: Shape) -> Shape:
    """A shape that broadcasts with ``x``: a suffix of it with some sizes set to 1."""
    keep = x[len(x) - rng.randint(0, len(x)) :]
    return [1 if rng.random() < 0.4 else s for s in keep]


def _clash(rng: random.Random, x: Shape) -> Shape | None:
    """A shape that does not broadcast with ``x``, or None when every size of ``x`` is 1."""
    sizes = [i for i, s in enumerate(x) if s > 1]
    if not sizes:
        return None
    y = list(x)
    y[rng.choice(sizes)] += 1
    return y


def _sub_div(rng: random.Random, bad: bool) -> Built:
    x = _shape(rng, rng.randint(0, 4), lo=2)
    inputs = [x, *[_broadcastable(rng, x) for _ in range(rng.randint(1, 2))]]
    rng.shuffle(inputs)
    clash = _clash(rng, x)
    if bad and clash is not None:
        inputs.append(clash)
    return [], {}, inputs


_WITH_VALUE = ["add", "sub", "rsub", "mul", "div", "rdiv", "pow", "rpow", "fmod", "remainder"]
_BOUND = ["clamp_min", "clamp_max"]
_UNARY = ["neg", "abs", "sqrt", "rsqrt", "exp", "log", "log2", "log1p", "expm1", "erf", "reciprocal"]
_UNARY += ["square", "sign", "floor", "ceil", "round", "trunc", "sin", "cos"]


def _arith(rng: random.Random, bad: bool) -> Built:
    op = rng.choice(_WITH_VALUE + _BOUND + _UNARY)
    value = rng.choice([2.0, 0.5, -1.0, 3.0]) if op in _WITH_VALUE + _BOUND else None
    if bad:
        kind = rng.choice(["missing", "extra", "name"])
        if kind == "missing" and value is not None:
            value = None
        elif kind == "extra" and value is None:
            value = 1.0
        else:
            op = rng.choice(["bogus", "Add", "max"])
    args, kwargs = _kw(rng, ["op", "value"], [op, value] if value is not None else [op], 1)
    return args, kwargs, [_shape(rng, rng.randint(0, 4))]


def _learned(rng: random.Random, bad: bool) -> Built:
    x = _shape(rng, rng.randint(1, 4), lo=2)
    shape = _broadcastable(rng, x)
    clash = _clash(rng, x)
    if bad and clash is not None:
        shape = clash
    return [shape], {}, [x]


def _learned_concat(rng: random.Random, bad: bool) -> Built:
    x = _shape(rng, rng.randint(1, 4))
    d = _dim(rng, len(x))
    shape = [1 if rng.random() < 0.5 else s for s in x]
    shape[d] = rng.randint(1, 3)
    if bad:
        op = rng.choice(["rank", "size", "dim"])
        if op == "rank":
            shape = [*shape, 1]
        elif op == "size" and len(x) > 1:
            other = (d % len(x) + 1) % len(x)
            shape[other] = x[other] + 1
        else:
            d = _bad_dim(rng, len(x))
    args, kwargs = _kw(rng, ["shape", "dim", "first"], [shape, d, rng.random() < 0.7], 1)
    return args, kwargs, [x]


# ---- products and attention ---------------------------------------------------------------------


def _matmul(rng: random.Random, bad: bool) -> Built:
    n, k, m = rng.randint(1, 5), rng.randint(1, 5), rng.randint(1, 5)
    batch = _shape(rng, rng.randint(0, 2), hi=3)
    a = [*_broadcastable(rng, batch), n, k] if rng.random() < 0.85 else [k]
    b = [*_broadcastable(rng, batch), k, m] if rng.random() < 0.85 else [k]
    if len(a) == 2 and len(b) == 1 and rng.random() < 0.5:
        a = [*batch, n, k]
    if bad:
        op = rng.choice(["inner", "scalar", "count"])
        if op == "inner":
            b = [*b[:-2], k + 1, m] if len(b) >= 2 else [k + 1]
        elif op == "scalar":
            a = []
        else:
            return [], {}, [a, b, b]
    return [], {}, [a, b]


def _sdpa(rng: random.Random, bad: bool) -> Built:
    lead = _shape(rng, rng.randint(0, 2), hi=3)
    length, keys, e, ev = rng.randint(1, 6), rng.randint(1, 6), rng.randint(1, 8), rng.randint(1, 8)
    gqa = len(lead) >= 1 and rng.random() < 0.2
    kv_lead = list(lead)
    if gqa:
        kv_lead[-1] = rng.choice([d for d in range(1, lead[-1] + 1) if lead[-1] % d == 0])
    q, k, v = [*lead, length, e], [*kv_lead, keys, e], [*kv_lead, keys, ev]
    if bad:
        op = rng.choice(["keys", "features", "count"])
        if op == "keys":
            v = [*kv_lead, keys + 1, ev]
        elif op == "features":
            k = [*kv_lead, keys, e + 1]
        else:
            return [], {}, [q, k]
    values = [0.0, rng.random() < 0.3, rng.choice([None, 0.5]), gqa]
    args, kwargs = _kw(rng, ["dropout_p", "is_causal", "scale", "enable_gqa"], values, 0)
    return args, kwargs, [q, k, v]


def _mha(rng: random.Random, bad: bool) -> Built:
    heads = rng.randint(1, 4)
    e = heads * rng.randint(1, 4)
    batch_first = rng.random() < 0.5
    length, batch = rng.randint(1, 6), rng.randint(1, 3)
    x = [length, e] if rng.random() < 0.25 else ([batch, length, e] if batch_first else [length, batch, e])
    kdim = vdim = None
    if bad:
        op = rng.choice(["heads", "features", "kdim"])
        if op == "heads":
            heads = e + 1
        elif op == "features":
            x[-1] = e + 1
        else:
            kdim = e + 1
    names = ["embed_dim", "num_heads", "dropout", "bias", "add_bias_kv", "add_zero_attn", "kdim", "vdim"]
    values = [e, heads, 0.0, rng.random() < 0.7, rng.random() < 0.3, rng.random() < 0.3, kdim, vdim]
    args, kwargs = _kw(rng, names, values, 2)
    kwargs["batch_first"] = batch_first
    return args, kwargs, [x]


def _layernorm2d(rng: random.Random, bad: bool) -> Built:
    x = [rng.randint(1, 2), rng.randint(1, 6), rng.randint(1, 5), rng.randint(1, 5)]
    c = x[1]
    if bad:
        if rng.random() < 0.5:
            c += 1
        else:
            x = x[1:]
    args, kwargs = _kw(rng, ["num_channels", "eps", "affine"], [c, 1e-6, rng.random() < 0.8], 1)
    return args, kwargs, [x]


GENERATORS: dict[str, Generator] = {
    "Permute": _permute,
    "Transpose": _transpose,
    "Reshape": _reshape,
    "View": _reshape,
    "Squeeze": _squeeze,
    "Unsqueeze": _unsqueeze,
    "Select": _select,
    "Slice": _slice,
    "Split": _split,
    "Chunk": _chunk,
    "Expand": _expand,
    "Repeat": _repeat,
    "Mean": _reduction,
    "Sum": _reduction,
    "Amax": _reduction,
    "StochasticDepth": _stochastic_depth,
    "DropPath": _drop_path,
    "Sub": _sub_div,
    "Div": _sub_div,
    "Arith": _arith,
    "LearnedAdd": _learned,
    "LearnedMul": _learned,
    "LearnedConcat": _learned_concat,
    "MatMul": _matmul,
    "Bmm": _matmul,
    "ScaledDotProductAttention": _sdpa,
    "MultiheadAttention": _mha,
    "LayerNorm2d": _layernorm2d,
}
TYPES = tuple(GENERATORS)


def generate_cases(seed: int, n: int) -> list[Case]:
    """``n`` deterministic cases cycling over TYPES."""
    cases = []
    for i in range(n):
        rng = random.Random(f"cnncalc-vocab:{seed}:{i}")
        kind = TYPES[i % len(TYPES)]
        bad = rng.random() < INVALID_RATE
        for _ in range(100):
            args, kwargs, inputs = GENERATORS[kind](rng, bad)
            if all(math.prod(x) <= MAX_NUMEL for x in inputs):
                break
        cases.append({"type": kind, "args": args, "kwargs": kwargs, "inputs": inputs})
    return cases


# ---- the oracle ---------------------------------------------------------------------------------


def _torch() -> Any:
    # torchvision's compiled operators do not load against this torch build; timm imports
    # torchvision, whose models and ops are pure Python once this module is stubbed out
    sys.modules.setdefault(
        "torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations")
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import torch
    return torch


def _import_torchvision_ops() -> Any:
    """torchvision's pure-Python ops (stubbed as in :func:`_torch`)."""
    _torch()
    import torchvision.ops

    return torchvision.ops


def _module(case: Case, t: Any) -> Any:
    """The torch callable (often an nn.Module) a case stands for; raises where PyTorch does."""
    torch = _torch()
    nn = torch.nn
    a, kw = case["args"], case["kwargs"]
    kind = case["type"]

    def fn(f: Callable[..., Callable[..., Any]]) -> Any:
        return f(*a, **kw)

    if kind == "Permute":
        return fn(lambda dims: lambda x: torch.permute(x, dims))
    if kind == "Transpose":
        return fn(lambda dim0, dim1: lambda x: x.transpose(dim0, dim1))
    if kind == "Reshape":
        return fn(lambda shape: lambda x: x.reshape(*shape))
    if kind == "View":
        return fn(lambda shape: lambda x: x.view(*shape))
    if kind == "Squeeze":
        return fn(lambda dim=None: lambda x: x.squeeze() if dim is None else x.squeeze(dim))
    if kind == "Unsqueeze":
        return fn(lambda dim: lambda x: x.unsqueeze(dim))
    if kind == "Select":
        return fn(lambda dim, index: lambda x: x.select(dim, index))
    if kind == "Slice":
        aten = torch.ops.aten.slice.Tensor
        return fn(lambda dim=0, start=None, end=None, step=1: lambda x: aten(x, dim, start, end, step))
    if kind == "Split":
        return fn(
            lambda split_size_or_sections, dim=0, index=0: (
                lambda x: torch.split(x, split_size_or_sections, dim)[index]
            )
        )
    if kind == "Chunk":
        return fn(lambda chunks, dim=0, index=0: lambda x: torch.chunk(x, chunks, dim)[index])
    if kind == "Expand":
        return fn(lambda size: lambda x: x.expand(size))
    if kind == "Repeat":
        return fn(lambda repeats: lambda x: x.repeat(repeats))
    if kind in ("Mean", "Sum", "Amax"):
        op = getattr(torch, kind.lower())

        def reduce(dim: Any = None, keepdim: bool = False) -> Callable[..., Any]:
            if dim is None and kind == "Amax":
                dim = ()
            return lambda x: op(x, dim=dim, keepdim=keepdim)

        return fn(reduce)
    if kind == "StochasticDepth":
        return _import_torchvision_ops().StochasticDepth(*a, **kw)
    if kind == "DropPath":
        from timm.layers import DropPath

        return DropPath(*a, **kw)
    if kind == "LayerNorm2d":
        from timm.layers import LayerNorm2d

        return LayerNorm2d(*a, **kw)
    if kind in ("Sub", "Div"):
        if a or kw:
            raise TypeError("no arguments")
        op = torch.sub if kind == "Sub" else torch.div
        return lambda *xs: functools.reduce(op, xs)
    if kind in ("MatMul", "Bmm"):
        if a or kw:
            raise TypeError("no arguments")
        return torch.matmul
    if kind == "ScaledDotProductAttention":
        return fn(_sdpa_math)
    if kind == "MultiheadAttention":
        m = nn.MultiheadAttention(*a, **kw)
        wrapper = _Attention(m)
        return wrapper
    if kind == "Arith":
        return fn(_arith_op)
    if kind in ("LearnedAdd", "LearnedMul", "LearnedConcat"):
        return _learned_module(kind, a, kw)
    raise KeyError(kind)


class _Attention:
    """Self-attention through nn.MultiheadAttention's explicit path (need_weights=True: the
    matrix products run as bmm, which the flop counter sees)."""

    def __init__(self, module: Any) -> None:
        self.module = module

    def parameters(self) -> Any:
        return self.module.parameters()

    def __call__(self, x: Any) -> Any:
        torch = _torch()
        self.module.eval()
        fast = torch.backends.mha.get_fastpath_enabled()
        torch.backends.mha.set_fastpath_enabled(False)  # the fused kernel is invisible to the counter
        try:
            return self.module(x, x, x, need_weights=True, average_attn_weights=False)[0]
        finally:
            torch.backends.mha.set_fastpath_enabled(fast)


def _sdpa_math(
    dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None, enable_gqa: bool = False
) -> Callable[..., Any]:
    """F.scaled_dot_product_attention on its reference (math) backend, whose products the flop
    counter sees and whose shape checks hold on every input (the fused CPU kernel reads a value
    with more positions than the key without complaint)."""
    torch = _torch()
    from torch.nn.attention import SDPBackend, sdpa_kernel

    def run(q: Any, k: Any, v: Any) -> Any:
        with sdpa_kernel(SDPBackend.MATH):
            return torch.nn.functional.scaled_dot_product_attention(
                q, k, v, dropout_p=dropout_p, is_causal=is_causal, scale=scale, enable_gqa=enable_gqa
            )

    return run


def _arith_op(op: str, value: float | None = None) -> Callable[[Any], Any]:
    torch = _torch()
    binary: dict[str, Callable[[Any, Any], Any]] = {
        "add": lambda x, v: x + v,
        "sub": lambda x, v: x - v,
        "rsub": lambda x, v: v - x,
        "mul": lambda x, v: x * v,
        "div": lambda x, v: x / v,
        "rdiv": lambda x, v: v / x,
        "pow": lambda x, v: x**v,
        "rpow": lambda x, v: v**x,
        "fmod": torch.fmod,
        "remainder": torch.remainder,
        "clamp_min": lambda x, v: torch.clamp(x, min=v),
        "clamp_max": lambda x, v: torch.clamp(x, max=v),
    }
    if op in binary:
        if value is None:
            raise TypeError(f"{op} needs a value")
        return lambda x: binary[op](x, value)
    if op not in _UNARY:
        raise ValueError(op)
    f = getattr(torch, op)
    return lambda x: f(x) if value is None else f(x, value)


def _learned_module(kind: str, a: list[Any], kw: dict[str, Any]) -> Any:
    torch = _torch()

    class Learned(torch.nn.Module):  # type: ignore[misc, name-defined]
        def __init__(self, shape: list[int], dim: int = 1, first: bool = True) -> None:
            super().__init__()
            if kind != "LearnedConcat" and (dim, first) != (1, True):
                raise TypeError("only LearnedConcat takes dim and first")
            self.p = torch.nn.Parameter(torch.randn(shape))
            self.dim, self.first = dim, first

        def forward(self, x: Any) -> Any:
            if kind == "LearnedAdd":
                return x + self.p
            if kind == "LearnedMul":
                return x * self.p
            sizes = [-1 if i == self.dim % x.dim() else s for i, s in enumerate(x.shape)]
            token = self.p.expand(*sizes)
            return torch.cat([token, x] if self.first else [x, token], dim=self.dim)

    if kind != "LearnedConcat" and len(a) + len(kw) > 1:
        raise TypeError("one argument")
    return Learned(*a, **kw)


def run_torch(case: Case) -> dict[str, Any]:
    """Run one case through PyTorch: ok, output shape, parameters, MACs (None: not counted)."""
    torch = _torch()
    from torch.utils.flop_counter import FlopCounterMode

    shapes = [[int(s) for s in x] for x in case["inputs"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            f = _module(case, torch)
        except Exception:
            return {"ok": False, "params": None}
        params = int(sum(p.numel() for p in f.parameters())) if hasattr(f, "parameters") else 0
        try:
            if hasattr(f, "eval"):
                f.eval()
            torch.manual_seed(0)
            xs = [torch.rand(x) + 0.5 for x in shapes]  # positive: log, sqrt and pow stay defined
            with torch.no_grad(), FlopCounterMode(display=False) as counter:
                out = f(*xs)
        except Exception:
            return {"ok": False, "params": params}
    macs: int | None = counter.get_total_flops() // 2
    kind = case["type"]
    if kind in ("MatMul", "Bmm") and min(len(x) for x in shapes) < 2:
        macs = None  # mv/dot/vm are not counted by torch.utils.flop_counter
    return {"ok": True, "output_shape": [int(s) for s in out.shape], "params": params, "macs": macs}
