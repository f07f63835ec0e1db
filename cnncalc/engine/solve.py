"""Solve for one layer argument left as ``?``: the values that give a wanted output size.

Every candidate is checked with the layers' own rules (:func:`cnncalc.engine.analyze.trace`),
so PyTorch's refusals hold: pool padding at most half the kernel, ``output_padding`` smaller
than the stride or the dilation, outputs of at least 1.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from cnncalc.engine.analyze import trace
from cnncalc.errors import ArgumentError, CnncalcError, Position, SpecError
from cnncalc.graph import NETWORK_INPUT, Network, NetworkBuilder
from cnncalc.layers import conv, pad
from cnncalc.layers.base import Layer, Shape
from cnncalc.spec.build import build_layer, positional_fields, resolve_kind
from cnncalc.spec.callform import Call, CallFormError, parse_call

# Stands for the ``?`` while the call form is parsed (a string literal: only literals parse).
SENTINEL = "__cnncalc_unknown__"

# Arguments the solver enumerates: integers from 0 (padding, output_padding) or 1.
INT_ARGUMENTS = {"padding": 0, "output_padding": 0, "kernel_size": 1, "stride": 1, "dilation": 1}
BOOL_ARGUMENTS = ("ceil_mode",)

# Per-axis combinations tried when no single value fits every axis.
MAX_COMBINATIONS = 4096
# values × layers a search may evaluate (about 5 s here)
MAX_TRIES = 100_000


@dataclass(frozen=True)
class UnknownCall:
    """A call form with one argument written ``?``: the call (``?`` as :data:`SENTINEL`), the
    argument's name and the ``?``'s 0-based offset in the text."""

    text: str
    call: Call
    argument: str
    offset: int

    def build(self, value: Any) -> Layer:
        """The layer with ``value`` in place of the ``?`` (validated as any layer is)."""
        positional = [
            (value if a.value == SENTINEL else a.value, None) for a in self.call.args if a.keyword is None
        ]
        keywords = [
            (a.keyword, value if a.value == SENTINEL else a.value, None)
            for a in self.call.args
            if a.keyword is not None
        ]
        layer, _ = build_layer(self.call.type_name, positional, keywords, None)
        return layer


def parse_unknown_call(text: str) -> UnknownCall:
    """Parse ``Conv2d(3, 16, 3, stride=2, padding=?)``: exactly one whole argument is ``?``."""
    where = [i for i, ch in enumerate(text) if ch == "?" and not _in_string(text, i)]
    if len(where) != 1:
        raise SpecError(f"write exactly one argument as ?, found {len(where)}", Position("<call>", 1, 1))
    at = where[0]
    try:
        call = parse_call(text[:at] + repr(SENTINEL) + text[at + 1 :])
    except CallFormError as exc:
        column = exc.offset + 1 if exc.offset <= at else exc.offset - len(repr(SENTINEL)) + 2
        raise SpecError(exc.message, Position("<call>", 1, column)) from None
    cls, lazy = resolve_kind(call.type_name, Position("<call>", 1, 1))
    order = positional_fields(cls, lazy)
    index = 0
    for arg in call.args:
        if arg.value == SENTINEL:
            if arg.keyword is not None:
                return UnknownCall(text, call, arg.keyword, at)
            if index >= len(order):
                break
            return UnknownCall(text, call, order[index], at)
        if arg.keyword is None:
            index += 1
    raise SpecError("the ? must be a whole argument, such as padding=?", Position("<call>", 1, at + 1))


def _in_string(text: str, i: int) -> bool:
    quote = None
    for ch in text[:i]:
        if quote is None and ch in "'\"":
            quote = ch
        elif ch == quote:
            quote = None
    return quote is not None


@dataclass(frozen=True)
class Solution:
    """One value of the argument and the output shape it gives; ``zero_pad`` is set for the
    asymmetric ("SAME") split: that ZeroPad's arguments, then the layer with padding 0."""

    value: Any
    output_shape: Shape
    zero_pad: tuple[int, ...] | None = None

    def to_dict(self, argument: str) -> dict[str, Any]:
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        out: dict[str, Any] = {argument: value, "output_shape": list(self.output_shape)}
        if self.zero_pad is not None:
            n = len(self.zero_pad) // 2
            out["zero_pad"] = list(self.zero_pad)
            out["before"] = f"ZeroPad{n}d({tuple(self.zero_pad)})"
        return out


@dataclass(frozen=True)
class SolveReport:
    """Every value of ``argument`` of ``layer`` within ``0..bound`` (or ``1..bound``) giving
    the wanted output size, in increasing order."""

    layer: str
    argument: str
    want: tuple[int, ...]
    bound: int
    solutions: tuple[Solution, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "argument": self.argument,
            "want": list(self.want),
            "bound": self.bound,
            "solutions": [s.to_dict(self.argument) for s in self.solutions],
        }


def solve(
    target: Network | str,
    want: int | tuple[int, ...],
    *,
    unknown: tuple[str, str] | None = None,
    input_shape: Shape | None = None,
) -> SolveReport:
    """The values of one argument that make the output's spatial size ``want`` (an int for every
    axis after batch and channels, or one per trailing axis).

    ``target`` is a call form with one ``?`` (then ``input_shape`` is required), or a network
    with ``unknown = (layer, argument)`` (a name, path or index, and the argument). Arguments:
    padding, kernel_size, stride, dilation, output_padding (integers) and ceil_mode.

    Values are tried on every axis at once. Where none fits every axis, per-axis tuples are
    tried, made of the values that give the wanted size on their own axis (the axes of these
    layers do not interact). For a single layer whose padding no symmetric value gives,
    TensorFlow's "SAME" split is reported: the least total padding per axis, the odd unit after
    (right, bottom, back), as the ZeroPad that reproduces it before the layer with padding 0.

    Complete within the bound: with L the largest spatial size entering the layer, W the largest
    wanted size, and S, K, D, P the layer's largest stride, kernel, dilation and padding (1, 1,
    1, 0 for the unknown one), every value up to ``B = (max(L, W) + 1) * S + D * K + 2 * P`` is
    tried (``SolveReport.bound``). For one layer no value above B can work, except where the
    output stops depending on the argument (a stride or dilation beyond the input gives 1
    whatever its value): those are not listed.
    """
    if isinstance(target, str):
        if input_shape is None:
            raise SpecError("a call form needs an input shape to solve for", Position("<call>"))
        uc = parse_unknown_call(target)
        argument = uc.argument
        _solvable(argument)

        def make(value: Any) -> Network:
            builder = NetworkBuilder(tuple(input_shape))
            builder.add(uc.build(value))
            return builder.build()

        index = 0
        base = make(INT_ARGUMENTS.get(argument, False))
        layer_name = base.nodes[0].key
    else:
        if unknown is None:
            raise SpecError("say which layer and argument to solve for: unknown=(layer, argument)")
        layer_name, argument = unknown
        _solvable(argument)
        index = _find(target, layer_name)
        base = target
        node = target.nodes[index]
        if argument not in type(node.layer).model_fields:
            raise SpecError(f"{node.layer.kind} has no argument {argument!r}")

        def make(value: Any) -> Network:
            changed = replace(node, layer=node.layer.model_copy(update={argument: value}))
            nodes = target.nodes[:index] + (changed,) + target.nodes[index + 1 :]
            return replace(target, nodes=nodes)

    x = _input_of(base, index)
    layer = base.nodes[index].layer
    n = layer.dims or max(len(x) - 2, 1)
    wanted = (want,) * n if isinstance(want, int) else tuple(want)
    bound = _bound(layer, argument, x[len(x) - n :], wanted)

    def output(value: Any) -> Shape | None:
        try:
            net = make(value)
            steps = trace(net)
        except CnncalcError:
            return None
        return steps[net.output_nodes[0]].geometry.output

    def fits(shape: Shape | None, axes: range) -> bool:
        if shape is None or len(shape) < len(wanted):
            return False
        tail = shape[len(shape) - len(wanted) :]
        return all(tail[i] == wanted[i] for i in axes)

    solutions: list[Solution] = []
    if argument in BOOL_ARGUMENTS:
        for flag in (False, True):
            shape = output(flag)
            if fits(shape, range(len(wanted))) and shape is not None:
                solutions.append(Solution(flag, shape))
        return SolveReport(layer_name, argument, wanted, 1, tuple(solutions))
    start = INT_ARGUMENTS[argument]
    values, layers = bound - start + 1, len(base.nodes)
    if values * layers > MAX_TRIES:
        # each value is one trace of the network: bounded, whatever the sizes asked for
        plural = "s" if layers != 1 else ""
        raise ArgumentError(
            f"solving for {argument} would try {values:,} values ({start} to {bound:,}) on {layers:,} "
            f"layer{plural}, more than {MAX_TRIES:,} layer evaluations: ask for a smaller size",
            "out",
        )
    every = range(len(wanted))
    per_axis: list[list[int]] = [[] for _ in wanted]
    for value in range(start, bound + 1):
        shape = output(value)
        if fits(shape, every) and shape is not None:
            solutions.append(Solution(value, shape))
        for axis in every:
            if fits(shape, range(axis, axis + 1)):
                per_axis[axis].append(value)
    if not solutions and len(wanted) > 1 and all(per_axis):
        combos = itertools.islice(itertools.product(*per_axis), MAX_COMBINATIONS)
        for combo in combos:
            shape = output(tuple(combo))
            if fits(shape, every) and shape is not None:
                solutions.append(Solution(tuple(combo), shape))
    if not solutions and argument == "padding" and isinstance(target, str):
        split = _same_split(layer, x[len(x) - n :], wanted, bound, make, output)
        if split is not None:
            solutions.append(split)
    return SolveReport(layer_name, argument, wanted, bound, tuple(solutions))


def _solvable(argument: str) -> None:
    if argument not in INT_ARGUMENTS and argument not in BOOL_ARGUMENTS:
        choices = ", ".join([*INT_ARGUMENTS, *BOOL_ARGUMENTS])
        raise SpecError(f"cannot solve for {argument!r}: the solver takes {choices}")


def _find(network: Network, ref: str) -> int:
    for node in network.nodes:
        if ref in (node.key, node.name, str(node.index)):
            return node.index
    raise SpecError(f"no layer {ref!r} in the network")


def _input_of(network: Network, index: int) -> Shape:
    """The shape entering node ``index`` (its ancestors do not depend on its arguments)."""
    shapes: dict[int, Shape] = {NETWORK_INPUT: network.input_shape}
    for node in network.nodes[:index]:
        xs = [shapes[i] for i in node.inputs]
        shapes[node.index] = (
            node.layer.merge(xs)[0] if node.layer.is_merge else node.layer.apply(xs[0]).output
        )
    return shapes[network.nodes[index].inputs[0]]


def _largest(layer: Layer, name: str, argument: str, default: int) -> int:
    if name == argument:
        return default
    value = getattr(layer, name, default)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, tuple):
        ints = [v for v in value if isinstance(v, int)]
        return max(ints, default=default)
    return default


def _bound(layer: Layer, argument: str, sizes: Shape, wanted: tuple[int, ...]) -> int:
    """B of :func:`solve`'s docstring."""
    s = max(_largest(layer, "stride", argument, 1), 1)
    k = max(_largest(layer, "kernel_size", argument, 1), 1)
    d = max(_largest(layer, "dilation", argument, 1), 1)
    p = max(_largest(layer, "padding", argument, 0), 0)
    return (max(*sizes, *wanted) + 1) * s + d * k + 2 * p


def _same_split(
    layer: Layer,
    sizes: Shape,
    wanted: tuple[int, ...],
    bound: int,
    make: Callable[[Any], Network],
    output: Callable[[Any], Shape | None],
) -> Solution | None:
    """The least total padding per axis that gives ``wanted``, split as TensorFlow's "SAME"
    (before = total // 2, the rest after), reproduced by a ZeroPad before the layer."""
    if not isinstance(layer, conv.ConvNd) or layer.padding_mode != "zeros":
        return None
    n = len(sizes)
    k = _as_tuple(layer.kernel_size, n)
    s = _as_tuple(layer.stride, n)
    d = _as_tuple(layer.dilation, n)
    pairs = []
    for size, ki, si, di, w in zip(sizes, k, s, d, wanted):
        # torch/nn/modules/conv.py: out = floor((L + total - d(k-1) - 1)/s) + 1, increasing in total
        total = next((t for t in range(2 * bound + 1) if (size + t - di * (ki - 1) - 1) // si + 1 == w), None)
        if total is None:
            return None
        pairs.append((total // 2, total - total // 2))
    flat = tuple(v for pair in reversed(pairs) for v in pair)  # last axis first, as F.pad
    zero = make(0)
    builder = NetworkBuilder(zero.input_shape)
    kind = {1: pad.ZeroPad1d, 2: pad.ZeroPad2d, 3: pad.ZeroPad3d}[n]
    builder.add(kind(padding=flat))
    builder.add(zero.nodes[0].layer)
    try:
        steps = trace(builder.build())
    except CnncalcError:
        return None
    return Solution(0, steps[-1].geometry.output, flat)


def _as_tuple(value: Any, n: int) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,) * n
    values = tuple(value)
    return values * n if len(values) == 1 else values


__all__ = ["Solution", "SolveReport", "UnknownCall", "parse_unknown_call", "solve"]
