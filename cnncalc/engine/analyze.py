"""Walk a network's graph in topological order and compute every layer's figures."""

from __future__ import annotations

from cnncalc.engine.graph import NETWORK_INPUT, Network, Node
from cnncalc.errors import GeometryError
from cnncalc.layers.base import Geometry, Shape, fmt_shape, numel
from cnncalc.report import LayerReport, Report, Totals
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


def analyze(network: Network) -> Report:
    """Shapes, parameters, MACs and memory of every layer and of the whole network."""
    itemsize = DTYPE_BYTES[network.dtype]
    shapes: dict[int, Shape] = {NETWORK_INPUT: network.input_shape}
    layers: list[LayerReport] = []
    for node in network.nodes:
        x = shapes[node.inputs[0]]
        geo = apply_node(node, x)
        shapes[node.index] = geo.output
        inputs = tuple("input" if i == NETWORK_INPUT else network.nodes[i].name for i in node.inputs)
        layers.append(
            LayerReport(
                index=node.index,
                name=node.name,
                type=node.layer.kind,
                input_shape=x,
                output_shape=geo.output,
                params=geo.params,
                trainable_params=geo.params if node.trainable else 0,
                macs=geo.macs,
                activation_bytes=numel(geo.output) * itemsize,
                inputs=inputs,
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
    out = shapes[network.output_nodes[0]] if network.nodes else network.input_shape
    return Report(network.name, network.input_shape, out, network.dtype, tuple(layers), totals)
