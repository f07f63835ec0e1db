"""Valid input sizes and output-shape formulas, with PyTorch's forward as the oracle."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from typing import Any

import pytest

import cnncalc
from cnncalc.engine.analyze import trace
from cnncalc.engine.quasi import QA
from cnncalc.engine.sizes import EVERY, ValidSet, refusal, shape_formulas, valid_sizes
from cnncalc.graph import NETWORK_INPUT, Network
from tests.conftest import EXAMPLES
from tests.torch_build import to_torch

torch = pytest.importorskip("torch")
torch.set_num_threads(1)  # thousands of tiny forwards: threads only add overhead

SIZES = range(1, 161)


class _Oracle:
    """The network as a real nn.Module (built once), run at any input shape."""

    def __init__(self, network: Network, device: Any) -> None:
        self.device = device
        self.model = to_torch(network, torch).to(device).eval()
        self.steps = trace(network)

    def shapes(self, shape: tuple[int, ...]) -> list[tuple[int, ...]] | None:
        """Every layer's output shape from PyTorch's forward, or None if PyTorch refuses."""
        values: dict[int, Any] = {NETWORK_INPUT: torch.zeros(shape, device=self.device)}
        try:
            with torch.no_grad():
                for step, module in zip(self.steps, self.model.layers):
                    xs = [values[i] for i in step.node.inputs]
                    layer = step.node.layer
                    if layer.kind == "Concat":
                        out = torch.cat(xs, dim=layer.dim)
                    elif layer.kind == "Add":
                        out = xs[0] + xs[1]
                    elif layer.kind == "Mul":
                        out = xs[0] * xs[1]
                    else:
                        out = module(xs[0])
                    values[step.node.index] = out
        except RuntimeError:
            return None
        return [tuple(values[s.node.index].shape) for s in self.steps]


def _formula_value(text: str, env: dict[str, int]) -> int:
    value = eval(text, {"__builtins__": {}}, dict(env))  # the formulas are plain integer arithmetic
    assert isinstance(value, int)
    return value


def _check_against_torch(
    network: Network, device: Any = "cpu", sizes: range = SIZES, axes: tuple[str, ...] | None = None
) -> None:
    report = valid_sizes(network)
    formulas = shape_formulas(network, report)
    fixed = {a.name: network.input_shape[a.dim] for a in report.axes}
    oracle = _Oracle(network, device)
    for axis in report.axes:
        assert axis.valid is not None, axis.unknown
        if axes is not None and axis.name not in axes:
            continue
        for n in sizes:
            shape = list(network.input_shape)
            shape[axis.dim] = n
            shapes = oracle.shapes(tuple(shape))
            assert (shapes is not None) == (n in axis.valid), (axis.name, n, axis.describe())
            if shapes is None:
                continue
            env = {**fixed, axis.name: n}
            for layer, got in zip(formulas.layers, shapes):
                texts = layer.output_shape_formula
                assert all(t is not None for t in texts), layer
                assert tuple(_formula_value(t, env) for t in texts if t is not None) == got, (layer, n)


# ---- random U-Net-like networks ----------------------------------------------------------------


def _random_unet(seed: int) -> Network:
    """Strided convolutions, max/avg pools (ceil_mode sometimes), transposed convolutions or
    Upsample concatenated with the skips; sometimes Flatten + Linear at the end. Drawn again
    until some size up to 160 is accepted (the oracle module is built at that size)."""
    rng = random.Random(seed)
    while True:
        net = _draw_unet(rng)
        if net is not None:
            return net


def _draw_unet(rng: random.Random) -> Network | None:
    dims = rng.choice((1, 2, 2))
    nd = f"{dims}d"

    def conv(name: str, cin: int, k: int, **more: Any) -> dict[str, Any]:
        return {
            "name": name,
            "type": f"Conv{nd}",
            "in_channels": cin,
            "out_channels": 2,
            "kernel_size": k,
            **more,
        }

    layers: list[Any] = []
    skips: list[str] = []
    strides: list[int] = []
    channels = 1
    depth = rng.randint(1, 3)
    for level in range(depth):
        k = rng.choice((1, 3, 5))
        layers.append(conv(f"enc{level}", channels, k, padding=rng.choice((0, k // 2, k // 2))))
        channels = 2
        skips.append(f"enc{level}")
        down = rng.choice(("conv", "conv3", "max", "avg"))
        if down == "conv":
            kd = rng.choice((2, 3))
            layers.append(conv(f"down{level}", 2, kd, stride=2, padding=rng.choice((0, kd // 2))))
        elif down == "conv3":
            layers.append(conv(f"down{level}", 2, 3, stride=3, padding=rng.choice((0, 1))))
        elif down == "max":
            kp = rng.choice((2, 3))
            pool = {
                "kernel_size": kp,
                "stride": 2,
                "padding": rng.choice((0, kp // 2)),
                "ceil_mode": rng.random() < 0.5,
            }
            layers.append({"name": f"down{level}", "type": f"MaxPool{nd}", **pool})
        else:
            pool = {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": rng.random() < 0.5}
            layers.append({"name": f"down{level}", "type": f"AvgPool{nd}", **pool})
        strides.append(3 if down == "conv3" else 2)
    layers.append(conv("bottom", 2, 3, padding=1))
    for level in reversed(range(depth)):
        s = strides[level]
        if rng.random() < 0.5:
            kt, pt, op = rng.choice(((s, 0, 0), (3, 1, 1), (4, 1, 0), (3, 0, 0), (3, 1, 0)))
            up = {"kernel_size": kt, "stride": s, "padding": pt, "output_padding": op}
            layers.append(
                {
                    "name": f"up{level}",
                    "type": f"ConvTranspose{nd}",
                    "in_channels": channels,
                    "out_channels": 2,
                    **up,
                }
            )
        else:
            layers.append({"name": f"upn{level}", "type": "Upsample", "scale_factor": float(s)})
            layers.append(conv(f"up{level}", channels, 1))
        if rng.random() < 0.25:  # one more row and column before the merge
            kind = rng.choice(("ZeroPad", "ReflectionPad", "ReplicationPad"))
            layers.append({"name": f"pad{level}", "type": f"{kind}{nd}", "padding": [0, 1] * dims})
        if rng.random() < 0.25:  # a residual around a size-keeping convolution
            layers.append(conv(f"res{level}", 2, 3, padding=1))
            layers.append({"name": f"add{level}", "type": "Add", "from": [f"res{level}", layers[-2]["name"]]})
        layers.append({"name": f"cat{level}", "type": "Concat", "from": [layers[-1]["name"], skips[level]]})
        channels = 4
    # the file's size: one that the layers accept (the oracle module is built there)
    sizes = list(range(8, 65))  # small, so that the forwards at every size stay cheap
    rng.shuffle(sizes)
    for size in sizes:
        shape = [1, 1] + [size] * dims
        try:
            flat = cnncalc.analyze(cnncalc.network(shape, layers)).output_shape
        except cnncalc.errors.CnncalcError:
            continue
        if rng.random() < 0.3:
            features = math.prod(flat[1:])
            layers += [{"type": "Flatten"}, {"type": "Linear", "in_features": features, "out_features": 3}]
        return cnncalc.network(shape, layers)
    return None


@pytest.mark.parametrize("seed", range(12))
def test_random_unets_agree_with_torch(seed: int) -> None:
    _check_against_torch(_random_unet(seed))


MODES = ("reflect", "circular")


def _random_chain(rng: random.Random) -> Network:
    """A 1d chain of the size-changing kinds the random U-Nets leave out."""
    choices = [
        lambda: f"Conv1d(2, 2, {rng.randint(1, 5)}, stride={rng.randint(1, 3)}, padding={rng.randint(0, 2)})",
        lambda: f"Conv1d(2, 2, 3, padding={rng.randint(1, 2)}, padding_mode='{rng.choice(MODES)}')",
        lambda: f"Conv1d(2, 2, {rng.choice((2, 3, 4))}, padding='same', dilation={rng.randint(1, 2)})",
        lambda: f"MaxPool1d({rng.randint(2, 4)}, stride={rng.randint(1, 3)}, padding=1, ceil_mode=True)",
        lambda: f"AvgPool1d(3, stride={rng.randint(2, 3)}, ceil_mode={rng.random() < 0.5})",
        lambda: f"ConvTranspose1d(2, 2, {rng.randint(1, 4)}, stride={rng.randint(1, 3)}, padding=1)",
        lambda: f"ReflectionPad1d(({rng.randint(0, 3)}, {rng.randint(0, 3)}))",
        lambda: f"Upsample(scale_factor={rng.choice((1.5, 0.5, 0.75, 2.0))})",
        lambda: f"Narrow(2, {rng.randint(0, 3)}, {rng.randint(1, 6)})",
        lambda: "InstanceNorm1d(2)",
        lambda: "Unflatten(2, (-1, 2))",
    ]
    layers = []
    for _ in range(rng.randint(1, 5)):
        layer = rng.choice(choices)()
        layers.append(layer)
        if layer.startswith("Unflatten"):
            layers.append("Flatten(2)")
    return cnncalc.network([1, 2, 50], layers)


@pytest.mark.parametrize("seed", range(30))
def test_rule_matches_the_layer_rules_at_every_size(seed: int) -> None:
    # the proof evaluates each piece once; here every size up to 300 is checked with the
    # layers' own rules (whose agreement with PyTorch the tests above and tests/conformance check)
    net = _random_chain(random.Random(seed))
    axis = valid_sizes(net).axis("L")
    assert axis.valid is not None, axis.unknown
    for n in range(1, 301):
        assert (n in axis.valid) == (refusal(net, (1, 2, n)) is None), (n, axis.describe())


# ---- hand examples ---------------------------------------------------------------------------------


def test_unet_needs_a_multiple_of_16() -> None:
    # four 2x2 max pools and four 2x transposed convolutions, each concatenated with its skip:
    # at depth i the skip has floor(H / 2^i) rows and the upsampled branch 2 * floor(H / 2^(i+1)),
    # equal exactly when floor(H / 2^i) is even; all four together: H divisible by 16.
    layers: list[Any] = [
        {"name": "e0", "type": "Conv2d", "in_channels": 1, "out_channels": 1, "kernel_size": 3, "padding": 1}
    ]
    for i in range(4):
        layers += [
            {"name": f"p{i}", "type": "MaxPool2d", "kernel_size": 2},
            {"name": f"e{i + 1}", "type": "Conv2d", "out_channels": 1, "kernel_size": 3, "padding": 1},
        ]
    for i in reversed(range(4)):
        layers += [
            {"name": f"u{i}", "type": "ConvTranspose2d", "out_channels": 1, "kernel_size": 2, "stride": 2},
            {"name": f"c{i}", "type": "Concat", "from": [f"u{i}", f"e{i}"]},
            {"name": f"d{i}", "type": "Conv2d", "out_channels": 1, "kernel_size": 3, "padding": 1},
        ]
    net = cnncalc.network([1, 1, 64, 48], layers)
    report = valid_sizes(net)
    for axis in report.axes:
        assert axis.valid == ValidSet(16, 16, (0,))
        assert axis.first == (16, 32, 48, 64, 80)
        assert axis.nearest(500) == (496, 512)
        assert axis.describe() == f"{axis.name}: every multiple of 16 from 16"
        assert [c.layers for c in axis.constraints] == [("c0",)]
    formulas = {f.path: f.output_shape_formula for f in shape_formulas(net, report).layers}
    assert formulas["p3"] == ("1", "1", "H // 16", "W // 16")
    assert formulas["u2"] == ("1", "1", "H // 4", "W // 4")  # 2 * (H // 8), equal on multiples of 16
    assert formulas["d0"] == ("1", "1", "H", "W")
    assert report.to_dict()["axes"][0]["valid"] == {"min": 16, "period": 16, "residues": [0], "also": []}
    _check_against_torch(net, sizes=range(1, 81))


def test_yolov3_tiny_rule() -> None:
    # Darknet's stride-2 max pools are ConstantPad2d((0, 1, 0, 1)) + MaxPool2d(2, 2): H -> ceil(H/2).
    # The route at layer 20 concatenates the 2x upsampled ceil(H/32) with ceil(H/16): equal
    # exactly when ceil(H/16) is even, i.e. H mod 32 is 0 or 17..31 (every multiple of 32 passes).
    net = cnncalc.load(str(EXAMPLES / "yolov3-tiny.cfg"))
    report = valid_sizes(net)
    rule = ValidSet(17, 32, (0, *range(17, 32)))
    assert [a.valid for a in report.axes] == [rule, rule]
    assert report.axis("H").describe() == "H: H mod 32 in {0, 17..31} from 17"
    assert report.axis("H").constraints[0].layers == ("layer_20",)
    assert report.axis("W").nearest(500) == (500, 500)  # 500 = 15 * 32 + 20
    assert report.axis("W").nearest(496) == (480, 497)  # 496 = 15 * 32 + 16
    formulas = {f.path: f.output_shape_formula for f in shape_formulas(net, report).layers}
    assert formulas["layer_15"] == ("1", "255", "(H + 15) // 32", "(W + 15) // 32")  # ceil(H/32) here
    assert formulas["layer_22"] == ("1", "255", "(H + 15) // 16", "(W + 15) // 16")
    # against PyTorch on H with W held at 32 (a valid width, to keep the forwards small)
    narrow = replace(net, input_shape=(1, 3, 416, 32))
    assert valid_sizes(narrow).axis("H").valid == rule
    _check_against_torch(narrow, sizes=range(1, 65), axes=("H",))  # two periods of 32


def test_linear_fixes_a_finite_set() -> None:
    # Conv2d(1, 2, 3) then MaxPool2d(2): W' = (W - 2) // 2; Flatten + Linear(2 * 5 * 5) needs
    # (H - 2) // 2 = 5, so H is 12 or 13.
    net = cnncalc.network(
        [1, 1, 12, 12],
        ["Conv2d(1, 2, 3)", "MaxPool2d(2)", "Flatten()", "Linear(50, 4)"],
    )
    report = valid_sizes(net)
    assert report.axis("H").valid == ValidSet(None, 1, (), (12, 13))
    assert report.axis("H").describe() == "H: only 12, 13"
    assert report.axis("H").nearest(100) == (13, None)
    _check_against_torch(net, sizes=range(1, 41))


def test_unknown_is_reported() -> None:
    # Upsample by 0.1: floor(float(H) * 0.1) is a float product, not a short binary fraction
    net = cnncalc.network([1, 1, 40, 40], ["Upsample(scale_factor=0.1)"])
    axis = valid_sizes(net).axis("H")
    assert axis.valid is None
    assert axis.unknown is not None and "scale_factor 0.1" in axis.unknown


def test_broadcasting_merges() -> None:
    # Add of MaxPool1d(2) (L // 2) and Conv1d(k=3) (L - 2): equal, or one of them 1. L // 2 = L - 2
    # for L = 4 (and 3, where both are 1); L = 2 leaves the convolution empty: {3, 4}.
    net = cnncalc.network(
        [1, 1, 4],
        [
            {"name": "a", "type": "Conv1d", "in_channels": 1, "out_channels": 1, "kernel_size": 3},
            {"name": "b", "type": "MaxPool1d", "kernel_size": 2, "from": "input"},
            {"name": "s", "type": "Add", "from": ["b", "a"]},
        ],
    )
    axis = valid_sizes(net).axis("L")
    assert axis.valid == ValidSet(None, 1, (), (3, 4))
    assert [c.layers for c in axis.constraints] == [("s",), ("a",)]
    _check_against_torch(net, sizes=range(1, 41))
    # squeeze-and-excitation: the pooled 1x1 gate multiplies the feature map at every size
    se = cnncalc.network(
        [1, 2, 9, 9],
        [
            {
                "name": "f",
                "type": "Conv2d",
                "in_channels": 2,
                "out_channels": 2,
                "kernel_size": 3,
                "stride": 2,
            },
            {"type": "AdaptiveAvgPool2d", "output_size": 1},
            {"type": "Conv2d", "in_channels": 2, "out_channels": 2, "kernel_size": 1},
            "Sigmoid",
            {"name": "gate", "type": "Mul", "from": ["f", "sigmoid_1"]},
        ],
    )
    assert [a.valid for a in valid_sizes(se).axes] == [ValidSet(3, 1, (0,))] * 2
    _check_against_torch(se, sizes=range(1, 41))


def test_three_axes_and_ceil_mode() -> None:
    # AvgPool3d(3, 2, ceil_mode=True): out = ceil((D - 3) / 2) + 1 = D // 2, and PyTorch's 3d
    # average pooling also wants D >= 3; the 2x upsampled branch, 2 * (D // 2), meets a 1x1x1
    # convolution's D only for even D (D = 2 is below the kernel): so even D from 4, where the
    # upsampled size 2 * (D // 2) is D
    net = cnncalc.network(
        [1, 1, 6, 6, 6],
        [
            {"name": "c", "type": "Conv3d", "in_channels": 1, "out_channels": 1, "kernel_size": 1},
            {"type": "AvgPool3d", "kernel_size": 3, "stride": 2, "ceil_mode": True},
            {"type": "Upsample", "scale_factor": 2.0},
            {"name": "cat", "type": "Concat", "from": ["upsample_1", "c"]},
        ],
    )
    report = valid_sizes(net)
    assert [a.name for a in report.axes] == ["D", "H", "W"]
    assert report.axis("D").valid == ValidSet(4, 2, (0,))
    formulas = shape_formulas(net, report).layers
    assert formulas[1].output_shape_formula == ("1", "1", "D // 2", "H // 2", "W // 2")
    assert formulas[2].output_shape_formula == ("1", "1", "D", "H", "W")
    _check_against_torch(net, sizes=range(1, 25), axes=("D",))


def test_refusals_the_conditions_do_not_cover_are_reported() -> None:
    # in_channels 2 against 1 input channel: refused at every size by a check no size enters,
    # which the derived conditions do not model: reported as unknown, with the refusal
    net = replace(cnncalc.network([1, 2, 8], ["Conv1d(2, 2, 3)"]), input_shape=(1, 1, 8))
    axis = valid_sizes(net).axis("L")
    assert axis.valid is None
    assert axis.unknown is not None and "in_channels=2 but the input has 1 channels" in axis.unknown


def test_every_size() -> None:
    net = cnncalc.network([1, 3, 8], ["Conv1d(3, 4, 3, padding=1)", "ReLU"])
    axis = valid_sizes(net).axis("L")
    assert axis.valid == EVERY and axis.describe() == "L: every size"
    assert shape_formulas(net).layers[0].output_shape_formula == ("1", "4", "L")


def test_quasi_affine_floor() -> None:
    # floor((n + 1) / 2) twice is floor((n + 3) / 4) for every n: slope 1/4, period 4
    f = QA.ident().floordiv(1, 1, 2).floordiv(1, 1, 2)
    assert f.period == 4
    assert all(f(n) == (n + 3) // 4 for n in range(-20, 50))


def test_file_size_kept_for_other_axes() -> None:
    net = cnncalc.network([1, 1, 9, 10], ["Conv2d(1, 1, 3, stride=2)"])
    report = valid_sizes(net)
    assert report.axis("H").valid == ValidSet(3, 1, (0,))
    # with H = 2 no W works: the H output (2 - 3) // 2 + 1 = 0 is refused at every W
    net2 = replace(net, input_shape=(1, 1, 2, 10))
    assert valid_sizes(net2).axis("W").valid == ValidSet(None, 1, ())
