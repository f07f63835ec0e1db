"""Shape rules checked against independent derivations: window enumeration, hand arithmetic."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cnncalc.cli import app
from cnncalc.engine.single import layer_output
from cnncalc.errors import CnncalcError
from tests.torch_nn import NOT_TORCH, import_torch, inferred, lazy_alias, named, parameters


def _count_windows(size: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """Count window positions one by one, in padded coordinates (the window i covers
    i*s .. i*s + span - 1 of the padded input of length size + 2p).

    Floor mode (PyTorch's default): the window lies inside the padded input.
    Ceil mode: it may hang over the padded end by less than one stride, and must start inside
    the input or its left padding (Pool.h pooling_output_shape).
    """
    span = d * (k - 1) + 1
    padded = size + 2 * p
    count = 0
    for i in range(padded + 1):
        first, last = i * s, i * s + span - 1
        if ceil_mode:
            ok = last <= padded - 1 + s - 1 and first - p < size
        else:
            ok = last <= padded - 1
        count += ok
    return count


@settings(max_examples=300, deadline=None)
@given(
    size=st.integers(1, 40),
    k=st.integers(1, 7),
    s=st.integers(1, 5),
    d=st.integers(1, 3),
    data=st.data(),
)
def test_conv_output_size_is_the_number_of_windows(
    size: int, k: int, s: int, d: int, data: st.DataObject
) -> None:
    p = data.draw(st.integers(0, 4))
    expected = _count_windows(size, k, s, p, d, ceil_mode=False)
    try:
        shape, params = layer_output(
            "Conv1d", [2, 4, k], {"stride": s, "padding": p, "dilation": d}, (1, 2, size)
        )
    except CnncalcError:
        assert expected == 0
    else:
        assert shape == (1, 4, expected)
        assert params == 4 * 2 * k + 4


@settings(max_examples=300, deadline=None)
@given(
    size=st.integers(1, 40), k=st.integers(1, 7), s=st.integers(1, 5), ceil_mode=st.booleans(), data=st.data()
)
def test_max_pool_output_size_is_the_number_of_windows(
    size: int, k: int, s: int, ceil_mode: bool, data: st.DataObject
) -> None:
    p = data.draw(st.integers(0, k // 2))  # PyTorch: padding at most half the kernel
    expected = _count_windows(size, k, s, p, 1, ceil_mode)
    try:
        shape, _ = layer_output(
            "MaxPool1d", [k], {"stride": s, "padding": p, "ceil_mode": ceil_mode}, (1, 3, size)
        )
    except CnncalcError:
        assert expected == 0
    else:
        assert shape == (1, 3, expected)


def test_hand_derived_shapes() -> None:
    # D2L 7.3: (n_h - k_h + p_h + s_h) / s_h with p_h total padding: (8 - 3 + 2 + 2) // 2 = 4
    assert layer_output("Conv2d", [1, 1, 3], {"padding": 1, "stride": 2}, (1, 1, 8, 8))[0] == (1, 1, 4, 4)
    # D2L 7.3: kernel (3, 5), padding (0, 1), stride (3, 4) on 8×8: ((8-3+0+3)//3, (8-5+2+4)//4) = (2, 2)
    shape = layer_output(
        "Conv2d", [1, 1], {"kernel_size": (3, 5), "padding": (0, 1), "stride": (3, 4)}, (1, 1, 8, 8)
    )
    assert shape[0] == (1, 1, 2, 2)
    # transposed convolution: (L - 1)s - 2p + d(k - 1) + output_padding + 1 = 3*2 - 2 + 2 + 1 + 1 = 8
    shape = layer_output(
        "ConvTranspose2d", [4, 2, 3], {"stride": 2, "padding": 1, "output_padding": 1}, (1, 4, 4, 4)
    )
    assert shape == ((1, 2, 8, 8), 4 * 2 * 9 + 2)
    # 'same' padding keeps the size for any kernel and dilation (total 2*(4-1) = 6 split 3/3)
    assert layer_output("Conv1d", [1, 1, 4], {"padding": "same", "dilation": 2}, (1, 1, 9))[0] == (1, 1, 9)
    # grouped convolution: weight (out, in/groups, k, k) = 6 * 2 * 9, plus 6 biases
    assert layer_output("Conv2d", [4, 6, 3], {"groups": 2}, (1, 4, 5, 5))[1] == 6 * 2 * 9 + 6
    # Linear on the last axis keeps leading axes
    assert layer_output("Linear", [5, 7], {}, (2, 3, 5)) == ((2, 3, 7), 5 * 7 + 7)
    # PixelShuffle(2): (C·4, H, W) → (C, 2H, 2W)
    assert layer_output("PixelShuffle", [2], {}, (1, 8, 3, 5))[0] == (1, 2, 6, 10)
    # Upsample: floor(5 * 1.5) = 7
    assert layer_output("Upsample", [], {"scale_factor": 1.5}, (1, 1, 5))[0] == (1, 1, 7)


def test_layers_catalogue_of_conv2d(runner: CliRunner) -> None:
    result = runner.invoke(app, ["layers", "--format", "json"])
    entries = json.loads(result.stdout)
    conv = next(e for e in entries if e["type"] == "Conv2d")
    assert [a["name"] for a in conv["arguments"]] == [
        "in_channels", "out_channels", "kernel_size", "stride", "padding",
        "dilation", "groups", "bias", "padding_mode",
    ]  # fmt: skip
    assert conv["arguments"][0]["default"] == "inferred"
    assert conv["arguments"][3]["default"] == "1"
    text = runner.invoke(app, ["layers", "conv2d"]).stdout
    assert text.splitlines()[0] == (
        "Conv2d(in_channels=<inferred>, out_channels, kernel_size, stride=1, padding=0, dilation=1, "
        "groups=1, bias=True, padding_mode='zeros')   (also LazyConv2d)"
    )


def test_schema_of_conv2d(runner: CliRunner) -> None:
    schema = json.loads(runner.invoke(app, ["schema"]).stdout)
    assert schema["required"] == ["input", "layers"]
    conv = schema["$defs"]["Conv2d"]
    assert conv["required"] == ["type", "out_channels", "kernel_size"]
    assert "LazyConv2d" in conv["properties"]["type"]["enum"]


def test_narrow_follows_torch_narrow() -> None:
    # torch.narrow(x, 1, 32, 32) on 64 channels keeps channels 32..63 (Darknet's route groups=2 id=1)
    assert layer_output("Narrow", [1, 32, 32], {}, (1, 64, 13, 13)) == ((1, 32, 13, 13), 0)
    # a negative start counts from the end: -16 on 64 is 48
    assert layer_output("Narrow", [1, -16, 16], {}, (1, 64, 13, 13))[0] == (1, 16, 13, 13)
    for start, length in ((40, 32), (65, 0), (0, -1)):
        with pytest.raises(CnncalcError):
            layer_output("Narrow", [1, start, length], {}, (1, 64, 13, 13))


@pytest.mark.torch
def test_catalogue_is_torch_nn_constructor_arguments(runner: CliRunner) -> None:
    """Every kind's arguments — names, positional order, defaults, keyword-only — and Lazy alias
    are those of the torch.nn class of that name, read with inspect.signature."""
    torch = import_torch()
    entries = json.loads(runner.invoke(app, ["layers", "--format", "json"]).stdout)
    kinds = [e["type"] for e in entries]
    assert kinds == sorted(set(kinds))
    assert {k for k in kinds if not hasattr(torch.nn, k)} == set(NOT_TORCH)
    for entry in entries:
        kind = entry["type"]
        if kind in NOT_TORCH:
            continue
        free = inferred(torch, kind)
        expected = [
            {
                "name": p.name,
                "default": "inferred"
                if p.name == free
                else "required"
                if p.default is p.empty
                else repr(p.default),
                "keyword_only": p.kind is p.KEYWORD_ONLY,
            }
            for p in named(parameters(torch, kind))
        ]
        got = [{k: a[k] for k in ("name", "default", "keyword_only")} for a in entry["arguments"]]
        assert (kind, got) == (kind, expected)
        assert (kind, entry["lazy_alias"]) == (kind, lazy_alias(torch, kind))


@pytest.mark.torch
def test_schema_defines_the_torch_nn_arguments(runner: CliRunner) -> None:
    """Each layer mapping of the schema has torch.nn's arguments, requires those without a
    default (the inferred one excepted) and names the class as type, any case, Lazy alias too."""
    torch = import_torch()
    defined = json.loads(runner.invoke(app, ["schema"]).stdout)["$defs"]
    for kind, definition in defined.items():
        if kind in ("layer", "Residual", "Sequential", *NOT_TORCH):
            continue
        params = named(parameters(torch, kind))
        common = ["type", "name", "trainable", "from"]
        assert (kind, list(definition["properties"])) == (kind, common + [p.name for p in params])
        free = inferred(torch, kind)
        needed = [p.name for p in params if p.default is p.empty and p.name != free]
        assert (kind, definition["required"]) == (kind, ["type", *needed])
        alias = lazy_alias(torch, kind)
        names = sorted({kind, kind.lower()} | ({alias} if alias else set()))
        assert (kind, definition["properties"]["type"]["enum"]) == (kind, names)
