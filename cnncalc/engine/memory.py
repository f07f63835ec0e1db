"""Training memory, exactly: what autograd keeps, gradients, optimizer state, and the largest batch.

:func:`memory` walks the network in execution order with the shapes of the analysis and the rule
table of :mod:`cnncalc.engine.saved`, following storages as PyTorch does: a view or an in-place
operator shares its input's storage, a tensor saved twice is counted once (for the first layer
that saves it), parameters and buffers are not activations. Every byte count is an integer.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cnncalc.engine.analyze import Step, trace
from cnncalc.engine.saved import Context, Saved, rule_for, view_strides
from cnncalc.errors import ArgumentError, GeometryError
from cnncalc.graph import DTYPE_BYTES, NETWORK_INPUT, Block, Network
from cnncalc.layers.base import Shape, fmt_shape


class Optimizer(str, enum.Enum):
    """The ``torch.optim`` state held after one ``step()``."""

    NONE = "none"  # no optimizer: nothing
    SGD = "sgd"  # SGD without momentum: no state
    MOMENTUM = "momentum"  # SGD(momentum > 0): one momentum_buffer per parameter
    ADAM = "adam"  # exp_avg, exp_avg_sq and a 0-d float32 step per parameter
    ADAMW = "adamw"  # as Adam


# torch/optim/adam.py _init_group: state["step"] = torch.tensor(0.0, dtype=_get_scalar_dtype()),
# a 0-d float32 tensor on CPU (not capturable, not fused) under the default dtype float32
ADAM_STEP_BYTES = 4

# dtypes autograd can differentiate (float8 tensors have no autograd kernels for these layers)
TRAINABLE_DTYPES = ("float32", "float", "float64", "double", "float16", "half", "bfloat16")


@dataclass(frozen=True)
class SavedPart:
    """One tensor a layer's autograd node keeps: what it is, the bytes of its storage, and
    whether an earlier layer (or this one) already counted that storage."""

    what: str
    nbytes: int
    counted: bool

    def to_dict(self) -> dict[str, Any]:
        return {"what": self.what, "bytes": self.nbytes, "counted": self.counted}


@dataclass(frozen=True)
class LayerMemory:
    """The memory of one layer at one batch size.

    ``saved_bytes`` is None for a kind without a rule. ``transient_bytes`` is the gradient of
    the output plus the gradients of the inputs that need one, alive while the layer's backward
    runs. ``live_bytes`` (inference) is the activations alive while the layer computes.
    """

    index: int
    name: str
    path: str
    kind: str
    output_shape: Shape
    output_bytes: int
    params_bytes: int
    grads_bytes: int
    optimizer_bytes: int | None
    saved_bytes: int | None
    saved: tuple[SavedPart, ...]
    transient_bytes: int
    live_bytes: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "path": self.path,
            "type": self.kind,
            "output_shape": list(self.output_shape),
            "output_bytes": self.output_bytes,
            "params_bytes": self.params_bytes,
            "grads_bytes": self.grads_bytes,
            "optimizer_bytes": self.optimizer_bytes,
            "saved_bytes": self.saved_bytes,
            "saved": [part.to_dict() for part in self.saved],
            "transient_bytes": self.transient_bytes,
            "live_bytes": self.live_bytes,
        }


@dataclass(frozen=True)
class MemoryTotals:
    """The network's totals. ``peak_bytes`` is an estimate: in training params + grads +
    optimizer + saved + the largest backward transient; in inference params + the largest set of
    live activations. None where a part is unknown."""

    params_bytes: int
    grads_bytes: int
    optimizer_bytes: int | None
    saved_bytes: int | None
    transient_bytes: int
    activations_peak_bytes: int | None
    peak_bytes: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "params_bytes": self.params_bytes,
            "grads_bytes": self.grads_bytes,
            "optimizer_bytes": self.optimizer_bytes,
            "saved_bytes": self.saved_bytes,
            "transient_bytes": self.transient_bytes,
            "activations_peak_bytes": self.activations_peak_bytes,
            "peak_bytes": self.peak_bytes,
        }


@dataclass(frozen=True)
class MemoryReport:
    """Per-layer and total memory of one training step (or one inference pass) at one batch."""

    name: str | None
    input_shape: Shape
    batch: int
    dtype: str
    optimizer: str
    inference: bool
    layers: tuple[LayerMemory, ...]
    totals: MemoryTotals
    unknown: tuple[str, ...]  # layer kinds without a rule, sorted
    network: Network = field(repr=False, compare=False)

    def peak_at(self, batch: int) -> int | None:
        """The peak estimate at another batch size (the same options)."""
        return memory(
            self.network, batch=batch, optimizer=self.optimizer, dtype=self.dtype, inference=self.inference
        ).totals.peak_bytes

    def peak_by_batch(self, batches: Iterable[int]) -> tuple[tuple[int, int | None], ...]:
        """``(batch, peak_bytes)`` for each batch size."""
        return tuple((b, self.peak_at(b)) for b in batches)

    def max_batch(self, budget_bytes: int) -> int | None:
        """The largest batch whose peak estimate fits in ``budget_bytes``: 0 when none does, None
        when the peak is unknown. The peak grows with the batch, so a doubling search and then a
        bisection find it exactly. A batch PyTorch refuses in training (BatchNorm with one value
        per channel) does not fit."""
        if budget_bytes < 0:
            raise ArgumentError(f"the budget must not be negative, got {budget_bytes}", "budget")

        def peak(batch: int) -> int | None:
            return _run(
                self.network, batch, Optimizer(self.optimizer), self.dtype, self.inference, check=False
            ).totals.peak_bytes

        first = peak(1)
        if first is None:
            return None
        if first > budget_bytes:
            return 0
        fits, over = 1, 2
        while (p := peak(over)) is not None and p <= budget_bytes:
            fits, over = over, over * 2
        while over - fits > 1:
            mid = (fits + over) // 2
            p = peak(mid)
            if p is not None and p <= budget_bytes:
                fits = mid
            else:
                over = mid
        if fits == 1 and not self.inference and _refused(self.network, self.dtype):
            return 0
        return fits

    def to_dict(self, budget_bytes: int | None = None) -> dict[str, Any]:
        """The JSON object: ``totals``, ``layers``, ``max_batch`` (with a budget) and the options."""
        return {
            "name": self.name,
            "input_shape": list(self.input_shape),
            "batch": self.batch,
            "dtype": self.dtype,
            "optimizer": self.optimizer,
            "mode": "inference" if self.inference else "training",
            "totals": self.totals.to_dict(),
            "peak_is_estimate": True,
            "peak_parts": (
                ["params_bytes", "activations_peak_bytes"]
                if self.inference
                else ["params_bytes", "grads_bytes", "optimizer_bytes", "saved_bytes", "transient_bytes"]
            ),
            "layers": [layer.to_dict() for layer in self.layers],
            "unknown": list(self.unknown),
            "budget_bytes": budget_bytes,
            "max_batch": self.max_batch(budget_bytes) if budget_bytes is not None else None,
        }


def memory(
    network: Network,
    *,
    batch: int | None = None,
    optimizer: str | Optimizer = "none",
    dtype: str | None = None,
    inference: bool = False,
) -> MemoryReport:
    """The memory of one train-mode step of ``network`` (or of one inference pass).

    ``batch`` replaces the input's first axis (None: the network's own); ``dtype`` the network's
    dtype (parameters and activations alike). Raises :class:`~cnncalc.errors.GeometryError` for a
    layer PyTorch refuses in training, :class:`~cnncalc.errors.ArgumentError` for a bad option.
    """
    try:
        chosen = Optimizer(optimizer)
    except ValueError:
        names = ", ".join(o.value for o in Optimizer)
        raise ArgumentError(f"unknown optimizer {optimizer!r} (choose from {names})", "optimizer") from None
    kind = dtype if dtype is not None else network.dtype
    if kind not in DTYPE_BYTES:
        raise ArgumentError(f"unknown dtype {kind!r}", "dtype")
    if not inference and kind not in TRAINABLE_DTYPES:
        raise ArgumentError(f"cannot train in {kind}: autograd needs a floating-point dtype", "dtype")
    if batch is None:
        batch = network.input_shape[0] if network.input_shape else 1
    if batch < 1:
        raise ArgumentError(f"the batch must be at least 1, got {batch}", "batch")
    return _run(network, batch, chosen, kind, inference, check=True)


def _refusal(step: Step, reason: str) -> GeometryError:
    node = step.node
    error = GeometryError(f"{node.label} on input {fmt_shape(step.input_shape)}: {reason}")
    error.layer = node.key
    error.located(node.position)
    return error


def training_refusals(network: Network) -> tuple[GeometryError, ...]:
    """The layers PyTorch refuses in a train-mode forward of ``network`` at its own batch
    (BatchNorm with one value per channel, ``torch/nn/functional.py`` ``_verify_batch_size``),
    each as the located error :func:`memory` raises; eval mode accepts them. Networks without
    such a layer are not walked."""
    if not any((rule := rule_for(node.layer)) is not None and rule.checked for node in network.nodes):
        return ()
    itemsize = DTYPE_BYTES[network.dtype]
    refusals = []
    for step in trace(network):
        rule = rule_for(step.node.layer)
        if rule is None or not rule.checked:
            continue
        ctx = Context(step.node.layer, step.input_shapes, step.geometry.output, itemsize, (), False)
        if (reason := rule.check(ctx)) is not None:
            refusals.append(_refusal(step, reason))
    return tuple(refusals)


def _with_batch(network: Network, batch: int, dtype: str) -> Network:
    shape = (batch, *network.input_shape[1:]) if network.input_shape else network.input_shape
    return dataclasses.replace(network, input_shape=shape, dtype=dtype)


def _refused(network: Network, dtype: str) -> bool:
    try:
        _run(network, 1, Optimizer.NONE, dtype, False, check=True)
    except GeometryError:
        return True
    return False


@dataclass
class _Value:
    """A tensor in the walk: its storage (id and bytes), strides and whether it requires grad."""

    storage: int
    nbytes: int
    strides: tuple[int, ...]
    grad: bool


def _contiguous(shape: Shape) -> tuple[int, ...]:
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= max(size, 1)
    return tuple(reversed(strides))


def _run(
    network: Network, batch: int, optimizer: Optimizer, dtype: str, inference: bool, *, check: bool
) -> MemoryReport:
    net = _with_batch(network, batch, dtype)
    itemsize = DTYPE_BYTES[dtype]
    steps = trace(net)
    training = not inference
    storages = [numel_bytes(net.input_shape, itemsize)]  # storage id -> bytes; 0 is the input
    values: dict[int, _Value] = {NETWORK_INPUT: _Value(0, storages[0], _contiguous(net.input_shape), False)}
    counted: set[int] = set()
    unknown: set[str] = set()
    layers: list[LayerMemory] = []
    workspaces: list[int | None] = []  # inference temporaries per layer; None where unknown
    for step in steps:
        node, layer = step.node, step.node.layer
        rule = rule_for(layer)
        ins = [values[i] for i in node.inputs]
        out_shape = step.geometry.output
        params = step.geometry.params
        trainable = params if node.trainable else 0
        param_grad = trainable > 0
        builds_node = training and (param_grad or any(v.grad for v in ins))
        ctx = Context(layer, step.input_shapes, out_shape, itemsize, tuple(v.grad for v in ins), param_grad)
        if rule is None:
            unknown.add(layer.kind)
        if check and training and rule is not None and (reason := rule.check(ctx)) is not None:
            raise _refusal(step, reason)
        # the output's storage: the input's for a view or an in-place operator, else its own
        out_strides = _contiguous(out_shape)
        if rule is not None and rule.aliases(layer, training=training):
            source = ins[0]
            strides = (
                view_strides(layer, step.input_shape, source.strides, out_shape)
                if layer.kind in ("Flatten", "Unflatten", "Narrow")
                else source.strides
            )
            if strides is not None:
                out = _Value(source.storage, source.nbytes, strides, builds_node)
            else:  # reshape copies
                out = _new_value(storages, numel_bytes(out_shape, itemsize), out_strides, builds_node)
        else:
            out = _new_value(storages, numel_bytes(out_shape, itemsize), out_strides, builds_node)
        saved_parts: list[SavedPart] = []
        saved_bytes: int | None = 0
        if builds_node:
            saves = rule.saves(ctx) if rule is not None else None
            if saves is None:
                saved_bytes = None
                if rule is not None:
                    unknown.add(layer.kind)
            else:
                for saved in saves:
                    storage, nbytes = _storage_of(saved, ins, out, storages)
                    first = storage not in counted
                    counted.add(storage)
                    saved_parts.append(SavedPart(saved.what, nbytes, first))
                    if first:
                        saved_bytes = (saved_bytes or 0) + nbytes
        tensors = rule.param_tensors(layer) if rule is not None else (None if trainable else 0)
        transient = 0
        if builds_node:
            # the gradient of the output and those of the inputs that need one
            transient = numel_bytes(out_shape, itemsize) + sum(
                numel_bytes(shape, itemsize) for shape, v in zip(step.input_shapes, ins) if v.grad
            )
        layers.append(
            LayerMemory(
                index=node.index,
                name=node.name,
                path=node.key,
                kind=layer.kind,
                output_shape=out_shape,
                output_bytes=numel_bytes(out_shape, itemsize),
                params_bytes=params * itemsize,
                grads_bytes=trainable * itemsize if training else 0,
                optimizer_bytes=(
                    _optimizer_bytes(optimizer, trainable * itemsize, tensors if param_grad else 0)
                    if training
                    else 0
                ),
                saved_bytes=saved_bytes,
                saved=tuple(saved_parts),
                transient_bytes=transient,
            )
        )
        workspaces.append(rule.workspace(ctx) if rule is not None else None)
        values[node.index] = out

    live: list[int | None] = []
    if inference:
        live = _live(net, values, storages, workspaces)
        layers = [dataclasses.replace(layer, live_bytes=lv) for layer, lv in zip(layers, live)]
    params_bytes = sum(layer.params_bytes for layer in layers)
    grads_bytes = sum(layer.grads_bytes for layer in layers)
    optimizer_total = _sum_known(layer.optimizer_bytes for layer in layers)
    saved_total = _sum_known(layer.saved_bytes for layer in layers)
    transient = max((layer.transient_bytes for layer in layers), default=0)
    if inference:
        known = [lv for lv in live if lv is not None]
        activations = None if len(known) < len(live) else max([storages[0], *known])
        peak = None if activations is None else params_bytes + activations
    else:
        activations = None
        peak = (
            None
            if optimizer_total is None or saved_total is None
            else params_bytes + grads_bytes + optimizer_total + saved_total + transient
        )
    totals = MemoryTotals(
        params_bytes, grads_bytes, optimizer_total, saved_total, transient, activations, peak
    )
    return MemoryReport(
        network.name,
        net.input_shape,
        batch,
        dtype,
        optimizer.value,
        inference,
        tuple(layers),
        totals,
        tuple(sorted(unknown)),
        network,
    )


def numel_bytes(shape: Shape, itemsize: int) -> int:
    """Bytes of a contiguous tensor of ``shape``."""
    return math.prod(shape) * itemsize


def _new_value(storages: list[int], nbytes: int, strides: tuple[int, ...], grad: bool) -> _Value:
    storages.append(nbytes)
    return _Value(len(storages) - 1, nbytes, strides, grad)


def _storage_of(saved: Saved, ins: list[_Value], out: _Value, storages: list[int]) -> tuple[int, int]:
    if saved.role == "input":
        value = ins[saved.index]
        return value.storage, value.nbytes
    if saved.role == "output":
        return out.storage, out.nbytes
    storages.append(saved.nbytes)
    return len(storages) - 1, saved.nbytes


def _optimizer_bytes(optimizer: Optimizer, trainable_bytes: int, tensors: int | None) -> int | None:
    if optimizer in (Optimizer.NONE, Optimizer.SGD):
        return 0
    if optimizer is Optimizer.MOMENTUM:
        return trainable_bytes
    if tensors is None:
        return None
    return 2 * trainable_bytes + ADAM_STEP_BYTES * tensors


def _sum_known(values: Iterable[int | None]) -> int | None:
    total = 0
    for value in values:
        if value is None:
            return None
        total += value
    return total


def _live(
    net: Network, values: dict[int, _Value], storages: list[int], workspaces: list[int | None]
) -> list[int | None]:
    """Inference: the bytes of activations alive while each layer computes (its inputs, every
    tensor a later layer or the output still needs, its output and its temporaries), a storage
    freed after its last use."""
    last_use: dict[int, int] = {}
    for node in net.nodes:
        for i in node.inputs:
            last_use[values[i].storage] = node.index
        last_use.setdefault(values[node.index].storage, node.index)
    end = len(net.nodes)
    for i in net.output_nodes:
        last_use[values[i].storage] = end
    alive = {values[NETWORK_INPUT].storage}
    result: list[int | None] = []
    for node, workspace in zip(net.nodes, workspaces):
        alive.add(values[node.index].storage)
        now = sum(storages[s] for s in alive)
        result.append(None if workspace is None else now + workspace)
        alive = {s for s in alive if last_use.get(s, node.index) > node.index}
    return result


@dataclass(frozen=True)
class MemoryRow:
    """One row of the per-layer view: a layer, or a block folded into one row with the saved
    bytes of its layers summed (each storage is attributed to one layer, so the sum counts it
    once) and the largest of their live bytes."""

    index: str
    name: str
    path: str
    kind: str
    depth: int
    output_shape: Shape
    saved_bytes: int | None
    live_bytes: int | None
    block: bool = False


def memory_rows(report: MemoryReport, depth: int | None = None) -> tuple[MemoryRow, ...]:
    """The layers in execution order with their blocks before them; rows nested deeper than
    ``depth`` are folded into the row of their block."""
    by_index = {layer.index: layer for layer in report.layers}
    parents: dict[int, list[Block]] = {}
    for block in report.network.blocks:
        for n in block.nodes:
            parents.setdefault(n, []).append(block)
    rows: list[MemoryRow] = []
    opened: set[str] = set()
    for layer in report.layers:
        chain = sorted(parents.get(layer.index, []), key=lambda b: b.depth)
        for block in chain:
            if block.path in opened:
                continue
            opened.add(block.path)
            if depth is None or block.depth <= depth:
                inside = [by_index[n] for n in block.nodes if n in by_index]
                rows.append(
                    MemoryRow(
                        f"{block.nodes[0]}-{block.nodes[-1]}",
                        block.path.rsplit(".", 1)[-1],
                        block.path,
                        block.kind,
                        block.depth,
                        by_index[block.output].output_shape,
                        _sum_known(m.saved_bytes for m in inside),
                        _max_known(m.live_bytes for m in inside) if report.inference else None,
                        block=True,
                    )
                )
        if depth is None or len(chain) + 1 <= depth:
            rows.append(
                MemoryRow(
                    str(layer.index),
                    layer.name,
                    layer.path,
                    layer.kind,
                    len(chain) + 1,
                    layer.output_shape,
                    layer.saved_bytes,
                    layer.live_bytes,
                )
            )
    return tuple(rows)


def _max_known(values: Iterable[int | None]) -> int | None:
    known = list(values)
    return None if not known or any(v is None for v in known) else max(v for v in known if v is not None)


@dataclass(frozen=True)
class BudgetFit:
    """A budget against a report's options: the largest batch whose peak estimate fits
    (:meth:`MemoryReport.max_batch`) and the totals at the batches of :func:`batch_ladder`
    (None at a batch PyTorch refuses in training)."""

    budget_bytes: int
    max_batch: int | None
    by_batch: tuple[tuple[int, MemoryTotals | None], ...]

    def to_dict(self) -> list[dict[str, Any]]:
        """``[{"batch", "peak_bytes", "fits"}]`` for the batches of the ladder."""
        return [
            {
                "batch": batch,
                "peak_bytes": totals.peak_bytes if totals is not None else None,
                "fits": totals is not None
                and totals.peak_bytes is not None
                and totals.peak_bytes <= self.budget_bytes,
            }
            for batch, totals in self.by_batch
        ]


def batch_ladder(max_batch: int | None, batch: int = 1) -> tuple[int, ...]:
    """The batches a budget is shown at: powers of two below ``max_batch``, ``max_batch`` itself
    and the first batch that does not fit (``max_batch + 1``); without a largest batch, powers of
    two up to twice ``batch``."""
    top = max_batch + 1 if max_batch is not None else 2 * batch
    ladder = {1 << k for k in range(top.bit_length()) if 1 << k < top}
    if max_batch is not None:
        ladder |= {b for b in (max_batch, max_batch + 1) if b >= 1}
    else:
        ladder.add(top)
    return tuple(sorted(ladder))


def totals_at(report: MemoryReport, batch: int) -> MemoryTotals | None:
    """The totals at another batch size (the same options), None where PyTorch refuses it."""
    try:
        return memory(
            report.network,
            batch=batch,
            optimizer=report.optimizer,
            dtype=report.dtype,
            inference=report.inference,
        ).totals
    except GeometryError:
        return None


def fit(report: MemoryReport, budget_bytes: int) -> BudgetFit:
    """The largest batch that fits in ``budget_bytes`` and the totals along :func:`batch_ladder`."""
    best = report.max_batch(budget_bytes)
    return BudgetFit(budget_bytes, best, by_batch(report, batch_ladder(best)))


def by_batch(report: MemoryReport, batches: Iterable[int]) -> tuple[tuple[int, MemoryTotals | None], ...]:
    """``(batch, totals)`` at each batch size (:func:`totals_at`)."""
    return tuple((b, totals_at(report, b)) for b in batches)
