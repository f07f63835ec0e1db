"""Faithful views: no table drops a column, the receptive-field table is the same tree as the
shape table, shortcut rows are labelled, ``--inputs``, ``--depth`` in every format and in the
plots, misaligned merges marked everywhere, ``--layer`` never picks one of several namesakes."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app
from tests.conftest import EXAMPLES

RESNET18 = str(EXAMPLES / "resnet18.yaml")

# examples/resnet18.yaml at --depth 1, as written there: the stem (conv, bn, relu, maxpool =
# layers 0-3), four stages of two basic blocks (7 layers each, 8 when the block has a 1×1
# downsample shortcut: 14, 16, 16, 16 layers), then avgpool, flatten, linear (66-68)
DEPTH1 = ["0", "1", "2", "3", "4-17", "18-33", "34-49", "50-65", "66", "67", "68"]

# a branch and a merge written by hand: the Add is fed by layers 0 and 1, layer 0 by the input
GRAPH = """
input: [1, 1, 8, 8]
layers:
  - {type: Conv2d, name: a, in_channels: 1, out_channels: 2, kernel_size: 3, padding: 1}
  - {type: Conv2d, name: b, in_channels: 2, out_channels: 2, kernel_size: 1}
  - {type: Add, name: sum, from: [a, b]}
"""

# tests/test_graphs.py's misaligned merge (a 3×3 with padding 1, centre 0, added to a padded
# 2×2, centre -1/2), the file the golden views read
MISALIGNED = str(Path(__file__).resolve().parent / "data" / "views" / "misaligned.yaml")


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "net.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("command", ["shape", "rf"])
def test_a_narrow_table_keeps_every_cell(runner: CliRunner, command: str) -> None:
    """At 60 columns (the issue's reproduction) every cell of the wide table is still there and
    no line is wider than asked."""
    wide = runner.invoke(app, [command, RESNET18, "--depth", "1", "--width", "200"])
    narrow = runner.invoke(app, [command, RESNET18, "--depth", "1", "--width", "60"])
    assert wide.exit_code == narrow.exit_code == 0
    assert max(len(line) for line in narrow.stdout.splitlines()) <= 60
    rows = [line for line in wide.stdout.splitlines()[3:] if line.strip() and line.split()[0] in DEPTH1]
    assert [row.split()[0] for row in rows] == DEPTH1
    for row in rows:
        for cell in row.split("  "):
            assert cell.strip() in narrow.stdout, (row, cell)


def test_rf_table_is_the_shape_tree(runner: CliRunner) -> None:
    """Same rows, same ``#`` cells and tree labels as ``shape`` at each depth."""
    for depth in ("1", "2"):
        shape = runner.invoke(app, ["shape", RESNET18, "-d", depth, "--width", "200"]).stdout
        field = runner.invoke(app, ["rf", RESNET18, "-d", depth, "--width", "200"]).stdout
        first = [line[:60].rstrip() for line in shape.splitlines()[3:] if line[:7].strip()[:1].isdigit()]
        second = [line[:60].rstrip() for line in field.splitlines()[3:] if line[:7].strip()[:1].isdigit()]
        assert first == second and len(first) >= len(DEPTH1)
    assert [line.split()[0] for line in field.splitlines()[3:] if line[:7].strip()[:1].isdigit()][:5] == [
        "0",
        "1",
        "2",
        "3",
        "4-17",
    ]


def test_depth_in_csv_and_markdown(runner: CliRunner) -> None:
    for command, key in (("shape", "index"), ("rf", "index")):
        out = runner.invoke(app, [command, RESNET18, "-f", "csv", "--depth", "1"]).stdout
        indices = [row[key] for row in csv.DictReader(io.StringIO(out))]
        assert [i for i in indices if i] == DEPTH1  # shape's totals row has no index
        md = runner.invoke(app, [command, RESNET18, "-f", "markdown", "--depth", "1"]).stdout
        cells = [line.split("|")[1].strip() for line in md.splitlines() if line.startswith("| ")]
        assert [cell for cell in cells[1:] if cell] == DEPTH1, cells  # a Total row has no index


def test_shortcut_rows_are_labelled(runner: CliRunner) -> None:
    """The labelled rows are exactly the layers whose path runs through a ``shortcut``: in
    resnet18.yaml the 1×1 conv and BatchNorm of the first block of stages 2-4."""
    out = runner.invoke(app, ["shape", RESNET18, "--width", "200"]).stdout
    labelled = [line.split()[0] for line in out.splitlines() if ", shortcut)" in line]
    assert labelled == ["23", "24", "39", "40", "55", "56"]
    layers = json.loads(runner.invoke(app, ["shape", RESNET18, "-f", "json"]).stdout)["layers"]
    assert [str(layer["index"]) for layer in layers if ".shortcut." in layer["path"]] == labelled


def test_inputs_column(runner: CliRunner, tmp_path: Path) -> None:
    path = _write(tmp_path, GRAPH)
    for command in ("shape", "rf"):
        out = runner.invoke(app, [command, path, "--inputs", "--width", "200"]).stdout
        lines = out.splitlines()
        assert "Inputs" in lines[1]
        rows = {line.split()[1]: line.rstrip() for line in lines[3:6]}
        assert rows["a"].endswith("input")
        assert rows["b"].endswith(" 0")
        assert rows["sum"].endswith(" 0, 1")


def test_misaligned_merges_are_marked_in_every_format(runner: CliRunner) -> None:
    path = MISALIGNED
    table = runner.invoke(app, ["rf", path, "--width", "200"]).stdout
    merge = next(line for line in table.splitlines() if "merge (Add)" in line)
    assert merge.rstrip().endswith("~")
    assert "~ misaligned merge" in table
    rows = list(csv.DictReader(io.StringIO(runner.invoke(app, ["rf", path, "-f", "csv"]).stdout)))
    assert [row["misaligned"] for row in rows] == ["false", "false", "false", "true"]
    md = runner.invoke(app, ["rf", path, "-f", "markdown"]).stdout
    merge_row = next(line for line in md.splitlines() if "| merge |" in line)
    assert md.splitlines()[0].endswith("| misaligned |") and merge_row.endswith("| true |")


def test_layer_refuses_an_ambiguous_name(runner: CliRunner) -> None:
    """resnet18.yaml names the second conv of every basic block ``conv2d_2``: eight of them."""
    result = runner.invoke(app, ["rf", RESNET18, "--unit", "0,0", "--layer", "conv2d_2"])
    assert result.exit_code == 2
    assert result.stderr.startswith("<option --layer>:1:1: 8 layers are named 'conv2d_2': give a path")
    assert "layer1.0.residual_1.body.conv2d_2 (#7)" in result.stderr
    by_path = runner.invoke(
        app, ["rf", RESNET18, "--unit", "0,0", "--layer", "layer1.0.residual_1.body.conv2d_2"]
    )
    by_index = runner.invoke(app, ["rf", RESNET18, "--unit", "0,0", "--layer", "7"])
    assert by_path.exit_code == by_index.exit_code == 0
    assert by_path.stdout == by_index.stdout


def test_plots_fold_to_depth_and_write_pdf(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from cnncalc.render.plot import _bars

    report = cnncalc.analyze(cnncalc.load(RESNET18))
    assert [label for label, _ in _bars(report, 1)] == DEPTH1
    assert len(_bars(report, None)) == len(report.layers) == 69
    runner = CliRunner()
    for command in ("shape", "rf"):
        target = tmp_path / f"{command}.pdf"
        result = runner.invoke(app, [command, RESNET18, "--depth", "1", "--plot", str(target)])
        assert result.exit_code == 0, result.stderr
        assert target.read_bytes().startswith(b"%PDF")


def test_rf_plot_follows_one_path_per_head() -> None:
    """ResNet-18's path to its head runs through every block's body: every layer but the six on
    the 1×1 downsample shortcuts (23, 24, 39, 40, 55, 56, see above). yolov3-tiny has two heads,
    its [yolo] layers 16 and 23 (Darknet's own numbering of the cfg's sections)."""
    pytest.importorskip("matplotlib")
    from cnncalc.render.plot import head_paths

    report = cnncalc.analyze(cnncalc.load(RESNET18))
    ((name, chain),) = head_paths(report)
    assert name == "linear_1"
    assert [layer.index for layer in chain] == [i for i in range(69) if i not in (23, 24, 39, 40, 55, 56)]
    yolo = cnncalc.analyze(cnncalc.load(str(EXAMPLES / "yolov3-tiny.cfg")))
    assert [name for name, _ in head_paths(yolo)] == ["yolo_16", "yolo_23"]


def test_totals_list_every_head_in_csv_and_markdown(runner: CliRunner) -> None:
    """yolov3-tiny.cfg's two [yolo] heads: 3·(5 + 80) = 255 channels at 416/32 = 13 and 416/16 = 26."""
    cfg = str(EXAMPLES / "yolov3-tiny.cfg")
    total = runner.invoke(app, ["shape", cfg, "-f", "csv"]).stdout.splitlines()[-1].split(",")
    assert total[2] == "total" and total[5] == "1x255x13x13;1x255x26x26"
    md = runner.invoke(app, ["shape", cfg, "-f", "markdown"]).stdout
    total_row = next(line for line in md.splitlines() if "**total**" in line)
    assert "| (1, 255, 13, 13) · (1, 255, 26, 26) |" in total_row
