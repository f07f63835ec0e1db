"""``cnncalc memory`` through the CLI: exact totals of a hand-checked network, --budget and the
largest batch, the training refusal of BatchNorm (and ``shape``'s warning about it), formats."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app
from cnncalc.engine.memory import batch_ladder, training_refusals
from cnncalc.engine.saved import RULES
from cnncalc.engine.training import CHECKED_KINDS
from cnncalc.options import parse_size_option
from cnncalc.render.numbers import size
from tests.conftest import EXAMPLES

NET = ["-i", "2,3,8,8", "Conv2d(3, 4, 3); ReLU; MaxPool2d(2)"]

# Conv2d(3, 4, 3) on 2×3×8×8 → 2×4×6×6 → ReLU → MaxPool2d(2) → 2×4×3×3, float32:
#   params: 4·3·3·3 + 4 = 112 → 448 B; grads the same
#   Adam: exp_avg and exp_avg_sq (2 · 448) + a 4-byte step per tensor (weight, bias) = 904 B
#   saved: the convolution keeps its input (its weight needs a gradient): 2·3·8·8·4 = 1,536 B;
#     ReLU its output: 2·4·6·6·4 = 1,152 B; MaxPool its input (ReLU's output, counted already)
#     and int64 indices: 2·4·3·3·8 = 576 B; in all 3,264 B
#   transient: the largest backward step is ReLU's, gradients of its output and input,
#     2 · 1,152 = 2,304 B
#   peak: 448 + 448 + 904 + 3,264 + 2,304 = 7,368 B
# Per sample the peak grows by 768 + 576 + 288 (saved) + 1,152 (transient) = 2,784 B over a
# fixed 1,800 B: peak(b) = 1,800 + 2,784·b.
TOTALS = {
    "params_bytes": 448,
    "grads_bytes": 448,
    "optimizer_bytes": 904,
    "saved_bytes": 3264,
    "transient_bytes": 2304,
    "activations_peak_bytes": None,
    "peak_bytes": 7368,
}


def _json(runner: CliRunner, *args: str) -> dict[str, object]:
    result = runner.invoke(app, ["memory", *NET, "--optimizer", "adam", "-f", "json", *args])
    assert (result.exit_code, result.stderr) == (0, "")
    data: dict[str, object] = json.loads(result.stdout)
    return data


def test_totals_of_a_hand_checked_network(runner: CliRunner) -> None:
    data = _json(runner)
    assert data["totals"] == TOTALS
    assert [layer["saved_bytes"] for layer in data["layers"]] == [1536, 1152, 576]  # type: ignore[attr-defined]
    assert [layer["path"] for layer in data["layers"]] == ["conv2d_1", "relu_1", "maxpool2d_1"]  # type: ignore[attr-defined]
    assert data["max_batch"] is None


@pytest.mark.parametrize(("budget", "fits"), [("29640", 10), ("29639", 9), ("1MiB", 375), ("4583", 0)])
def test_budget_gives_the_largest_batch(runner: CliRunner, budget: str, fits: int) -> None:
    # peak(10) = 1,800 + 27,840 = 29,640; 1 MiB = 1,048,576 ≥ peak(375) = 1,045,800 + 1,800 and
    # < peak(376); peak(1) = 4,584
    data = _json(runner, "--budget", budget)
    assert data["max_batch"] == fits
    assert data["budget_bytes"] == parse_size_option(budget)
    ladder = data["peak_by_batch"]
    assert [item["batch"] for item in ladder] == list(batch_ladder(fits))  # type: ignore[attr-defined]
    assert all(item["peak_bytes"] == 1800 + 2784 * item["batch"] for item in ladder)  # type: ignore[attr-defined]
    assert [item["fits"] for item in ladder] == [item["batch"] <= fits for item in ladder]  # type: ignore[attr-defined]


def test_budget_table(runner: CliRunner) -> None:
    result = CliRunner(env={"COLUMNS": "80", "NO_COLOR": "1"}).invoke(
        app, ["memory", *NET, "--optimizer", "adam", "--budget", "29640"]
    )
    assert result.exit_code == 0
    assert result.stdout == (
        "network · input (2, 3, 8, 8) · float32 · batch 2 · training, adam\n"
        " #  Layer (type)             Output shape     Saved\n"
        "───────────────────────────────────────────────────\n"
        " 0  conv2d_1 (Conv2d)        (2, 4, 6, 6)  1.50 KiB\n"
        " 1  relu_1 (ReLU)            (2, 4, 6, 6)  1.12 KiB\n"
        " 2  maxpool2d_1 (MaxPool2d)  (2, 4, 3, 3)     576 B\n"
        " params       448 B   448 B\n"
        " grads        448 B   448 B\n"
        " optimizer    904 B   904 B adam state after one step\n"
        " saved     3.19 KiB 3,264 B tensors autograd keeps for backward\n"
        " transient 2.25 KiB 2,304 B largest backward step's gradients\n"
        " peak      7.20 KiB 7,368 B estimate: the sum of the above\n"
        "Budget 28.95 KiB (29,640 B): max batch 10\n"
        " Batch  Peak (estimate)  Fits\n"
        "─────────────────────────────\n"
        "     1         4.48 KiB   yes\n"
        "     2         7.20 KiB   yes\n"
        "     4        12.63 KiB   yes\n"
        "     8        23.51 KiB   yes\n"
        "    10        28.95 KiB   yes\n"
        "    11        31.66 KiB    no\n"
        "Figures follow PyTorch's CPU autograd rules; a real process holds more\n"
        "(allocator, workspaces).\n"
    )


@pytest.mark.parametrize(
    ("text", "value"),
    [("24GiB", 24 * 2**30), ("512MiB", 512 * 2**20), ("8GB", 8 * 10**9), ("1e9", 10**9), ("1.5KiB", 1536),
     ("100", 100), ("2 kb", 2000)],
)  # fmt: skip
def test_sizes(text: str, value: int) -> None:
    assert parse_size_option(text) == value


@pytest.mark.parametrize("text", ["12XB", "1.3", "-1", "GiB", "1e-3", "0.5B", ""])
def test_a_bad_budget_is_located(runner: CliRunner, text: str) -> None:
    result = runner.invoke(app, ["memory", *NET, "--budget", text])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        "<option --budget>:1:1: --budget must be a whole number of bytes, written like 24GiB, 512MiB, "
        f"8GB or 1e9; got {text!r}\n"
    )


def test_an_astronomic_budget_is_refused(runner: CliRunner) -> None:
    result = runner.invoke(app, ["memory", *NET, "--budget", "1e300"])
    assert (result.exit_code, result.stderr) == (
        2,
        "<option --budget>:1:1: --budget must be at most 1 EiB (2**60 bytes); got '1e300'\n",
    )


BN = ["-i", "1,4", "Linear(4, 8); BatchNorm1d(8)"]
REFUSAL = (
    "<arg 1>:1:15: layer 1 'batchnorm1d_1' (BatchNorm1d) on input (1, 8): PyTorch refuses it in "
    "training: expected more than 1 value per channel when training, got input size (1, 8)"
)


def test_batchnorm_with_one_value_per_channel_is_refused(runner: CliRunner) -> None:
    result = runner.invoke(app, ["memory", *BN])
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", REFUSAL + "\n")
    # batch 2 trains; inference accepts batch 1
    assert runner.invoke(app, ["memory", *BN, "--batch", "2"]).exit_code == 0
    assert runner.invoke(app, ["memory", *BN, "--inference"]).exit_code == 0


def test_shape_warns_that_training_would_refuse_it(runner: CliRunner) -> None:
    result = runner.invoke(app, ["shape", *BN])
    assert result.exit_code == 0
    assert (
        result.stderr
        == f"{REFUSAL.replace(': layer', ': warning: layer', 1)}; these figures are eval mode's\n"
    )
    assert "batchnorm1d_1" in result.stdout
    ok = runner.invoke(app, ["shape", "-i", "2,4", "Linear(4, 8); BatchNorm1d(8)"])
    assert (ok.exit_code, ok.stderr) == (0, "")


def test_training_refusals_name_every_refused_layer() -> None:
    net = cnncalc.network([1, 4], ["Linear(4, 8)", "BatchNorm1d(8)", "ReLU", "BatchNorm1d(8)"])
    assert [e.layer for e in training_refusals(net)] == ["batchnorm1d_1", "batchnorm1d_2"]
    assert training_refusals(cnncalc.load(str(EXAMPLES / "resnet50.yaml"))) == ()


def test_the_cheap_check_knows_every_checked_rule() -> None:
    assert {kind for kind, rule in RULES.items() if rule.checked} == CHECKED_KINDS


def test_bad_options_are_located(runner: CliRunner) -> None:
    result = runner.invoke(app, ["memory", *NET, "--dtype", "int8"])
    assert (result.exit_code, result.stderr) == (
        2,
        "<option --dtype>:1:1: cannot train in int8: autograd needs a floating-point dtype\n",
    )
    assert runner.invoke(app, ["memory", *NET, "--optimizer", "lion"]).exit_code == 2


def test_inference_shows_live_bytes(runner: CliRunner) -> None:
    result = runner.invoke(app, ["memory", *NET, "--inference", "-f", "csv"])
    assert result.exit_code == 0
    header, *rows = list(csv.reader(io.StringIO(result.stdout)))
    # alive while each layer computes: the convolution's input and output (1,536 + 1,152); ReLU's
    # input and output (1,152 + 1,152, the network input freed); MaxPool's input and output
    # (1,152 + 288)
    assert [row[header.index("live_bytes")] for row in rows[:3]] == ["2688", "2304", "1440"]
    assert rows[-1][2:] == ["total peak", "", "", "", str(448 + 2688), ""]


@pytest.mark.parametrize("fmt", ["table", "csv", "markdown", "json"])
def test_resnet50_folded(runner: CliRunner, fmt: str) -> None:
    args = ["memory", str(EXAMPLES / "resnet50.yaml"), "-b", "32", "--optimizer", "adam", "-d", "1"]
    result = runner.invoke(app, [*args, "--budget", "24GiB", "-f", fmt])
    assert (result.exit_code, result.stderr) == (0, "")
    if fmt == "json":
        data = json.loads(result.stdout)
        assert data["max_batch"] == 265
        assert data["totals"]["peak_bytes"] == 3466511108
    elif fmt != "csv":
        assert "layer1" in result.stdout and size(3466511108) in result.stdout


def test_api_memory() -> None:
    report = cnncalc.memory(cnncalc.network([2, 3, 8, 8], ["Conv2d(3, 4, 3)", "ReLU", "MaxPool2d(2)"]),
                            optimizer="adam")  # fmt: skip
    assert report.totals.to_dict() == TOTALS
    assert report.max_batch(29640) == 10


def test_plot(runner: CliRunner, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "memory.png"
    result = runner.invoke(
        app, ["memory", *NET, "--optimizer", "adam", "--budget", "1MiB", "--plot", str(out)]
    )
    assert result.exit_code == 0
    assert out.read_bytes().startswith(b"\x89PNG")
