"""Receptive fields: the hand-checked cases of the receptive-field issue, and the exact input
region of units checked against PyTorch's gradients."""

from __future__ import annotations

import os
import random
import warnings
from fractions import Fraction
from typing import Any

import pytest

from cnncalc.engine.analyze import analyze, unit_region
from cnncalc.errors import CnncalcError
from cnncalc.report import ReceptiveField
from cnncalc.spec.network import network_from_calls


def _field(layers: str, shape: tuple[int, ...]) -> ReceptiveField:
    field = analyze(network_from_calls([layers], shape)).receptive_field
    assert field is not None
    return field


def _ints(values: tuple[Fraction, ...]) -> tuple[int | Fraction, ...]:
    return tuple(int(v) if v.denominator == 1 else v for v in values)


@pytest.mark.parametrize(
    ("layers", "size"),
    [
        # D2L 7.2.6: stacking widens the field; two 3×3 see 5×5, three see 7×7
        ("Conv2d(1, 1, 3); Conv2d(1, 1, 3)", (5, 5)),
        ("Conv2d(1, 1, 3); Conv2d(1, 1, 3); Conv2d(1, 1, 3)", (7, 7)),
        # D2L fig. 7.2.1: a 2×2 convolution on 3×3 then another 2×2: z sees all 9 inputs
        ("Conv2d(1, 1, 2); Conv2d(1, 1, 2)", (3, 3)),
        # dilation 2: k_eff = 2*(3-1) + 1 = 5
        ("Conv2d(1, 1, 3, dilation=2)", (5, 5)),
        # dilations 1, 2, 4 (Yu & Koltun 2016): 1 + 2 + 4 + 8 = 15
        (
            "Conv2d(1, 1, 3, padding=1); Conv2d(1, 1, 3, padding=2, dilation=2);"
            " Conv2d(1, 1, 3, padding=4, dilation=4)",
            (15, 15),
        ),
    ],
)
def test_hand_sizes(layers: str, size: tuple[int, int]) -> None:
    assert _ints(_field(layers, (1, 1, 32, 32)).size) == size


def test_strided_padded_pair() -> None:
    # r = 1 + (3-1)*1 + (2-1)*3 = 6; S = 3; P = 1*1 = 1; unit 0 sees [0*3 - 1, -1 + 6 - 1] = [-1, 4]
    net = network_from_calls(["Conv1d(1, 1, 3, padding=1, stride=3); Conv1d(1, 1, 2)"], (1, 1, 12))
    field = analyze(net).receptive_field
    assert field is not None
    assert (field.size, field.stride, field.padding) == ((6,), (3,), (1,))
    region = unit_region(net, (0,))
    assert region.region == ((-1, 4),)
    assert region.input_region == ((0, 4),)
    assert region.in_padding == 1
    assert region.affecting == 5


def test_anisotropic_kernels() -> None:
    # H: 1 + 2*1 + 2*2 = 7, W: 1 + 4*1 + 0*2 = 5; stride 2*2 = 4 on both axes
    field = _field("Conv2d(1, 1, (3, 5), stride=2); Conv2d(1, 1, (3, 1), stride=2)", (1, 1, 32, 32))
    assert _ints(field.size) == (7, 5)
    assert _ints(field.stride) == (4, 4)


def test_chapter_figure_region() -> None:
    # D2L 7.2.6: z's receptive field is all nine elements of the 3×3 input
    net = network_from_calls(["Conv2d(1, 1, 2); Conv2d(1, 1, 2)"], (1, 1, 3, 3))
    region = unit_region(net, (0, 0))
    assert region.positions == (frozenset({0, 1, 2}), frozenset({0, 1, 2}))
    assert region.affecting == 9


def test_transposed_convolution_halves_the_stride() -> None:
    # ConvTranspose1d(k=3, s=2): output j reads inputs i with 2i = j - m, m < 3:
    # r = 2/2 + 1 = 2, S = 1/2, P = (2 - 0)/2 = 1
    field = _field("ConvTranspose1d(1, 1, 3, stride=2)", (1, 1, 8))
    assert (field.size, field.stride, field.padding) == ((2,), (Fraction(1, 2),), (1,))
    assert field.to_dict()["stride"] == ["1/2"]


def test_asymmetric_padding_shifts_by_the_left_pad() -> None:
    # ZeroPad2d((left=2, right=0, top=1, bottom=3)) then a 3×3: P = (1, 2) in (H, W) order
    field = _field("ZeroPad2d((2, 0, 1, 3)); Conv2d(1, 1, 3)", (1, 1, 8, 8))
    assert _ints(field.padding) == (1, 2)


def test_same_padding_uses_the_left_pad_pytorch_applies() -> None:
    # k=4, d=1: total 3, left 1, right 2 (torch/nn/modules/conv.py)
    assert _ints(_field("Conv1d(1, 1, 4, padding='same')", (1, 1, 9)).padding) == (1,)


def test_global_layers_see_the_whole_input() -> None:
    field = _field("Conv2d(1, 1, 3, stride=2); Flatten; Linear(9, 2)", (1, 1, 7, 7))
    assert field.whole
    # union of units 0..2 of a field 3 with stride 2: 3 + (3-1)*2 = 7 = the whole input
    assert _ints(field.size) == (7, 7)


def test_ceil_mode_changes_shapes_not_fields() -> None:
    floor = _field("MaxPool1d(2)", (1, 1, 7))
    ceil = _field("MaxPool1d(2, ceil_mode=True)", (1, 1, 7))
    assert (floor.size, floor.stride, floor.padding) == (ceil.size, ceil.stride, ceil.padding)


# ---- against PyTorch: the exact input positions behind a unit are the ones with gradient ----


def _random_layer(rng: random.Random, dims: int, channels: int) -> tuple[str, list[Any], dict[str, Any], int]:
    """A random spatial layer (name, args, kwargs, output channels) with all-positive weights."""
    d = f"{dims}d"
    kind = rng.choice(
        ["conv", "conv", "pool", "pad", "transposed", "upsample", "reflect", "adaptive", "shuffle"]
    )
    k = rng.randint(1, 4)
    if kind == "conv":
        groups = rng.choice([g for g in (1, 2) if channels % g == 0])
        out = rng.choice([2, 4])
        kw: dict[str, Any] = {
            "stride": rng.randint(1, 3),
            "padding": rng.randint(0, 2),
            "dilation": rng.randint(1, 3),
        }
        return f"Conv{d}", [channels, out, k], {**kw, "groups": groups}, out
    if kind == "reflect":
        return (
            f"Conv{d}",
            [channels, channels, k],
            {"padding": rng.randint(1, 2), "padding_mode": rng.choice(["reflect", "replicate", "circular"])},
            channels,
        )
    if kind == "pool":
        kw = {"stride": rng.randint(1, 3), "padding": rng.randint(0, k // 2), "ceil_mode": rng.random() < 0.3}
        return f"AvgPool{d}", [k], kw, channels
    if kind == "adaptive":
        return f"AdaptiveAvgPool{d}", [rng.randint(1, 7)], {}, channels
    if kind == "shuffle" and dims == 2:
        if channels % 4 == 0 and rng.random() < 0.5:
            return "PixelShuffle", [2], {}, channels // 4
        return "PixelUnshuffle", [2], {}, channels * 4
    if kind == "pad":
        pads = [rng.randint(0, 3) for _ in range(2 * dims)]
        return f"ZeroPad{d}", [tuple(pads)], {}, channels
    if kind == "transposed":
        s = rng.randint(1, 3)
        dil = rng.randint(1, 2)
        kw = {
            "stride": s,
            "padding": rng.randint(0, 1),
            "dilation": dil,
            "output_padding": rng.randint(0, max(s, dil) - 1),
        }
        return f"ConvTranspose{d}", [channels, channels, k], kw, channels
    mode = rng.choice(["nearest", "nearest-exact", "linear", "area"])
    if mode == "linear":
        mode = "linear" if dims == 1 else "bilinear"
        return "Upsample", [], {"scale_factor": rng.choice([2, 4]), "mode": mode}, channels
    return "Upsample", [], {"scale_factor": rng.choice([2, 3]), "mode": mode}, channels


def _call_text(name: str, args: list[Any], kwargs: dict[str, Any]) -> str:
    parts = [repr(a) for a in args] + [f"{key}={value!r}" for key, value in kwargs.items()]
    return f"{name}({', '.join(parts)})"


def _stack(rng: random.Random) -> tuple[tuple[int, ...], list[tuple[str, list[Any], dict[str, Any]]]]:
    dims = rng.choice([1, 2])
    channels = 2
    size = tuple(rng.randint(6, 14) for _ in range(dims))
    layers = []
    for _ in range(rng.randint(1, 4)):
        name, args, kwargs, channels = _random_layer(rng, dims, channels)
        layers.append((name, args, kwargs))
    return (1, 2, *size), layers


@pytest.mark.torch
def test_input_region_matches_pytorch_gradients() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch = pytest.importorskip("torch")
    seed = int(os.environ.get("CNNCALC_RF_SEED", "2019"))
    rng = random.Random(seed)
    checked, mismatches = 0, []
    while checked < 300:
        shape, layers = _stack(rng)
        text = "; ".join(_call_text(*layer) for layer in layers)
        try:
            net = network_from_calls([text], shape)
            report = analyze(net)
        except CnncalcError:
            continue  # a stack PyTorch would refuse too; the conformance tests cover those
        out = report.layers[-1].output_shape
        unit = tuple(rng.randrange(n) for n in out[2:])
        region = unit_region(net, unit)
        modules = []
        for name, args, kwargs in layers:
            module = getattr(torch.nn, name)(*args, **kwargs).double()
            for param in module.parameters():
                torch.nn.init.constant_(param, 1.0 if param.dim() > 1 else 0.0)
            modules.append(module)
        x = torch.ones(shape, dtype=torch.float64, requires_grad=True)
        y = torch.nn.Sequential(*modules)(x)
        assert tuple(y.shape) == out
        y[(0, slice(None), *unit)].sum().backward()
        assert x.grad is not None
        touched = {tuple(p) for p in (x.grad[0].abs().sum(0) > 0).nonzero().tolist()}
        assert region.cells is not None
        expected = set(region.cells)
        box = (
            tuple((min(p[a] for p in touched), max(p[a] for p in touched)) for a in range(len(unit)))
            if touched
            else None
        )
        if not region.exact:  # a PixelShuffle after a PixelUnshuffle: a superset, flagged as such
            if not touched <= expected:
                mismatches.append(f"{text} on {shape}, unit {unit}: torch {sorted(touched)} not within")
        elif touched != expected or box != region.input_region:
            mismatches.append(
                f"{text} on {shape}, unit {unit}: torch {sorted(touched)}, cnncalc {region.positions}"
            )
        checked += 1
    assert not mismatches, f"{len(mismatches)} of {checked} (seed {seed}):\n" + "\n".join(mismatches[:20])
