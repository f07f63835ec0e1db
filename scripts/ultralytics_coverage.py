"""Sweep every model YAML shipped in the installed ultralytics package at every scale it lists:
read it with cnncalc's Ultralytics reader and compare with the model Ultralytics itself builds.

Writes docs/coverage/ultralytics.md (read or refused with the reason; parameters against
Ultralytics' ``sum(p.numel() for p in model.parameters())``) and, with ``--golden``, the figures
tests/test_ultralytics.py checks without ultralytics installed (tests/data/ultralytics/golden.json):
parameters, the eval output shapes on a 1×3×640×640 tensor and the multiply-adds thop counts on
the unfused model with its BatchNorm and adaptive-average-pool hooks set to zero (cnncalc's
convention counts convolutions and linear layers only; thop adds 2 per BatchNorm element and
kernel + 1 per pooled element).

    python scripts/ultralytics_coverage.py [--golden] [--macs]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import types
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# the families the reader covers: detection, segmentation, pose, OBB and classification
FAMILIES = ("v3", "v5", "v6", "v8", "v9", "v10", "11", "12", "26")
# (file, scale) whose shapes and thop figures the suite pins
GOLDEN = (
    ("v8/yolov8.yaml", "n"),
    ("11/yolo11.yaml", "n"),
    ("v5/yolov5.yaml", "n"),
    ("v8/yolov8-seg.yaml", "n"),
    ("v8/yolov8-pose.yaml", "n"),
    ("v8/yolov8-obb.yaml", "n"),
    ("v8/yolov8-cls.yaml", "n"),
    ("v10/yolov10n.yaml", "n"),
    ("v9/yolov9t.yaml", ""),
    ("v3/yolov3-tiny.yaml", ""),
    ("v6/yolov6.yaml", "n"),
    ("v9/yolov9c.yaml", ""),
    ("12/yolo12.yaml", "n"),
    ("26/yolo26.yaml", "n"),
    ("26/yolo26-seg.yaml", "n"),
    ("26/yolo26-pose.yaml", "n"),
    ("26/yolo26-obb.yaml", "n"),
    ("11/yolo11-seg.yaml", "n"),
    ("v8/yolov8-cls-resnet50.yaml", "n"),
)


def ultralytics_modules() -> Any:
    """Import ultralytics with torchvision's compiled-op registrations stubbed (they do not load
    here; the models never call them)."""
    sys.modules.setdefault(
        "torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations")
    )
    import ultralytics
    from ultralytics.nn import tasks

    return ultralytics, tasks


def ultralytics_model(path: Path, scale: str) -> Any:
    """The model Ultralytics builds from ``path`` at ``scale`` (its task's model class)."""
    _, tasks = ultralytics_modules()
    from ultralytics.utils import YAML

    d = YAML.load(str(path))
    d["scale"] = scale
    task = tasks.guess_model_task(d)
    cls = {
        "detect": tasks.DetectionModel,
        "segment": tasks.SegmentationModel,
        "pose": tasks.PoseModel,
        "obb": tasks.OBBModel,
        "classify": tasks.ClassificationModel,
    }.get(task)
    if cls is None:
        raise ValueError(f"task {task}")
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return cls(d, verbose=False)


def reference(path: Path, scale: str, macs: bool) -> dict[str, Any]:
    """Ultralytics' figures: parameters; with ``macs`` also the eval output shapes and thop's
    multiply-adds at 640 with BatchNorm and adaptive pooling counted as zero."""
    import thop
    import torch
    from thop.vision.basic_hooks import zero_ops

    model = ultralytics_model(path, scale)
    out: dict[str, Any] = {"params": sum(p.numel() for p in model.parameters())}
    if macs:
        model.eval()
        x = torch.zeros(1, 3, 640, 640)
        with torch.no_grad():
            y = model(x)
        out["shapes"] = [list(t.shape) for t in _tensors(y[0] if isinstance(y, tuple) else y)]
        with contextlib.redirect_stdout(io.StringIO()):
            total, _ = thop.profile(
                model,
                inputs=(x,),
                custom_ops={torch.nn.BatchNorm2d: zero_ops, torch.nn.AdaptiveAvgPool2d: zero_ops},
                verbose=False,
            )
        out["thop_macs_no_bn"] = int(total)
    return out


def _tensors(y: Any) -> list[Any]:
    if isinstance(y, (tuple, list)):
        return [t for item in y for t in _tensors(item)]
    return [y]


def ours(path: Path, scale: str) -> dict[str, Any]:
    """cnncalc's reading: parameters, multiply-adds and output shapes, or the refusal."""
    from cnncalc import analyze
    from cnncalc.errors import CnncalcError
    from cnncalc.readers import ReadOptions, read

    try:
        net = read(str(path), ReadOptions(scale=scale or None), format="ultralytics").network
        report = analyze(net)
    except CnncalcError as exc:
        return {"refused": str(exc)}
    shapes = [list(report.layers[i].output_shape) for i in net.output_nodes]
    # parameters of training-only branches (YOLO26's semseg, sigma heads, flow model) are
    # reported apart from the totals; Ultralytics' count includes them
    params = report.totals.params + (report.totals.unused_params or 0)
    return {"params": params, "macs": report.totals.macs, "shapes": shapes}


def scales_of(path: Path) -> list[str]:
    import yaml

    d = yaml.safe_load(path.read_text())
    return list(d.get("scales") or {"": None})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--golden", action="store_true", help="rewrite tests/data/ultralytics/golden.json")
    parser.add_argument("--macs", action="store_true", help="thop and shapes for every combination (slow)")
    args = parser.parse_args()
    ultralytics, _ = ultralytics_modules()
    base = Path(ultralytics.__file__).parent / "cfg" / "models"
    lines = []
    exact = total = 0
    for family in FAMILIES:
        for path in sorted((base / family).glob("*.yaml")):
            for scale in scales_of(path):
                rel = f"{family}/{path.name}"
                mine = ours(path, scale)
                total += 1
                if "refused" in mine:
                    lines.append(
                        f"| {rel} | {scale or '-'} | refused | {mine['refused'].split(': ', 1)[-1]} |"
                    )
                    continue
                try:
                    ref = reference(path, scale, args.macs)
                except Exception as exc:  # a file Ultralytics itself cannot build
                    lines.append(f"| {rel} | {scale or '-'} | Ultralytics fails | {type(exc).__name__} |")
                    continue
                same = mine["params"] == ref["params"]
                exact += same
                mark = "exact" if same else f"**differs** ({ref['params']:,} in Ultralytics)"
                lines.append(f"| {rel} | {scale or '-'} | read | {mine['params']:,} params, {mark} |")
                print(lines[-1], flush=True)
    header = [
        "# Ultralytics model YAMLs",
        "",
        f"Every model YAML of ultralytics {ultralytics.__version__} (`ultralytics/cfg/models/`) for the "
        "families cnncalc's reader covers, at every scale the file lists, read with "
        "`cnncalc shape FILE --scale S`; parameters compared with "
        "`sum(p.numel() for p in model.parameters())` of the model Ultralytics builds from the same "
        "file and scale. Written by `scripts/ultralytics_coverage.py`.",
        "",
        f"**{exact} of {total}** file × scale combinations read with Ultralytics' exact parameter count.",
        "",
        "| file | scale | result | detail |",
        "|---|---|---|---|",
    ]
    (ROOT / "docs" / "coverage" / "ultralytics.md").write_text("\n".join(header + lines) + "\n")
    if args.golden:
        golden = {}
        for rel, scale in GOLDEN:
            golden[f"{rel}:{scale}"] = reference(base / rel, scale, True)
        target = ROOT / "tests" / "data" / "ultralytics" / "golden.json"
        target.write_text(
            json.dumps({"ultralytics": ultralytics.__version__, "models": golden}, indent=1) + "\n"
        )


if __name__ == "__main__":
    main()
