"""What ``torch.nn`` itself says about a layer kind, read with :mod:`inspect`: the oracle that the
catalogue, the layer reference and the JSON Schema are checked against."""

from __future__ import annotations

import inspect
import warnings
from typing import Any

import pytest

# Kinds that are no torch.nn module (merges, and torch.narrow as a layer), written out by hand.
NOT_TORCH = {
    "Add": "Add()",
    "Concat": "Concat(dim=1)",
    "Mul": "Mul()",
    "Narrow": "Narrow(dim, start, length)",
    # tensor operations and functions (docs: torch.permute, torch.split, F.scaled_dot_product_attention
    # …), torchvision.ops.StochasticDepth and timm's DropPath and LayerNorm2d
    "Amax": "Amax(dim=None, keepdim=False)",
    "Arith": "Arith(op, value=None)",
    "Chunk": "Chunk(chunks, dim=0, index=0)",
    "Div": "Div()",
    "DropPath": "DropPath(drop_prob=0.0, scale_by_keep=True)",
    "Expand": "Expand(size)",
    "LayerNorm2d": "LayerNorm2d(num_channels, eps=1e-06, affine=True)",
    "LearnedAdd": "LearnedAdd(shape)",
    "LearnedConcat": "LearnedConcat(shape, dim=1, first=True)",
    "LearnedMul": "LearnedMul(shape)",
    # Darknet's [local]: a convolution with its own weights at every position (src/local_layer.c)
    "LocallyConnected2d": (
        "LocallyConnected2d(in_channels=<inferred>, out_channels, kernel_size, stride=1, padding=0, "
        "bias=True)"
    ),
    "MatMul": "MatMul()",
    "Mean": "Mean(dim=None, keepdim=False)",
    "Permute": "Permute(dims)",
    "Repeat": "Repeat(repeats)",
    "Reshape": "Reshape(shape)",
    "ScaledDotProductAttention": (
        "ScaledDotProductAttention(dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False)"
    ),
    "Select": "Select(dim, index)",
    "Slice": "Slice(dim=0, start=None, end=None, step=1)",
    "Split": "Split(split_size_or_sections, dim=0, index=0)",
    "Squeeze": "Squeeze(dim=None)",
    "StochasticDepth": "StochasticDepth(p, mode)",
    "Sub": "Sub()",
    "Sum": "Sum(dim=None, keepdim=False)",
    "Transpose": "Transpose(dim0, dim1)",
    "Unsqueeze": "Unsqueeze(dim)",
}

# Arguments that cnncalc infers from the input where torch.nn has no Lazy class to say so.
INFERRED_WITHOUT_LAZY = {"GroupNorm": "num_channels"}

# A value torch.nn accepts for a required argument: 1, unless given here.
SAMPLE: dict[str, Any] = {"unflattened_size": (1,)}


def import_torch() -> Any:
    """torch, or a skipped test where it does not import."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pytest.importorskip("torch")


def parameters(torch: Any, kind: str) -> list[inspect.Parameter]:
    """Constructor parameters of ``torch.nn.<kind>`` without ``self``, ``device`` and ``dtype``.

    A class that keeps ``Module.__init__`` takes no argument: its ``*args, **kwargs`` refuse any.
    """
    cls = getattr(torch.nn, kind)
    if cls.__init__ is torch.nn.Module.__init__:
        return []
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    return [p for p in params if p.name not in ("device", "dtype")]


def named(params: list[inspect.Parameter]) -> list[inspect.Parameter]:
    """The parameters passed by name (not ``*args`` or ``**kwargs``)."""
    return [p for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def lazy_alias(torch: Any, kind: str) -> str | None:
    """``Lazy<kind>`` where torch.nn has that class."""
    return f"Lazy{kind}" if hasattr(torch.nn, f"Lazy{kind}") else None


def inferred(torch: Any, kind: str) -> str | None:
    """The argument a Lazy class leaves out (the one inferred from the input)."""
    alias = lazy_alias(torch, kind)
    if alias is None:
        return INFERRED_WITHOUT_LAZY.get(kind)
    missing = {p.name for p in parameters(torch, kind)} - {p.name for p in parameters(torch, alias)}
    assert len(missing) == 1, (kind, missing)
    return missing.pop()


def required(torch: Any, kind: str) -> dict[str, Any]:
    """torch.nn.<kind>'s arguments without a default, each with a value it accepts."""
    return {p.name: SAMPLE.get(p.name, 1) for p in named(parameters(torch, kind)) if p.default is p.empty}


def constructs(torch: Any, kind: str, kwargs: dict[str, Any]) -> bool:
    """Whether ``torch.nn.<kind>(**kwargs)`` builds a module (False where it raises TypeError)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            getattr(torch.nn, kind)(**kwargs)
    except TypeError:
        return False
    return True


def signature_line(torch: Any, kind: str) -> str:
    """The line ``cnncalc layers`` prints for torch.nn.<kind>, from its signature alone:
    ``Conv2d(in_channels=<inferred>, out_channels, ...)   (also LazyConv2d)``."""
    guessed = inferred(torch, kind)
    parts = []
    star = False
    for p in parameters(torch, kind):
        if p.kind is p.VAR_POSITIONAL:
            parts.append(f"*{p.name}")
        elif p.kind is p.VAR_KEYWORD:
            parts.append(f"**{p.name}")
        else:
            if p.kind is p.KEYWORD_ONLY and not star:
                parts.append("*")
                star = True
            if p.name == guessed:
                parts.append(f"{p.name}=<inferred>")
            elif p.default is p.empty:
                parts.append(p.name)
            else:
                parts.append(f"{p.name}={p.default!r}")
    alias = lazy_alias(torch, kind)
    return f"{kind}({', '.join(parts)})" + (f"   (also {alias})" if alias else "")
