"""The bundled examples and the seed facts, with the source of every expected figure."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app
from tests.conftest import EXAMPLES


def _report(name: str) -> cnncalc.Report:
    return cnncalc.analyze(cnncalc.load(str(EXAMPLES / name)))


def test_seed_conv2d() -> None:
    report = _report("seed_conv2d.yaml")
    (layer,) = report.layers
    assert layer.output_shape == (4, 3, 3, 5)  # padding (1, 2) keeps a 3×5 map under a 3×5 kernel
    assert layer.params == 3 * 2 * 3 * 5 + 3  # weight (c_o, c_i, k_h, k_w) + one bias per output
    assert layer.macs == (4 * 3 * 3 * 5) * (2 * 3 * 5)  # output elements × c_i·k_h·k_w
    assert layer.activation_bytes == 4 * 3 * 3 * 5 * 4  # float32


# one layer: the field is the kernel (3, 5), stride 1, padding (1, 2) (H, W); unit 0 is centred
# at (r - 1)/2 - P = (0, 0); a 3×5 field on a 3×5 input does not exceed it
SEED_FIELD = {
    "size": [3, 5],
    "stride": [1, 1],
    "padding": [1, 2],
    "centre": [0, 0],
    "whole_input": False,
    "exceeds_input": False,
    "misaligned": None,
}


def test_seed_json_contract() -> None:
    """The JSON of the seed network, key for key, as the core issue specifies it."""
    result = CliRunner().invoke(app, ["shape", str(EXAMPLES / "seed_conv2d.yaml"), "--format", "json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "name": "seed-conv2d",
        "input_shape": [4, 2, 3, 5],
        "output_shape": [4, 3, 3, 5],
        "output_shapes": [[4, 3, 3, 5]],
        "dtype": "float32",
        "layers": [
            {
                "index": 0,
                "name": "conv2d_1",
                "type": "Conv2d",
                "input_shape": [4, 2, 3, 5],
                "output_shape": [4, 3, 3, 5],
                "params": 93,
                "trainable_params": 93,
                "macs": 5400,
                "activation_bytes": 720,
                "receptive_field": SEED_FIELD,
                "path": "conv2d_1",
                "inputs": ["input"],
            }
        ],
        "totals": {
            "params": 93,
            "trainable_params": 93,
            "non_trainable_params": 0,
            "macs": 5400,
            "param_bytes": 372,
            "activation_bytes": 720,
        },
        "receptive_field": SEED_FIELD,
        "outputs": ["conv2d_1"],
        "blocks": [],
    }


def test_seed_maxpool2d_keeps_channels() -> None:
    # D2L 7.5: pooling runs per channel.
    # Height: floor((4 + 2 - 3) / 2) + 1 = 2; width: (4 + 2 - 3) / 1 + 1 = 4
    report = _report("seed_maxpool2d.yaml")
    assert report.output_shape == (1, 2, 2, 4)
    assert report.totals.params == 0


def test_one_by_one_conv() -> None:
    # D2L 7.4.3: a 1×1 convolution keeps height and width; its weights are a c_o × c_i matrix
    report = _report("one_by_one_conv.yaml")
    assert report.output_shape == (1, 2, 3, 3)
    assert report.totals.params == 2 * 3 + 2


@pytest.mark.parametrize(
    ("example", "params", "gmacs", "output"),
    [
        # D2L 7.6 (LeNet): 61,706 parameters; MACs by hand: conv1 6·28·28·25 = 117,600,
        # conv2 16·10·10·150 = 240,000, linears 400·120 + 120·84 + 84·10 = 58,920 → 416,520
        ("lenet5.yaml", 61_706, None, (1, 10)),
        # torchvision.models documentation tables: num_params and GFLOPS (multiply-adds)
        ("alexnet.yaml", 61_100_840, "0.71", (1, 1000)),
        ("vgg16.yaml", 138_357_544, "15.47", (1, 1000)),
    ],
)
def test_reference_networks(example: str, params: int, gmacs: str | None, output: tuple[int, ...]) -> None:
    report = _report(example)
    assert report.totals.params == params
    assert report.totals.trainable_params == params
    assert report.output_shape == output
    if gmacs is None:
        assert report.totals.macs == 117_600 + 240_000 + 58_920
    else:
        assert f"{report.totals.macs / 1e9:.2f}" == gmacs


def test_totals_add_up() -> None:
    for path in sorted(EXAMPLES.glob("*.yaml")):
        report = cnncalc.analyze(cnncalc.load(str(path)))
        t = report.totals
        assert t.params == sum(layer.params for layer in report.layers)
        assert t.macs == sum(layer.macs for layer in report.layers)
        assert t.activation_bytes == sum(layer.activation_bytes for layer in report.layers)
        assert t.trainable_params + t.non_trainable_params == t.params
        assert t.param_bytes == 4 * t.params


def test_every_example_opens_with_a_comment() -> None:
    for path in sorted(EXAMPLES.glob("*.yaml")):
        assert path.read_text(encoding="utf-8").startswith("#"), path.name
