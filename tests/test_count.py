"""``--count``: each tool's FLOPs convention against the tool itself, run live on small models
(fvcore, thop and ptflops on the LeNet-5 example, a small network of many layer kinds and
ResNet-18; Ultralytics' get_flops on YOLOv8n), and against published figures."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app
from cnncalc.count import count, report_under
from cnncalc.count.fuse import fuse
from cnncalc.engine.analyze import analyze
from cnncalc.graph import Network
from cnncalc.readers import ReadOptions, read
from cnncalc.readers.darknet.view import darknet_layers, float32, total_bflops
from cnncalc.report import Report
from tests.conftest import EXAMPLES, ROOT
from tests.count_tools import fvcore_count, importorskip, ptflops_count, thop_count, ultralytics_flops
from tests.torch_build import to_torch

torch = pytest.importorskip("torch")

TOOLS = {"fvcore": fvcore_count, "thop": thop_count, "ptflops": ptflops_count}
YOLOV8 = ROOT / "tests" / "data" / "ultralytics" / "yolov8.yaml"

# one layer of most kinds the tools have a rule for: bias or none, groups, each norm with and
# without affine, the activations each tool treats apart, every pooling, both upsampling modes,
# a transposed convolution, merges
MANY_KINDS = [
    "Conv2d(3, 8, 3, padding=1)",
    "BatchNorm2d(8)",
    "ReLU",
    {
        "type": "Conv2d",
        "name": "dw",
        "in_channels": 8,
        "out_channels": 8,
        "kernel_size": 3,
        "groups": 8,
        "bias": False,
    },
    "BatchNorm2d(8, affine=False)",
    "ReLU6",
    {"type": "Residual", "body": ["Conv2d(8, 8, 1)", "LeakyReLU"]},
    "SiLU",
    "GELU",
    "Hardswish",
    "MaxPool2d(2)",
    "AvgPool2d(3, stride=2, padding=1, count_include_pad=False, ceil_mode=True)",
    "GroupNorm(2, 8)",
    "InstanceNorm2d(8, affine=True)",
    "Upsample(scale_factor=2, mode='bilinear')",
    "ELU",
    "Upsample(scale_factor=2)",
    "ConvTranspose2d(8, 4, 2, stride=2)",
    "PReLU",
    {"type": "Concat", "branches": [["Conv2d(4, 4, 3, padding=1)"], ["AvgPool2d(3, stride=1, padding=1)"]]},
    "AdaptiveAvgPool2d(3)",
    "Flatten",
    "Dropout",
    "Linear(72, 10)",
    "Softmax(dim=1)",
]


def _twin(network: Network) -> Any:
    return to_torch(network, torch).eval()


def _ours(network: Network, tool: str) -> int | None:
    return count(network, analyze(network), tool).total


# LeNet-5, and a batch of 4 (ptflops reports one image of it)
@pytest.mark.parametrize("example", ["lenet5.yaml", "seed_conv2d.yaml"])
@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_examples(tool: str, example: str) -> None:
    importorskip(tool)
    network = cnncalc.load(str(EXAMPLES / example))
    x = torch.zeros(network.input_shape)
    assert _ours(network, tool) == TOOLS[tool](_twin(network), x)


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_many_kinds(tool: str) -> None:
    importorskip(tool)
    network = cnncalc.network((1, 3, 20, 20), MANY_KINDS)
    x = torch.zeros(network.input_shape)
    assert _ours(network, tool) == TOOLS[tool](_twin(network), x)


@pytest.fixture(scope="module")
def resnet18(torchvision: Any) -> tuple[Any, Network]:
    model = torchvision.models.resnet18().eval()
    return model, cnncalc.from_torch(model, (1, 3, 64, 64))


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_resnet18_through_the_reader(resnet18: tuple[Any, Network], tool: str) -> None:
    importorskip(tool)
    model, network = resnet18
    assert _ours(network, tool) == TOOLS[tool](model, torch.zeros(1, 3, 64, 64))


def test_resnet18_fused_as_ultralytics_counts(resnet18: tuple[Any, Network]) -> None:
    importorskip("thop")
    from tests.count_tools import fused

    model, network = resnet18
    folded = fuse(network)
    assert analyze(folded).totals.params == sum(p.numel() for p in fused(model, torch).parameters())
    assert _ours(folded, "ultralytics") == ultralytics_flops(fused(model, torch), torch.zeros(1, 3, 64, 64))


def test_fvcore_resnet50_as_timm_publishes(torchvision: Any) -> None:
    # timm's model cards give fvcore's count; here fvcore itself, run on torchvision's ResNet-50,
    # against cnncalc's example of it
    importorskip("fvcore")
    measured = fvcore_count(torchvision.models.resnet50().eval(), torch.zeros(1, 3, 224, 224))
    assert report_under(cnncalc.load(str(EXAMPLES / "resnet50.yaml")), "fvcore").totals.macs == measured


def test_torchvision_resnet50_published(torchvision: Any) -> None:
    # torchvision's table: ResNet50_Weights.IMAGENET1K_V1.meta["_ops"] == 4.089 (GFLOPS that
    # count multiply-adds)
    published = torchvision.models.ResNet50_Weights.IMAGENET1K_V1.meta["_ops"]
    assert published == 4.089
    macs = report_under(cnncalc.load(str(EXAMPLES / "resnet50.yaml")), "torchvision").totals.macs
    assert round(macs / 1e9, 3) == published


@pytest.fixture(scope="module")
def yolov8n(torchvision: Any) -> Any:
    importorskip("ultralytics")
    import contextlib
    import io

    from ultralytics.nn import tasks
    from ultralytics.utils import YAML

    d = YAML.load(str(YOLOV8))
    d["scale"] = "n"
    with contextlib.redirect_stdout(io.StringIO()):
        return tasks.DetectionModel(d, verbose=False).eval().fuse(verbose=False)


@pytest.fixture(scope="module")
def yolov8n_counted() -> Report:
    return report_under(read(str(YOLOV8), ReadOptions(scale="n")).network, "ultralytics")


def test_ultralytics_get_flops_of_yolov8n(yolov8n: Any, yolov8n_counted: Report) -> None:
    from tests.count_tools import ultralytics_get_flops

    report = yolov8n_counted
    assert report.totals.macs == ultralytics_flops(yolov8n, torch.zeros(1, 3, 640, 640))
    assert report.totals.macs / 1e9 == ultralytics_get_flops(yolov8n, 640)
    # fused parameters, as model.info() prints them after fuse()
    assert report.totals.params == sum(p.numel() for p in yolov8n.parameters())


def test_ultralytics_published_yolov8n(yolov8n_counted: Report) -> None:
    # Ultralytics' YOLOv8 table (docs/en/models/yolov8.md): YOLOv8n 3.2 M params, 8.7 B FLOPs at
    # 640; and the fused model summary "72 layers, 3,151,904 parameters, ..., 8.7 GFLOPs"
    report = yolov8n_counted
    assert round(report.totals.macs / 1e9, 1) == 8.7
    assert report.totals.params == 3_151_904


@pytest.mark.parametrize(("cfg", "published"), [("yolov3-tiny.cfg", 5.571), ("yolov4-tiny.cfg", 6.910)])
def test_darknet_is_its_view(cfg: str, published: float) -> None:
    # Darknet's printout: "Total BFLOPS 5.571" (YOLOv3-tiny) and 6.910 (YOLOv4-tiny)
    got = read(str(EXAMPLES / cfg), ReadOptions())
    report = analyze(got.network)
    counted = count(got.network, report, "darknet")
    layers = darknet_layers(got.extras["darknet"], report)
    by_node = dict(zip((n.key for n in got.network.nodes), counted.figures))
    # each Darknet layer's BFLOPs are the figure of the layer that computes them
    assert all(
        layer.bflops
        == float32(sum(by_node[k] or 0 for k in _section_nodes(got.network, layer.section)) / 1e9)
        for layer in layers
    )
    assert f"{total_bflops(layers):5.3f}" == f"{published:5.3f}"
    assert round((counted.total or 0) / 1e9, 3) == published


def _section_nodes(network: Network, section: Any) -> list[str]:
    """The nodes a Darknet section became: those after its input up to its output."""
    keys = [n.key for n in network.nodes]
    start = keys.index(section.input) + 1 if section.input in keys else 0
    return keys[start : keys.index(section.output) + 1]


def test_json_names_the_convention(runner: CliRunner) -> None:
    result = runner.invoke(app, ["shape", str(EXAMPLES / "lenet5.yaml"), "--count", "ptflops", "-f", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["count"] == {"name": "ptflops", "unit": "MACs", "fused": False, "unknown_layers": []}
    assert "flops" not in data["totals"]
    # ptflops counts biases: conv2d_1 has 6 × 28 × 28 of them on top of its 117,600 multiply-adds
    assert data["layers"][0]["macs"] == 117_600 + 6 * 28 * 28


def test_flops_conventions_fill_flops(runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["shape", str(EXAMPLES / "yolov3-tiny.cfg"), "--count", "darknet", "-f", "json"]
    )
    data = json.loads(result.output)
    assert data["count"]["unit"] == "FLOPs"
    assert data["totals"]["flops"] == data["totals"]["macs"]
    assert all(layer["flops"] == layer["macs"] for layer in data["layers"])
    # layer 0: 16 filters of 3×3×3 on 416×416, 2 FLOPs per multiply-add (Darknet's 0.150 BF)
    assert data["layers"][0]["flops"] == 2 * 16 * 3 * 3 * 3 * 416 * 416


def test_unknown_is_null(runner: CliRunner) -> None:
    # a MultiheadAttention as written does not say how it is called (with or without weights),
    # on which fvcore's count depends
    args = [
        "shape",
        "-i",
        "1,4,8",
        "MultiheadAttention(8, 2, batch_first=True)",
        "--count",
        "fvcore",
        "-f",
        "json",
    ]
    data = json.loads(runner.invoke(app, args).output)
    assert data["layers"][0]["macs"] is None and data["totals"]["macs"] is None
    assert data["count"]["unknown_layers"] == ["multiheadattention_1"]


def test_table_names_the_convention(runner: CliRunner) -> None:
    args = ["shape", str(EXAMPLES / "lenet5.yaml"), "--count", "thop", "--width", "100", "--no-color"]
    result = runner.invoke(app, args)
    assert "MACs (thop)" in result.output
    assert "MACs as thop counts them" in result.output
    csv = runner.invoke(app, ["shape", str(EXAMPLES / "lenet5.yaml"), "--count", "thop", "-f", "csv"]).output
    assert csv.splitlines()[0].split(",")[8] == "macs (thop)"


def test_fuse_folds_batchnorm(runner: CliRunner) -> None:
    # Conv2d(3, 8, 3, bias=False) + BatchNorm2d(8) → Conv2d(3, 8, 3) with a bias: 216 + 8 params
    args = [
        "shape",
        "-i",
        "1,3,8,8",
        "Conv2d(3, 8, 3, bias=False); BatchNorm2d(8); ReLU",
        "--fuse",
        "-f",
        "json",
    ]
    data = json.loads(runner.invoke(app, args).output)
    assert [layer["type"] for layer in data["layers"]] == ["Conv2d", "ReLU"]
    assert data["totals"]["params"] == 3 * 8 * 9 + 8


class _Spellings(torch.nn.Module):  # type: ignore[misc]
    """The same operators spelled the ways ptflops tells apart: it patches torch.add, Tensor.add,
    F.relu and Tensor.matmul, not ``+``, torch.relu or ``@``."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)
        self.relu = torch.nn.ReLU()

    def forward(self, x: Any) -> Any:
        y = self.relu(self.conv(x))
        y = torch.add(y, y) + torch.nn.functional.relu(y)
        y = y.add(torch.relu(y))
        z = y.flatten(2)
        product = z @ z.transpose(1, 2)
        return product.matmul(z) + torch.matmul(product, z)


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_functional_spellings(tool: str) -> None:
    importorskip(tool)
    model = _Spellings().eval()
    network = cnncalc.from_torch(model, (1, 3, 6, 6))
    assert _ours(network, tool) == TOOLS[tool](model, torch.zeros(1, 3, 6, 6))


def test_equiv_names_the_convention(runner: CliRunner) -> None:
    a, b = "Conv2d(8, 8, 3, padding=1); Conv2d(8, 8, 3, padding=1)", "Conv2d(8, 8, 5, padding=2)"
    result = runner.invoke(app, ["equiv", "-i", "1,8,4,4", a, b, "--count", "ptflops", "-f", "json"])
    data = json.loads(result.output)
    assert data["count"] == {"name": "ptflops", "unit": "MACs", "fused": False}
    # ptflops: 8 · 8 · 3 · 3 · 16 multiply-adds and 8 · 16 biases per convolution
    assert data["a"]["macs"] == 2 * (8 * 8 * 9 * 16 + 8 * 16)
