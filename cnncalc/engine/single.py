"""One layer on one input shape, as PyTorch would build and run it: the conformance entry point."""

from __future__ import annotations

from typing import Any

from cnncalc.engine.analyze import apply_node
from cnncalc.errors import GeometryError
from cnncalc.graph import Node
from cnncalc.spec.build import build_layer


def layer_output(
    type_name: str, args: list[Any], kwargs: dict[str, Any], input_shape: tuple[int, ...]
) -> tuple[tuple[int, ...], int]:
    """Output shape and parameter count of ``torch.nn.<type_name>(*args, **kwargs)`` on
    ``input_shape``; raises :class:`~cnncalc.errors.CnncalcError` where PyTorch raises."""
    layer, _ = build_layer(
        type_name, [(a, None) for a in args], [(k, v, None) for k, v in kwargs.items()], None
    )
    geo = apply_node(Node(0, type_name.lower(), layer), tuple(input_shape))
    return geo.output, geo.params


def layer_figures(
    type_name: str, args: list[Any], kwargs: dict[str, Any], inputs: list[tuple[int, ...]]
) -> tuple[tuple[int, ...], int, int]:
    """Output shape, parameters and MACs of one layer on its inputs (several for a merge)."""
    layer, _ = build_layer(
        type_name, [(a, None) for a in args], [(k, v, None) for k, v in kwargs.items()], None
    )
    node = Node(0, type_name.lower(), layer)
    if not layer.is_merge:
        geo = apply_node(node, tuple(inputs[0]))
        return geo.output, geo.params, geo.macs
    shapes = [tuple(x) for x in inputs]
    try:
        out, _ = layer.merge(shapes)
        params, macs, _ = layer.merge_figures(shapes)
    except GeometryError as exc:
        raise GeometryError(f"{type_name}: {exc.message}", exc.argument) from None
    return out, params, macs
