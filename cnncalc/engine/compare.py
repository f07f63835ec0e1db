"""Comparisons between designs: two networks side by side, and convolutions against the fully
connected layers that would map the same tensors."""

from __future__ import annotations

import math

from cnncalc.engine.analyze import trace
from cnncalc.graph import Network
from cnncalc.layers.conv import ConvNd
from cnncalc.report import DenseLayer, DenseReport, Equivalence, Report


def equivalence(a: Report, b: Report) -> Equivalence:
    """Two networks are equivalent here when their outputs, head by head, have the same shapes
    and the same receptive field (size, effective stride and effective padding on every axis)."""
    heads_a, heads_b = a.head_fields, b.head_fields
    same_field = len(heads_a) == len(heads_b) and all(
        fa is not None
        and fb is not None
        and (fa.size, fa.stride, fa.padding) == (fb.size, fb.stride, fb.padding)
        for fa, fb in zip(heads_a, heads_b)
    )
    return Equivalence(a, b, a.heads == b.heads, same_field)


def dense(network: Network) -> DenseReport:
    """Every convolution's weight count next to that of a dense layer with the same input and
    output tensors (D2L 7.1: c1·h1·w1 · c2·h2·w2 weights, biases excluded, batch excluded)."""
    rows = []
    for step in trace(network):
        geo = step.geometry
        if not geo.weights or not isinstance(geo.spatial, tuple):
            continue
        n = len(geo.spatial)
        x, y = step.input_shape, geo.output
        # (C, *spatial) of one sample: the last n + 1 axes
        sample_in, sample_out = x[len(x) - n - 1 :], y[len(y) - n - 1 :]
        layer = step.node.layer
        pointwise = isinstance(layer, ConvNd) and layer.pointwise()
        rows.append(
            DenseLayer(
                index=step.node.index,
                name=step.node.name,
                type=layer.kind,
                input_shape=x,
                output_shape=y,
                sample_input=sample_in,
                sample_output=sample_out,
                conv_weights=geo.weights,
                dense_weights=math.prod(sample_in) * math.prod(sample_out),
                pointwise=pointwise,
            )
        )
    return DenseReport(network.name, tuple(rows))
