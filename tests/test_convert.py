"""``cnncalc convert``: the written YAML gives the source's figures back; files are never clobbered;
PyTorch modules traced with torch.fx round-trip against the live module."""

from __future__ import annotations

import json
import textwrap
import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app
from cnncalc.spec.export import network_yaml
from cnncalc.spec.network import load_text
from tests.conftest import EXAMPLES


def _figures(report: cnncalc.Report) -> tuple[object, ...]:
    field = report.receptive_field
    rf = (field.size, field.stride, field.padding) if field else None
    t = report.totals
    return report.output_shape, t.params, t.trainable_params, t.macs, t.activation_bytes, rf


@pytest.mark.parametrize(
    "path", sorted([*EXAMPLES.glob("*.yaml"), *EXAMPLES.glob("*.cfg")]), ids=lambda p: p.name
)
def test_round_trip_keeps_every_figure(path: Path) -> None:
    network = cnncalc.load(str(path))
    again = load_text(network_yaml(network, str(path)), "<converted>")
    assert _figures(cnncalc.analyze(again)) == _figures(cnncalc.analyze(network))


def test_never_clobbers(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "net.yaml"
    out.write_text("precious\n")
    result = runner.invoke(app, ["convert", str(EXAMPLES / "lenet5.yaml"), "-o", str(out)])
    assert (result.exit_code, result.stderr) == (
        2,
        f"{out}:1:1: exists already; add --force to overwrite it\n",
    )
    assert out.read_text() == "precious\n"
    result = runner.invoke(app, ["convert", str(EXAMPLES / "lenet5.yaml"), "-o", str(out), "--force"])
    assert result.exit_code == 0
    assert cnncalc.analyze(cnncalc.load(str(out))).totals.params == 61_706
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.yaml"]  # no temporary file left


def test_convert_without_output_writes_stdout(runner: CliRunner) -> None:
    result = runner.invoke(app, ["convert", str(EXAMPLES / "lenet5.yaml")])
    assert result.exit_code == 0
    assert result.stdout.startswith(f"# converted by cnncalc from {EXAMPLES / 'lenet5.yaml'}\n")
    assert cnncalc.analyze(load_text(result.stdout, "<converted>")).totals.params == 61_706


def test_convert_schema_comment_resolves(runner: CliRunner, tmp_path: Path) -> None:
    """The ``$schema`` comment is a path, relative to the written file, to the committed schema."""
    out = tmp_path / "sub" / "net.yaml"
    out.parent.mkdir()
    assert runner.invoke(app, ["convert", str(EXAMPLES / "lenet5.yaml"), "-o", str(out)]).exit_code == 0
    comment = out.read_text().splitlines()[1]
    assert comment.startswith("# yaml-language-server: $schema=")
    target = (out.parent / comment.split("=", 1)[1]).resolve()
    committed = Path(__file__).resolve().parents[1] / "schema" / "cnncalc.schema.json"
    assert target == committed
    assert json.loads(target.read_text())["title"]


MODELS = """
import torch
from torch import nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, c, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(c if stride == 1 else c // 2, c, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.down = None
        if stride != 1:
            self.down = nn.Sequential(nn.Conv2d(c // 2, c, 1, stride, bias=False), nn.BatchNorm2d(c))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        s = x if self.down is None else self.down(x)
        return F.relu(y + s)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(inplace=True))
        self.b1 = Block(16)
        self.b2 = Block(32, stride=2)
        self.branch_a = nn.Conv2d(32, 8, 1)
        self.branch_b = nn.Sequential(nn.Conv2d(32, 8, 1), nn.Conv2d(8, 8, 3, padding=1, dilation=1))
        self.up = nn.ConvTranspose2d(16, 16, 2, stride=2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = self.b2(self.b1(self.stem(x)))
        x = torch.cat([self.branch_a(x), self.branch_b(x)], 1)
        x = self.pool(self.up(x) * 0.5)
        x = x.view(x.size(0), -1)
        return self.fc(x)


class WithLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(8, 8)

    def forward(self, x):
        return self.rnn(x)[0]


def make():
    return Net()


def make_lstm():
    return WithLSTM()
"""


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "cnncalc_test_models.py").write_text(textwrap.dedent(MODELS))
    monkeypatch.syspath_prepend(str(tmp_path))
    return "cnncalc_test_models"


@pytest.mark.torch
def test_torch_round_trip(models: str, runner: CliRunner, tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch = pytest.importorskip("torch")
    out = tmp_path / "net.yaml"
    argv = ["convert", "--from-torch", f"{models}:make", "--input", "2,3,32,32", "-o", str(out)]
    result = runner.invoke(app, argv)
    assert result.exit_code == 0, result.stderr
    report = cnncalc.analyze(cnncalc.load(str(out)))
    module = __import__(models).make().eval()
    with torch.no_grad():
        y = module(torch.zeros(2, 3, 32, 32))
    assert report.output_shape == tuple(y.shape)
    assert report.totals.params == sum(p.numel() for p in module.parameters())
    text = out.read_text()
    assert "Conv2d(in_channels=3, out_channels=16, kernel_size=3, padding=1)" in text
    assert "from: [b1_bn2, stem_1]" in text  # the residual addition keeps its two inputs


@pytest.mark.torch
def test_torch_unsupported_module_is_named(models: str, runner: CliRunner, tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pytest.importorskip("torch")
    argv = ["convert", "--from-torch", f"{models}:make_lstm", "-i", "4,1,8", "-o", str(tmp_path / "x.yaml")]
    result = runner.invoke(app, argv)
    assert (result.exit_code, result.stderr) == (
        2,
        f"<torch {models}:make_lstm>:8:1: aten.lstm in module 'rnn' (LSTM) has no cnncalc layer\n",
    )


def test_torch_needs_input(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["convert", "--from-torch", "x:y", "-o", str(tmp_path / "x.yaml")])
    assert (result.exit_code, result.stderr) == (
        2,
        "<torch x:y>:1:1: --from-torch needs the input shape: --input 1,3,224,224\n",
    )
