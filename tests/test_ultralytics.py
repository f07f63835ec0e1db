"""The Ultralytics model-YAML reader against Ultralytics itself.

Two oracles: Ultralytics run in the test (the model its ``parse_model`` builds from the same file
and scale: ``sum(p.numel() for p in model.parameters())``, the eval forward on a 1×3×640×640
tensor, thop's multiply-adds on the unfused model with its BatchNorm and adaptive-pool hooks set
to zero, since cnncalc counts convolutions, linear layers and matmuls only), and the same figures
committed in tests/data/ultralytics/golden.json by scripts/ultralytics_coverage.py --golden.
The YAMLs in tests/data/ultralytics/ are copies of ultralytics 8.4.190's (first line: source).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cnncalc import readers
from cnncalc.cli import app
from cnncalc.engine.analyze import analyze
from cnncalc.errors import ArgumentError, SpecError
from cnncalc.readers.ultralytics import guess_scale

DATA = Path(__file__).resolve().parent / "data" / "ultralytics"
GOLDEN = json.loads((DATA / "golden.json").read_text())["models"]


def figures(path: Path | str, scale: str = "") -> dict[str, Any]:
    read = readers.read(str(path), readers.ReadOptions(scale=scale or None))
    net = read.network
    report = analyze(net)
    return {
        "params": report.totals.params + (report.totals.unused_params or 0),
        "macs": report.totals.macs,
        "shapes": [list(report.layers[i].output_shape) for i in net.output_nodes],
        "name": net.name,
    }


@pytest.mark.parametrize("key", sorted(GOLDEN))
def test_golden_figures(key: str) -> None:
    rel, scale = key.split(":")
    mine = figures(DATA / Path(rel).name, scale)
    ref = GOLDEN[key]
    assert mine["params"] == ref["params"]
    assert mine["macs"] == ref["thop_macs_no_bn"]
    # the head's eval tensor(s) come first; end-to-end heads add their one-to-one tensors after
    assert mine["shapes"][: len(ref["shapes"])] == ref["shapes"]


def test_published_counts() -> None:
    # the figures the issue quotes (Ultralytics' own model summaries)
    assert figures(DATA / "yolov8.yaml", "n")["params"] == 3_157_200
    assert figures(DATA / "yolo11.yaml", "n")["params"] == 2_624_080


def test_scale_from_the_file_name(tmp_path: Path) -> None:
    # Ultralytics' guess_model_scale: yolov8s.yaml reads yolov8.yaml at scale s; the file's own
    # comment gives YOLOv8s 11,166,560 parameters
    names = ("yolov8s.yaml", "yolo11x-seg.yaml", "yoloe-11m.yaml", "yolov8.yaml")
    assert [guess_scale(n) for n in names] == ["s", "x", "m", ""]
    copy = tmp_path / "yolov8s.yaml"
    shutil.copy(DATA / "yolov8.yaml", copy)
    got = figures(copy)
    assert (got["params"], got["name"]) == (11_166_560, "yolov8s")
    # no scale in the name: the first listed, as Ultralytics does; the name says which
    assert figures(DATA / "yolov8.yaml")["name"] == "yolov8n"


def test_detected_by_its_keys(tmp_path: Path) -> None:
    assert readers.reader_for(readers.Source(str(DATA / "yolov8.yaml"))).name == "ultralytics"
    plain = tmp_path / "net.yaml"
    plain.write_text("input: [1, 3, 8, 8]\nlayers:\n  - Conv2d(3, 4, 3)\n")
    assert readers.reader_for(readers.Source(str(plain))).name == "yaml"


def test_blocks_follow_the_module_tree() -> None:
    net = readers.read(str(DATA / "yolov8.yaml"), readers.ReadOptions(scale="n")).network
    paths = [n.key for n in net.nodes]
    # Ultralytics' named_modules(): model.2 is a C2f, model.2.m.0.cv1.conv its first Conv2d
    assert "model.2.m.0.cv1.conv" in paths and "model.22.dfl.conv" in paths
    assert {b.path: b.kind for b in net.blocks}["model.2"] == "C2f"
    dfl = next(n for n in net.nodes if n.key == "model.22.dfl.conv")
    assert not dfl.trainable  # DFL's convolution is requires_grad_(False)


def test_nc_and_input_override() -> None:
    read = readers.read(str(DATA / "yolov8.yaml"), readers.ReadOptions((1, 3, 320, 320), scale="n", nc=2))
    report = analyze(read.network)
    # (4 box sides + 2 classes) × (40² + 20² + 10²) anchors at 320
    assert list(report.output_shape) == [1, 6, 2100]


def test_refusals_are_located(tmp_path: Path) -> None:
    bad = tmp_path / "m.yaml"
    bad.write_text("nc: 80\nbackbone:\n  - [-1, 1, Conv, [16, 3, 2]]\n  - [-1, 1, Nope, [8]]\nhead:\n  []\n")
    with pytest.raises(SpecError) as exc:
        readers.read(str(bad))
    assert str(exc.value.position) == f"{bad}:4:5"
    assert "unknown module 'Nope'" in exc.value.message
    refused = tmp_path / "w.yaml"
    refused.write_text(
        "nc: 80\nbackbone:\n  - [-1, 1, Conv, [16, 3, 2]]\nhead:\n  - [-1, 1, TorchVision, [8]]\n"
    )
    with pytest.raises(SpecError, match=r"row 1 \(TorchVision\): TorchVision is not supported"):
        readers.read(str(refused))
    with pytest.raises(ArgumentError, match="--scale 'q' is not one the file lists"):
        readers.read(str(DATA / "yolov8.yaml"), readers.ReadOptions(scale="q"))


def test_cli_scale(runner: CliRunner) -> None:
    result = runner.invoke(app, ["shape", str(DATA / "yolov8.yaml"), "--scale", "n", "-f", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["totals"]["params"] == 3_157_200


# ---- live: Ultralytics built in the test ---------------------------------------------------


@pytest.fixture(scope="module")
def ultralytics_tasks(torchvision: Any) -> Any:
    pytest.importorskip("ultralytics")
    from ultralytics.nn import tasks

    return tasks


# YOLOv8n (the classic head), YOLO12n (area attention) and YOLO26n (end-to-end head, no DFL);
# YOLO11n's figures are in golden.json
@pytest.mark.parametrize(
    ("name", "scale"), [("yolov8.yaml", "n"), ("yolo12.yaml", "n"), ("yolo26.yaml", "n")]
)
def test_against_ultralytics(ultralytics_tasks: Any, name: str, scale: str) -> None:
    import contextlib
    import io

    import thop
    import torch
    from thop.vision.basic_hooks import zero_ops
    from ultralytics.utils import YAML

    d = YAML.load(str(DATA / name))
    d["scale"] = scale
    with contextlib.redirect_stdout(io.StringIO()):
        model = ultralytics_tasks.DetectionModel(d, verbose=False).eval()
    mine = figures(DATA / name, scale)
    assert mine["params"] == sum(p.numel() for p in model.parameters())
    x = torch.zeros(1, 3, 640, 640)
    with torch.no_grad():
        y, _ = model(x)
    assert mine["shapes"][0] == list(y.shape)
    with contextlib.redirect_stdout(io.StringIO()):
        macs, _ = thop.profile(model, inputs=(x,), custom_ops={torch.nn.BatchNorm2d: zero_ops}, verbose=False)
    assert mine["macs"] == int(macs)


def test_training_only_branches_are_reported_apart() -> None:
    # Pose26's RealNVP (block.py): 12 coupling nets of Linear(2, 64), Linear(64, 64), Linear(64, 2)
    flow = 12 * ((2 * 64 + 64) + (64 * 64 + 64) + (64 * 2 + 2))
    net = readers.read(str(DATA / "yolo26-pose.yaml"), readers.ReadOptions(scale="n")).network
    assert dict(net.unused or ())["model.23.flow_model"] == flow == 53_784
    report = analyze(net)
    assert report.totals.unused_params == sum(n for _, n in net.unused or ())
