"""Receptive fields of the tensor, arithmetic and attention kinds: the exact input positions behind
a unit checked against PyTorch's gradients where a map is claimed, and hand cases for the maps
that are global or unknown."""

from __future__ import annotations

import os
import random
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

from cnncalc.engine.analyze import analyze, unit_region
from cnncalc.errors import CnncalcError
from cnncalc.spec.network import load_text, network_from_calls

TESTS_DIR = Path(__file__).resolve().parent
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))


def _field(text: str, shape: tuple[int, ...]) -> Any:
    return analyze(network_from_calls([text], shape)).receptive_field


def test_channel_operations_keep_the_field() -> None:
    # two 3×3 convolutions see 5×5 (D2L 7.2.6); taking, reducing or scaling channels keeps that
    base = "Conv2d(4, 4, 3); Conv2d(4, 4, 3)"
    for op in (
        "Mean(1, keepdim=True)",
        "Chunk(2, 1, 1)",
        "Slice(1, 0, 2)",
        "LearnedMul((4, 1, 1))",
        "Arith('mul', 2.0)",
        "Softmax(1)",
        "LayerNorm2d(4)",
        "DropPath(0.1)",
        "StochasticDepth(0.1, 'row')",
        "Permute((1, 0, 2, 3))",
    ):
        field = _field(f"{base}; {op}", (1, 4, 12, 12))
        assert field is not None, op
        assert (tuple(field.size), field.whole) == ((5, 5), False), op


def test_reductions_over_space_are_global() -> None:
    # a mean over (H, W) of a 10×10 map sees all of it: 5 + (8 - 1) = 12 input positions per axis
    field = _field("Conv2d(1, 1, 3); Conv2d(1, 1, 3); Mean((2, 3))", (1, 1, 12, 12))
    assert field is not None
    assert (tuple(field.size), field.whole) == ((12, 12), True)
    # a softmax over the only position axis mixes every position too
    assert _field("Conv1d(1, 2, 3); Softmax(-1)", (1, 1, 9)).whole
    # normalisations stay pointwise, the README's stated convention (Distill), over any axes
    assert tuple(_field("Conv2d(1, 2, 3); LayerNorm((2, 4, 4))", (1, 1, 6, 6)).size) == (3, 3)


@pytest.mark.parametrize(
    "op",
    [
        "Permute((0, 2, 3, 1))",  # channels-last: the spatial axes are no longer last
        "Transpose(2, 3)",  # H and W swapped
        "Reshape((1, 4, 64))",  # H and W merged
        "Mean(2)",  # a reduction over H only
        "Softmax(3)",  # normalised over W only
        "Unsqueeze(2)",
        "Select(2, 0)",
        "Repeat((1, 1, 2, 1))",
        "MultiheadAttention(8, 2)",  # attention over tokens: every token sees every other
    ],
)
def test_moved_or_partly_mixed_space_is_unknown(op: str) -> None:
    shape = (1, 4, 8, 8) if "Multihead" not in op else (5, 1, 8)
    prefix = "Conv2d(4, 4, 1); " if "Multihead" not in op else ""
    assert _field(f"{prefix}{op}", shape) is None


def test_matmul_and_attention_give_macs_and_an_unknown_field() -> None:
    # ViT-B/16's attention at 224: 197 tokens, 12 heads of 64; q·kᵀ and weights·v each
    # 12·197·197·64 = 29,805,312 multiply-adds (torchvision's _ops convention)
    text = """
input: [1, 12, 197, 64]
layers:
  - {name: q, type: Identity}
  - {name: k, type: Identity, from: input}
  - {name: v, type: Identity, from: input}
  - {type: ScaledDotProductAttention, from: [q, k, v]}
"""
    net = load_text(text, "vit-attention.yaml")
    report = analyze(net)
    assert report.layers[-1].macs == 2 * 12 * 197 * 197 * 64
    assert report.layers[-1].output_shape == (1, 12, 197, 64)
    assert report.receptive_field is None
    # nn.MultiheadAttention(768, 12) on 197 tokens: in-projection 197·3·768², q·kᵀ and
    # weights·v 2·197²·768, out-projection 197·768²: 348,585,984 + 59,610,624 + 116,195,328 =
    # 524,391,936 multiply-adds; 4·768² weights and 4·768 biases = 2,362,368 parameters
    mha = analyze(network_from_calls(["MultiheadAttention(768, 12, batch_first=True)"], (1, 197, 768)))
    assert mha.totals.macs == 197 * 3 * 768**2 + 2 * 197**2 * 768 + 197 * 768**2 == 524_391_936
    assert mha.totals.params == 4 * 768**2 + 4 * 768 == 2_362_368


# ---- against PyTorch: positions behind a unit are those with gradient --------------------------


def _op(rng: random.Random, rank: int, channels: int) -> tuple[str, list[Any], dict[str, Any], int]:
    """A random kind whose map is claimed (identity or exact windows), with its output channels."""
    spatial = rng.randrange(2, rank)
    choice = rng.choice(["slice", "split", "chunk", "channels", "learned", "mean", "arith", "permute"])
    if choice == "slice":
        return "Slice", [spatial, rng.randint(-3, 2), rng.choice([None, -1]), rng.randint(1, 3)], {}, channels
    if choice == "split":
        return "Split", [rng.randint(1, 3), spatial, rng.randint(0, 1)], {}, channels
    if choice == "chunk":
        return "Chunk", [rng.randint(1, 3), spatial, 0], {}, channels
    if choice == "channels":
        return "Slice", [1, 0, 1], {}, 1
    if choice == "learned":
        return "LearnedMul", [[channels] + [1] * (rank - 2)], {}, channels
    if choice == "mean":
        return "Sum", [1], {"keepdim": True}, 1
    if choice == "arith":
        return "Arith", ["pow", 2.0], {}, channels
    return "Permute", [[1, 0, *range(2, rank)]], {}, channels


def _torch_layer(torch: Any, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    from conformance import vocab

    if hasattr(torch.nn, name):
        module = getattr(torch.nn, name)(*args, **kwargs).double()
    else:
        module = vocab._module({"type": name, "args": args, "kwargs": kwargs}, torch)
    if isinstance(module, torch.nn.Module):
        module = module.double()
        for param in module.parameters():
            with torch.no_grad():
                param.uniform_(0.1, 1.0)
    return module


@pytest.mark.torch
def test_input_region_matches_pytorch_gradients() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch = pytest.importorskip("torch")
    seed = int(os.environ.get("CNNCALC_RF_SEED", "2019"))
    rng = random.Random(seed)
    checked, mismatches = 0, []
    while checked < 150:
        rank = rng.choice([3, 4])
        dims = rank - 2
        shape = (1, 2, *[rng.randint(8, 14) for _ in range(dims)])
        channels = 2
        layers: list[tuple[str, list[Any], dict[str, Any]]] = []
        for i in range(rng.randint(2, 4)):
            if i == 0 or rng.random() < 0.5:  # a convolution first: the field has its axes
                out = rng.choice([2, 3])
                k = rng.randint(1, 3)
                layers.append((f"Conv{dims}d", [channels, out, k], {"stride": rng.randint(1, 2)}))
                channels = out
            else:
                name, args, kwargs, channels = _op(rng, rank, channels)
                layers.append((name, args, kwargs))
        text = "; ".join(
            f"{n}({', '.join([repr(a) for a in args] + [f'{k}={v!r}' for k, v in kw.items()])})"
            for n, args, kw in layers
        )
        try:
            net = network_from_calls([text], shape)
            report = analyze(net)
        except CnncalcError:
            continue  # a stack PyTorch would refuse too (the conformance tests cover refusals)
        out = report.layers[-1].output_shape
        if 0 in out:
            continue
        unit = tuple(rng.randrange(n) for n in out[2:])
        region = unit_region(net, unit)
        torch.manual_seed(checked)
        modules = [_torch_layer(torch, *layer) for layer in layers]
        x = (torch.rand(shape, dtype=torch.float64) + 0.5).requires_grad_(True)
        y = x
        for module in modules:
            y = module(y)
        assert tuple(y.shape) == out, text
        y[(0, 0, *unit)].backward()  # one output channel: no cancellation through a sum of them
        assert x.grad is not None
        touched = {tuple(p) for p in (x.grad[0].abs().sum(0) > 0).nonzero().tolist()}
        assert region.cells is not None and region.exact
        if touched != set(region.cells):
            mismatches.append(
                f"{text} on {shape}, unit {unit}: torch {sorted(touched)}, cnncalc {region.positions}"
            )
        checked += 1
    assert not mismatches, f"{len(mismatches)} of {checked} (seed {seed}):\n" + "\n".join(mismatches[:20])
