"""Readers of other formats (Darknet .cfg, ONNX, PyTorch) into the same network model.

A reader turns its format into network-file items — the same mappings a user would write in
YAML, each with the position it came from — and :func:`network_from_items` builds the network,
so every command works on it and ``cnncalc convert`` can write it out as YAML.
"""

from __future__ import annotations

from typing import Any

from cnncalc.engine.graph import Network
from cnncalc.errors import Position
from cnncalc.spec.yamlload import PosDict, PosList, PosStr

Item = dict[str, Any] | str


def positioned(value: Any, where: Position) -> Any:
    """Plain YAML-like data (dicts, lists, strings, numbers) as the YAML reader's positioned
    values, every part placed at ``where``."""
    if isinstance(value, dict):
        out = PosDict()
        out.pos, out.key_pos, out.value_pos = where, {}, {}
        for key, item in value.items():
            out[key] = positioned(item, where)
            out.key_pos[key] = where
            out.value_pos[key] = where
        return out
    if isinstance(value, (list, tuple)):
        seq = PosList()
        seq.pos, seq.item_pos = where, []
        for item in value:
            seq.append(positioned(item, where))
            seq.item_pos.append(where)
        return seq
    if isinstance(value, str):
        text = PosStr(value)
        text.pos, text.style = where, None
        return text
    return value


def document(
    items: list[tuple[Item, Position]],
    input_shape: tuple[int, ...],
    name: str | None,
    outputs: list[str] | None = None,
) -> dict[str, Any]:
    """A network-file document (plain data) from positioned items, for ``cnncalc convert``."""
    doc: dict[str, Any] = {}
    if name:
        doc["name"] = name
    doc["input"] = list(input_shape)
    if outputs:
        doc["outputs"] = outputs
    doc["layers"] = [item for item, _ in items]
    return doc


def network_from_items(
    items: list[tuple[Item, Position]],
    input_shape: tuple[int, ...],
    name: str | None,
    file: str,
    outputs: list[str] | None = None,
    input_override: tuple[int, ...] | None = None,
) -> Network:
    """Build a network from items a reader produced, each with the position it came from."""
    from cnncalc.spec.network import network_from_document

    start = Position(file, 1, 1)
    doc = positioned(document([], input_shape, name, outputs), start)
    layers = PosList()
    layers.pos, layers.item_pos = start, []
    for item, where in items:
        layers.append(positioned(item, where))
        layers.item_pos.append(where)
    doc["layers"] = layers
    doc.key_pos["layers"] = doc.value_pos["layers"] = start
    return network_from_document(doc, file, input_override)
