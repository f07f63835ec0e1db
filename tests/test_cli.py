"""The command line through typer's CliRunner: exact outputs, exit codes and files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cnncalc import __version__
from cnncalc.cli import app
from tests.conftest import EXAMPLES

SEED = "Conv2d(2, 3, kernel_size=(3, 5), stride=1, padding=(1, 2))"


def test_inline_seed_one_row(runner: CliRunner) -> None:
    result = runner.invoke(app, ["shape", "-i", "4,2,3,5", SEED, "--format", "csv"])
    assert result.exit_code == 0
    assert result.stdout == (
        "network,index,name,type,input_shape,output_shape,params,trainable_params,macs,activation_bytes\n"
        ",0,conv2d_1,Conv2d,4x2x3x5,4x3x3x5,93,93,5400,720\n"
        ",,total,,4x2x3x5,4x3x3x5,93,93,5400,720\n"
    )


def test_inline_layers_chain(runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["shape", "-i", "1,3,32,32", "Conv2d(3, 8, 3, padding=1); ReLU", "MaxPool2d(2)", "-f", "json"]
    )
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert [layer["name"] for layer in data["layers"]] == ["conv2d_1", "relu_1", "maxpool2d_1"]
    assert data["output_shape"] == [1, 8, 16, 16]


def test_lazy_and_case_insensitive(runner: CliRunner) -> None:
    # LazyConv2d(out_channels, kernel_size) infers in_channels; type names match in any case
    result = runner.invoke(
        app, ["shape", "-i", "1,3,8,8", "LazyConv2d(16, 3); relu; conv2d(16, 4, 1)", "-f", "json"]
    )
    assert result.exit_code == 0
    layers = json.loads(result.stdout)["layers"]
    assert [layer["type"] for layer in layers] == ["Conv2d", "ReLU", "Conv2d"]
    assert [layer["params"] for layer in layers] == [16 * 3 * 9 + 16, 0, 4 * 16 + 4]


def test_input_overrides_file(runner: CliRunner) -> None:
    result = runner.invoke(app, ["shape", str(EXAMPLES / "seed_conv2d.yaml"), "-i", "1,2,7,9", "-f", "json"])
    assert json.loads(result.stdout)["output_shape"] == [1, 3, 7, 9]


def test_flops_switch(runner: CliRunner) -> None:
    result = runner.invoke(app, ["shape", str(EXAMPLES / "seed_conv2d.yaml"), "--flops", "-f", "json"])
    data = json.loads(result.stdout)
    assert data["totals"]["flops"] == 2 * 5400
    assert data["layers"][0]["flops"] == 2 * 5400


def test_stdin(runner: CliRunner) -> None:
    text = (EXAMPLES / "one_by_one_conv.yaml").read_text()
    result = runner.invoke(app, ["shape", "-", "-f", "json"], input=text)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["totals"]["params"] == 8


def test_trainable_false(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "frozen.yaml"
    path.write_text(
        "input: [1, 3, 8, 8]\nlayers:\n"
        "  - {type: Conv2d, out_channels: 4, kernel_size: 3, trainable: false}\n"
        "  - Conv2d(4, 2, 1)\n"
    )
    totals = json.loads(runner.invoke(app, ["shape", str(path), "-f", "json"]).stdout)["totals"]
    assert totals["params"] == (4 * 3 * 9 + 4) + (2 * 4 + 2)
    assert totals["non_trainable_params"] == 4 * 3 * 9 + 4
    assert totals["trainable_params"] == 2 * 4 + 2


def test_markdown(runner: CliRunner) -> None:
    result = runner.invoke(app, ["shape", str(EXAMPLES / "seed_conv2d.yaml"), "-f", "markdown"])
    assert result.exit_code == 0
    assert result.stdout == (
        "### seed-conv2d\n\n"
        "Input (4, 2, 3, 5), float32.\n\n"
        "| # | Layer | Type | Output shape | Params | MACs | Memory |\n"
        "|---:|---|---|---|---:|---:|---:|\n"
        "| 0 | conv2d_1 | Conv2d | (4, 3, 3, 5) | 93 | 5,400 | 720 B |\n"
        "|  | **total** |  | (4, 3, 3, 5) | 93 | 5,400 | 720 B |\n\n"
        "Parameters: 93, trainable 93, non-trainable 0; 372 B. MACs: 5,400 (5.40 K).\n"
    )


def test_output_file_is_written_whole(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "seed.json"
    out.write_text("old contents")
    result = runner.invoke(app, ["shape", str(EXAMPLES / "seed_conv2d.yaml"), "-f", "json", "-o", str(out)])
    assert result.exit_code == 0
    assert result.stdout == ""
    assert json.loads(out.read_text())["totals"]["params"] == 93
    assert [p.name for p in tmp_path.iterdir()] == ["seed.json"]  # no temporary file left behind


def test_output_directory_missing(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "nowhere" / "seed.json"
    result = runner.invoke(app, ["shape", str(EXAMPLES / "seed_conv2d.yaml"), "-o", str(out)])
    assert result.exit_code == 2
    assert result.stderr == f"{out}:1:1: cannot write: directory '{out.parent}' does not exist\n"


def test_check(runner: CliRunner) -> None:
    lenet, vgg = str(EXAMPLES / "lenet5.yaml"), str(EXAMPLES / "vgg16.yaml")
    result = runner.invoke(app, ["check", lenet, vgg])
    assert result.exit_code == 0
    # VGG-16: 13 conv + 13 ReLU + 5 max-pool + avg-pool + flatten + 3 linear + 2 ReLU + 2 dropout = 40
    assert result.stdout == f"ok: {lenet} (12 layers)\nok: {vgg} (40 layers)\n"


def test_check_reports_every_file(runner: CliRunner, tmp_path: Path) -> None:
    """A bad file among good ones: every file gets its line (named by file), exit 2."""
    lenet, vgg = str(EXAMPLES / "lenet5.yaml"), str(EXAMPLES / "vgg16.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("input: [1, 1, 8, 8]\nlayers:\n  - Conv2d(2, 4, 3)\n")
    result = runner.invoke(app, ["check", lenet, str(bad), vgg])
    assert result.exit_code == 2
    assert result.stdout == f"ok: {lenet} (12 layers)\nok: {vgg} (40 layers)\n"
    first, summary = result.stderr.splitlines()
    # in_channels is the first argument, column 12 of line 3
    assert first == (
        f"{bad}:3:12: layer 0 'conv2d_1' (Conv2d) on input (1, 1, 8, 8): "
        "in_channels=2 but the input has 1 channels"
    )
    assert summary == "check: 1 of 3 failed"


def test_no_arguments_prints_help_exit_2(runner: CliRunner) -> None:
    result = runner.invoke(app, [])
    assert result.exit_code == 2
    assert result.stdout.startswith("Usage: cnncalc [OPTIONS] COMMAND [ARGS]...")
    assert "Commands:" in result.stdout


def test_layers_matching_nothing(runner: CliRunner) -> None:
    result = runner.invoke(app, ["layers", "convv"])
    assert (result.exit_code, result.stderr) == (
        2,
        "<arg 1>:1:1: no layer kind contains 'convv'; did you mean Conv3d or Conv2d or Conv1d?\n",
    )
    result = runner.invoke(app, ["layers", "xyz"])
    assert (result.exit_code, result.stderr) == (
        2,
        "<arg 1>:1:1: no layer kind contains 'xyz'; 'cnncalc layers' lists every kind\n",
    )


def test_file_and_pipe_same_width(runner: CliRunner, tmp_path: Path) -> None:
    """``-o FILE`` and a pipe (the runner's stdout is not a terminal) write the same bytes: 80 wide."""
    out = tmp_path / "t.txt"
    args = ["shape", str(EXAMPLES / "lenet5.yaml")]
    piped = runner.invoke(app, args, env={"COLUMNS": ""})
    assert runner.invoke(app, [*args, "-o", str(out)], env={"COLUMNS": ""}).exit_code == 0
    assert out.read_text() == piped.stdout
    assert max(len(line) for line in piped.stdout.splitlines()) == 80


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--version"])
    assert (result.exit_code, result.stdout) == (0, f"cnncalc {__version__}\n")


def test_usage_error_exit_2(runner: CliRunner) -> None:
    result = runner.invoke(app, ["shape", "--bogus"])
    assert result.exit_code == 2
    assert "No such option: --bogus" in result.stderr


def test_mixing_files_and_inline_layers(runner: CliRunner) -> None:
    result = runner.invoke(app, ["shape", str(EXAMPLES / "lenet5.yaml"), "ReLU"])
    assert result.exit_code == 2
    assert result.stderr == (
        f"<arg 2>:1:1: give either network files or inline layers, not both "
        f"('{EXAMPLES / 'lenet5.yaml'}' and 'ReLU')\n"
    )


@pytest.mark.parametrize("fmt", ["json", "csv", "markdown"])
def test_output_is_deterministic(fmt: str) -> None:
    """Byte-identical output across processes with different hash seeds."""
    outputs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        argv = [sys.executable, "-m", "cnncalc", "shape", str(EXAMPLES / "googlenet.yaml"), "-f", fmt]
        outputs.add(subprocess.run(argv, capture_output=True, check=True, env=env).stdout)
    assert len(outputs) == 1


def test_broken_pipe_ends_quietly() -> None:
    argv = [sys.executable, "-m", "cnncalc", "shape", str(EXAMPLES / "densenet121.yaml"), "-f", "json"]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.readline()
        proc.stdout.close()  # like `| head -1`
        err = proc.stderr.read()
        proc.wait()
    assert proc.returncode == 0
    assert err == b""
