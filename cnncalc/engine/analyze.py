"""Walk a network's graph in topological order and compute every layer's figures."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from fractions import Fraction

from cnncalc.engine import rf
from cnncalc.errors import ArgumentError, CnncalcError, GeometryError
from cnncalc.graph import DTYPE_BYTES, NETWORK_INPUT, Network, Node
from cnncalc.layers.base import Geometry, MergeBack, Q, Shape, fmt_shape, numel
from cnncalc.records import quick_init
from cnncalc.report import BlockReport, LayerReport, Product, ReceptiveField, Report, Totals, UnitRegion


def _located(node: Node, xs: list[Shape], exc: GeometryError) -> GeometryError:
    where = node.arg_positions.get(exc.argument or "", node.position)
    shapes = " and ".join(fmt_shape(x) for x in xs)
    error = GeometryError(f"{node.label} on input {shapes}: {exc.message}", exc.argument)
    error.layer = node.key
    return error.located(where)  # type: ignore[return-value]


def apply_node(node: Node, x: Shape) -> Geometry:
    """Apply one node's layer to its input shape; errors name the layer, its input and position."""
    try:
        return node.layer.apply(x)
    except GeometryError as exc:
        raise _located(node, [x], exc) from None


@quick_init
@dataclass(frozen=True)
class Step:
    """One node as the analysis saw it: its input shapes, geometry and receptive field."""

    node: Node
    input_shapes: tuple[Shape, ...]
    geometry: Geometry
    field: rf.Field
    merge_backs: tuple[MergeBack, ...] = ()

    @property
    def input_shape(self) -> Shape:
        return self.input_shapes[0]


def trace(network: Network) -> list[Step]:
    """Apply every node in topological order."""
    shapes: dict[int, Shape] = {NETWORK_INPUT: network.input_shape}
    fields: dict[int, rf.Field] = {NETWORK_INPUT: rf.START}
    steps = []
    # A layer's geometry depends on the layer and its input shape only, and both are immutable
    # (frozen models, tuples): a network that repeats a layer on one shape (a stack, the blocks
    # of a ResNet stage) computes it once. Errors are not kept: they name their own node.
    geometries: dict[tuple[object, Shape], Geometry] = {}
    # In front of it, the same by the layer object's identity: a text that repeats builds one
    # layer object (spec.network's call cache), and hashing and comparing a pydantic model by
    # value cost more than the lookup. The network keeps every layer alive, so ids stay unique.
    by_id: dict[tuple[int, Shape], Geometry] = {}
    for node in network.nodes:
        xs = [shapes[i] for i in node.inputs]
        if node.layer.is_merge:
            try:
                out, backs = node.layer.merge(xs)
                params, macs, spatial = node.layer.merge_figures(xs)
            except GeometryError as exc:
                raise _located(node, xs, exc) from None
            geo = Geometry(out, params, macs, spatial)
            field = rf.merge([fields[i] for i in node.inputs])
            if spatial != "identity":  # a merge that mixes positions (MatMul, attention)
                field = rf.step(field, spatial, out)
            step = Step(node, tuple(xs), geo, field, tuple(backs))
        else:
            same = (id(node.layer), xs[0])
            known = by_id.get(same)
            if known is not None:
                geo = known
            else:
                key = (node.layer, xs[0])
                try:
                    geo = geometries[key]
                except KeyError:
                    geo = geometries[key] = apply_node(node, xs[0])
                except TypeError:  # a layer holding an unhashable value: computed every time
                    geo = apply_node(node, xs[0])
                by_id[same] = geo
            step = Step(
                node,
                tuple(xs),
                geo,
                rf.step(fields[node.inputs[0]], geo.spatial, xs[0], geo.back, geo.output),
            )
        shapes[node.index] = geo.output
        fields[node.index] = step.field
        steps.append(step)
    return steps


def _receptive_field(
    field: rf.Field, input_shape: Shape, exact: tuple[int, ...] | None = None
) -> ReceptiveField | None:
    if not field.known:
        return None
    axes = field.axes
    if axes is None:  # nothing spatial yet: every unit sees its own position
        n = max(len(input_shape) - 2, 0)
        axes = (rf.IDENTITY,) * n
    sizes = input_shape[len(input_shape) - len(axes) :] if axes else ()
    # every unit depends on every input position: its support spans the input exactly
    if field.whole and sizes:
        extents: tuple[Q, ...] = tuple(sizes)
    elif exact is not None:
        extents = exact
    else:
        extents = tuple([a.size for a in axes])
    return ReceptiveField(
        extents,
        tuple([a.stride for a in axes]),
        tuple([a.padding for a in axes]),
        sizes,
        field.whole,
        tuple(tuple(a.stride for a in f) for f in field.misaligned),
        tuple(tuple(a.centre0 for a in f) for f in field.misaligned),
    )


def analyze(network: Network) -> Report:
    """Shapes, parameters, MACs, memory and receptive field of every layer and the network."""
    itemsize = DTYPE_BYTES[network.dtype]
    steps = trace(network)
    layers: list[LayerReport] = []
    # A layer that keeps its input's field (an activation, a norm) has the very same Field object
    # (rf.step returns it): its ReceptiveField is made once and shared, which also lets the JSON
    # renderer encode it once. Keyed by id(): every Field stays alive in ``steps`` meanwhile.
    fields: dict[int, ReceptiveField | None] = {}
    node_keys = {i: n.key for i, n in enumerate(network.nodes)}
    node_keys[NETWORK_INPUT] = "input"
    new_layer = LayerReport  # positional, in field order: a frozen dataclass per layer adds up
    for step in steps:
        node, geo = step.node, step.geometry
        if step.field.fractional and not step.field.whole and step.field.axes is not None:
            field = _receptive_field(step.field, network.input_shape, unbounded_extents(network, steps, step))
        else:
            try:
                field = fields[id(step.field)]
            except KeyError:
                field = fields[id(step.field)] = _receptive_field(step.field, network.input_shape)
        layers.append(
            new_layer(
                node.index,
                node.name,
                node.layer.kind,
                step.input_shapes[0],
                geo.output,
                geo.params,
                geo.params if node.trainable else 0,
                geo.macs,
                numel(geo.output) * itemsize,
                tuple([node_keys[i] for i in node.inputs]),
                field,
                node.key,
            )
        )
    blocks = tuple(
        BlockReport(
            path=block.path,
            kind=block.kind,
            depth=block.depth,
            first=block.nodes[0],
            nodes=block.nodes,
            output_shape=layers[block.output].output_shape,
            params=sum(layers[i].params for i in block.nodes),
            trainable_params=sum(layers[i].trainable_params for i in block.nodes),
            macs=sum(layers[i].macs for i in block.nodes),
            activation_bytes=sum(layers[i].activation_bytes for i in block.nodes),
            receptive_field=layers[block.output].receptive_field,
        )
        for block in network.blocks
    )
    # a parameter two layers read (tied) is in both rows and once in the totals
    params = sum(layer.params for layer in layers) - network.shared_params
    trainable = sum(layer.trainable_params for layer in layers) - network.shared_params
    unused = network.unused
    totals = Totals(
        params=params,
        trainable_params=trainable,
        non_trainable_params=params - trainable,
        macs=sum(layer.macs for layer in layers),
        param_bytes=params * itemsize,
        activation_bytes=sum(layer.activation_bytes for layer in layers),
        unused_params=None if unused is None else sum(n for _, n in unused),
    )
    outs = network.output_nodes
    out = layers[outs[0]].output_shape if outs else network.input_shape
    field = layers[outs[0]].receptive_field if outs else None
    return Report(
        network.name,
        network.input_shape,
        out,
        network.dtype,
        tuple(layers),
        totals,
        field,
        blocks,
        tuple(layers[i].path for i in outs),
        unused or (),
        network.notes,
        tuple(layers[i].output_shape for i in outs),
    )


def find_layer(network: Network, ref: str | None, steps: list[Step]) -> Step:
    """A layer by name, path or index; by default the last one whose output has spatial axes."""
    if ref is None:
        for step in reversed(steps):
            axes = step.field.axes if step.field.known else None
            # a layer whose field is whole still has units, as long as its output keeps the axes
            if axes is not None and len(step.geometry.output) >= len(axes) + 2:
                return step
        raise ArgumentError("no layer with spatial axes to take a unit of", "layer")
    for step in steps:
        if ref in (step.node.key, str(step.node.index)):
            return step
    for block in network.blocks:
        if block.path == ref:
            return steps[block.output]
    named = [step for step in steps if step.node.name == ref]
    if len(named) == 1:
        return named[0]
    if named:  # a name repeated in several blocks (ResNet's conv2d_1): never pick one silently
        paths = ", ".join(f"{s.node.key} (#{s.node.index})" for s in named[:8])
        more = ", …" if len(named) > 8 else ""
        raise ArgumentError(
            f"{len(named)} layers are named {ref!r}: give a path or an index ({paths}{more})", "layer"
        )
    names = ", ".join(s.node.key for s in steps[:8])
    more = ", …" if len(steps) > 8 else ""
    raise ArgumentError(f"no layer {ref!r} (the layers are {names}{more}; or give an index)", "layer")


def unit_region(network: Network, unit: tuple[int, ...] | None, layer: str | None = None) -> UnitRegion:
    """The input region of ``unit`` (one index per spatial axis; default: the centre unit) of a
    layer's output, following every path back to the input."""
    steps = trace(network)
    step = find_layer(network, layer, steps)
    field = step.field
    if not field.known or field.axes is None or len(step.geometry.output) < len(field.axes) + 2:
        raise ArgumentError(f"{step.node.label} has no spatial axes to take a unit of", "layer")
    axes = field.axes
    n = len(axes)
    sizes = step.geometry.output[len(step.geometry.output) - n :]
    if field.whole:  # every unit depends on every input position: its region is the input
        axes = tuple(rf.AxisField(size, 0, 0) for size in _sizes(network.input_shape, n))
    if unit is None:
        unit = tuple(size // 2 for size in sizes)
    if len(unit) != n:
        raise ArgumentError(
            f"--unit needs {n} coordinates for {step.node.label} "
            f"(output {fmt_shape(step.geometry.output)}), got {len(unit)}",
            "unit",
        )
    for u, size in zip(unit, sizes):
        if not 0 <= u < size:
            raise ArgumentError(
                f"unit {fmt_shape(unit)} is outside {step.node.label}, "
                f"whose spatial size is {fmt_shape(sizes)}",
                "unit",
            )
    widest = max((max(_sizes(s.input_shape, n), default=0) for s in steps[: step.node.index + 1]), default=0)
    if widest > TRACE_LIMIT:
        # exact tracing keeps one set of positions per axis: bounded by this size, not guessed
        needed, exact = None, False
    else:
        needed, exact = _walk_back(network, steps, step.node.index, tuple(frozenset({u}) for u in unit), n)
    found = needed or {}
    trail = tuple(
        (steps[i].node.key, tuple(found[i]))
        for i in sorted(found, reverse=True)
        if i not in (NETWORK_INPUT, step.node.index)
    )
    products = needed.get(NETWORK_INPUT, []) if needed is not None else None
    region: tuple[tuple[Q, Q], ...] = tuple(a.region(u) for a, u in zip(axes, unit))
    if field.fractional and not field.whole and products:
        # after a stride below 1 the Distill interval is not the support: give the traced one
        spans = [frozenset().union(*(p[axis] for p in products)) for axis in range(n)]
        if all(spans):
            region = tuple((min(span), max(span)) for span in spans)
    return UnitRegion(
        step.node.index,
        step.node.key,
        unit,
        region,
        _sizes(network.input_shape, n),
        tuple(products) if products is not None else None,
        exact,
        trail,
    )


def _period(steps: list[Step], target: int, n: int) -> list[int]:
    """Per axis, how many consecutive units of the target's output repeat its support pattern.

    Let S_l be layer l's effective stride and S the target's. Shifting a target unit by m shifts
    the positions it needs at layer l by m * S / S_l; when that is an integer for every layer, each
    layer maps the shifted positions to its input shifted alike (every layer's map commutes with
    whole shifts of its input), so unit u + m has unit u's support moved by m * S: the same extent.
    The least such m is the lcm of the denominators of S / S_l (the input counting as a layer of
    stride 1), so units u .. u + m - 1 are all the
    extents there are. (Layers that are not on a path to the target only make m larger.)"""
    axes = steps[target].field.axes
    assert axes is not None
    periods = []
    for axis in range(n):
        stride = Fraction(axes[axis].stride)
        m = stride.denominator  # the network input itself: S_l = 1
        for s in steps[:target]:
            if s.field.known and s.field.axes is not None and len(s.field.axes) == n and not s.field.whole:
                ratio = stride / Fraction(s.field.axes[axis].stride)
                m = math.lcm(m, ratio.denominator)
        periods.append(m)
    return periods


def exact_extents(network: Network, steps: list[Step], step: Step) -> tuple[int, ...] | None:
    """Per axis, the largest extent (last - first + 1) of the input positions that affect one unit
    of ``step``'s output, from the layers' exact maps; None when a map is unknown.

    Only layers after a stride below 1 need this (engine.rf.Field.fractional): elsewhere the
    Distill size is that extent. The units checked are one period of the support pattern (see
    _period) around the centre of the output, so the edges of a large enough input do not clip
    them; on a small input the extent is the one the given input allows."""
    axes = step.field.axes
    assert axes is not None
    n = len(axes)
    sizes = _sizes(step.geometry.output, n)
    if any(size < 1 for size in sizes) or max(_sizes(network.input_shape, n), default=0) > TRACE_LIMIT:
        return None
    periods = _period(steps, step.node.index, n)
    best = [0] * n
    for t in range(min(max(periods), max(sizes))):
        # one unit per offset t along every axis at once: axes map independently (products)
        unit = tuple(min(size // 2 + min(t, p - 1), size - 1) for size, p in zip(sizes, periods))
        needed, _ = _walk_back(network, steps, step.node.index, tuple(frozenset({u}) for u in unit), n)
        if needed is None:
            return None
        for product in needed.get(NETWORK_INPUT, []):
            for axis, positions in enumerate(product):
                if positions:
                    best[axis] = max(best[axis], max(positions) - min(positions) + 1)
    return tuple(best)


def unbounded_extents(network: Network, steps: list[Step], step: Step) -> tuple[int, ...] | None:
    """:func:`exact_extents` as on an unbounded input. Where the support reaches the given
    input's edge (a field as large as the input is clipped by it), the layers up to ``step``
    are traced again on inputs 2, 4, … 64 times as large (multiples keep any divisibility the
    network needs) until the support stops at a distance from the edges; None (unknown) when
    no such input works, rather than the clipped size."""
    extents = exact_extents(network, steps, step)
    n = len(step.field.axes or ())
    given = _sizes(network.input_shape, n)
    if extents is None or all(e < size for e, size in zip(extents, given)):
        return extents
    prefix = network.nodes[: step.node.index + 1]
    lead = network.input_shape[: len(network.input_shape) - n]
    for factor in (2, 4, 8, 16, 32, 64):
        sizes = tuple(size * factor for size in given)
        if max(sizes) > TRACE_LIMIT:
            break
        bigger = dataclasses.replace(network, input_shape=(*lead, *sizes), nodes=prefix)
        try:
            again = trace(bigger)
        except CnncalcError:  # this size does not fit the network: try the next
            continue
        found = exact_extents(bigger, again, again[step.node.index])
        if found is None:
            return None
        if all(e < size for e, size in zip(found, sizes)):
            return found
    return None


# Widest spatial axis for which exact input positions are traced (per-axis sets of indices).
TRACE_LIMIT = 1_000_000


def _walk_back(
    network: Network, steps: list[Step], target: int, start: Product, n: int
) -> tuple[dict[int, list[Product]] | None, bool]:
    """Positions of every node's output (and of the input) that affect the target unit; None
    when a layer on the way has no known map."""
    needed: dict[int, list[Product]] = {target: [start]}
    exact = True
    shuffled = False
    for index in range(target, -1, -1):
        if index not in needed:
            continue
        step = steps[index]
        geo = step.geometry
        if geo.channel_space == "shuffle":
            shuffled = True
        elif geo.channel_space == "unshuffle" and shuffled:
            exact = False  # channels carry position here: the union over channels is a superset
        for k, source in enumerate(step.node.inputs):
            for product in needed[index]:
                if step.merge_backs:
                    back = step.merge_backs[k]
                    mapped: Product | None = tuple(
                        frozenset(i for j in positions if (i := back(axis - n, j)) is not None)
                        for axis, positions in enumerate(product)
                    )
                else:
                    hop = rf.Hop(geo.spatial, geo.back, _sizes(step.input_shapes[k], n), geo.channel_space)
                    mapped = rf.through(hop, product)
                if mapped is None:
                    return None, False
                current = needed.setdefault(source, [])
                needed[source], still_exact = rf.add_product(current, mapped)
                exact = exact and still_exact
    return needed, exact


def _sizes(shape: Shape, n: int) -> Shape:
    return shape[len(shape) - n :] if n else ()
