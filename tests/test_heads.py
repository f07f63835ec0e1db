"""Every head of a multi-output network: JSON ``output_shapes``, and ``equiv`` head by head.

The head shapes are Darknet's own: yolov3.cfg at 416×416 prints 13×13, 26×26 and 52×52 grids of
255 channels (3 anchors × (80 classes + 5)), in the order of its [yolo] sections; yolov4-tiny.cfg
prints 13×13 then 26×26 (AlexeyAB/darknet's log for these files at width=height=416).
"""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cnncalc.cli import app
from cnncalc.engine.compare import equivalence
from cnncalc.report import Report

DATA = Path(__file__).resolve().parent / "data" / "darknet"


def _json(runner: CliRunner, *argv: str) -> dict[str, object]:
    result = runner.invoke(app, list(argv))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def test_yolov3_json_lists_every_head() -> None:
    data = _json(CliRunner(), "shape", str(DATA / "yolov3.cfg"), "-i", "1,3,416,416", "-f", "json")
    assert data["output_shapes"] == [[1, 255, 13, 13], [1, 255, 26, 26], [1, 255, 52, 52]]
    assert data["output_shape"] == [1, 255, 13, 13]
    assert isinstance(data["outputs"], list) and len(data["outputs"]) == 3


def test_yolov4_tiny_json_lists_both_heads() -> None:
    data = _json(CliRunner(), "shape", str(DATA / "yolov4-tiny.cfg"), "-i", "1,3,416,416", "-f", "json")
    assert data["output_shapes"] == [[1, 255, 13, 13], [1, 255, 26, 26]]


def test_single_output_has_one_shape() -> None:
    data = _json(CliRunner(), "shape", "-i", "1,3,8,8", "Conv2d(3, 4, 3)", "-f", "json")
    assert data["output_shapes"] == [[1, 4, 6, 6]]


def _head(report: Report, keep: int) -> Report:
    """The same network with only its first ``keep`` heads."""
    import dataclasses

    return dataclasses.replace(
        report, outputs=report.outputs[:keep], output_shapes=report.output_shapes[:keep]
    )


def test_equiv_compares_every_head() -> None:
    from cnncalc import readers
    from cnncalc.engine.analyze import analyze

    read = readers.read(str(DATA / "yolov3.cfg"), readers.ReadOptions((1, 3, 416, 416)))
    report = analyze(read.network)
    assert equivalence(report, report).equivalent
    # the first head alone agrees in shape and field, but the other two heads are missing
    assert not equivalence(report, _head(report, 1)).equivalent
    json_side = equivalence(report, report).to_dict()["a"]
    assert json_side["output_shapes"] == [[1, 255, 13, 13], [1, 255, 26, 26], [1, 255, 52, 52]]


def test_total_row_lists_every_head() -> None:
    runner = CliRunner(env={"COLUMNS": "160", "NO_COLOR": "1"})
    result = runner.invoke(app, ["shape", str(DATA / "yolov4-tiny.cfg"), "-i", "1,3,416,416"])
    assert result.exit_code == 0
    (total,) = [line for line in result.stdout.splitlines() if "Total" in line]
    assert "(1, 255, 13, 13) · (1, 255, 26, 26)" in total


def test_equiv_table_shows_every_head() -> None:
    runner = CliRunner(env={"COLUMNS": "160", "NO_COLOR": "1"})
    cfgs = [str(DATA / "yolov4-tiny.cfg"), str(DATA / "yolov3.cfg")]
    result = runner.invoke(app, ["equiv", *cfgs, "-i", "1,3,416,416"])
    assert result.exit_code == 1  # two heads against three: not equivalent
    assert "(1, 255, 13, 13) · (1, 255, 26, 26) · (1, 255, 52, 52)" in result.stdout
    # yolov3's third head has stride 8 (its 52×52 grid on 416), yolov4-tiny has no third head
    (row,) = [line for line in result.stdout.splitlines() if "effective stride (head 3)" in line]
    assert row.split()[4:7] == ["?", "8×8", "differs"]
