"""The new views drawn at 60, 80 and 120 columns, against golden files (``--update-golden``
rewrites them): the memory table, the valid-size rules, the symbolic shape table, and the
layer and receptive-field tables as trees (folded, with shortcut labels, marks, the inputs
column and every head)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cnncalc.cli import app
from tests.conftest import EXAMPLES

GOLDEN = Path(__file__).resolve().parent / "golden"
DATA = Path(__file__).resolve().parent / "data" / "views"

VIEWS = {
    "memory_lenet5": ["memory", str(EXAMPLES / "lenet5.yaml"), "--batch", "2", "--optimizer", "adam"],
    "sizes_unet": ["sizes", str(EXAMPLES / "unet.yaml"), "--near", "500"],
    "symbolic_stem": ["shape", "-i", "1,3,32,32", "Conv2d(3,8,3,stride=2); MaxPool2d(2)", "--symbolic"],
    "shape_resnet18_depth1": ["shape", str(EXAMPLES / "resnet18.yaml"), "--depth", "1"],
    "rf_resnet18_depth2": ["rf", str(EXAMPLES / "resnet18.yaml"), "--depth", "2"],
    "rf_misaligned_inputs": ["rf", str(DATA / "misaligned.yaml"), "--inputs"],
    "shape_yolov3_tiny_heads": ["shape", str(EXAMPLES / "yolov3-tiny.cfg"), "--inputs"],
}


@pytest.mark.parametrize("width", [60, 80, 120])
@pytest.mark.parametrize("view", sorted(VIEWS))
def test_view_at_width(view: str, width: int, update_golden: bool) -> None:
    runner = CliRunner(env={"NO_COLOR": "1"})
    result = runner.invoke(app, [*VIEWS[view], "--width", str(width)])
    assert result.exit_code == 0, result.output
    path = GOLDEN / f"{view}_{width}.txt"
    if update_golden:
        path.write_text(result.stdout, encoding="utf-8")
    assert result.stdout == path.read_text(encoding="utf-8")
    # a table fits its width: no line of a table is wider (rule lines included)
    if view != "sizes_unet":
        assert max(len(line) for line in result.stdout.splitlines()) <= width
