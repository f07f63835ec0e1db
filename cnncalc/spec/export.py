"""Write a network back as a cnncalc network file (for ``cnncalc convert``).

Every node becomes one mapping with its type, a unique name, ``from:`` where it is not fed by the
line above, and the arguments that differ from PyTorch's defaults (inferred ones included, so the
file reads on its own). Blocks are lowered: the written file is flat, with ``from:`` references.
"""

from __future__ import annotations

import math
from typing import Any

import yaml

from cnncalc.graph import NETWORK_INPUT, Network

HEADER = "# yaml-language-server: $schema=https://cnncalc.invalid/schema/cnncalc.schema.json\n"


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _literal(value: Any) -> str:
    """repr, but infinities as 1e999: repr's ``inf`` is a name, which the call-form parser refuses."""
    if isinstance(value, float) and math.isinf(value):
        return "1e999" if value > 0 else "-1e999"
    if isinstance(value, (tuple, list)):
        inner = ", ".join(_literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    return repr(value)


def call_form(kind: str, fields: dict[str, Any]) -> str:
    """A layer in PyTorch's constructor syntax, all arguments by keyword: ``Conv2d(out_channels=8)``."""
    args = ", ".join(f"{key}={_literal(value)}" for key, value in fields.items())
    return f"{kind}({args})" if args else kind


def network_document(network: Network) -> dict[str, Any]:
    """The network as plain data in the network-file format: a call-form line per layer, or a
    mapping with ``name`` and ``from:`` where the graph branches."""
    referenced = {
        i
        for node in network.nodes
        for i in node.inputs
        if node.layer.is_merge or len(node.inputs) > 1 or i != node.index - 1
    }
    referenced |= set(network.output_nodes) if network.outputs else set()
    names: dict[int, str] = {NETWORK_INPUT: "input"}
    used: set[str] = {"input"}
    layers: list[Any] = []
    for node in network.nodes:
        base = node.key.replace(".", "_")
        name, k = base, 1
        while name in used:
            k += 1
            name = f"{base}_{k}"
        used.add(name)
        names[node.index] = name
        layer = node.layer
        fields = layer.model_dump(exclude_defaults=True)
        item: dict[str, Any] = {"type": layer.kind, "name": name}
        item.update({key: _plain(value) for key, value in fields.items()})
        if not node.trainable:
            item["trainable"] = False
        sources = [names[i] for i in node.inputs]
        previous = NETWORK_INPUT if node.index == 0 else node.index - 1
        chained = not layer.is_merge and node.inputs == (previous,)
        if not chained:
            item["from"] = sources if layer.is_merge or len(sources) > 1 else sources[0]
        if chained and node.trainable and node.index not in referenced:
            layers.append(call_form(layer.kind, fields))  # a plain step in a chain: one line
        else:
            layers.append(item)
    doc: dict[str, Any] = {}
    if network.name:
        doc["name"] = network.name
    doc["input"] = list(network.input_shape)
    if network.dtype != "float32":
        doc["dtype"] = network.dtype
    outputs = [names[i] for i in network.output_nodes]
    if network.outputs and outputs != [names[len(network.nodes) - 1]]:
        doc["outputs"] = outputs
    doc["layers"] = layers
    return doc


class _Dumper(yaml.SafeDumper):
    """Short lists (shapes, kernel sizes) on one line, mappings in block style."""


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flow = all(not isinstance(v, (list, dict)) for v in data) and len(data) <= 8
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(list, _represent_list)


def network_yaml(network: Network, source: str) -> str:
    """The network file's text, with a comment naming where it came from."""
    body = yaml.dump(
        network_document(network), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100
    )
    return f"# converted by cnncalc from {source}\n{HEADER}{body}"
