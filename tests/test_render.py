"""The renderer registry through the CLI: every command in every format it lists, the format
choices against the registry, --format darknet and its alias, formats from -o suffixes, the
one JSON encoder, and limits that end with their run."""

from __future__ import annotations

import csv
import importlib
import io
import json
import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app
from cnncalc.render import (
    REGISTRY,
    Catalogue,
    Compared,
    Dense,
    Fields,
    Format,
    Memory,
    Shapes,
    Sizes,
    Solved,
    formats,
)
from cnncalc.render.jsonout import dumps
from tests.conftest import EXAMPLES

LENET = str(EXAMPLES / "lenet5.yaml")
YOLO = str(EXAMPLES / "yolov3-tiny.cfg")
PAIR = [str(EXAMPLES / "two_3x3.yaml"), str(EXAMPLES / "one_5x5.yaml")]

# what each command with --format renders, and the arguments it is run with here
COMMANDS: dict[str, tuple[type, list[str]]] = {
    "shape": (Shapes, [LENET]),
    "rf": (Fields, [LENET]),
    "equiv": (Compared, PAIR),
    "dense": (Dense, [LENET]),
    "memory": (Memory, [LENET]),
    "layers": (Catalogue, []),
    "sizes": (Sizes, [str(EXAMPLES / "unet.yaml"), "--near", "500"]),
    "solve": (Solved, ["-i", "1,3,224,224", "Conv2d(3, 16, 3, stride=2, padding=?)", "--out", "112"]),
}
# the source each format is shown with, where it needs its own
SOURCES = {("shape", Format.darknet): [YOLO]}


def _listed(runner: CliRunner, command: str) -> list[str]:
    """The --format choices a command's help lists (``<a|b>``, or ``[a|b]`` under older typer)."""
    text = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"}).stdout
    found = re.search(r"--format\s+[<\[]([a-z|]+)[>\]]", text)
    return found[1].split("|") if found else []


def _cases() -> list[tuple[str, Format]]:
    return [(command, fmt) for command, (kind, _) in COMMANDS.items() for fmt in formats(kind)]


def test_every_command_lists_the_formats_it_has_renderers_for(runner: CliRunner) -> None:
    for command, (kind, _) in COMMANDS.items():
        assert _listed(runner, command) == [f.value for f in formats(kind)], command
    others = set(typer.main.get_command(app).commands) - set(COMMANDS)  # type: ignore[attr-defined]
    assert others == {"check", "convert", "schema"}
    assert all(_listed(runner, command) == [] for command in others)


def test_every_registered_renderer_resolves() -> None:
    for (kind, fmt), target in REGISTRY.items():
        module, function = target.split(":")
        assert callable(getattr(importlib.import_module(module), function)), (kind, fmt)


def _layer_count(paths: list[str]) -> int:
    return sum(len(cnncalc.analyze(cnncalc.load(p)).layers) for p in paths)


@pytest.mark.parametrize(("command", "fmt"), _cases(), ids=lambda x: getattr(x, "value", x))
def test_every_command_in_every_format_it_lists(command: str, fmt: Format) -> None:
    runner = CliRunner(env={"COLUMNS": "100", "NO_COLOR": "1"})
    _, sources = COMMANDS[command]
    sources = SOURCES.get((command, fmt), sources)
    result = runner.invoke(app, [command, *sources, "--format", fmt.value])
    assert (result.exit_code, result.stderr) == (0, "")
    out = result.stdout
    if fmt is Format.json:
        json.loads(out)
    elif fmt is Format.csv:
        header, *rows = list(csv.reader(io.StringIO(out)))
        assert len(set(header)) == len(header) and all(len(row) == len(header) for row in rows)
        if command in ("shape", "rf"):
            layers = [row for row in rows if row[1] != ""]  # the index column; totals have none
            assert len(layers) == _layer_count(sources)
        if command == "dense":
            convs = [row for row in rows if row[1] != ""]
            layers = cnncalc.analyze(cnncalc.load(LENET)).layers
            assert len(convs) == sum(layer.type == "Conv2d" for layer in layers) == 2
    elif fmt is Format.markdown:
        lines = out.splitlines()
        separator = next(i for i, line in enumerate(lines) if re.fullmatch(r"\|(-+:?\|)+", line))
        width = lines[separator].count("|")
        assert lines[separator - 1].startswith("| ") and lines[separator - 1].count("|") >= width
        assert lines[separator + 1].startswith("| ")
    elif fmt is Format.darknet:
        assert out.startswith("   layer   filters  size/strd(dil)")
        assert out.endswith("Total BFLOPS 5.571\n")  # what AlexeyAB/darknet prints at 416×416
    else:
        assert out.strip()


def test_dense_csv_counts_every_convolution(runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["dense", "-i", "1,3,8,8", "Conv2d(3, 4, 3); ReLU; Conv2d(4, 2, 1)", "-f", "csv"]
    )
    assert result.stdout == (
        "network,index,name,type,sample_input,sample_output,conv_weights,dense_weights,"
        "dense_per_conv,pointwise\n"
        # 3·4·3·3 = 108 against 3·8·8 · 4·6·6 = 27,648 (ratio 256); 4·2 = 8 against 144·72 = 10,368
        ",0,conv2d_1,Conv2d,3x8x8,4x6x6,108,27648,256,false\n"
        ",2,conv2d_2,Conv2d,4x6x6,2x6x6,8,10368,1296,true\n"
        ",,total,,,,116,38016,9504/29,\n"
    )


def test_equiv_csv_and_markdown_hold_the_tables_rows(runner: CliRunner) -> None:
    csv_out = runner.invoke(app, ["equiv", *PAIR, "-f", "csv"]).stdout
    assert csv_out == (
        "quantity,A,B,B vs A\n"
        "network,two-3x3,one-5x5,\n"
        "output shape,1x64x56x56,1x64x56x56,same\n"
        "RF size,5×5,5×5,same\n"
        "effective stride,1×1,1×1,same\n"
        "effective padding,2×2,2×2,same\n"
        # 2·(64·64·9 + 64) = 73,856 against 64·64·25 + 64 = 102,464
        "params,73856,102464,1.39× (A −28%)\n"
        "MACs,231211008,321126400,1.39× (A −28%)\n"
    )
    md = runner.invoke(app, ["equiv", *PAIR, "-f", "markdown"]).stdout
    assert md.splitlines()[4:7] == ["|  | A | B | B vs A |", "|---|---|---|---|", "| output shape | "
        "(1, 64, 56, 56) | (1, 64, 56, 56) | same |"]  # fmt: skip
    assert md.endswith("\nequivalent: same output shape and same receptive field\n")


def test_darknet_alias_is_the_darknet_format(runner: CliRunner) -> None:
    alias = runner.invoke(app, ["shape", YOLO, "--darknet"])
    assert alias.exit_code == 0
    assert alias.stdout == runner.invoke(app, ["shape", YOLO, "--format", "darknet"]).stdout
    assert runner.invoke(app, ["shape", YOLO, "--darknet", "-f", "darknet"]).stdout == alias.stdout


def test_darknet_alias_with_another_format_is_an_error(runner: CliRunner) -> None:
    result = runner.invoke(app, ["shape", YOLO, "-f", "json", "--darknet"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert json.loads(result.stderr) == {
        "error": {
            "message": "--darknet is short for --format darknet, not --format json",
            "file": "<option --darknet>",
            "line": 1,
            "column": 1,
            "layer": None,
        }
    }
    result = runner.invoke(app, ["shape", YOLO, "--darknet", "--format", "csv"])
    assert (result.exit_code, result.stderr) == (
        2,
        "<option --darknet>:1:1: --darknet is short for --format darknet, not --format csv\n",
    )


def test_darknet_format_of_a_yaml_network_is_an_error(runner: CliRunner) -> None:
    result = runner.invoke(app, ["shape", LENET, "--format", "darknet"])
    assert result.exit_code == 2
    assert result.stderr.startswith("<option --format>:1:1: ")
    assert result.stdout == ""


def test_unit_region_has_no_csv(runner: CliRunner, tmp_path: Path) -> None:
    message = "<option --format>:1:1: a unit's region is written as table or json, not csv\n"
    result = runner.invoke(app, ["rf", LENET, "--unit", "0,0", "-f", "csv"])
    assert (result.exit_code, result.stderr) == (2, message)
    out = tmp_path / "unit.csv"
    result = runner.invoke(app, ["rf", LENET, "--unit", "0,0", "-o", str(out)])
    assert (result.exit_code, result.stderr) == (2, message)
    assert not out.exists()


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("a.json", "json"), ("a.csv", "csv"), ("a.md", "markdown"), ("a.txt", "table"), ("A.JSON", "json")],
)
def test_output_suffix_picks_the_format(runner: CliRunner, tmp_path: Path, name: str, fmt: str) -> None:
    out = tmp_path / name
    result = runner.invoke(app, ["shape", LENET, "-o", str(out)])
    assert (result.exit_code, result.stdout) == (0, "")
    expected = runner.invoke(app, ["shape", LENET, "-f", fmt, "-o", str(tmp_path / "expected")])
    assert expected.exit_code == 0
    assert out.read_text(encoding="utf-8") == (tmp_path / "expected").read_text(encoding="utf-8")


def test_format_beats_the_output_suffix(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "table.json"
    assert runner.invoke(app, ["shape", LENET, "-f", "csv", "-o", str(out)]).exit_code == 0
    assert out.read_text(encoding="utf-8").startswith("network,index,name,")


def test_limits_end_with_their_run(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--max-layers", "3", "shape", LENET])
    assert result.exit_code == 2
    assert result.stderr.endswith("(raise it with --max-layers)\n")
    assert len(cnncalc.analyze(cnncalc.load("examples/lenet5.yaml")).layers) == 12
    assert runner.invoke(app, ["shape", LENET, "-f", "json"]).exit_code == 0


def test_one_encoder_one_layout() -> None:
    value = {"a": [1, {"b": [2, 3]}], "layers": [{"x": [1, 2]}, {"x": []}], "c": {}}
    assert dumps(value) == json.dumps(value, indent=2)
    assert dumps(value, 0) == json.dumps(value)
    assert dumps(value, 1) == (
        '{\n  "a": [1, {"b": [2, 3]}],\n  "layers": [\n    {"x": [1, 2]},\n    {"x": []}\n  ],\n  "c": {}\n}'
    )
    assert dumps([value], 2) == "[\n" + "\n".join("  " + line for line in dumps(value, 1).split("\n")) + "\n]"


def test_report_json_is_the_cli_json(runner: CliRunner) -> None:
    report = cnncalc.analyze(cnncalc.load(LENET))
    assert report.to_json() == runner.invoke(app, ["shape", LENET, "-f", "json"]).stdout
    # one line per layer: the document is as long as the layer list plus the report's keys
    assert len(report.to_json().splitlines()) == len(report.layers) + len(report.to_dict()) + 3
