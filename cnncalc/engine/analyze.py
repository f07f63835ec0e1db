"""Walk a network's graph in topological order and compute every layer's figures."""

from __future__ import annotations

from dataclasses import dataclass

from cnncalc.engine import rf
from cnncalc.engine.graph import NETWORK_INPUT, Network, Node
from cnncalc.errors import GeometryError, Position, SpecError
from cnncalc.layers.base import Geometry, Shape, fmt_shape, numel
from cnncalc.report import LayerReport, ReceptiveField, Report, Totals, UnitRegion
from cnncalc.spec.network import DTYPE_BYTES


def apply_node(node: Node, x: Shape) -> Geometry:
    """Apply one node's layer to its input shape; errors name the layer, its input and position."""
    try:
        return node.layer.apply(x)
    except GeometryError as exc:
        where = node.arg_positions.get(exc.argument or "", node.position)
        error = GeometryError(f"{node.label} on input {fmt_shape(x)}: {exc.message}", exc.argument)
        error.layer = node.name
        raise error.located(where) from None


@dataclass(frozen=True)
class Step:
    """One node as the analysis saw it: its input shape, geometry and receptive field."""

    node: Node
    input_shape: Shape
    geometry: Geometry
    field: rf.Field


def trace(network: Network) -> list[Step]:
    """Apply every node in topological order."""
    shapes: dict[int, Shape] = {NETWORK_INPUT: network.input_shape}
    fields: dict[int, rf.Field] = {NETWORK_INPUT: rf.START}
    steps = []
    for node in network.nodes:
        x = shapes[node.inputs[0]]
        geo = apply_node(node, x)
        shapes[node.index] = geo.output
        fields[node.index] = rf.step(fields[node.inputs[0]], geo.spatial, x)
        steps.append(Step(node, x, geo, fields[node.index]))
    return steps


def _receptive_field(field: rf.Field, input_shape: Shape) -> ReceptiveField | None:
    if not field.known:
        return None
    axes = field.axes
    if axes is None:  # nothing spatial yet: every unit sees its own position
        n = max(len(input_shape) - 2, 0)
        axes = (rf.IDENTITY,) * n
    sizes = input_shape[len(input_shape) - len(axes) :] if axes else ()
    return ReceptiveField(
        tuple(a.size for a in axes),
        tuple(a.stride for a in axes),
        tuple(a.padding for a in axes),
        sizes,
        field.whole,
    )


def analyze(network: Network) -> Report:
    """Shapes, parameters, MACs, memory and receptive field of every layer and the network."""
    itemsize = DTYPE_BYTES[network.dtype]
    steps = trace(network)
    layers: list[LayerReport] = []
    for step in steps:
        node, geo = step.node, step.geometry
        inputs = tuple("input" if i == NETWORK_INPUT else network.nodes[i].name for i in node.inputs)
        layers.append(
            LayerReport(
                index=node.index,
                name=node.name,
                type=node.layer.kind,
                input_shape=step.input_shape,
                output_shape=geo.output,
                params=geo.params,
                trainable_params=geo.params if node.trainable else 0,
                macs=geo.macs,
                activation_bytes=numel(geo.output) * itemsize,
                inputs=inputs,
                receptive_field=_receptive_field(step.field, network.input_shape),
            )
        )
    params = sum(layer.params for layer in layers)
    trainable = sum(layer.trainable_params for layer in layers)
    totals = Totals(
        params=params,
        trainable_params=trainable,
        non_trainable_params=params - trainable,
        macs=sum(layer.macs for layer in layers),
        param_bytes=params * itemsize,
        activation_bytes=sum(layer.activation_bytes for layer in layers),
    )
    last = network.output_nodes[0] if network.nodes else None
    out = layers[last].output_shape if last is not None else network.input_shape
    field = layers[last].receptive_field if last is not None else None
    return Report(network.name, network.input_shape, out, network.dtype, tuple(layers), totals, field)


def find_layer(network: Network, ref: str | None, steps: list[Step]) -> Step:
    """A layer by name or index; by default the last one whose output still has spatial axes."""
    if ref is None:
        for step in reversed(steps):
            if step.field.known and step.field.axes is not None and not step.field.whole:
                return step
        raise SpecError("no layer with spatial axes to take a unit of", network.nodes[0].position)
    for step in steps:
        if step.node.name == ref or str(step.node.index) == ref:
            return step
    names = ", ".join(s.node.name for s in steps[:8])
    more = ", …" if len(steps) > 8 else ""
    raise SpecError(
        f"no layer {ref!r} (the layers are {names}{more}; or give an index)", Position("<option --layer>")
    )


def unit_region(network: Network, unit: tuple[int, ...] | None, layer: str | None = None) -> UnitRegion:
    """The input region of ``unit`` (one index per spatial axis; default: the centre unit) of a
    layer's output."""
    steps = trace(network)
    step = find_layer(network, layer, steps)
    field = step.field
    if not field.known or field.axes is None or field.whole:
        raise SpecError(
            f"{step.node.label} has no spatial axes to take a unit of", Position("<option --layer>")
        )
    axes = field.axes
    sizes = step.geometry.output[len(step.geometry.output) - len(axes) :]
    if unit is None:
        unit = tuple(n // 2 for n in sizes)
    if len(unit) != len(axes):
        raise SpecError(
            f"--unit needs {len(axes)} coordinates for {step.node.label} "
            f"(output {fmt_shape(step.geometry.output)}), got {len(unit)}",
            Position("<option --unit>"),
        )
    for u, n in zip(unit, sizes):
        if not 0 <= u < n:
            raise SpecError(
                f"unit {fmt_shape(unit)} is outside {step.node.label}, "
                f"whose spatial size is {fmt_shape(sizes)}",
                Position("<option --unit>"),
            )
    chain = _chain_to(network, step.node.index)
    hops = [
        rf.Hop(
            s.geometry.spatial, s.geometry.back, _sizes(s.input_shape, len(axes)), s.geometry.channel_space
        )
        for s in (steps[i] for i in chain)
    ]
    stages, exact = rf.propagate(hops, unit)
    input_sizes = _sizes(network.input_shape, len(axes))
    sets = stages[-1] if stages is not None else None
    # stages[k] holds positions in the output of chain[-1 - k]; the middle ones form the trail
    trail = (
        tuple(
            (network.nodes[chain[-1 - k]].name, tuple(frozenset(a) for a in stages[k]))
            for k in range(1, len(stages) - 1)
        )
        if stages is not None
        else ()
    )
    return UnitRegion(
        step.node.index,
        step.node.name,
        unit,
        tuple(a.region(u) for a, u in zip(axes, unit)),
        input_sizes,
        tuple(frozenset(s) for s in sets) if sets is not None else None,
        exact,
        trail,
    )


def _sizes(shape: Shape, n: int) -> Shape:
    return shape[len(shape) - n :] if n else ()


def _chain_to(network: Network, index: int) -> list[int]:
    """Node indices from the first layer to ``index`` along the path that feeds it."""
    chain = []
    current = index
    while current != NETWORK_INPUT:
        chain.append(current)
        current = network.nodes[current].inputs[0]
    return chain[::-1]
