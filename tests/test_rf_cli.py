"""The receptive-field commands through the CLI: rf (table, --unit, --show), equiv and dense."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cnncalc.cli import app
from tests.conftest import EXAMPLES

GOLDEN = Path(__file__).resolve().parent / "golden"
PAIR = ("Conv2d(64,64,3,padding=1); Conv2d(64,64,3,padding=1)", "Conv2d(64,64,5,padding=2)")


def _golden(name: str, text: str, update: bool) -> None:
    path = GOLDEN / name
    if update:
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


@pytest.fixture
def plain() -> CliRunner:
    return CliRunner(env={"COLUMNS": "80", "NO_COLOR": "1"})


def test_chapter_figure_picture(plain: CliRunner, update_golden: bool) -> None:
    result = plain.invoke(app, ["rf", str(EXAMPLES / "chapter_rf.yaml"), "--unit", "0,0", "--show"])
    assert result.exit_code == 0
    # z sees all 9 inputs through 4 elements of Y (D2L 7.2.6)
    assert "affecting        9 input positions" in result.stdout
    assert "via Y: 4 positions, H [0, 1] · W [0, 1]" in result.stdout
    _golden("chapter_rf_show.txt", result.stdout, update_golden)


def test_dilated_picture_has_holes(plain: CliRunner, update_golden: bool) -> None:
    argv = ["rf", "-i", "1,1,12,12", "Conv2d(1,1,3,stride=2,padding=1); Conv2d(1,1,3,dilation=2)", "--show"]
    result = plain.invoke(app, [*argv, "--unit", "0,0"])
    assert result.exit_code == 0
    _golden("dilated_show.txt", result.stdout, update_golden)


def test_one_dimensional_strip(plain: CliRunner, update_golden: bool) -> None:
    result = plain.invoke(
        app, ["rf", "-i", "1,1,10", "Conv1d(1,1,3,padding=2); MaxPool1d(2)", "--unit", "0", "--show"]
    )
    assert result.exit_code == 0
    _golden("strip_show.txt", result.stdout, update_golden)


def test_rf_table(plain: CliRunner, update_golden: bool) -> None:
    result = plain.invoke(app, ["rf", str(EXAMPLES / "lenet5.yaml")])
    assert result.exit_code == 0
    _golden("lenet5_rf.txt", result.stdout, update_golden)


def test_unit_json(runner: CliRunner) -> None:
    argv = ["rf", "-i", "1,1,12", "Conv1d(1, 1, 3, padding=1, stride=3); Conv1d(1, 1, 2)", "--unit", "0"]
    result = runner.invoke(app, [*argv, "--format", "json"])
    assert result.exit_code == 0
    # r = 6, S = 3, P = 1: unit 0 sees [-1, 4]; position -1 is padding; 5 real inputs
    assert json.loads(result.stdout) == {
        "layer": "conv1d_2",
        "index": 1,
        "unit": [0],
        "region": [[-1, 4]],
        "region_clipped": [[0, 4]],
        "input_region": [[0, 4]],
        "positions": 5,
        "padding_positions": 1,
        "exact": True,
    }


def test_fractional_json(runner: CliRunner) -> None:
    result = runner.invoke(app, ["rf", "-i", "1,1,8", "ConvTranspose1d(1, 1, 3, stride=2)", "-f", "json"])
    field = json.loads(result.stdout)["receptive_field"]
    assert field["stride"] == ["1/2"]
    assert field["centre"] == ["-1/2"]  # (r - 1)/2 - P = 1/2 - 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--unit", "9,9"],
            "<option --unit>:1:1: unit (9, 9) is outside layer 1 'conv2d_2' (Conv2d), "
            "whose spatial size is (4, 4)",
        ),
        (
            ["--unit", "1"],
            "<option --unit>:1:1: --unit needs 2 coordinates for layer 1 'conv2d_2' (Conv2d) "
            "(output (1, 1, 4, 4)), got 1",
        ),
        (
            ["--unit", "a,b"],
            "<option --unit>:1:1: --unit must be non-negative integers separated by commas, "
            "e.g. 3,4; got 'a,b'",
        ),
        (
            ["--unit", "0,0", "--layer", "nope"],
            "<option --layer>:1:1: no layer 'nope' (the layers are conv2d_1, conv2d_2; or give an index)",
        ),
    ],
)
def test_unit_errors(runner: CliRunner, argv: list[str], message: str) -> None:
    result = runner.invoke(app, ["rf", "-i", "1,1,8,8", "Conv2d(1,1,3); Conv2d(1,1,3)", *argv])
    assert (result.exit_code, result.stderr) == (2, message + "\n")


def test_layer_by_index(runner: CliRunner) -> None:
    argv = [
        "rf",
        "-i",
        "1,1,8,8",
        "Conv2d(1,1,3); Conv2d(1,1,3)",
        "--unit",
        "5,5",
        "--layer",
        "0",
        "-f",
        "json",
    ]
    data = json.loads(runner.invoke(app, argv).stdout)
    assert (data["layer"], data["region"]) == ("conv2d_1", [[5, 7], [5, 7]])


def test_equiv_two_3x3_versus_one_5x5(runner: CliRunner) -> None:
    result = runner.invoke(app, ["equiv", "-i", "1,64,56,56", *PAIR, "--format", "json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["equivalent"] is True
    # two 3×3: 2 × (64·64·9 + 64) = 73,856; one 5×5: 64·64·25 + 64 = 102,464 (D2L 7.2; 28% fewer)
    assert (data["a"]["params"], data["b"]["params"]) == (73_856, 102_464)
    assert data["a"]["receptive_field"]["size"] == data["b"]["receptive_field"]["size"] == [5, 5]
    assert round(100 * (102_464 - 73_856) / 102_464) == 28


def test_equiv_table(plain: CliRunner, update_golden: bool) -> None:
    result = plain.invoke(app, ["equiv", "-i", "1,64,56,56", *PAIR])
    assert result.exit_code == 0
    _golden("equiv_3x3_5x5.txt", result.stdout, update_golden)


def test_equiv_files(runner: CliRunner) -> None:
    a, b = EXAMPLES / "two_3x3.yaml", EXAMPLES / "one_5x5.yaml"
    assert runner.invoke(app, ["equiv", str(a), str(b)]).exit_code == 0


def test_not_equivalent_exits_1(runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["equiv", "-i", "1,64,56,56", "Conv2d(64,64,3,padding=1)", "Conv2d(64,64,5,padding=2)"]
    )
    assert result.exit_code == 1
    assert "not equivalent: the receptive field differ" in result.stdout


def test_equiv_error_exits_2(runner: CliRunner) -> None:
    result = runner.invoke(app, ["equiv", "-i", "1,64,56,56", "Conv2d(64,64,3)", "Conv2e(64,64,5)"])
    assert (result.exit_code, result.stderr) == (
        2,
        "<arg 2>:1:1: unknown layer type 'Conv2e' (did you mean 'Conv2d'?)\n",
    )


def test_dense_json(runner: CliRunner) -> None:
    result = runner.invoke(app, ["dense", str(EXAMPLES / "lenet5.yaml"), "-f", "json"])
    data = json.loads(result.stdout)
    first, second = data["layers"]
    # conv1: 6·1·5·5 = 150 weights; dense 1·32·32 · 6·28·28 = 4,816,896
    assert (first["conv_weights"], first["dense_weights"]) == (150, 4_816_896)
    # conv2: 16·6·5·5 = 2,400; dense 6·14·14 · 16·10·10 = 1,881,600; ratio 784
    assert (second["conv_weights"], second["dense_weights"], second["ratio"]) == (2_400, 1_881_600, 784)
    assert data["totals"] == {"conv_weights": 2_550, "dense_weights": 6_698_496}


def test_dense_pointwise_remark(plain: CliRunner) -> None:
    result = plain.invoke(app, ["dense", str(EXAMPLES / "one_by_one_conv.yaml")])
    assert "† a 1×1 convolution: the same Linear(c_in, c_out) applied at every position" in result.stdout


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["rf", str(EXAMPLES / "lenet5.yaml"), str(EXAMPLES / "vgg16.yaml"), "--unit", "0,0"],
            "<arg 2>:1:1: --unit and --show take one network",
        ),
        (
            ["rf", "-i", "1,10", "Linear(10, 2)", "--unit", "0"],
            "<option --layer>:1:1: no layer with spatial axes to take a unit of",
        ),
        (
            ["rf", "-i", "1,1,8,8", "Conv2d(1,1,3); Flatten", "--layer", "1", "--unit", "0"],
            "<option --layer>:1:1: layer 1 'flatten_1' (Flatten) has no spatial axes to take a unit of",
        ),
        (
            ["convert", "-o", "never-written.yaml"],
            "<command line>:1:1: give either a SOURCE file or --from-torch",
        ),
    ],
)
def test_more_unit_and_convert_errors(runner: CliRunner, argv: list[str], message: str) -> None:
    result = runner.invoke(app, argv)
    assert (result.exit_code, result.stderr) == (2, message + "\n")


def test_adaptive_pool_to_zero_units() -> None:
    """PyTorch accepts AdaptiveAvgPool1d(0): ``nn.AdaptiveAvgPool1d(0)(torch.ones(1, 1)).shape`` is
    (1, 0). A layer with no output unit reads nothing; rf answers (exit 0) instead of dividing by
    the zero output size (found by tests/test_fuzz.py)."""
    result = CliRunner().invoke(app, ["rf", "-i", "1,1", "AdaptiveAvgPool1d(0)", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["layers"][0]["output_shape"] == [1, 0]
