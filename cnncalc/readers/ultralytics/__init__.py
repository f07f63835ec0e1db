"""Ultralytics model YAMLs (``yolov8.yaml``, ``yolo11n.yaml``, ...) read by the rules of
Ultralytics' own ``parse_model`` (``ultralytics/nn/tasks.py``), each module built as a block of
cnncalc layers with its exact structure (:mod:`.modules`, :mod:`.heads`, :mod:`.model`).

The scale comes from ``ReadOptions.scale``, else from the file name as Ultralytics'
``guess_model_scale`` reads it (``yolov8n.yaml`` → ``n``), else the first one ``scales:`` lists
(what Ultralytics does, with a warning). ``nc`` may be overridden by ``ReadOptions.nc``, the
input channels (``ch``, default 3) and size (default 640) by ``--input``.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import PurePath
from typing import Any

from cnncalc.errors import ArgumentError, Position, SpecError, shown
from cnncalc.graph import NetworkBuilder
from cnncalc.readers import Read, ReadOptions, Source

__all__ = ["guess_scale", "read"]

# Ultralytics' default image size (ultralytics/cfg/default.yaml imgsz)
IMGSZ = 640


def guess_scale(name: str) -> str:
    """ultralytics.nn.tasks.guess_model_scale: the n/s/m/l/x after ``yolo<version>`` in the
    file's stem, or nothing."""
    found = re.search(r"yolo(e-)?[v]?\d+([nslmx])", PurePath(name).stem)
    return found.group(2) if found else ""


def _scaling(doc: Any, options: ReadOptions, file: str) -> Any:
    from cnncalc.readers.ultralytics.model import Scaling

    scales = doc.get("scales")
    wanted = options.scale or guess_scale(file)
    if scales:
        if not isinstance(scales, dict):
            raise SpecError("scales: must map a letter to [depth, width, max_channels]", Position(file))
        if not wanted:
            wanted = next(iter(scales))
        if wanted not in scales:
            listed = ", ".join(scales)
            raise ArgumentError(f"--scale {shown(wanted)} is not one the file lists ({listed})", "scale")
        depth, width, max_channels = scales[wanted]
        return Scaling(float(depth), float(width), max_channels, wanted)
    if options.scale:
        raise ArgumentError(f"--scale {shown(options.scale)}: the file lists no scales:", "scale")
    depth, width = doc.get("depth_multiple", 1.0), doc.get("width_multiple", 1.0)
    return Scaling(float(depth), float(width), float("inf"), wanted)


def read(source: Source, options: ReadOptions) -> Read:
    """The network an Ultralytics model YAML builds, at the chosen scale; ``extras["ultralytics"]``
    holds Ultralytics' summary rows (from, n, module, arguments) and the scale."""
    from cnncalc.readers.ultralytics.model import build
    from cnncalc.spec.yamlload import load_yaml

    file = source.label
    doc = load_yaml(source.text(), file, options.limits.max_depth, options.limits.max_layers)
    if not isinstance(doc, dict) or "backbone" not in doc or "head" not in doc:
        raise SpecError("an Ultralytics model YAML needs backbone: and head:", Position(file))
    scaling = _scaling(doc, options, file)
    shape = options.input_shape or (1, int(doc.get("ch", 3)), IMGSZ, IMGSZ)
    if len(shape) != 4:
        raise ArgumentError(
            f"an Ultralytics model takes a 4D input; --input gave {len(shape)} values", "input_shape"
        )
    nc = options.nc if options.nc is not None else int(doc.get("nc", 80))
    stem = PurePath(file).stem if file != "<stdin>" else "model"
    name = stem if guess_scale(stem) or not scaling.scale else _scaled_name(stem, scaling.scale)
    builder = NetworkBuilder(shape, name=name, source=file, limits=options.limits)
    rows, outputs, unused = build(doc, builder, scaling, nc, shape[1], file)
    builder.output(*outputs)
    network = builder.build()
    if unused:  # training-only branches: their parameters apart from the totals, as PyTorch's reader does
        network = dataclasses.replace(network, unused=tuple(unused))
    return Read(network, {"ultralytics": {"scale": scaling.scale, "rows": rows}})


def _scaled_name(stem: str, scale: str) -> str:
    """``yolov8`` at scale n is ``yolov8n``, ``yolov8-seg`` is ``yolov8n-seg`` (Ultralytics' names)."""
    found = re.match(r"(yolo(?:e-)?v?\d+)(.*)$", stem)
    return f"{found.group(1)}{scale}{found.group(2)}" if found else f"{stem}-{scale}"
