"""The size-rule commands through the CLI: ``sizes`` (and ``--near``), ``shape --symbolic`` and
``solve`` (a call form or a network file with one ``?``), exit codes and exact output."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import torch
from typer.testing import CliRunner

from cnncalc.cli import app
from tests.conftest import EXAMPLES

UNET = str(EXAMPLES / "unet.yaml")
RUNNER = CliRunner(env={"COLUMNS": "100", "NO_COLOR": "1"})

# examples/unet.yaml: four 2×2 max pools floor H/2; cat_i joins 2·⌊s/2⌋ (the 2× transposed
# convolution of the pooled map) with the skip's s = ⌊H/2^i⌋: equal exactly when s is even, at
# every level: H divisible by 16. cat0 joins 16·⌊H/16⌋ with H and implies the three others.
UNET_AXIS = {
    "valid": {"min": 16, "period": 16, "residues": [0], "also": []},
    "first": [16, 32, 48, 64, 80],
}


def _constraint(name: str, dim: int) -> dict[str, object]:
    return {
        "layers": ["cat0"],
        "requirement": f"cat0 (Concat): sizes 16 * ({name} // 16) and {name} of dim {dim} must be equal"
        " — every multiple of 16 from 16",
        "valid": UNET_AXIS["valid"],
    }


def test_sizes_json_of_the_unet() -> None:
    result = RUNNER.invoke(app, ["sizes", UNET, "--format", "json"])
    assert (result.exit_code, result.stderr) == (0, "")
    assert json.loads(result.stdout) == {
        "axes": [
            {"name": "H", "dim": 2, **UNET_AXIS, "constraints": [_constraint("H", 2)]},
            {"name": "W", "dim": 3, **UNET_AXIS, "constraints": [_constraint("W", 3)]},
        ]
    }
    # the rule against PyTorch's forward on H around the period (W held at 16)
    net = _torch_unet()
    for h in range(1, 50):
        try:
            net(torch.zeros(1, 3, h, 16))
            ok = True
        except RuntimeError:
            ok = False
        assert ok == (h % 16 == 0), h


def _torch_unet() -> torch.nn.Module:
    nn = torch.nn

    def double(a: int, b: int) -> nn.Module:
        return nn.Sequential(
            nn.Conv2d(a, b, 3, padding=1), nn.ReLU(), nn.Conv2d(b, b, 3, padding=1), nn.ReLU()
        )

    class UNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.down = nn.ModuleList([double(3, 8), double(8, 16), double(16, 32), double(32, 64)])
            self.bottom = double(64, 64)
            self.ups = nn.ModuleList([nn.ConvTranspose2d(c, c, 2, stride=2) for c in (64, 32, 16, 8)])
            self.decs = nn.ModuleList([double(128, 32), double(64, 16), double(32, 8), double(16, 8)])
            self.head = nn.Conv2d(8, 2, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            skips = []
            for d in self.down:
                x = d(x)
                skips.append(x)
                x = nn.functional.max_pool2d(x, 2)
            x = self.bottom(x)
            for up, dec, skip in zip(self.ups, self.decs, reversed(skips)):
                x = dec(torch.cat([up(x), skip], 1))
            out: torch.Tensor = self.head(x)
            return out

    return UNet()


def test_sizes_text_and_near() -> None:
    result = RUNNER.invoke(app, ["sizes", UNET, "--near", "500"])
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "unet · input (1, 3, 64, 64)\n"
        "H: every multiple of 16 from 16 — cat0 (Concat): sizes 16 * (H // 16) and H of dim 2 must be equal\n"
        "  first: 16, 32, 48, 64, 80\n"
        "  nearest to 500: 496 below, 512 above\n"
        "W: every multiple of 16 from 16 — cat0 (Concat): sizes 16 * (W // 16) and W of dim 3 must be equal\n"
        "  first: 16, 32, 48, 64, 80\n"
        "  nearest to 500: 496 below, 512 above\n"
    )


def test_sizes_near_json_and_a_valid_near() -> None:
    result = RUNNER.invoke(app, ["sizes", UNET, "--near", "500", "--format", "json"])
    assert result.exit_code == 0  # 500 is not valid: the nearest sizes are still an answer
    near = [axis["near"] for axis in json.loads(result.stdout)["axes"]]
    assert near == [{"n": 500, "below": 496, "above": 512}] * 2
    result = RUNNER.invoke(app, ["sizes", UNET, "--near", "496"])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == "  496 is valid"


def test_sizes_refuses_near_zero() -> None:
    result = RUNNER.invoke(app, ["sizes", UNET, "--near", "0"])
    assert result.exit_code == 2
    assert "--near" in result.stderr


def test_symbolic_json_of_a_hand_checked_network() -> None:
    # Conv2d(3, 4, 3, stride=2): (H - 3) // 2 + 1 = (H - 1) // 2; MaxPool2d(2) halves that:
    # ((H - 1) // 2) // 2 = (H - 1) // 4; the pool needs (H - 1) // 2 >= 2, so H >= 5
    argv = ["shape", "-i", "1,3,32,32", "Conv2d(3, 4, 3, stride=2)", "MaxPool2d(2)", "--symbolic"]
    result = RUNNER.invoke(app, [*argv, "--format", "json"])
    assert (result.exit_code, result.stderr) == (0, "")
    assert json.loads(result.stdout) == {
        "name": None,
        "input_shape": [1, 3, 32, 32],
        "axes": ["H", "W"],
        "layers": [
            {
                "index": 0,
                "path": "conv2d_1",
                "type": "Conv2d",
                "output_shape_formula": ["1", "4", "(H - 1) // 2", "(W - 1) // 2"],
            },
            {
                "index": 1,
                "path": "maxpool2d_1",
                "type": "MaxPool2d",
                "output_shape_formula": ["1", "4", "(H - 1) // 4", "(W - 1) // 4"],
            },
        ],
    }
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, stride=2), torch.nn.MaxPool2d(2))
    for h in range(5, 40):
        assert tuple(model(torch.zeros(1, 3, h, 7)).shape) == (1, 4, (h - 1) // 4, (7 - 1) // 4)
    table = RUNNER.invoke(app, argv)
    assert table.exit_code == 0
    assert table.stdout == (
        "network · input (1, 3, H, W)\n"
        " #  Layer (type)             Output shape\n"
        "─────────────────────────────────────────────────────────────\n"
        " 0  conv2d_1 (Conv2d)        (1, 4, ⌊(H − 1)/2⌋, ⌊(W − 1)/2⌋)\n"
        " 1  maxpool2d_1 (MaxPool2d)  (1, 4, ⌊(H − 1)/4⌋, ⌊(W − 1)/4⌋)\n"
        "valid for H: every size from 5; W: every size from 5\n"
    )


def test_symbolic_in_every_format_and_its_refusals() -> None:
    for fmt in ("csv", "markdown"):
        result = RUNNER.invoke(app, ["shape", UNET, "--symbolic", "--format", fmt])
        assert (result.exit_code, result.stderr) == (0, "")
        assert "(1, 8, H // 2, W // 2)" in result.stdout  # maxpool2d_1, the plain form
    rows = list(
        csv.reader(io.StringIO(RUNNER.invoke(app, ["shape", UNET, "--symbolic", "-f", "csv"]).stdout))
    )
    assert rows[0] == ["network", "index", "name", "type", "output_shape_formula"]
    assert len(rows) == 1 + 49 and all(len(r) == 5 for r in rows)
    assert rows[-1] == ["unet", "48", "conv2d_1", "Conv2d", "(1, 2, H, W)"]
    result = RUNNER.invoke(app, ["shape", UNET, "--symbolic", "--flops"])
    assert (result.exit_code, result.stderr) == (
        2,
        "<option --symbolic>:1:1: --symbolic shows formulas: "
        "--flops, --plot, --depth and --inputs do not apply\n",
    )
    result = RUNNER.invoke(app, ["shape", UNET, "--symbolic", "--format", "darknet"])
    assert result.exit_code == 2


SOLVE = ["solve", "-i", "1,3,224,224", "Conv2d(3, 16, 3, stride=2, padding=?)", "--out", "112"]


def test_solve_padding() -> None:
    # (224 + 2p - 3) // 2 + 1 = 112 exactly for p = 1
    result = RUNNER.invoke(app, SOLVE)
    assert (result.exit_code, result.stdout, result.stderr) == (0, "padding=1 → (1, 16, 112, 112)\n", "")
    result = RUNNER.invoke(app, [*SOLVE, "--format", "json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "layer": "conv2d_1",
        "argument": "padding",
        "want": [112, 112],
        "bound": 453,
        "solutions": [{"padding": 1, "output_shape": [1, 16, 112, 112]}],
    }


def test_solve_per_axis_and_same_split() -> None:
    result = RUNNER.invoke(
        app, ["solve", "-i", "1,1,20,20", "Conv2d(1, 1, 3, stride=2, padding=?)", "--out", "10,11"]
    )
    assert (result.exit_code, result.stdout) == (0, "padding=(1, 2) → (1, 1, 10, 11)\n")
    result = RUNNER.invoke(app, ["solve", "-i", "1,3,224,224", "Conv2d(3, 8, 2, padding=?)", "--out", "224"])
    assert (result.exit_code, result.stdout) == (
        0,
        "ZeroPad2d((0, 1, 0, 1)) before, padding=0 → (1, 8, 224, 224)\n",
    )


def test_solve_none_exits_1() -> None:
    # ConvTranspose2d(3, stride=2, padding=1) on 10 gives 19 + output_padding: 21 needs 2, refused
    argv = ["solve", "-i", "1,1,10,10", "ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=?)"]
    result = RUNNER.invoke(app, [*argv, "--out", "21"])
    assert (result.exit_code, result.stdout, result.stderr) == (
        1,
        "no output_padding in 0..49 gives 21×21\n",
        "",
    )
    result = RUNNER.invoke(app, [*argv, "--out", "21", "--format", "json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["solutions"] == []


def test_solve_errors_exit_2() -> None:
    cases = [
        (
            ["solve", "Conv2d(1, 1, 3, padding=?)", "--out", "8"],
            "<arg 1>:1:1: a call form needs --input, e.g. --input 1,3,224,224\n",
        ),
        (
            ["solve", "-i", "1,1,8,8", "Conv2d(1, ?, ?)", "--out", "8"],
            "<arg 1>:1:1: write exactly one argument as ?, found 2\n",
        ),
        (
            ["solve", "-i", "1,1,8,8", "Conv2d(1, 1, 3, padding=?)", "--out", "0"],
            "<option --out>:1:1: --out must be positive integers separated by commas, "
            "e.g. 112 or 112,56; got '0'\n",
        ),
        (
            ["solve", str(EXAMPLES / "yolov3-tiny.cfg"), "--out", "13"],
            f"{EXAMPLES / 'yolov3-tiny.cfg'}:1:1: solve reads a ? from a cnncalc YAML file or a call form\n",
        ),
    ]
    for argv, message in cases:
        result = RUNNER.invoke(app, argv)
        assert (result.exit_code, result.stderr) == (2, message), argv


NETWORK = """\
input: [1, 3, 32, 32]
layers:
  - {name: c, type: Conv2d, in_channels: 3, out_channels: 4, kernel_size: 3, padding: "?"}
  - MaxPool2d(2)
  - {type: Sequential, name: up, layers: [ConvTranspose2d(4, 4, 2, stride=2)]}
  - {type: Concat, from: [up, c]}
"""


def test_solve_a_question_mark_in_a_yaml_file(tmp_path: Path) -> None:
    # the Concat needs the 3×3 convolution to keep 32 (then pool and 2× upsampling give 32 back)
    path = tmp_path / "net.yaml"
    path.write_text(NETWORK, encoding="utf-8")
    result = RUNNER.invoke(app, ["solve", str(path), "--out", "32"])
    assert (result.exit_code, result.stdout, result.stderr) == (0, "c: padding=1 → (1, 8, 32, 32)\n", "")
    # the call form in a flow sequence, which YAML splits at its commas
    flow = NETWORK.replace('padding: "?"', "padding: 1").replace("stride=2)", "stride=?)")
    path.write_text(flow, encoding="utf-8")
    result = RUNNER.invoke(app, ["solve", str(path), "--out", "32"])
    assert (result.exit_code, result.stdout) == (0, "up.convtranspose2d_1: stride=2 → (1, 8, 32, 32)\n")


def test_a_question_mark_outside_solve_is_a_located_error(tmp_path: Path) -> None:
    path = tmp_path / "net.yaml"
    path.write_text(NETWORK, encoding="utf-8")
    result = RUNNER.invoke(app, ["shape", str(path)])
    assert (result.exit_code, result.stderr) == (
        2,
        f"{path}:3:87: Conv2d argument 'padding' must be int or tuple of ints or 'same' or 'valid', "
        "got '?' (an argument written ? is only read by cnncalc solve)\n",
    )
    path.write_text(NETWORK.replace('padding: "?"', "padding: ?"), encoding="utf-8")
    result = RUNNER.invoke(app, ["solve", str(path), "--out", "32"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{path}:3:")  # a bare ? there is YAML syntax: quote it
    result = RUNNER.invoke(app, ["sizes", "-i", "1,3,8,8", "Conv2d(3, 4, 3, padding=?)"])
    assert (result.exit_code, result.stderr) == (
        2,
        "<arg 1>:1:25: not a layer expression: invalid syntax"
        " (an argument written ? is only read by cnncalc solve)\n",
    )


def test_a_search_longer_than_the_bound_is_refused() -> None:
    # Conv2d(3, 16, 3, stride=2) on 224 and a wanted size of 10**9: B = (10**9 + 1)·2 + 1·3 + 0
    # = 2,000,000,005 (solve's docstring), so 2,000,000,006 values of padding from 0
    result = RUNNER.invoke(
        app, ["solve", "-i", "1,3,224,224", "Conv2d(3, 16, 3, stride=2, padding=?)", "--out", "1000000000"]
    )
    assert (result.exit_code, result.stderr) == (
        2,
        "<option --out>:1:1: solving for padding would try 2,000,000,006 values (0 to 2,000,000,005) "
        "on 1 layer, more than 100,000 layer evaluations: ask for a smaller size\n",
    )
