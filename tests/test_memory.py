"""The training-memory engine against PyTorch, byte for byte: saved tensors (saved_tensors_hooks,
storages deduplicated), gradients and optimizer state after one step; hand-checked networks for
the peak, inference and the largest batch."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest

import cnncalc
from cnncalc.engine.memory import ADAM_STEP_BYTES, MemoryReport, memory
from cnncalc.engine.saved import RULES
from cnncalc.errors import ArgumentError, GeometryError
from cnncalc.graph import NETWORK_INPUT, Network
from tests.conftest import EXAMPLES
from tests.torch_build import to_torch

OPTIMIZERS = ("none", "sgd", "momentum", "adam", "adamw")


# ---- the oracle ---------------------------------------------------------------------------


def _run(network: Network, torch: Any, model: Any, x: Any, layer_of: list[int]) -> list[Any]:
    """The network's forward over the modules ``to_torch`` built, noting the running layer."""
    values = {NETWORK_INPUT: x}
    for node, module in zip(network.nodes, model.layers):
        layer_of[0] = node.index
        inputs = [values[i] for i in node.inputs]
        kind = node.layer.kind
        if kind == "Add":
            out = inputs[0]
            for other in inputs[1:]:
                out = out + other
        elif kind == "Mul":
            out = inputs[0]
            for other in inputs[1:]:
                out = out * other
        elif kind == "Concat":
            out = torch.cat(inputs, dim=node.layer.dim)  # type: ignore[attr-defined]
        elif kind == "Narrow":
            layer = node.layer
            out = inputs[0].narrow(layer.dim, layer.start, layer.length)  # type: ignore[attr-defined]
        else:
            out = module(inputs[0])
        values[node.index] = out
    return [values[i] for i in network.output_nodes]


def _storage(t: Any) -> int:
    return int(t.untyped_storage()._cdata)


def _model(network: Network, torch: Any, device: str) -> Any:
    torch.manual_seed(0)
    with torch.device(device):  # built on the device: meta parameters cost nothing
        model = to_torch(network, torch).train()
    for node, module in zip(network.nodes, model.layers):
        for p in module.parameters():
            p.requires_grad_(node.trainable)
    return model


def measure(
    network: Network, torch: Any, device: str = "cpu", optimizers: tuple[str, ...] = ()
) -> tuple[dict[int, int], dict[str, int]]:
    """What PyTorch keeps: the bytes saved per layer in a train-mode forward (distinct storages,
    each for the first layer saving it, parameters and buffers left out), and, after one
    backward and one ``step()`` of each of ``optimizers``, the bytes of parameters, gradients
    and each optimizer's state."""
    model = _model(network, torch, device)
    excluded = {_storage(t) for t in [*model.parameters(), *model.buffers()]}
    seen: set[int] = set()
    saved: dict[int, int] = {}
    layer_of = [NETWORK_INPUT]

    def pack(t: Any) -> Any:
        s = _storage(t)
        if s not in excluded and s not in seen:
            seen.add(s)
            saved[layer_of[0]] = saved.get(layer_of[0], 0) + t.untyped_storage().nbytes()
        return t

    x = torch.randn(network.input_shape, device=device)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        outputs = _run(network, torch, model, x, layer_of)
    if not optimizers:
        return saved, {}
    loss = sum(o.float().sum() for o in outputs)
    if loss.requires_grad:
        loss.backward()
    params = list(model.parameters())
    figures = {
        "params": sum(p.numel() * p.element_size() for p in params),
        "grads": sum(p.grad.numel() * p.grad.element_size() for p in params if p.grad is not None),
        "none": 0,
    }
    makers = {
        "sgd": lambda ps: torch.optim.SGD(ps, lr=0.1),
        "momentum": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9),
        "adam": torch.optim.Adam,
        "adamw": torch.optim.AdamW,
    }
    trained = [p for p in params if p.requires_grad]
    for name in optimizers:
        if name == "none":
            continue
        if not trained:  # torch.optim refuses an empty parameter list
            figures[name] = 0
            continue
        optimizer = makers[name](trained)
        optimizer.step()
        figures[name] = sum(
            t.numel() * t.element_size()
            for state in optimizer.state.values()
            for t in state.values()
            if isinstance(t, torch.Tensor)
        )
    return saved, figures


def measured_saved(network: Network, torch: Any, device: str = "cpu") -> dict[int, int]:
    return measure(network, torch, device)[0]


def per_layer(report: MemoryReport) -> dict[int, int]:
    return {layer.index: layer.saved_bytes for layer in report.layers if layer.saved_bytes}  # type: ignore[misc]


def check_against_torch(network: Network, torch: Any, batches: tuple[int, ...], device: str = "cpu") -> None:
    """saved_bytes per layer at each batch, and params, grads and every optimizer's state at the
    last, equal to PyTorch's."""
    for batch in batches:
        net = network_at(network, batch)
        report = memory(net)
        assert report.unknown == ()
        saved, state = measure(net, torch, device, OPTIMIZERS if batch == batches[-1] else ())
        assert per_layer(report) == saved, f"batch {batch}"
        assert report.totals.saved_bytes == sum(saved.values())
    for name in OPTIMIZERS:
        report = memory(network, batch=batches[-1], optimizer=name)
        assert report.totals.params_bytes == state["params"]
        assert report.totals.grads_bytes == state["grads"]
        assert report.totals.optimizer_bytes == state[name], name


def network_at(network: Network, batch: int) -> Network:
    import dataclasses

    return dataclasses.replace(network, input_shape=(batch, *network.input_shape[1:]))


@pytest.fixture(scope="module")
def torch() -> Iterator[Any]:
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tensors of a few hundred elements: threads only contend
    yield torch
    torch.set_num_threads(threads)


# ---- every rule of the table, after a layer that needs a gradient and on the bare input ------

CASES = [
    ("Conv2d(4, 6, 3)", (2, 4, 6, 6)),
    ("Conv2d(4, 6, 3, bias=False)", (2, 4, 6, 6)),
    ("Conv1d(4, 6, 3)", (2, 4, 7)),
    ("Conv3d(4, 6, 3)", (2, 4, 4, 4, 4)),
    ("Conv2d(4, 6, 3, padding=1, padding_mode='reflect')", (2, 4, 6, 6)),
    ("Conv2d(4, 6, 3, padding='same', padding_mode='replicate')", (2, 4, 6, 6)),
    ("Conv2d(4, 6, 3, padding=2, padding_mode='circular')", (2, 4, 6, 6)),
    ("ConvTranspose2d(4, 6, 3, stride=2)", (2, 4, 6, 6)),
    ("ConvTranspose1d(4, 6, 3)", (2, 4, 6)),
    ("Linear(6, 5)", (2, 4, 6)),
    ("Linear(6, 5, bias=False)", (3, 6)),
    ("BatchNorm2d(4)", (2, 4, 6, 6)),
    ("BatchNorm2d(4, affine=False)", (2, 4, 6, 6)),
    ("BatchNorm2d(4, track_running_stats=False)", (2, 4, 6, 6)),
    ("BatchNorm1d(4)", (3, 4)),
    ("BatchNorm3d(4)", (2, 4, 3, 3, 3)),
    ("InstanceNorm2d(4)", (2, 4, 6, 6)),
    ("InstanceNorm2d(4, affine=True)", (2, 4, 6, 6)),
    ("LayerNorm(6)", (2, 4, 6)),
    ("LayerNorm((4, 6), bias=False)", (2, 4, 6)),
    ("GroupNorm(2, 4)", (2, 4, 6, 6)),
    ("PReLU()", (2, 4, 6, 6)),
    *(
        (f"{kind}({args})", (2, 4, 6, 6))
        for kind in ("ReLU", "ReLU6", "SiLU", "Mish", "Hardswish", "Hardsigmoid", "SELU")
        for args in ("", "inplace=True")
    ),
    *(
        (f"{kind}({args})", (2, 4, 6, 6))
        for kind, first in (("LeakyReLU", "0.1"), ("ELU", "1.0"), ("CELU", "1.0"), ("Hardtanh", "-1.0"))
        for args in (first, f"{first}, inplace=True" if kind != "Hardtanh" else "-1.0, 1.0, inplace=True")
    ),
    ("Threshold(0.1, 0.0)", (2, 4, 6, 6)),
    ("Threshold(0.1, 0.0, inplace=True)", (2, 4, 6, 6)),
    *(
        (f"{kind}()", (2, 4, 6, 6))
        for kind in (
            "GELU",
            "Sigmoid",
            "Tanh",
            "LogSigmoid",
            "Softsign",
            "Tanhshrink",
            "Softplus",
            "Hardshrink",
            "Softshrink",
            "Softmax2d",
            "Identity",
            "Flatten",
        )
    ),
    ("GELU(approximate='tanh')", (2, 4, 6, 6)),
    ("Softmax(dim=1)", (2, 4, 6, 6)),
    ("LogSoftmax(dim=-1)", (2, 4, 6, 6)),
    ("Softmin(dim=1)", (2, 4, 6, 6)),
    ("Dropout(0.5)", (2, 4, 6, 6)),
    ("Dropout(0.5, inplace=True)", (2, 4, 6, 6)),
    ("Dropout(0.0)", (2, 4, 6, 6)),
    ("Dropout(1.0)", (2, 4, 6, 6)),
    ("Dropout1d(0.5)", (2, 4, 6)),
    ("Dropout2d(0.5)", (2, 4, 6, 6)),
    ("Dropout3d(0.5)", (2, 4, 3, 3, 3)),
    ("AlphaDropout(0.5)", (2, 4, 6, 6)),
    ("FeatureAlphaDropout(0.5)", (2, 4, 6, 6)),
    ("MaxPool1d(2)", (2, 4, 6)),
    ("MaxPool2d(3, stride=2, padding=1, ceil_mode=True)", (2, 4, 7, 7)),
    ("MaxPool3d(2)", (2, 4, 4, 4, 4)),
    ("AvgPool1d(2)", (2, 4, 6)),
    ("AvgPool2d(2)", (2, 4, 6, 6)),
    ("AvgPool3d(2)", (2, 4, 4, 4, 4)),
    ("AdaptiveAvgPool1d(1)", (2, 4, 6)),
    ("AdaptiveAvgPool2d(1)", (2, 4, 6, 6)),
    ("AdaptiveAvgPool2d((1, 2))", (2, 4, 6, 6)),
    ("AdaptiveAvgPool2d((None, 1))", (2, 4, 1, 6)),
    ("AdaptiveAvgPool3d(2)", (2, 4, 4, 4, 4)),
    ("AdaptiveMaxPool1d(2)", (2, 4, 6)),
    ("AdaptiveMaxPool2d(1)", (2, 4, 6, 6)),
    ("AdaptiveMaxPool3d(2)", (2, 4, 4, 4, 4)),
    ("Flatten(2)", (2, 4, 6, 6)),
    ("Unflatten(1, (2, 2))", (2, 4, 6, 6)),
    ("PixelShuffle(2)", (2, 4, 6, 6)),
    ("PixelUnshuffle(2)", (2, 4, 6, 6)),
    ("ChannelShuffle(2)", (2, 4, 6, 6)),
    ("Upsample(scale_factor=2)", (2, 4, 6, 6)),
    ("Upsample(scale_factor=2, mode='bilinear')", (2, 4, 6, 6)),
    ("Upsample(scale_factor=2, mode='bicubic')", (2, 4, 6, 6)),
    ("Upsample(scale_factor=2, mode='nearest-exact')", (2, 4, 6, 6)),
    ("Upsample(size=3, mode='area')", (2, 4, 6, 6)),
    ("Upsample(size=1, mode='area')", (2, 4, 6, 6)),
    ("UpsamplingNearest2d(scale_factor=2)", (2, 4, 6, 6)),
    ("UpsamplingBilinear2d(scale_factor=2)", (2, 4, 6, 6)),
    ("ZeroPad2d(1)", (2, 4, 6, 6)),
    ("ConstantPad1d(2, 0.5)", (2, 4, 6)),
    ("ReflectionPad2d(1)", (2, 4, 6, 6)),
    ("ReplicationPad3d(1)", (2, 4, 3, 3, 3)),
    ("CircularPad2d(1)", (2, 4, 6, 6)),
    ("ConvTranspose3d(4, 2, 2)", (2, 4, 3, 3, 3)),
    ("InstanceNorm1d(4)", (2, 4, 6)),
    ("InstanceNorm3d(4, affine=True)", (2, 4, 3, 3, 3)),
    ("ZeroPad3d(1)", (2, 4, 3, 3, 3)),
    ("ConstantPad3d(1, 0.5)", (2, 4, 3, 3, 3)),
    ("ReflectionPad1d(2)", (2, 4, 6)),
    ("ReplicationPad1d(2)", (2, 4, 6)),
    ("CircularPad1d(2)", (2, 4, 6)),
    ("Narrow(1, 1, 2)", (2, 4, 6, 6)),
]


VIEWS = [
    # a channel slice is a view: the convolution after it keeps the whole storage it lies in
    ["Conv2d(4, 4, 1)", "Narrow(1, 1, 2)", "Conv2d(2, 3, 1)"],
    # flattening a channel slice cannot be a view: reshape copies, and Linear keeps the copy
    ["Conv2d(4, 4, 1)", "Narrow(1, 1, 2)", "Flatten", "Linear(72, 3)"],
    # a slice of the batch is contiguous: Flatten is a view, Linear keeps the convolution's storage
    ["Conv2d(4, 4, 1)", "Narrow(0, 0, 1)", "Flatten", "Linear(144, 3)"],
    ["Conv2d(4, 4, 1)", "Flatten(2)", "Unflatten(2, (3, 12))", "Flatten", "Linear(144, 3)"],
]


@pytest.mark.torch
@pytest.mark.parametrize("layers", VIEWS, ids=[" ".join(v[1:]) for v in VIEWS])
def test_views_share_storage_as_in_torch(torch: Any, layers: list[str]) -> None:
    check_against_torch(cnncalc.network((2, 4, 6, 6), layers), torch, (2, 3))


@pytest.mark.torch
@pytest.mark.parametrize(("layer", "shape"), CASES, ids=[c[0] for c in CASES])
def test_each_rule_matches_torch(torch: Any, layer: str, shape: tuple[int, ...]) -> None:
    # on the network input (which needs no gradient) and after a 1×1 convolution (which does)
    c = shape[1]
    conv = f"Conv{len(shape) - 2}d({c}, {c}, 1)" if len(shape) > 2 else f"Linear({c}, {c})"
    for layers in ([layer], [conv, layer]):
        network = cnncalc.network(shape, layers)
        report = memory(network)
        assert report.unknown == ()
        # Adam's state counts parameter tensors (a step tensor for each): checked once
        optimizers = ("adam",) if len(layers) == 2 else ()
        saved, state = measure(network, torch, optimizers=optimizers)
        assert per_layer(report) == saved, layers
    assert memory(network, optimizer="adam").totals.optimizer_bytes == state["adam"]
    assert report.totals.grads_bytes == state["grads"]


def test_the_table_covers_every_kind_the_examples_use() -> None:
    kinds = {
        node.layer.kind
        for path in [*EXAMPLES.glob("*.yaml"), *EXAMPLES.glob("*.cfg")]
        for node in cnncalc.load(str(path)).nodes
    }
    assert kinds - set(RULES) == set()


# ---- random chains --------------------------------------------------------------------------

# in-place activations only after layers that keep no copy of their output, as a real network
# must for its backward to run
_KEEPS_OUTPUT_FREE = ("Conv", "BatchNorm", "MaxPool", "AvgPool", "Dropout(", "Linear")


def random_chain(rng: random.Random) -> tuple[tuple[int, ...], list[str]]:
    c, h = rng.randint(1, 4), rng.randint(6, 12)
    shape = (1, c, h, h)
    layers: list[str] = []
    for _ in range(rng.randint(2, 7)):
        choice = rng.choice(["conv", "conv", "bn", "act", "act", "pool", "dropout"])
        if choice == "conv":
            out = rng.randint(1, 6)
            k = rng.choice([1, 3])
            bias = rng.choice(["", ", bias=False"])
            layers.append(f"Conv2d({c}, {out}, {k}, padding={k // 2}{bias})")
            c = out
        elif choice == "bn":
            layers.append(f"BatchNorm2d({c})")
        elif choice == "act":
            layers.append(_activation(rng, layers))
        elif choice == "pool" and h >= 2:
            layers.append(rng.choice(["MaxPool2d(2)", "AvgPool2d(2)"]))
            h //= 2
        elif not layers or layers[-1].startswith(_KEEPS_OUTPUT_FREE):
            layers.append(rng.choice(["Dropout(0.5)", "Dropout(0.2, inplace=True)"]))
        else:
            layers.append("Dropout(0.5)")
    layers.append("Flatten()")
    features = c * h * h
    for _ in range(rng.randint(1, 2)):
        out = rng.randint(2, 8)
        layers.append(f"Linear({features}, {out}{rng.choice(['', ', bias=False'])})")
        features = out
        if rng.random() < 0.5:
            layers.append(_activation(rng, layers))
        if rng.random() < 0.3:
            layers.append("Dropout(0.5)")
    return shape, layers


def _activation(rng: random.Random, layers: list[str]) -> str:
    free = not layers or layers[-1].startswith(_KEEPS_OUTPUT_FREE)
    plain = ["ReLU()", "LeakyReLU(0.1)", "GELU()", "SiLU()", "Sigmoid()", "Tanh()"]
    inplace = ["ReLU(inplace=True)", "LeakyReLU(0.2, inplace=True)", "SiLU(inplace=True)"]
    return rng.choice(plain + inplace if free else plain)


@pytest.mark.torch
@pytest.mark.parametrize("seed", range(12))
def test_random_chains_match_torch(torch: Any, seed: int) -> None:
    shape, layers = random_chain(random.Random(seed))
    check_against_torch(cnncalc.network(shape, layers), torch, (1, 2, 3, 4))


# ---- multi-path networks ---------------------------------------------------------------------

RESIDUAL = """
input: [1, 4, 8, 8]
layers:
  - {type: Conv2d, name: stem, in_channels: 4, out_channels: 8, kernel_size: 3, padding: 1}
  - type: Residual
    body: [BatchNorm2d(8), ReLU(inplace=True), Conv2d(8, 8, 3, padding=1, bias=False), BatchNorm2d(8)]
  - {type: ReLU, name: joined, inplace: true}
  - type: Residual
    name: gate
    body: [Conv2d(8, 8, 1), Sigmoid]
  - {type: Mul, from: [stem, gate]}
  - type: Concat
    branches: [[MaxPool2d(3, stride=1, padding=1)], [Conv2d(8, 4, 1)], [AvgPool2d(3, stride=1, padding=1)]]
  - AdaptiveAvgPool2d(1)
  - Flatten
  - Linear(20, 3)
"""


@pytest.mark.torch
def test_residual_mul_and_concat_match_torch(torch: Any) -> None:
    network = cnncalc.load(RESIDUAL)
    kinds = [node.layer.kind for node in network.nodes]
    assert {"Add", "Mul", "Concat"} <= set(kinds)
    check_against_torch(network, torch, (1, 2, 3, 4))


# ---- the shipped examples ------------------------------------------------------------------

SMALL = {  # a smaller input where the network allows one, to keep the suite fast on CPU
    "alexnet.yaml": (1, 3, 63, 63),
    "vgg16.yaml": (1, 3, 32, 32),
    "lenet5.yaml": None,
    "chapter_rf.yaml": None,
    "one_5x5.yaml": (1, 64, 12, 12),
    "one_by_one_conv.yaml": None,
    "two_3x3.yaml": (1, 64, 12, 12),
    "seed_conv2d.yaml": None,
    "seed_maxpool2d.yaml": None,
    "squeezenet1_0.yaml": (1, 3, 64, 64),
    "yolov3-tiny.cfg": (1, 3, 64, 64),
    "yolov4-tiny.cfg": (1, 3, 64, 64),
    "unet.yaml": (1, 3, 32, 32),
}
BIG = ["resnet18.yaml", "resnet50.yaml", "mobilenet_v2.yaml", "densenet121.yaml", "googlenet.yaml"]


def test_every_example_is_tested() -> None:
    shipped = {p.name for p in [*EXAMPLES.glob("*.yaml"), *EXAMPLES.glob("*.cfg")]}
    assert shipped == set(SMALL) | set(BIG)


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(SMALL))
def test_small_examples_match_torch(torch: Any, name: str) -> None:
    network = cnncalc.load(str(EXAMPLES / name), SMALL[name])
    check_against_torch(network, torch, (1, 2, 3, 4), device="meta")


@pytest.mark.torch
@pytest.mark.parametrize("name", BIG)
def test_big_examples_match_torch_on_meta_tensors(torch: Any, name: str) -> None:
    # meta tensors carry shapes and storages without data: the hooks see what a real run saves
    network = cnncalc.load(str(EXAMPLES / name))
    check_against_torch(network, torch, (1, 2, 3, 4), device="meta")


@pytest.mark.torch
def test_resnet50_batch_32_with_adam(torch: Any) -> None:
    network = network_at(cnncalc.load(str(EXAMPLES / "resnet50.yaml")), 32)
    report = memory(network, optimizer="adam")
    assert report.totals.saved_bytes == sum(measured_saved(network, torch, "meta").values())
    params = 25_557_032 * 4
    assert report.totals.params_bytes == report.totals.grads_bytes == params
    # exp_avg and exp_avg_sq per parameter, and a 4-byte step for each of the 161 tensors
    # (53 convolution weights, 53 × 2 BatchNorm tensors, the Linear's weight and bias)
    assert report.totals.optimizer_bytes == 2 * params + 161 * ADAM_STEP_BYTES
    assert report.totals.saved_bytes == 2_749_316_608


# ---- hand-checked figures -------------------------------------------------------------------


def test_a_small_network_by_hand() -> None:
    # input (2, 3, 8, 8) float32; Conv2d(3, 4, 3) -> (2, 4, 6, 6); BatchNorm2d; ReLU(inplace);
    # MaxPool2d(2) -> (2, 4, 3, 3); Flatten -> (2, 36); Linear(36, 5)
    network = cnncalc.network(
        (2, 3, 8, 8),
        [
            "Conv2d(3, 4, 3)",
            "BatchNorm2d(4)",
            "ReLU(inplace=True)",
            "MaxPool2d(2)",
            "Flatten",
            "Linear(36, 5)",
        ],
    )
    report = memory(network, optimizer="adam")
    x, conv_out, pooled = 2 * 3 * 8 * 8 * 4, 2 * 4 * 6 * 6 * 4, 2 * 4 * 3 * 3 * 4
    assert [layer.saved_bytes for layer in report.layers] == [
        x,  # the convolution keeps the network input
        conv_out + 2 * 4 * 4,  # BatchNorm its input and the mean and invstd of 4 channels
        conv_out,  # the in-place ReLU its result: BatchNorm's output, overwritten
        2 * 4 * 3 * 3 * 8,  # MaxPool its input (the ReLU's storage, counted) and int64 indices
        0,  # Flatten is a view
        pooled,  # Linear its input: a view of the pooled storage, first saved here
    ]
    assert report.layers[3].saved[0].counted is False
    params = (4 * 27 + 4) + 8 + (36 * 5 + 5)
    assert report.totals.params_bytes == report.totals.grads_bytes == params * 4
    assert report.totals.optimizer_bytes == 2 * params * 4 + 6 * 4  # six parameter tensors
    # the largest backward transient: BatchNorm's (or ReLU's) output and input gradients
    assert report.totals.transient_bytes == 2 * conv_out
    assert report.totals.peak_bytes == 4 * params * 4 + 6 * 4 + report.totals.saved_bytes + 2 * conv_out
    assert report.to_dict()["peak_is_estimate"] is True


def test_inference_frees_after_the_last_use() -> None:
    # Conv2d(1, 2, 1) on (1, 1, 4, 4): input 64 B, output 128 B; ReLU(inplace) writes into it;
    # the Residual's Add reads the ReLU's storage twice and makes 128 B more
    network = cnncalc.load(
        "input: [1, 1, 4, 4]\nlayers:\n  - Conv2d(1, 2, 1)\n  - ReLU(inplace=True)\n"
        "  - type: Residual\n    body: [Conv2d(2, 2, 1)]\n  - Flatten\n"
    )
    report = memory(network, inference=True)
    assert [layer.live_bytes for layer in report.layers] == [
        64 + 128,  # the input and the convolution's output
        128,  # the input is freed; the ReLU adds nothing
        128 + 128,  # the residual body's convolution
        128 + 128 + 128,  # the Add: both of its inputs and its output
        128,  # Flatten: a view of the Add's output
    ]
    assert report.totals.activations_peak_bytes == 384
    assert report.totals.saved_bytes == report.totals.grads_bytes == 0
    assert report.totals.peak_bytes == report.totals.params_bytes + 384


def test_dtype_and_frozen_layers() -> None:
    network = cnncalc.network((2, 3, 4, 4), ["Conv2d(3, 2, 1)", "ReLU"])
    single = memory(network)
    double = memory(network, dtype="float64")
    assert double.totals.saved_bytes == 2 * single.totals.saved_bytes
    # a frozen first layer on an input without a gradient builds no autograd node
    frozen = cnncalc.load(
        "input: [2, 3, 4, 4]\nlayers:\n  - {type: Conv2d, in_channels: 3, out_channels: 2, kernel_size: 1, "
        "trainable: false}\n  - ReLU\n"
    )
    assert [layer.saved_bytes for layer in memory(frozen, optimizer="adam").layers] == [0, 0]
    assert memory(frozen, optimizer="adam").totals.optimizer_bytes == 0


def test_batch_norm_with_one_value_per_channel_is_refused_in_training() -> None:
    network = cnncalc.network((1, 8), ["Linear(8, 4)", "BatchNorm1d(4)"])
    with pytest.raises(GeometryError) as info:
        memory(network)
    assert "layer 1 'batchnorm1d_1' (BatchNorm1d) on input (1, 4)" in str(info.value)
    assert "expected more than 1 value per channel when training" in str(info.value)
    assert info.value.layer == "batchnorm1d_1"
    assert memory(network, batch=2).totals.saved_bytes == 2 * 8 * 4 + 2 * 4 * 4 + 2 * 4 * 4
    assert memory(network, inference=True).totals.saved_bytes == 0
    # batch 1 does not fit whatever the budget; batch 2 does
    assert memory(network, batch=2).max_batch(10**12) > 2
    assert memory(network, batch=2).max_batch(memory(network, batch=2).totals.peak_bytes or 0) == 2


@pytest.mark.torch
def test_torch_refuses_the_same_batch_norm(torch: Any) -> None:
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        measured_saved(cnncalc.network((1, 8), ["Linear(8, 4)", "BatchNorm1d(4)"]), torch)


def test_unknown_kinds_are_reported_not_guessed() -> None:
    network = cnncalc.network((2, 3, 8, 8), ["Conv2d(3, 4, 3)", "LPPool2d(2, 2)", "Flatten", "Linear(36, 2)"])
    report = memory(network)
    assert report.unknown == ("LPPool2d",)
    assert report.layers[1].saved_bytes is None
    assert report.layers[0].saved_bytes == 2 * 3 * 8 * 8 * 4
    assert report.totals.saved_bytes is None and report.totals.peak_bytes is None
    assert report.max_batch(10**9) is None
    body = report.to_dict()
    assert body["totals"]["saved_bytes"] is None and body["unknown"] == ["LPPool2d"]


def test_max_batch_is_exact() -> None:
    network = cnncalc.load(str(EXAMPLES / "resnet18.yaml"))
    report = memory(network, optimizer="sgd")
    budget = 8 * 2**30
    best = report.max_batch(budget)
    assert best is not None and best > 1
    assert (report.peak_at(best) or 0) <= budget < (report.peak_at(best + 1) or 0)
    assert report.max_batch(0) == 0
    table = report.peak_by_batch([1, 2, 4])
    assert [b for b, _ in table] == [1, 2, 4]
    assert table[0][1] == report.totals.peak_bytes  # the network's own batch is 1
    assert report.to_dict(budget)["max_batch"] == best


def test_json_keys() -> None:
    body = memory(cnncalc.load(str(EXAMPLES / "lenet5.yaml")), optimizer="momentum").to_dict()
    assert set(body["totals"]) >= {
        "params_bytes",
        "grads_bytes",
        "optimizer_bytes",
        "saved_bytes",
        "peak_bytes",
    }
    assert {"name", "path", "saved_bytes"} <= set(body["layers"][0])
    assert body["max_batch"] is None and body["peak_is_estimate"] is True
    assert sum(layer["saved_bytes"] for layer in body["layers"]) == body["totals"]["saved_bytes"]


def test_bad_options() -> None:
    network = cnncalc.network((1, 3, 4, 4), ["Conv2d(3, 2, 1)"])
    with pytest.raises(ArgumentError, match="unknown optimizer 'rmsprop'"):
        memory(network, optimizer="rmsprop")
    with pytest.raises(ArgumentError, match="cannot train in int8"):
        memory(network, dtype="int8")
    with pytest.raises(ArgumentError, match="the batch must be at least 1"):
        memory(network, batch=0)
