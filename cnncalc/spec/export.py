"""Write a network back as a cnncalc network file (for ``cnncalc convert``).

Every node becomes one mapping with its type, a unique name, ``from:`` where it is not fed by the
line above, and the arguments that differ from PyTorch's defaults (inferred ones included, so the
file reads on its own). Blocks are lowered: the written file is flat, with ``from:`` references.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import yaml

from cnncalc.graph import NETWORK_INPUT, Network

# the schema committed beside the package (``cnncalc schema`` writes the same document)
COMMITTED_SCHEMA = Path(__file__).resolve().parents[2] / "schema" / "cnncalc.schema.json"


def schema_reference(output: Path | None) -> str | None:
    """Where the ``$schema`` comment of a file written to ``output`` (None: standard output, read
    from the working folder) finds the schema: the committed schema's path relative to the
    file's folder, which a YAML language server resolves; None when the package runs without
    it (an installed wheel), then no comment is written rather than one that resolves nowhere."""
    if not COMMITTED_SCHEMA.is_file():
        return None
    folder = (output.parent if output is not None else Path(".")).resolve()
    return Path(os.path.relpath(COMMITTED_SCHEMA, folder)).as_posix()


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


def network_yaml(network: Network, source: str, schema: str | None = None) -> str:
    """The network file's text, with a comment naming where it came from and, given ``schema``
    (a path or URL), the language server's ``$schema`` comment."""
    body = yaml.dump(
        network_document(network), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100
    )
    header = f"# yaml-language-server: $schema={schema}\n" if schema is not None else ""
    return f"# converted by cnncalc from {source}\n{header}{body}"
