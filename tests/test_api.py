"""The Python API: load, analyze, network built in Python, layer objects, JSON; plots; completion."""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app, complete_source
from cnncalc.layers.conv import Conv2d
from tests.conftest import EXAMPLES


def test_load_path_and_text() -> None:
    from_path = cnncalc.analyze(cnncalc.load(str(EXAMPLES / "lenet5.yaml")))
    text = (EXAMPLES / "lenet5.yaml").read_text(encoding="utf-8")
    from_text = cnncalc.analyze(cnncalc.load(text))
    assert from_path.totals == from_text.totals
    assert from_path.totals.params == 61_706  # D2L's LeNet-5


def test_network_in_python() -> None:
    net = cnncalc.network(
        [1, 3, 32, 32],
        [
            Conv2d(out_channels=8, kernel_size=3, padding=1),  # a layer object, in_channels inferred
            cnncalc.layer("BatchNorm2d(8)"),
            "ReLU",
            {"type": "Residual", "body": ["Conv2d(8, 8, 3, padding=1)"]},
            {"type": "MaxPool2d", "kernel_size": 2},
        ],
        name="tiny",
        dtype="float16",
    )
    report = cnncalc.analyze(net)
    assert isinstance(report, cnncalc.Report)
    assert report.output_shape == (1, 8, 16, 16)
    # conv 8·3·9 + 8, batch norm 2·8, residual conv 8·8·9 + 8
    assert report.totals.params == (8 * 3 * 9 + 8) + 16 + (8 * 8 * 9 + 8)
    assert report.totals.param_bytes == 2 * report.totals.params  # float16
    assert report.layers[0].output_shape == (1, 8, 32, 32)
    field = report.layers[-1].receptive_field
    assert field is not None and field.size == (6, 6)  # 3, then 3 more through the residual, then pool 2
    assert json.loads(report.to_json())["name"] == "tiny"


def test_layer_errors_are_cnncalc_errors() -> None:
    with pytest.raises(cnncalc.errors.CnncalcError, match="unknown layer type 'Conv2e'"):
        cnncalc.layer("Conv2e(3, 8, 3)")


def test_plots(tmp_path: Path, runner: CliRunner) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pytest.importorskip("matplotlib")
    png, svg = tmp_path / "rf.png", tmp_path / "cost.svg"
    assert runner.invoke(app, ["rf", str(EXAMPLES / "resnet18.yaml"), "--plot", str(png)]).exit_code == 0
    assert runner.invoke(app, ["shape", str(EXAMPLES / "vgg16.yaml"), "--plot", str(svg)]).exit_code == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert svg.read_text(encoding="utf-8").lstrip().startswith("<?xml")


def test_plot_errors(tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "cost.jpg"
    result = runner.invoke(app, ["shape", str(EXAMPLES / "lenet5.yaml"), "--plot", str(path)])
    assert (result.exit_code, result.stderr) == (
        2,
        f"{path}:1:1: plots are written as .png, .svg or .pdf, not '.jpg'\n",
    )
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if the extra were not installed
    path = tmp_path / "cost.png"
    result = runner.invoke(app, ["shape", str(EXAMPLES / "lenet5.yaml"), "--plot", str(path)])
    assert (result.exit_code, result.stderr) == (
        2,
        f"{path}:1:1: plots need matplotlib: pip install 'cnncalc[plot]'\n",
    )


def test_completion(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(EXAMPLES.parent)
    assert complete_source("examples/res") == ["examples/resnet18.yaml", "examples/resnet50.yaml"]
    assert complete_source("LazyConv") == ["LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d",
                                           "LazyConvTranspose2d", "LazyConvTranspose3d"]  # fmt: skip
    assert complete_source("Conv2d(3") == []


def test_no_color_and_width(runner: CliRunner) -> None:
    plain = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "60"})
    result = plain.invoke(app, ["shape", str(EXAMPLES / "lenet5.yaml")])
    assert "\x1b[" not in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 60
