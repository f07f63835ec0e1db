"""The PyTorch reader on real models: torchvision's published figures (``num_params`` and ``_ops``
in each model's weights metadata, GFLOPS there being multiply-adds), timm's live modules, and
small modules whose figures are derived by hand below."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cnncalc import analyze, from_torch
from cnncalc.cli import app

torch = pytest.importorskip("torch")
nn = torch.nn

pytestmark = pytest.mark.torch

# a fixed sample of torchvision's classification models (the whole sweep is
# scripts/torch_coverage.py): plain, residual, depthwise, dense, inception with an aux head
TORCHVISION = [
    ("resnet18", 224),
    ("resnet50", 224),
    ("mobilenet_v2", 224),
    ("mobilenet_v3_small", 224),
    ("efficientnet_b0", 224),
    ("googlenet", 224),
    ("inception_v3", 299),
    ("alexnet", 224),
    ("convnext_tiny", 224),  # channels-last LayerNorm between permutes, layer scale
    ("shufflenet_v2_x1_0", 224),  # chunk and channel shuffle by view/transpose
    ("vit_b_16", 224),  # class token, position embedding, attention: 17.564 GMACs
]


@pytest.mark.parametrize(("name", "size"), TORCHVISION)
def test_torchvision_published_figures(torchvision: Any, name: str, size: int) -> None:
    with torch.device("meta"):
        # init_weights=False: GoogLeNet and Inception-v3 warn without it (and init on meta is moot);
        # torchvision builds its published GoogLeNet without the aux heads (googlenet.py: the
        # weights' model drops aux1 and aux2), its Inception-v3 with AuxLogits
        extra: dict[str, Any] = {"init_weights": False} if name in ("googlenet", "inception_v3") else {}
        if name == "googlenet":
            extra["aux_logits"] = False
        model = torchvision.models.get_model(name, **extra)
        y = model.eval()(torch.empty(1, 3, size, size))
    report = analyze(from_torch(model, (1, 3, size, size)))
    meta = torchvision.models.get_model_weights(name).DEFAULT.meta
    assert report.totals.params + (report.totals.unused_params or 0) == meta["num_params"]
    assert round(report.totals.macs / 1e9, 3) == round(meta["_ops"], 3)
    assert report.output_shape == tuple(y.shape)


def test_resnet50_exact(torchvision: Any) -> None:
    # torchvision's table prints 4.089 GFLOPS; the count is 4,089,184,256 multiply-adds
    # (convolutions and the classifier), 25,557,032 parameters
    with torch.device("meta"):
        model = torchvision.models.resnet50()
    report = analyze(from_torch(model, (1, 3, 224, 224)))
    assert (report.totals.params, report.totals.macs) == (25_557_032, 4_089_184_256)
    paths = [layer.path for layer in report.layers]
    assert paths[:4] == ["conv1", "bn1", "relu", "maxpool"]
    assert "layer1.0.conv1" in paths and "layer1.0.relu@1" in paths  # a module called twice
    assert {b.path: b.kind for b in report.blocks}["layer1.0"] == "Bottleneck"


def test_inception_aux_head_reported_apart(torchvision: Any) -> None:
    # the aux head is called only in training: its 3,326,696 parameters are not read in eval()
    with torch.device("meta"):
        model = torchvision.models.inception_v3(init_weights=False)
    report = analyze(from_torch(model, (1, 3, 299, 299)))
    assert report.unused == (("AuxLogits", 3_326_696),)
    assert report.totals.unused_params == 3_326_696
    assert report.to_dict()["totals"]["unused_params"] == 3_326_696


def test_timm_live_figures(torchvision: Any) -> None:
    timm = pytest.importorskip("timm")
    for name in ("resnet18", "mobilenetv3_small_100", "efficientnet_b0"):
        with torch.device("meta"):
            model = timm.create_model(name).eval()
            y = model(torch.empty(1, 3, 224, 224))
        report = analyze(from_torch(model, (1, 3, 224, 224)))
        live = sum(p.numel() for p in model.parameters())
        assert report.totals.params + (report.totals.unused_params or 0) == live, name
        assert report.output_shape == tuple(y.shape), name


class Tied(nn.Module):
    """One Linear(4, 4) called twice: 4·4 + 4 = 20 parameters, counted once."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.unused = nn.Conv2d(3, 5, 3)  # 5·3·3·3 + 5 = 140 parameters, never called

    def forward(self, x: Any, scale: float = 2.0) -> Any:
        return self.fc(self.fc(x)) * scale


def test_tied_parameters_once_and_unused_apart() -> None:
    report = analyze(from_torch(Tied(), (2, 4)))
    # the third row is `* scale` (Identity until the Arith kind exists)
    assert [layer.path for layer in report.layers][:2] == ["fc", "fc@1"]
    assert [layer.params for layer in report.layers] == [20, 20, 0]
    assert report.totals.params == 20
    assert report.unused == (("unused", 140),)
    assert report.notes == (
        "input: the tensor given to forward's first argument 'x'; other arguments take their defaults",
    )


MODELS = """
import torch
from torch import nn


class Small(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.fc = nn.Linear(8, classes)

    def forward(self, x):
        x = torch.relu(self.conv(x))
        return self.fc(x.mean((2, 3), keepdim=True).flatten(1))


class WithUnused(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)
        self.head = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))

    def forward(self, features, mask=None):
        return self.fc(features)
"""


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "cnncalc_torch_models.py").write_text(textwrap.dedent(MODELS))
    monkeypatch.syspath_prepend(str(tmp_path))
    return "cnncalc_torch_models"


def test_from_torch_factory_with_literal_arguments(models: str) -> None:
    argv = ["shape", "--from-torch", f"{models}:Small(classes=3)", "-i", "1,3,8,8", "-f", "json"]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    # conv 8·3·3·3 + 8 = 224, fc 8·3 + 3 = 27; MACs 8·8·8·27 = 13,824 and 24
    assert data["totals"]["params"] == 251
    assert data["totals"]["macs"] == 13_848
    assert data["totals"]["unused_params"] == 0
    assert [layer["path"] for layer in data["layers"]] == [
        "conv",
        "relu_1",
        "mean_1",
        "flatten_1",
        "fc",
    ]
    assert data["name"] == "Small"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nomodule", "<torch nomodule>:1:1: --from-torch wants package.module:attr, package.module:factory"),
        (
            "os:path.join(x)",
            "<torch os:path.join(x)>:1:14: --from-torch: only literals (numbers, strings, booleans, "
            "None, tuples, lists) are allowed as arguments, found a name",
        ),
        ("cnncalc_no_such_module:f", "cannot import 'cnncalc_no_such_module': ModuleNotFoundError"),
    ],
)
def test_bad_specs(spec: str, message: str) -> None:
    result = CliRunner().invoke(app, ["check", "--from-torch", spec, "-i", "1,3,8,8"])
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_table_names_input_and_modules_never_called(models: str) -> None:
    argv = ["shape", "--from-torch", f"{models}:WithUnused", "-i", "2,4", "--width", "100"]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 0, result.output
    # head: Linear(2, 3) 2·3 + 3 = 9 and Linear(3, 1) 3 + 1 = 4, one module never called
    assert result.output.splitlines()[-2:] == [
        "input: the tensor given to forward's first argument 'features'; other arguments take their defaults",
        "Not called by forward, not in the totals: 13 params in head (13)",
    ]
