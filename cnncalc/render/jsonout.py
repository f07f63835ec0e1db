"""JSON output: the one encoder of everything cnncalc prints as JSON, and the JSON views of results.

Exact integers, key order as built, and one layout rule (:func:`dumps`): containers are spread
over lines down to a depth, deeper ones stay on one line; a ``layers`` list at the limit is
spread one item per line, so a 100,000-layer report is 100,000 short lines.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from json.encoder import encode_basestring_ascii as _encode_str  # what json.dumps uses for a str
from typing import TYPE_CHECKING, Any

from cnncalc.report import _num

if TYPE_CHECKING:
    from fractions import Fraction

    from cnncalc.errors import CnncalcError
    from cnncalc.render import Catalogue, Compared, Dense, Fields, Schema, Shapes, Unit
    from cnncalc.report import LayerReport, ReceptiveField, Report


def dumps(value: Any, depth: int | None = None) -> str:
    """``value`` as JSON, indented by two spaces down to ``depth`` levels (None: all of them; 0:
    one line). (The standard encoder is pure Python as soon as it indents, which is slow on
    100k-layer networks; one call per line keeps it C-fast.)"""
    if depth is None:
        return json.dumps(value, indent=2)
    parts: list[str] = []
    _spread(value, depth, "", None, parts)
    return "".join(parts)


class _Lines(list[str]):
    """Items already encoded as one line of JSON each (see :func:`_layer_lines`)."""


def _spread(value: Any, depth: int, pad: str, key: str | None, out: list[str]) -> None:
    """Append the pieces of ``value``'s JSON to ``out``; the caller joins them once (a
    100,000-layer report is 40 MB of text: each ``+`` of it would copy it again)."""
    if isinstance(value, _Lines) and value:
        inner = pad + "  "
        out += ("[\n", inner, (",\n" + inner).join(value), "\n", pad, "]")
        return
    spread = depth > 0 or (key == "layers" and isinstance(value, list))
    if not spread or not isinstance(value, dict | list) or not value:
        out.append(json.dumps(value))
        return
    inner = pad + "  "
    is_dict = isinstance(value, dict)
    out.append("{\n" if is_dict else "[\n")
    items: Iterable[tuple[Any, Any]] = (
        value.items() if isinstance(value, dict) else ((None, v) for v in value)
    )
    for n, (k, v) in enumerate(items):
        out.append(f"{',' if n else ''}{chr(10) if n else ''}{inner}")
        if is_dict:
            out.append(f"{json.dumps(k)}: ")
        _spread(v, depth - 1, inner, k, out)
    out += ("\n", pad, "}" if is_dict else "]")


def _one_or_many(items: list[dict[str, Any]]) -> str:
    """One item as an object, several as an array: one line per layer either way."""
    parts: list[str] = []
    _spread(items[0] if len(items) == 1 else items, 1 if len(items) == 1 else 2, "", None, parts)
    parts.append("\n")
    return "".join(parts)


def report_data(report: Report, flops: bool = False) -> dict[str, Any]:
    """The JSON object of one report; with ``flops``, FLOPs (2 × MACs) beside every MAC count."""
    data = report.to_dict()
    if flops:
        for layer, item in zip(report.layers, data["layers"]):
            item["flops"] = layer.flops
        data["totals"]["flops"] = report.totals.flops
    return data


def _layer_lines(layers: tuple[LayerReport, ...], flops: bool) -> _Lines:
    """Each layer's JSON object on one line, the bytes ``json.dumps(layer.to_dict())`` gives
    (plus ``"flops"`` last, as :func:`report_data` adds it). Built from pieces because a
    100,000-layer report spent most of its JSON time making and encoding dicts: the figures
    from ``type`` to ``activation_bytes`` repeat (every conv of a stack has the same ones), and so
    do receptive fields (a field object is shared by the layers that keep it), so each distinct
    one is encoded once per call; only index, name, path and inputs are written per layer."""
    enc = _encode_str
    figures: dict[tuple[object, ...], tuple[str, str]] = {}
    fields: dict[int, str] = {}  # by id(): the report holds every field alive during the call
    lines = _Lines()
    last_path, last_json = None, ""
    for layer in layers:
        key = (
            layer.type,
            layer.input_shape,
            layer.output_shape,
            layer.params,
            layer.trainable_params,
            layer.macs,
            layer.activation_bytes,
        )
        known = figures.get(key)
        if known is None:
            middle = json.dumps(
                {
                    "type": layer.type,
                    "input_shape": list(layer.input_shape),
                    "output_shape": list(layer.output_shape),
                    "params": layer.params,
                    "trainable_params": layer.trainable_params,
                    "macs": layer.macs,
                    "activation_bytes": layer.activation_bytes,
                }
            )[1:-1]
            known = figures[key] = (middle, f', "flops": {json.dumps(layer.flops)}' if flops else "")
        rf = layer.receptive_field
        if rf is None:
            rf_json = "null"
        else:
            rf_json = fields.get(id(rf))  # type: ignore[assignment]
            if rf_json is None:
                rf_json = fields[id(rf)] = _field_json(rf)
        name, path, inputs = layer.name, layer.path or layer.name, layer.inputs
        name_json = enc(name)
        path_json = name_json if path == name else enc(path)
        # a layer fed by the one before (most of them) names it as that one's path reads
        if len(inputs) == 1 and inputs[0] == last_path:
            inputs_json = last_json
        else:
            inputs_json = ", ".join(map(enc, inputs))
        last_path, last_json = path, path_json
        lines.append(
            f'{{"index": {_int(layer.index)}, "name": {name_json}, {known[0]}, '
            f'"receptive_field": {rf_json}, "path": {path_json}, "inputs": [{inputs_json}]{known[1]}}}'
        )
    return lines


def _field_json(rf: ReceptiveField) -> str:
    """``json.dumps(rf.to_dict())`` written directly for an aligned field (the common case: in a
    stack every conv has a field of its own, and making and encoding its dict cost ~10 µs)."""
    if rf.misaligned_strides:
        return json.dumps(rf.to_dict())
    return (
        f'{{"size": {_nums(rf.size)}, "stride": {_nums(rf.stride)}, "padding": {_nums(rf.padding)}, '
        f'"centre": {_nums(rf.centre0)}, "whole_input": {"true" if rf.whole else "false"}, '
        f'"exceeds_input": {"true" if rf.exceeds_input else "false"}, "misaligned": null}}'
    )


def _nums(values: tuple[Fraction | int, ...]) -> str:
    """A list of exact numbers as ``json.dumps([report._num(v) ...])`` writes it."""
    return "[" + ", ".join([int.__repr__(v) if type(v) is int else json.dumps(_num(v)) for v in values]) + "]"


def _int(value: int) -> str:
    """An exact integer as json.dumps writes it (anything else goes through json.dumps)."""
    return int.__repr__(value) if type(value) is int else json.dumps(value)


def _report_json_data(report: Report, flops: bool) -> dict[str, Any]:
    """:func:`report_data` with the layers as ready lines (same bytes once spread)."""
    data = dataclasses.replace(report, layers=()).to_dict()
    data["layers"] = _layer_lines(report.layers, flops)
    if flops:
        data["totals"]["flops"] = report.totals.flops
    count = report.count
    if count is not None and (count.unknown or count.unit == "FLOPs"):
        data["layers"] = _counted_lines(report, flops)
    return data


def _counted_lines(report: Report, flops: bool) -> _Lines:
    """The layers of a report counted under another tool's convention: null MACs where the
    tool's figure is unknown, and ``"flops"`` where the convention counts FLOPs."""
    assert report.count is not None
    unknown, in_flops = set(report.count.unknown), report.count.unit == "FLOPs"
    lines = _Lines()
    for layer in report.layers:
        item = layer.to_dict()
        if item["path"] in unknown:
            item["macs"] = None
        if in_flops or flops:
            item["flops"] = item["macs"] if in_flops or item["macs"] is None else 2 * item["macs"]
        lines.append(json.dumps(item))
    return lines


def render(reports: list[Report], flops: bool = False) -> str:
    """Reports: one as an object, several as an array."""
    return _one_or_many([_report_json_data(r, flops) for r in reports])


def shapes_json(result: Shapes) -> str:
    """``shape --format json``."""
    return render(list(result.reports), result.flops)


def fields_json(result: Fields) -> str:
    """``rf --format json``: the same reports (every layer carries its receptive field)."""
    return render(list(result.reports))


def unit_json(result: Unit) -> str:
    """``rf --unit --format json``."""
    return dumps(result.region.to_dict()) + "\n"


def equivalence_json(result: Compared) -> str:
    """``equiv --format json``."""
    return dumps(result.equivalence.to_dict()) + "\n"


def dense_json(result: Dense) -> str:
    """``dense --format json``: one network as an object, several as an array."""
    return _one_or_many([r.to_dict() for r in result.reports])


def catalogue_json(result: Catalogue) -> str:
    """``layers --format json``."""
    return dumps([e.to_dict() for e in result.entries]) + "\n"


def schema_json(result: Schema) -> str:
    """``schema``."""
    return dumps(result.document) + "\n"


def error_json(exc: CnncalcError) -> str:
    """An error on one line: ``{"error": {"message", "file", "line", "column", "layer"}}``."""
    pos = exc.position
    error = {
        "message": exc.message,
        "file": pos.file if pos else None,
        "line": pos.line if pos else None,
        "column": pos.column if pos else None,
        "layer": exc.layer,
    }
    return dumps({"error": error}, 0) + "\n"
