"""The bad-input catalogue: every file in tests/bad_inputs/ fails with exit 2 and exactly the
message on its first line (``# expect: {file}:LINE:COL: ...``), never a traceback."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cnncalc.cli import app

BAD = Path(__file__).resolve().parent / "bad_inputs"
CASES = sorted(BAD.glob("*.yaml"))
POSITION = re.compile(r"^[^:]+:\d+:\d+: \S")


def _expected(path: Path, shown: str) -> str:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name} has no '# expect:' line"
    return first.removeprefix("# expect: ").replace("{file}", shown)


def test_catalogue_is_large() -> None:
    assert len(CASES) >= 60


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
@pytest.mark.parametrize("command", ["check", "shape"])
def test_bad_input(path: Path, command: str, runner: CliRunner) -> None:
    shown = os.path.relpath(path)
    result = runner.invoke(app, [command, shown])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == _expected(path, shown) + "\n"
    assert POSITION.match(result.stderr), "every message names file:line:col"
    assert "Traceback" not in result.stderr


def _run_file(runner: CliRunner, path: Path) -> tuple[int, str]:
    result = runner.invoke(app, ["shape", str(path)])
    return result.exit_code, result.stderr


def test_missing_file(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    assert _run_file(runner, path) == (2, f"{path}:1:1: no such file\n")


def test_directory(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "nets.yaml"
    path.mkdir()
    assert _run_file(runner, path) == (2, f"{path}:1:1: is a directory, not a network file\n")


def test_empty_file(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("   \n")
    assert _run_file(runner, path) == (2, f"{path}:1:1: the file is empty\n")


def test_only_comments_is_empty(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "comments.yaml"
    path.write_text("# nothing here yet\n")
    assert _run_file(runner, path) == (2, f"{path}:1:1: the file is empty\n")


def test_binary_file(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "weights.yaml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    assert _run_file(runner, path) == (2, f"{path}:1:1: this is a binary file, not a YAML network file\n")


def test_not_utf8(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: caf\u00e9\ninput: [1]\n".encode("latin-1"))
    expected = f"{path}:1:1: not UTF-8 text (byte 0xe9 at offset 9)\n"
    assert _run_file(runner, path) == (2, expected)


def test_permission_denied(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # chmod 0 does not stop root (CI runs as root), so the denial is simulated at the read
    path = tmp_path / "secret.yaml"
    path.write_text("input: [1]\nlayers: [ReLU]\n")

    def denied(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)
    assert _run_file(runner, path) == (2, f"{path}:1:1: permission denied\n")


def test_empty_stdin(runner: CliRunner) -> None:
    result = runner.invoke(app, ["shape", "-"], input="")
    assert (result.exit_code, result.stderr) == (2, "<stdin>:1:1: nothing on standard input\n")


def test_inline_error_points_at_argument(runner: CliRunner) -> None:
    result = runner.invoke(app, ["shape", "-i", "1,3,8,8", "ReLU; Conv2d(3, 8, kernel_size=-1)"])
    assert result.exit_code == 2
    # column 20 of the argument is where `kernel_size=-1` starts
    assert result.stderr == (
        "<arg 1>:1:20: layer 1 'conv2d_1' (Conv2d) on input (1, 3, 8, 8): "
        "kernel_size must be positive, got (-1, -1)\n"
    )


def test_inline_code_is_never_evaluated(runner: CliRunner, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    expr = f"Conv2d(__import__('os').system('touch {marker}'), 8, 3)"
    result = runner.invoke(app, ["shape", "-i", "1,3,8,8", expr])
    assert result.exit_code == 2
    assert result.stderr == (
        "<arg 1>:1:8: only literals (numbers, strings, booleans, None, tuples, lists) are allowed "
        "as layer arguments, found a call\n"
    )
    assert not marker.exists()


def test_inline_needs_input(runner: CliRunner) -> None:
    result = runner.invoke(app, ["shape", "Conv2d(3, 8, 3)"])
    assert (result.exit_code, result.stderr) == (
        2,
        "<arg 1>:1:1: inline layers need --input, e.g. --input 1,3,224,224\n",
    )


def test_bad_input_option(runner: CliRunner) -> None:
    result = runner.invoke(app, ["shape", "-i", "1,3,x4", "ReLU"])
    assert result.exit_code == 2
    assert result.stderr == (
        "<option --input>:1:1: --input must be positive integers separated by commas, "
        "e.g. 1,3,224,224; got '1,3,x4'\n"
    )


def test_debug_shows_the_traceback(runner: CliRunner) -> None:
    result = runner.invoke(app, ["shape", "--debug", "-i", "1,3,8,8", "Conv2e(3, 8, 3)"])
    assert result.exit_code == 1
    assert result.exception is not None
    assert str(result.exception) == "<arg 1>:1:1: unknown layer type 'Conv2e' (did you mean 'Conv2d'?)"


def test_json_errors(runner: CliRunner) -> None:
    path = os.path.relpath(BAD / "channel_mismatch.yaml")
    result = runner.invoke(app, ["shape", path, "--format", "json"])
    assert result.exit_code == 2
    assert result.stderr == (
        '{"error": {"message": "layer 0 \'conv2d_1\' (Conv2d) on input (1, 3, 8, 8): in_channels=4 but '
        'the input has 3 channels", "file": "' + path + '", "line": 4, "column": 12, "layer": "conv2d_1"}}\n'
    )


def test_huge_tensors_are_exact(runner: CliRunner) -> None:
    # 10^10 × 10^10 × 10^10 = 10^30 elements: Python integers, not an OverflowError
    result = runner.invoke(app, ["shape", "-i", "10000000000,10000000000,10000000000", "ReLU", "-f", "json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["totals"]["activation_bytes"] == 4 * 10**30


def test_ctrl_c_exits_130_with_one_line(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    import cnncalc.engine.analyze

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cnncalc.engine.analyze, "analyze", interrupted)
    result = runner.invoke(app, ["shape", os.path.relpath(BAD.parent.parent / "examples" / "lenet5.yaml")])
    assert (result.exit_code, result.stderr) == (130, "interrupted\n")


def test_input_dimensions_beyond_64_bits(runner: CliRunner) -> None:
    result = runner.invoke(app, ["shape", "-i", f"1,3,{2**63},8", "Conv2d(3, 3, 3)"])
    assert (result.exit_code, result.stderr) == (
        2,
        f"<option --input>:1:1: --input dimensions must be below 2**63; got '1,3,{2**63},8'\n",
    )
