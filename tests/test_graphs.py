"""Multi-path networks: blocks, from: references, graph errors, the torchvision examples, and
random graphs against real PyTorch modules (shapes, parameters, receptive-field regions)."""

from __future__ import annotations

import os
import random
import warnings
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app
from cnncalc.engine.analyze import unit_region
from cnncalc.spec.network import load_text
from tests.conftest import EXAMPLES


@pytest.mark.parametrize(
    ("example", "params", "macs", "tolerance"),
    [
        # torchvision.models documentation: num_params and GFLOPS (multiply-adds) at 224×224
        ("resnet18.yaml", 11_689_512, 1.814e9, 0.005),
        ("resnet50.yaml", 25_557_032, 4_089_184_256, 0),  # the core issue's exact figure
        ("mobilenet_v2.yaml", 3_504_872, 0.301e9, 0.005),
        ("densenet121.yaml", 7_978_856, 2.834e9, 0.005),
        ("googlenet.yaml", 6_624_904, 1.498e9, 0.005),
        ("squeezenet1_0.yaml", 1_248_424, 0.819e9, 0.005),
    ],
)
def test_torchvision_figures(example: str, params: int, macs: float, tolerance: float) -> None:
    report = cnncalc.analyze(cnncalc.load(str(EXAMPLES / example)))
    assert report.totals.params == params
    assert report.output_shape == (1, 1000)
    if tolerance == 0:
        assert report.totals.macs == macs
    else:
        assert abs(report.totals.macs - macs) <= tolerance * macs


def test_blocks_sum_their_layers_once() -> None:
    report = cnncalc.analyze(cnncalc.load(str(EXAMPLES / "resnet18.yaml")))
    top = [b for b in report.blocks if b.depth == 1]
    assert [b.path for b in top] == ["layer1", "layer2", "layer3", "layer4"]
    # each parameter is counted once: top-level blocks plus top-level layers make the total
    outside = sum(layer.params for layer in report.layers if "." not in layer.path)
    assert outside + sum(b.params for b in top) == report.totals.params


def test_paths_and_inputs() -> None:
    report = cnncalc.analyze(cnncalc.load(str(EXAMPLES / "resnet18.yaml")))
    add = next(layer for layer in report.layers if layer.path == "layer2.residual_1.add")
    assert add.inputs == ("layer2.residual_1.body.batchnorm2d_2", "layer2.residual_1.shortcut.batchnorm2d_1")
    first = next(layer for layer in report.layers if layer.path.startswith("layer1.0."))
    assert first.path == "layer1.0.residual_1.body.conv2d_1"


def test_distill_alignment_example() -> None:
    """Distill 2019, "alignment": branch A is a 1×1 conv with stride 4; branch B pads 1 on the
    left, then a 3×3 conv with stride 2 and a 1×1 conv with stride 2. Both centres sit at 0 and
    both strides are 4, so the paths are aligned; the union has r = 3, S = 4, P = 1."""
    text = """
input: [1, 1, 16, 16]
layers:
  - {type: Conv2d, name: a, in_channels: 1, out_channels: 1, kernel_size: 1, stride: 4}
  - {type: ZeroPad2d, name: pad, padding: [1, 0, 1, 0], from: input}
  - {type: Conv2d, name: b1, in_channels: 1, out_channels: 1, kernel_size: 3, stride: 2}
  - {type: Conv2d, name: b2, in_channels: 1, out_channels: 1, kernel_size: 1, stride: 2}
  - {type: Add, from: [a, b2]}
"""
    field = cnncalc.analyze(load_text(text, "<test>")).receptive_field
    assert field is not None
    assert (field.size, field.stride, field.padding) == ((3, 3), (4, 4), (1, 1))
    assert field.misaligned_strides == ()


def test_misaligned_paths_are_flagged() -> None:
    """Path a: a 3×3 with padding 1 (r 3, P 1, centre (3-1)/2 - 1 = 0). Path b: pad 1 on the
    left/top, then a 2×2 (r 2, P 1, centre 1/2 - 1 = -1/2). Same stride, different centres: the
    union is still reported (P = max 1 = 1, r - 1 = max(3-1-1, 2-1-1) + 1 = 2) and flagged."""
    text = """
input: [1, 1, 16, 16]
layers:
  - {type: Conv2d, name: a, in_channels: 1, out_channels: 1, kernel_size: 3, padding: 1}
  - {type: ZeroPad2d, name: pad, padding: [1, 0, 1, 0], from: input}
  - {type: Conv2d, name: b, in_channels: 1, out_channels: 1, kernel_size: 2}
  - {type: Add, from: [a, b]}
"""
    field = cnncalc.analyze(load_text(text, "<test>")).receptive_field
    assert field is not None
    assert (field.size, field.stride, field.padding) == ((3, 3), (1, 1), (1, 1))
    assert field.to_dict()["misaligned"] == {
        "strides": [[1, 1], [1, 1]],
        "centres": [[0, 0], ["-1/2", "-1/2"]],
    }


def test_yaml_anchors_make_independent_copies(runner: CliRunner) -> None:
    result = runner.invoke(app, ["check", str(EXAMPLES / "densenet121.yaml")])
    assert result.exit_code == 0
    report = cnncalc.analyze(cnncalc.load(str(EXAMPLES / "densenet121.yaml")))
    # 6 + 12 + 24 + 16 dense layers, each named by its copy index
    cats = [layer.path for layer in report.layers if layer.type == "Concat"]
    assert len(cats) == 58
    assert cats[:2] == ["denseblock1.0.concat_1.cat", "denseblock1.1.concat_1.cat"]


def test_depth_folds_blocks(runner: CliRunner) -> None:
    plain = CliRunner(env={"COLUMNS": "100", "NO_COLOR": "1"})
    result = plain.invoke(app, ["shape", str(EXAMPLES / "resnet18.yaml"), "--depth", "1"])
    lines = [line for line in result.stdout.splitlines() if "Sequential" in line]
    assert [line.split()[1] for line in lines] == ["layer1", "layer2", "layer3", "layer4"]
    assert "├─" not in result.stdout


# ---- random graphs against PyTorch ------------------------------------------------------------


def _chain(rng: random.Random, c: int, depth: int, out: int | None = None) -> tuple[list[Any], int]:
    """A random list of layers keeping the spatial size, from c channels to ``out`` (or any)."""
    items: list[Any] = []
    for _ in range(rng.randint(1, 3)):
        choice = rng.random()
        if depth > 0 and choice < 0.3:
            block, c = _block(rng, c, depth - 1)
            items.append(block)
        elif choice < 0.7:
            c2 = rng.choice([2, 4, 6])
            k = rng.choice([1, 3])
            groups = rng.choice([g for g in (1, 2) if c % g == 0 and c2 % g == 0])
            items.append(f"Conv2d({c}, {c2}, {k}, padding={k // 2}, groups={groups})")
            c = c2
        else:
            items.append(rng.choice(["BatchNorm2d", "ReLU", "Identity", f"GroupNorm(1, {c})"]))
    if out is not None and c != out:
        items.append(f"LazyConv2d({out}, 1)")
        c = out
    return items, c


def _block(rng: random.Random, c: int, depth: int) -> tuple[dict[str, Any], int]:
    kind = rng.choice(["residual", "concat", "sequential"])
    if kind == "residual":
        body, _ = _chain(rng, c, depth, out=c)
        block: dict[str, Any] = {"type": "Residual", "body": body}
        if rng.random() < 0.4:
            block["shortcut"] = [f"Conv2d({c}, {c}, 1)"]
        return block, c
    if kind == "concat":
        branches, total = [], 0
        for _ in range(rng.randint(2, 3)):
            branch, c2 = ([], c) if rng.random() < 0.3 else _chain(rng, c, depth)
            branches.append(branch)
            total += c2
        return {"type": "Concat", "branches": branches}, total
    layers, _ = _chain(rng, c, depth, out=c)
    return {"type": "Sequential", "repeat": rng.randint(1, 3), "layers": layers}, c


def _random_network(rng: random.Random) -> str:
    items, _ = _chain(rng, 3, depth=3)
    items.insert(0, "Conv2d(3, 3, 3, padding=1)")
    if rng.random() < 0.5:  # a named skip across the whole stack, merged by an explicit Add
        items[0] = {"type": "Conv2d", "name": "stem", "out_channels": 3, "kernel_size": 3, "padding": 1}
        items.append({"type": "Conv2d", "name": "proj", "out_channels": 3, "kernel_size": 1})
        items.append({"type": "Add", "from": ["stem", "proj"]})
    return yaml.safe_dump({"input": [1, 3, 9, 9], "layers": items}, sort_keys=False)


@pytest.mark.torch
def test_random_graphs_match_pytorch() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch = pytest.importorskip("torch")
    from tests.torch_build import to_torch

    seed = int(os.environ.get("CNNCALC_GRAPH_SEED", "2016"))
    rng = random.Random(seed)
    mismatches = []
    for case in range(150):
        text = _random_network(rng)
        network = load_text(text, f"<graph {case}>")
        report = cnncalc.analyze(network)
        model = to_torch(network, torch).double().eval()
        for name, param in model.named_parameters():
            torch.nn.init.constant_(param, 0.0 if name.endswith("bias") else 1.0)
        x = torch.ones(network.input_shape, dtype=torch.float64, requires_grad=True)
        y = model(x)
        params = sum(p.numel() for p in model.parameters())
        if tuple(y.shape) != report.output_shape or params != report.totals.params:
            got = f"cnncalc {report.output_shape} {report.totals.params}"
            mismatches.append(f"case {case}: torch {tuple(y.shape)} {params}, {got}\n{text}")
            continue
        unit = tuple(rng.randrange(n) for n in report.output_shape[2:])
        if "GroupNorm" in text:
            # its statistics mix every position of a group; receptive fields treat norms as
            # pointwise (the receptive-field issue, after Distill), so only shapes are compared
            continue
        region = unit_region(network, unit)
        y[(0, slice(None), *unit)].sum().backward()
        touched = {tuple(p) for p in (x.grad[0].abs().sum(0) > 0).nonzero().tolist()}
        if region.cells is None or set(region.cells) != touched:
            mismatches.append(
                f"case {case}, unit {unit}: torch {sorted(touched)}, cnncalc {region.cells}\n{text}"
            )
    assert not mismatches, f"{len(mismatches)} mismatches (seed {seed}):\n" + "\n".join(mismatches[:5])
