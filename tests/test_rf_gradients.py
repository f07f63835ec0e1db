"""Receptive-field sizes and ``whole_input`` against PyTorch's input gradients.

The oracle: with positive weights nothing cancels, so the input positions whose gradient is
non-zero for one output unit are exactly the positions that affect it. The reported size is the
largest extent (last - first + 1) of that support over the interior units; ``whole_input`` holds
exactly when every unit's support is the whole input.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from cnncalc.engine.analyze import analyze
from cnncalc.spec.network import load_text, network_from_calls

torch = pytest.importorskip("torch")
nn = torch.nn


def _positive(module: Any) -> Any:
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.rand_like(p) + 0.1)
    return module


def _gradient_support(module: Any, size: int) -> tuple[int, bool]:
    """(largest row extent of the support over interior units, every unit sees everything)."""
    x = torch.rand(1, 1, size, size, requires_grad=True)
    y = module(x)
    h, w = y.shape[-2:]
    best, whole = 0, True
    for u in range(h // 4, max(3 * h // 4, h // 4 + 1)):
        v = min(u, w - 1)
        (g,) = torch.autograd.grad(y[0, 0, u, v], x, retain_graph=True)
        support = g[0, 0] != 0
        rows = support.any(1).nonzero().flatten()
        if len(rows):  # a transposed convolution with gaps leaves units that see no input
            best = max(best, int(rows[-1] - rows[0] + 1))
        whole = whole and bool(support.all())
    return best, whole


class _SE(nn.Module):  # type: ignore[misc]
    """x * sigmoid(conv1x1(mean over positions of x)): the squeeze-and-excitation gate."""

    def __init__(self) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Conv2d(1, 1, 1)

    def forward(self, x: Any) -> Any:
        return x * torch.sigmoid(self.fc(self.pool(x)))


class _Residual(nn.Module):  # type: ignore[misc]
    def __init__(self, dilation: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 3, padding=dilation, dilation=dilation)

    def forward(self, x: Any) -> Any:
        return x + self.conv(x)


def _random_network(rng: random.Random) -> tuple[list[str], Any]:
    """Layers as cnncalc YAML entries and the same network in PyTorch."""
    entries: list[str] = []
    modules: list[Any] = []
    for depth in range(rng.randint(2, 5)):
        kind = rng.choice(["conv", "conv", "tconv", "up", "avg", "res", "se"])
        name = f"l{depth}"
        if kind == "conv":
            k, s, d = rng.choice([1, 2, 3]), rng.choice([1, 1, 2]), rng.choice([1, 1, 2])
            p = d * (k - 1) // 2
            entries.append(
                f"- {{type: Conv2d, name: {name}, in_channels: 1, out_channels: 1, "
                f"kernel_size: {k}, stride: {s}, padding: {p}, dilation: {d}}}"
            )
            modules.append(nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d))
        elif kind == "tconv":
            k, s = rng.choice([1, 2, 3, 4]), rng.choice([1, 2, 3])
            entries.append(
                f"- {{type: ConvTranspose2d, name: {name}, in_channels: 1, out_channels: 1, "
                f"kernel_size: {k}, stride: {s}}}"
            )
            modules.append(nn.ConvTranspose2d(1, 1, k, stride=s))
        elif kind == "up":
            entries.append(f"- {{type: Upsample, name: {name}, scale_factor: 2}}")
            modules.append(nn.Upsample(scale_factor=2))
        elif kind == "avg":
            k, s = rng.choice([2, 3]), rng.choice([1, 2])
            entries.append(f"- {{type: AvgPool2d, name: {name}, kernel_size: {k}, stride: {s}}}")
            modules.append(nn.AvgPool2d(k, stride=s))
        elif kind == "res":
            d = rng.choice([1, 2])
            entries.append(
                f"- {{type: Residual, name: {name}, body: ['Conv2d(1, 1, 3, padding={d}, dilation={d})']}}"
            )
            modules.append(_Residual(d))
        else:
            entries += [
                f"- {{type: Identity, name: {name}x}}",
                f"- {{type: AdaptiveAvgPool2d, name: {name}p, output_size: 1}}",
                f"- {{type: Conv2d, name: {name}c, in_channels: 1, out_channels: 1, kernel_size: 1}}",
                f"- {{type: Sigmoid, name: {name}g}}",
                f"- {{type: Mul, name: {name}, from: [{name}x, {name}g]}}",
            ]
            modules.append(_SE())
    return entries, _positive(nn.Sequential(*modules))


@pytest.mark.parametrize("seed", range(30))
def test_random_network_matches_gradients(seed: int) -> None:
    rng = random.Random(seed)
    entries, module = _random_network(rng)
    size = 40
    text = f"name: net{seed}\ninput: [1, 1, {size}, {size}]\nlayers:\n" + "\n".join("  " + e for e in entries)
    try:
        network = load_text(text, f"net{seed}.yaml")
        out = module(torch.zeros(1, 1, size, size))
    except Exception:  # a draw that shrinks the map to nothing in either tool
        pytest.skip("no output units for this draw")
    if min(out.shape[-2:]) < 1:
        pytest.skip("no output units")
    field = analyze(network).receptive_field
    assert field is not None
    extent, whole = _gradient_support(module, size)
    assert field.whole == whole, text
    assert field.size[0] == extent, text


@pytest.mark.parametrize(
    ("calls", "torch_layers", "pytorch_size"),
    [
        # each output unit of a stride-2 2x2 transposed convolution sees one input position
        ("ConvTranspose2d(1,1,2,stride=2)", lambda: [nn.ConvTranspose2d(1, 1, 2, stride=2)], 1),
        # nearest upsampling by 2 then 2x2 average pooling (stride 2): unit j averages two copies of
        # input j; with stride 1 the windows straddle two inputs
        ("Upsample(scale_factor=2); AvgPool2d(2)", lambda: [nn.Upsample(scale_factor=2), nn.AvgPool2d(2)], 1),
        (
            "Upsample(scale_factor=2); AvgPool2d(2, stride=1)",
            lambda: [nn.Upsample(scale_factor=2), nn.AvgPool2d(2, stride=1)],
            2,
        ),
        (
            "Conv2d(1,1,3); Upsample(scale_factor=2); ConvTranspose2d(1,1,3,stride=2)",
            lambda: [nn.Conv2d(1, 1, 3), nn.Upsample(scale_factor=2), nn.ConvTranspose2d(1, 1, 3, stride=2)],
            4,
        ),
    ],
)
def test_reproductions(calls: str, torch_layers: Any, pytorch_size: int) -> None:
    field = analyze(network_from_calls([calls], (1, 1, 16, 16))).receptive_field
    assert field is not None
    assert field.size == (pytorch_size, pytorch_size)
    assert _gradient_support(_positive(nn.Sequential(*torch_layers())), 16)[0] == pytorch_size


def test_squeeze_excitation_makes_everything_global() -> None:
    text = """name: se
input: [1, 1, 32, 32]
layers:
  - {type: Conv2d, name: feat, in_channels: 1, out_channels: 1, kernel_size: 3, stride: 2, padding: 1}
  - AdaptiveAvgPool2d(1)
  - Conv2d(1, 1, 1)
  - {type: Sigmoid, name: gate}
  - {type: Mul, from: [feat, gate]}
  - Conv2d(1, 1, 3, padding=1)
"""
    report = analyze(load_text(text, "se.yaml"))
    field = report.receptive_field
    assert field is not None and field.whole and field.size == (32, 32)
    module = _positive(
        nn.Sequential(nn.Conv2d(1, 1, 3, stride=2, padding=1), _SE(), nn.Conv2d(1, 1, 3, padding=1))
    )
    assert _gradient_support(module, 32) == (32, True)


def test_unit_on_a_whole_layer_says_so() -> None:
    from typer.testing import CliRunner

    from cnncalc.cli import app

    argv = ["rf", "-i", "1,1,8,8", "Conv2d(1,1,3); AdaptiveAvgPool2d(1); Conv2d(1,1,1)", "--unit", "0,0"]
    result = CliRunner(env={"NO_COLOR": "1"}).invoke(app, argv)
    assert result.exit_code == 0, result.output
    assert "every unit of this layer depends on every input position" in result.stdout
    assert "affecting        64 input positions" in result.stdout  # 8×8: the whole input


def test_unet_size_is_the_gradient_support() -> None:
    """examples/unet.yaml at 256×256: PyTorch's gradients give 204 (the Distill algebra, 215)."""
    from cnncalc.engine.analyze import unit_region
    from tests.conftest import EXAMPLES
    from tests.torch_build import to_torch

    size = 256
    network = load_text((EXAMPLES / "unet.yaml").read_text(), "unet.yaml", (1, 3, size, size))
    field = analyze(network).receptive_field
    assert field is not None and field.size == (204, 204)
    module = _positive(to_torch(network, torch)).double()
    x = torch.rand(1, 3, size, size, dtype=torch.float64, requires_grad=True)
    y = module(x)
    best = 0
    for u in range(size // 2 - 8, size // 2 + 8):  # one period (16) of the support pattern
        (g,) = torch.autograd.grad(y[0, 0, u, u], x, retain_graph=True)
        rows = (g[0].abs().sum(0).sum(1) != 0).nonzero().flatten()
        best = max(best, int(rows[-1] - rows[0] + 1))
    assert best == 204
    # one --unit block states one extent: the region is the traced support
    region = unit_region(network, (128, 128))
    assert region.region == region.input_region


@pytest.mark.parametrize(
    ("calls", "size", "layers", "whole"),
    [
        # positions 2u + {0, 2, 4}: only even inputs reach the pool, so not every position affects it
        ("Conv2d(1,1,3,stride=2,dilation=2)", 9, lambda: [nn.Conv2d(1, 1, 3, stride=2, dilation=2)], False),
        ("Conv2d(1,1,3,stride=2)", 9, lambda: [nn.Conv2d(1, 1, 3, stride=2)], True),
        # one unit reading {0, 5}: positions 1 to 4 never reach the pool
        ("Conv2d(1,1,2,dilation=5)", 6, lambda: [nn.Conv2d(1, 1, 2, dilation=5)], False),
    ],
)
def test_global_pool_after_gaps(calls: str, size: int, layers: Any, whole: bool) -> None:
    network = network_from_calls([calls + "; AdaptiveAvgPool2d(1)"], (1, 1, size, size))
    field = analyze(network).receptive_field
    assert field is not None and field.whole == whole
    module = _positive(nn.Sequential(*layers(), nn.AdaptiveAvgPool2d(1)))
    assert _gradient_support(module, size)[1] == whole


def test_size_is_the_unbounded_one_when_the_field_outgrows_the_input() -> None:
    """On a 4×4 input the field reaches past the edges; the size reported is the support on an
    unbounded input: PyTorch's gradient support over interior units of the same layers on 64×64."""
    calls = "Conv2d(1,1,5,padding=2); Upsample(scale_factor=2); Conv2d(1,1,7,padding=3)"

    def layers() -> Any:
        return nn.Sequential(
            nn.Conv2d(1, 1, 5, padding=2), nn.Upsample(scale_factor=2), nn.Conv2d(1, 1, 7, padding=3)
        )

    expected, _ = _gradient_support(_positive(layers()), 64)
    small = analyze(network_from_calls([calls], (1, 1, 4, 4))).receptive_field
    assert small is not None and small.size == (expected, expected)
    clipped, _ = _gradient_support(_positive(layers()), 4)
    assert clipped < expected  # what the small input itself would show
