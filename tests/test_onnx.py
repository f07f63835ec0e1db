"""The ONNX reader: hand-built models (onnx.helper) with hand-derived figures, ONNX's reference
evaluator as the oracle for output shapes, exported torch.nn models, and the error paths."""

from __future__ import annotations

import os
import random
import sys
import warnings
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

onnx = pytest.importorskip("onnx")

import numpy as np  # noqa: E402  (onnx brings numpy; both are optional for cnncalc)
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from onnx.reference import ReferenceEvaluator  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

import cnncalc  # noqa: E402
from cnncalc.cli import app  # noqa: E402
from cnncalc.errors import CnncalcError, SourceError, SpecError  # noqa: E402
from cnncalc.graph import Network  # noqa: E402
from cnncalc.readers import ReadOptions  # noqa: E402
from cnncalc.readers import read as read_source  # noqa: E402
from cnncalc.report import Report  # noqa: E402
from cnncalc.spec.network import load_text  # noqa: E402


def make_model(
    nodes: list[Any],
    weights: dict[str, Any],
    input_shape: list[Any] | None,
    outputs: tuple[str, ...] = ("y",),
    opset: int = 17,
) -> Any:
    """A model with input 'x' (float32) and float32 initializers."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, input_shape)
    outs = [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs]
    inits = [numpy_helper.from_array(np.asarray(v), k) for k, v in weights.items()]
    graph = helper.make_graph(nodes, "g", [x], outs, inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def zeros(*shape: int) -> Any:
    return np.zeros(shape, dtype=np.float32)


def ints(*values: int) -> Any:
    return np.array(values, dtype=np.int64)


def save(model: Any, tmp_path: Path, name: str = "model.onnx") -> str:
    path = tmp_path / name
    onnx.save(model, str(path))
    return str(path)


def read_onnx(path: str, input_shape: tuple[int, ...] | None, *, skip_unknown: bool = False) -> Network:
    """The network of an ONNX file, through the reader registry."""
    return read_source(path, ReadOptions(input_shape, skip_unknown)).network


def read(model: Any, tmp_path: Path, input_override: tuple[int, ...] | None = None, **kw: Any) -> Report:
    """Read a model and check its output shapes against ONNX's reference evaluator."""
    report = cnncalc.analyze(read_onnx(save(model, tmp_path), input_override, **kw))
    feed = np.random.default_rng(0).random(report.input_shape, dtype=np.float32)
    results = ReferenceEvaluator(model).run(None, {"x": feed})
    by_name = {layer.name: layer.output_shape for layer in report.layers}
    got = [by_name[name] for name in report.outputs[: len(results)]]
    assert got == [np.asarray(r).shape for r in results]
    return report


def rows(report: Report) -> list[tuple[str, str, tuple[int, ...], int]]:
    return [(layer.name, layer.type, layer.output_shape, layer.params) for layer in report.layers]


def initializer_total(model: Any, buffers: tuple[str, ...] = ()) -> int:
    """Elements of all initializers, less those named in ``buffers``."""
    return sum(int(np.prod(i.dims)) for i in model.graph.initializer if i.name not in buffers)


# ---- operators, with figures derived by hand --------------------------------------------------


def test_conv_bn_relu_pool_gemm_chain(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], "conv", pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
        helper.make_node("BatchNormalization", ["c", "g", "be", "m", "v"], ["n"], "bn", epsilon=1e-3),
        helper.make_node("Relu", ["n"], ["r"], "relu"),
        helper.make_node("MaxPool", ["r"], ["p"], "pool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p"], ["f"], "flat"),
        helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], "fc", transB=1),
    ]
    weights = {
        "w": zeros(16, 3, 3, 3),
        "b": zeros(16),
        "g": zeros(16),
        "be": zeros(16),
        "m": zeros(16),
        "v": zeros(16),
        "fw": zeros(10, 16 * 16 * 16),
        "fb": zeros(10),
    }
    model = make_model(nodes, weights, [1, 3, 32, 32])
    report = read(model, tmp_path)
    assert rows(report) == [
        ("conv", "Conv2d", (1, 16, 32, 32), 16 * 27 + 16),
        ("bn", "BatchNorm2d", (1, 16, 32, 32), 32),
        ("relu", "ReLU", (1, 16, 32, 32), 0),
        ("pool", "MaxPool2d", (1, 16, 16, 16), 0),
        ("flat", "Flatten", (1, 4096), 0),
        ("fc", "Linear", (1, 10), 40970),
    ]
    # conv: 16·32·32 outputs × 3·3·3; Linear: 10 outputs × 4096
    assert [layer.macs for layer in report.layers] == [442368, 0, 0, 0, 0, 40960]
    # every initializer is a parameter except BatchNorm's running statistics (buffers in PyTorch)
    assert report.totals.params == initializer_total(model, ("m", "v")) == 41450
    assert report.name == "model"


def test_gemm_without_transposed_weight_and_matmul_add_as_linear(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Gemm", ["x", "w1"], ["h"], "gemm"),  # B is (K, N) when transB=0
        helper.make_node("MatMul", ["h", "w2"], ["mm"], "matmul"),
        helper.make_node("Add", ["b2", "mm"], ["y"], "bias"),  # PyTorch's Linear on a 3D input
    ]
    model = make_model(nodes, {"w1": zeros(8, 5), "w2": zeros(5, 3), "b2": zeros(3)}, [2, 8])
    report = read(model, tmp_path)
    assert rows(report) == [("gemm", "Linear", (2, 5), 40), ("matmul", "Linear", (2, 3), 18)]
    assert report.totals.params == initializer_total(model)


def test_residual_add(tmp_path: Path) -> None:
    conv: dict[str, Any] = {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]}
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["a"], "conv1", **conv),
        helper.make_node("Relu", ["a"], ["r"], "relu1"),
        helper.make_node("Conv", ["r", "w2"], ["c"], "conv2", **conv),
        helper.make_node("Add", ["c", "x"], ["s"], "add"),
        helper.make_node("Relu", ["s"], ["y"], "relu2"),
    ]
    model = make_model(nodes, {"w1": zeros(8, 8, 3, 3), "w2": zeros(8, 8, 3, 3)}, [1, 8, 6, 6])
    report = read(model, tmp_path)
    assert [(layer.name, layer.type, layer.inputs) for layer in report.layers] == [
        ("conv1", "Conv2d", ("input",)),
        ("relu1", "ReLU", ("conv1",)),
        ("conv2", "Conv2d", ("relu1",)),
        ("add", "Add", ("conv2", "input")),
        ("relu2", "ReLU", ("add",)),
    ]
    assert report.output_shape == (1, 8, 6, 6)
    assert report.totals.params == initializer_total(model) == 2 * 8 * 8 * 9
    # two 3×3 convolutions: a 5×5 field on the body, merged with the identity's 1×1
    assert report.receptive_field is not None
    assert report.receptive_field.size == (Fraction(5), Fraction(5))


def test_concat_and_multiple_outputs(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["a"], "branch1", kernel_shape=[1, 1]),
        helper.make_node("Conv", ["x", "w2"], ["b"], "branch2", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Concat", ["a", "b", "x"], ["y"], "cat", axis=1),
        helper.make_node("Sigmoid", ["b"], ["z"], "gate"),
    ]
    weights = {"w1": zeros(4, 3, 1, 1), "b1": zeros(4), "w2": zeros(5, 3, 3, 3)}
    model = make_model(nodes, weights, [2, 3, 7, 7], outputs=("y", "z"))
    report = read(model, tmp_path)
    assert rows(report)[2] == ("cat", "Concat", (2, 4 + 5 + 3, 7, 7), 0)
    assert report.outputs == ("cat", "gate")
    assert report.totals.params == initializer_total(model) == 16 + 135


def test_asymmetric_pads_become_a_padding_layer(tmp_path: Path) -> None:
    # pads = [H begin, W begin, H end, W end] = [0, 1, 2, 3]; F.pad order is (left, right, top,
    # bottom) = (1, 3, 0, 2): 5×5 → 7×9, then the 3×3 convolution → 5×7
    node = helper.make_node("Conv", ["x", "w"], ["y"], "conv", pads=[0, 1, 2, 3])
    report = read(make_model([node], {"w": zeros(2, 1, 3, 3)}, [1, 1, 5, 5]), tmp_path)
    assert rows(report) == [
        ("conv_pad", "ZeroPad2d", (1, 1, 7, 9), 0),
        ("conv", "Conv2d", (1, 2, 5, 7), 18),
    ]
    assert report.receptive_field is not None
    assert report.receptive_field.padding == (Fraction(0), Fraction(1))  # begin pads: top 0, left 1


@pytest.mark.parametrize(
    ("auto_pad", "pad_layer", "padding"),
    [
        # H = 7, k = 4, s = 2: out = ceil(7/2) = 4, total = (4-1)·2 + 4 - 7 = 3 → 1 before, 2 after
        #   for SAME_UPPER (the odd one at the end), 2 before, 1 after for SAME_LOWER.
        # W = 9, k = 2, s = 2: out = ceil(9/2) = 5, total = (5-1)·2 + 2 - 9 = 1 → 0 and 1 (UPPER),
        #   1 and 0 (LOWER). F.pad order: (left, right, top, bottom).
        ("SAME_UPPER", [0, 1, 1, 2], (1, 0)),
        ("SAME_LOWER", [1, 0, 2, 1], (2, 1)),
    ],
)
def test_auto_pad_same_with_stride_2_on_odd_sizes(
    tmp_path: Path, auto_pad: str, pad_layer: list[int], padding: tuple[int, int]
) -> None:
    node = helper.make_node("Conv", ["x", "w"], ["y"], "conv", strides=[2, 2], auto_pad=auto_pad)
    model = make_model([node], {"w": zeros(3, 2, 4, 2)}, [1, 2, 7, 9])
    network = read_onnx(save(model, tmp_path), None)
    assert network.nodes[0].layer.model_dump()["padding"] == tuple(pad_layer)
    report = read(model, tmp_path)
    # padded to 10×10; (10 - 4)/2 + 1 = 4 and (10 - 2)/2 + 1 = 5
    assert rows(report) == [
        ("conv_pad", "ZeroPad2d", (1, 2, 10, 10), 0),
        ("conv", "Conv2d", (1, 3, 4, 5), 48),
    ]
    assert report.receptive_field is not None
    assert report.receptive_field.padding == tuple(Fraction(p) for p in padding)


def test_auto_pad_same_pooling_and_valid(tmp_path: Path) -> None:
    nodes = [
        # H = W = 7, k = 3, s = 2: total = 3·2 + 3 - 7 = 2, split 1 and 1: MaxPool2d's own padding
        helper.make_node(
            "MaxPool", ["x"], ["a"], "pool1", kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER"
        ),
        # H = W = 4, k = 3, s = 2: total = 1·2 + 3 - 4 = 1, all of it before (LOWER): a -inf pad
        helper.make_node(
            "MaxPool", ["a"], ["b"], "pool2", kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_LOWER"
        ),
        # VALID: (2 - 1)/1 + 1 = 2
        helper.make_node("AveragePool", ["b"], ["y"], "pool3", kernel_shape=[1, 1], auto_pad="VALID"),
    ]
    report = read(make_model(nodes, {}, [1, 1, 7, 7]), tmp_path)
    assert [(n, t, s) for n, t, s, _ in rows(report)] == [
        ("pool1", "MaxPool2d", (1, 1, 4, 4)),
        ("pool2_pad", "ConstantPad2d", (1, 1, 5, 5)),
        ("pool2", "MaxPool2d", (1, 1, 2, 2)),
        ("pool3", "AvgPool2d", (1, 1, 2, 2)),
    ]


def test_pooling_ceil_mode_dilation_and_global(tmp_path: Path) -> None:
    nodes = [
        # ceil((8 + 0 - 1·(3-1) - 1) / 2) + 1 = 4 (the last window starts at 6, inside the input)
        helper.make_node("MaxPool", ["x"], ["a"], "pool", kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1),
        # dilation 2: floor((4 + 2 - 2·(2-1) - 1) / 1) + 1 = 4
        helper.make_node(
            "MaxPool", ["a"], ["b"], "dil", kernel_shape=[2, 2], dilations=[2, 2], pads=[1, 1, 1, 1]
        ),
        helper.make_node("AveragePool", ["b"], ["c"], "avg", kernel_shape=[2, 2], count_include_pad=1),
        helper.make_node("GlobalAveragePool", ["c"], ["y"], "gap"),
    ]
    report = read(make_model(nodes, {}, [1, 2, 8, 8]), tmp_path)
    assert [(n, t, s) for n, t, s, _ in rows(report)] == [
        ("pool", "MaxPool2d", (1, 2, 4, 4)),
        ("dil", "MaxPool2d", (1, 2, 4, 4)),
        ("avg", "AvgPool2d", (1, 2, 3, 3)),  # ONNX's stride defaults to 1, PyTorch's to the kernel
        ("gap", "AdaptiveAvgPool2d", (1, 2, 1, 1)),
    ]


def test_ceil_mode_drops_a_window_starting_in_the_end_padding(tmp_path: Path) -> None:
    # spec MaxPool: ceil((4 + 0 + 1 - 1·(2-1) - 1) / 2) + 1 = 3, but the third window would start
    # at 4, in the end padding, and is ignored: 2 (as the reference evaluator computes). After the
    # padding layer PyTorch's ceil mode would keep it, so the pool is written in floor mode.
    node = helper.make_node(
        "MaxPool", ["x"], ["y"], "pool", kernel_shape=[2, 2], strides=[2, 2], pads=[0, 0, 1, 1], ceil_mode=1
    )
    model = make_model([node], {}, [1, 1, 4, 4])
    assert [(n, t, s) for n, t, s, _ in rows(read(model, tmp_path))] == [
        ("pool_pad", "ConstantPad2d", (1, 1, 5, 5)),
        ("pool", "MaxPool2d", (1, 1, 2, 2)),
    ]
    network = read_onnx(save(model, tmp_path), None)
    assert network.nodes[0].layer.model_dump()["value"] == float("-inf")
    assert network.nodes[1].layer.model_dump()["ceil_mode"] is False


def test_older_opsets_attributes_instead_of_inputs(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Pad", ["x"], ["a"], "pad", pads=[0, 0, 1, 1, 0, 0, 1, 1], value=0.5),
        helper.make_node("Clip", ["a"], ["b"], "clip", min=-1.0, max=1.0),
        helper.make_node("Upsample", ["b", "scales"], ["c"], "up"),
        helper.make_node("Dropout", ["c"], ["d"], "drop", ratio=0.25),
        helper.make_node("Unsqueeze", ["d"], ["e"], "unsq", axes=[0]),
        helper.make_node("Squeeze", ["e"], ["f"], "sq", axes=[0]),
        helper.make_node("Softmax", ["f"], ["y"], "softmax"),  # axis 1 before opset 13
    ]
    scales = np.array([1, 1, 2, 3], dtype=np.float32)
    report = read(make_model(nodes, {"scales": scales}, [1, 2, 3, 3], opset=9), tmp_path)
    assert [(n, t, s) for n, t, s, _ in rows(report)] == [
        ("pad", "ConstantPad2d", (1, 2, 5, 5)),
        ("clip", "Hardtanh", (1, 2, 5, 5)),
        ("up", "Upsample", (1, 2, 10, 15)),
        ("drop", "Dropout", (1, 2, 10, 15)),
        ("unsq", "Unflatten", (1, 1, 2, 10, 15)),
        ("sq", "Flatten", (1, 2, 10, 15)),
        ("softmax", "Softmax", (1, 2, 10, 15)),
    ]
    network = read_onnx(save(make_model(nodes, {"scales": scales}, [1, 2, 3, 3], opset=9), tmp_path), None)
    assert network.nodes[-1].layer.model_dump() == {"dim": 1}
    assert network.nodes[3].layer.model_dump()["p"] == 0.25


def test_dtype_from_the_input_and_secondary_outputs(tmp_path: Path) -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT16, [1, 2, 4, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT16, None)
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"], "relu")], "g", [x], [y])
    path = save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), tmp_path)
    assert cnncalc.analyze(read_onnx(path, None)).dtype == "float16"
    # MaxPool's second output (the indices) is not computed: using it is an error
    nodes = [
        helper.make_node("MaxPool", ["x"], ["p", "i"], "pool", kernel_shape=[2, 2]),
        helper.make_node("Relu", ["i"], ["y"], "relu"),
    ]
    path = save(make_model(nodes, {}, [1, 2, 4, 4]), tmp_path)
    with pytest.raises(SpecError) as info:
        read_onnx(path, None)
    assert str(info.value) == (
        f"{path}#node1:Relu:relu:1:1: input 0 is output 1 of MaxPool node 'pool', which cnncalc "
        f"does not compute (only a layer's main output is read)"
    )


def test_resize_by_scales_and_by_sizes(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Resize", ["x", "", "s"], ["a"], "up", mode="nearest"),
        helper.make_node("Resize", ["a", "", "", "size"], ["b"], "bilinear", mode="linear"),
        helper.make_node("Resize", ["b", "", "s2"], ["y"], "cubic", mode="cubic"),
    ]
    weights = {
        "s": np.array([1, 1, 2, 2], dtype=np.float32),
        "size": ints(1, 3, 10, 12),
        "s2": np.array([1, 1, 1.5, 0.5], dtype=np.float32),
    }
    report = read(make_model(nodes, weights, [1, 3, 4, 5]), tmp_path)
    # floor(10·1.5) = 15, floor(12·0.5) = 6
    assert [(n, t, s) for n, t, s, _ in rows(report)] == [
        ("up", "Upsample", (1, 3, 8, 10)),
        ("bilinear", "Upsample", (1, 3, 10, 12)),
        ("cubic", "Upsample", (1, 3, 15, 6)),
    ]
    network = read_onnx(save(make_model(nodes, weights, [1, 3, 4, 5]), tmp_path), None)
    modes = [(n.layer.model_dump()["mode"], n.layer.model_dump()["align_corners"]) for n in network.nodes]
    assert modes == [("nearest", None), ("bilinear", False), ("bicubic", False)]


def test_reshape_flatten_squeeze_and_shape_arithmetic(tmp_path: Path) -> None:
    nodes = [
        # torch's x.view(x.size(0), -1): Shape → Gather → Unsqueeze → Concat, folded to (2, -1)
        helper.make_node("Shape", ["x"], ["shape"], "shape"),
        helper.make_node("Gather", ["shape", "zero"], ["n"], "gather", axis=0),
        helper.make_node("Unsqueeze", ["n", "axes"], ["n1"], "unsqueeze"),
        helper.make_node("Concat", ["n1", "minus1"], ["target"], "cat", axis=0),
        helper.make_node("Reshape", ["x", "target"], ["flat"], "view"),
        # 0 copies the input's size: (2, 0, 5, 3) → (2, 60, 5, 3)... here (2, 0, 3, 5) → (2, 60, 3, 5)
        helper.make_node("Reshape", ["flat", "shape2"], ["r"], "unflatten"),
        helper.make_node("Unsqueeze", ["r", "axes2"], ["u"], "unsq"),
        helper.make_node("Squeeze", ["u", "axes2"], ["s"], "sq"),
        helper.make_node("Flatten", ["s"], ["y"], "flatten", axis=2),
    ]
    weights = {
        "zero": ints(0).reshape(()),
        "axes": ints(0),
        "minus1": ints(-1),
        "shape2": ints(0, 4, 15, 15),
        "axes2": ints(-1),
    }
    report = read(make_model(nodes, weights, [2, 4, 15, 15]), tmp_path)
    assert [(n, t, s) for n, t, s, _ in rows(report)] == [
        ("view", "Flatten", (2, 900)),
        ("unflatten", "Unflatten", (2, 4, 15, 15)),
        ("unsq", "Unflatten", (2, 4, 15, 15, 1)),
        ("sq", "Flatten", (2, 4, 15, 15)),
        # ONNX Flatten is always 2D: (2·4, 15·15), two merges
        ("flatten_flatten", "Flatten", (2, 4, 225)),
        ("flatten", "Flatten", (8, 225)),
    ]


def test_any_reshape_is_flatten_and_unflatten_layers() -> None:
    """Random pairs of shapes with the same number of elements: the layers chosen for the
    reshape, applied by cnncalc, give the target shape."""
    from cnncalc.readers.onnx.handlers.tensor import reshape_steps
    from cnncalc.spec.build import build_layer

    rng = random.Random(7)
    for _ in range(3000):
        factors = [rng.choice([2, 3, 5]) for _ in range(rng.randint(0, 5))]
        shapes = []
        for _ in range(2):
            dims = [1] * rng.randint(1, 5)
            for f in factors:
                dims[rng.randrange(len(dims))] *= f
            shapes.append(tuple(dims))
        x, target = shapes
        if x == target:
            continue
        shape = x
        for kind, args in reshape_steps(x, target):
            layer, _ = build_layer(kind, [], [(k, v, None) for k, v in args.items()], None)
            shape = layer.apply(shape).output
        assert shape == target, (x, target, reshape_steps(x, target))


def test_conv_transpose_pads_output_padding_and_output_shape(tmp_path: Path) -> None:
    nodes = [
        # (5-1)·2 + 1·(3-1) + 1 + 1 - 0 - 2 = 10 high; (5-1)·2 + 3 + 1 - 1 - 0 = 11 wide:
        # ConvTranspose2d(padding 0, output_padding 1) gives 12×12, then a crop of (1, 0, 0, 2)
        helper.make_node(
            "ConvTranspose",
            ["x", "w", "b"],
            ["a"],
            "up",
            strides=[2, 2],
            pads=[0, 1, 2, 0],
            output_padding=[1, 1],
        ),
        # output_shape 20×22 from 10×11, k 2, s 2: total = 2·9 + 2 - 20 = 0 and 2·10 + 2 - 22 = 0
        helper.make_node("ConvTranspose", ["a", "w2"], ["y"], "up2", strides=[2, 2], output_shape=[20, 22]),
    ]
    weights = {"w": zeros(4, 2, 3, 3), "b": zeros(2), "w2": zeros(2, 6, 2, 2)}
    model = make_model(nodes, weights, [1, 4, 5, 5])
    report = read(model, tmp_path)
    assert rows(report) == [
        ("up_convtranspose", "ConvTranspose2d", (1, 2, 12, 12), 4 * 2 * 9 + 2),
        ("up", "ZeroPad2d", (1, 2, 10, 11), 0),
        ("up2", "ConvTranspose2d", (1, 6, 20, 22), 2 * 6 * 4),
    ]
    assert report.totals.params == initializer_total(model)
    # input elements × out_channels/groups × kernel volume
    assert report.layers[0].macs == 4 * 25 * 2 * 9


def test_activations_pad_and_constant_operands(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Clip", ["x", "lo", "hi"], ["a"], "relu6"),
        helper.make_node("LeakyRelu", ["a"], ["b"], "leaky", alpha=0.2),
        helper.make_node("Mul", ["b", "scale"], ["c"], "scale"),  # a per-channel constant
        helper.make_node("Pad", ["c", "pads"], ["d"], "reflect", mode="reflect"),
        helper.make_node("PRelu", ["d", "slope"], ["e"], "prelu"),
        helper.make_node("HardSwish", ["e"], ["f"], "hswish"),
        helper.make_node("Softmax", ["f"], ["y"], "softmax", axis=1),
    ]
    weights = {
        "lo": np.array(0, dtype=np.float32),
        "hi": np.array(6, dtype=np.float32),
        "scale": zeros(3, 1, 1),
        "pads": ints(0, 0, 1, 2, 0, 0, 3, 4),  # H 1 and 3, W 2 and 4
        "slope": zeros(3, 1, 1),
    }
    report = read(make_model(nodes, weights, [1, 3, 5, 5]), tmp_path)
    assert rows(report) == [
        ("relu6", "ReLU6", (1, 3, 5, 5), 0),
        ("leaky", "LeakyReLU", (1, 3, 5, 5), 0),
        ("scale", "LearnedMul", (1, 3, 5, 5), 3),  # a stored (3, 1, 1) tensor: 3 parameters
        ("reflect", "ReflectionPad2d", (1, 3, 9, 11), 0),
        ("prelu", "PReLU", (1, 3, 9, 11), 3),
        ("hswish", "Hardswish", (1, 3, 9, 11), 0),
        ("softmax", "Softmax", (1, 3, 9, 11), 0),
    ]


def test_symbolic_batch_and_input_override(tmp_path: Path) -> None:
    node = helper.make_node("Conv", ["x", "w"], ["y"], "conv")
    model = make_model([node], {"w": zeros(4, 3, 3, 3)}, ["N", 3, 8, 8])
    assert read(model, tmp_path).input_shape == (1, 3, 8, 8)  # a symbolic batch reads as 1
    assert read(model, tmp_path, (5, 3, 10, 10)).output_shape == (5, 4, 8, 8)
    symbolic = make_model([node], {"w": zeros(4, 3, 3, 3)}, ["N", 3, "H", 8])
    path = save(symbolic, tmp_path)
    with pytest.raises(SpecError) as info:
        read_onnx(path, None)
    assert str(info.value) == (
        f"{path}:1:1: dimension 2 of the model's input 'x' is symbolic ('H'): give the shape with --input"
    )
    assert read(symbolic, tmp_path, (1, 3, 6, 8)).output_shape == (1, 4, 4, 6)


def test_geometry_errors_name_the_node(tmp_path: Path) -> None:
    node = helper.make_node("Conv", ["x", "w"], ["y"], "conv")
    path = save(make_model([node], {"w": zeros(4, 3, 3, 3)}, [1, 3, 8, 8]), tmp_path)
    with pytest.raises(CnncalcError) as info:
        read_onnx(path, (1, 5, 8, 8))
    assert str(info.value) == (
        f"{path}#node0:Conv:conv:1:1: layer 0 'conv' (Conv2d) on input (1, 5, 8, 8): "
        f"in_channels=3 but the input has 5 channels"
    )


def test_transpose_is_permute_unless_only_size_1_axes_move(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Transpose", ["x"], ["t"], "nchw_to_nhwc", perm=[0, 2, 3, 1]),
        helper.make_node("Transpose", ["t"], ["y"], "back", perm=[0, 3, 1, 2]),
    ]
    # spec Transpose: output axis i is input axis perm[i]
    assert rows(read(make_model(nodes, {}, [1, 3, 4, 5]), tmp_path)) == [
        ("nchw_to_nhwc", "Permute", (1, 4, 5, 3), 0),
        ("back", "Permute", (1, 3, 4, 5), 0),
    ]
    # moving only axes of size 1 is a reshape
    trivial = helper.make_node("Transpose", ["x"], ["y"], "swap", perm=[1, 0, 2, 3])
    assert rows(read(make_model([trivial], {}, [1, 3, 4, 4]), tmp_path)) == [
        ("swap_flatten", "Flatten", (3, 4, 4), 0),
        ("swap", "Unflatten", (3, 1, 4, 4), 0),
    ]
    bad = helper.make_node("Transpose", ["x"], ["y"], "bad", perm=[0, 1, 1, 3])
    path = save(make_model([bad], {}, [1, 3, 4, 4]), tmp_path)
    with pytest.raises(SpecError) as info:
        read_onnx(path, None)
    assert (
        str(info.value)
        == f"{path}#node0:Transpose:bad:1:1: Transpose perm [0, 1, 1, 3] is not a permutation of 4 axes"
    )


def _random_window_model(rng: random.Random) -> tuple[Any, tuple[int, ...]]:
    """One Conv, ConvTranspose or pooling node with random sizes, strides, dilations, pads,
    auto_pad, ceil mode, groups and output padding."""
    op = rng.choice(["Conv", "ConvTranspose", "MaxPool", "AveragePool", "LpPool"])
    n = rng.choice([1, 2, 3]) if op != "ConvTranspose" else rng.choice([1, 2])
    sizes = [rng.randint(1, 9) for _ in range(n)]
    kernel = [rng.randint(1, 4) for _ in range(n)]
    attrs: dict[str, Any] = {}
    if rng.random() < 0.7:
        attrs["strides"] = [rng.randint(1, 3) for _ in range(n)]
    if op in ("Conv", "ConvTranspose", "MaxPool") and rng.random() < 0.4:
        attrs["dilations"] = [rng.randint(1, 3) for _ in range(n)]
    auto = rng.choice(["NOTSET", "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"])
    if auto != "NOTSET":
        attrs["auto_pad"] = auto
    elif rng.random() < 0.7:
        attrs["pads"] = [rng.randint(0, 3) for _ in range(2 * n)]
    if op in ("MaxPool", "AveragePool") and auto == "NOTSET" and rng.random() < 0.5:
        attrs["ceil_mode"] = 1
    if op == "AveragePool" and rng.random() < 0.5:
        attrs["count_include_pad"] = 1
    weights = {}
    if op in ("Conv", "ConvTranspose"):
        group, out = rng.choice([1, 2]), 2 * rng.randint(1, 2)
        attrs["group"] = group
        weights["w"] = zeros(out, 2 // group, *kernel) if op == "Conv" else zeros(2, out // group, *kernel)
        if op == "ConvTranspose" and rng.random() < 0.4:
            limits = zip(attrs.get("strides", [1] * n), attrs.get("dilations", [1] * n))
            attrs["output_padding"] = [rng.randint(0, max(s, d) - 1) for s, d in limits]
    else:
        attrs["kernel_shape"] = kernel
    node = helper.make_node(op, ["x", *weights], ["y"], "node", **attrs)
    return make_model([node], weights, [1, 2, *sizes], opset=19), (1, 2, *sizes)


def test_random_windows_agree_with_onnx_where_its_evaluator_and_inference_agree(tmp_path: Path) -> None:
    """ONNX's reference evaluator and its shape inference disagree with each other in corners
    (ceil mode with pads beyond the kernel, ConvTranspose with auto_pad and output_padding);
    wherever they agree, cnncalc must give the same output shape."""
    rng = random.Random(int(os.environ.get("CNNCALC_ONNX_SEED", "2024")))
    agreed = 0
    for case in range(300):
        model, shape = _random_window_model(rng)
        try:
            inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True).graph.output[0]
            by_inference = tuple(d.dim_value for d in inferred.type.tensor_type.shape.dim)
            by_evaluator = tuple(
                ReferenceEvaluator(model).run(None, {"x": np.ones(shape, np.float32)})[0].shape
            )
        except Exception:  # either refuses the configuration: nothing to compare with
            continue
        if by_inference != by_evaluator or 0 in by_evaluator:
            continue
        agreed += 1
        path = save(model, tmp_path)
        got = cnncalc.analyze(read_onnx(path, None)).output_shape
        assert got == by_evaluator, f"case {case}: {model.graph.node[0]}"
    assert agreed > 150


# ---- unsupported operators, skip_unknown, the command line, broken files --------------------


def cos_model() -> Any:
    nodes = [
        helper.make_node("Relu", ["x"], ["r"], "relu"),
        helper.make_node("Cos", ["r"], ["c"], "cos_node"),
        helper.make_node("ArgMax", ["c"], ["y"], "argmax", keepdims=0),
    ]
    return make_model(nodes, {}, [1, 3, 4, 4])


def test_unsupported_operator_through_the_cli(tmp_path: Path) -> None:
    path = save(cos_model(), tmp_path)
    result = CliRunner().invoke(app, ["shape", path])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"{path}#node1:Cos:cos_node:1:1: unsupported ONNX operator Cos (node 'cos_node'); "
        f"--skip-unknown passes it as Identity if it keeps its input's shape\n"
    )


def test_max_layers_refuses_the_model_before_reading_it(tmp_path: Path) -> None:
    path = save(cos_model(), tmp_path)  # three nodes, the second unsupported: never reached
    result = CliRunner().invoke(app, ["--max-layers", "2", "shape", path])
    assert result.exit_code == 2
    assert result.stderr == (
        f"{path}:1:1: the model has 3 nodes, more than the limit of 2 layers (raise it with --max-layers)\n"
    )


def test_skip_unknown_only_where_shape_inference_proves_the_shape(tmp_path: Path) -> None:
    path = save(cos_model(), tmp_path)
    with pytest.raises(SpecError) as info:
        read_onnx(path, None, skip_unknown=True)
    # Cos keeps the shape and passes; ArgMax (int64 out of a float-typed output) has no shape to prove
    assert str(info.value) == (
        f"{path}#node2:ArgMax:argmax:1:1: unsupported ONNX operator ArgMax (node 'argmax') cannot "
        f"pass as Identity: its input is (1, 3, 4, 4) and shape inference gives no static shape"
    )
    nodes = [
        helper.make_node("Relu", ["x"], ["r"], "relu"),
        helper.make_node("Cos", ["r"], ["y"], "cos_node"),
    ]
    report = read(make_model(nodes, {}, [1, 3, 4, 4]), tmp_path, skip_unknown=True)
    assert rows(report) == [("relu", "ReLU", (1, 3, 4, 4), 0), ("cos_node", "Identity", (1, 3, 4, 4), 0)]


def test_corrupt_and_missing_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"this is not protobuf\n")
    result = CliRunner().invoke(app, ["shape", str(bad)])
    assert result.exit_code == 2
    assert result.stderr == f"{bad}:1:1: not an ONNX model: its bytes do not decode as one\n"
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    with pytest.raises(SourceError, match="the file is empty"):
        read_onnx(str(empty), None)
    with pytest.raises(SourceError, match="no such file"):
        read_onnx(str(tmp_path / "missing.onnx"), None)


def test_onnx_not_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)  # makes `import onnx` raise ImportError
    with pytest.raises(SourceError) as info:
        read_onnx(str(tmp_path / "model.onnx"), None)
    assert str(info.value) == (
        f"{tmp_path / 'model.onnx'}:1:1: reading ONNX needs the onnx package: pip install 'cnncalc[onnx]'"
    )


def test_two_inputs_are_refused(tmp_path: Path) -> None:
    a = helper.make_tensor_value_info("a", TensorProto.FLOAT, [1, 2])
    b = helper.make_tensor_value_info("b", TensorProto.FLOAT, [1, 2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    graph = helper.make_graph([helper.make_node("Add", ["a", "b"], ["y"])], "g", [a, b], [y])
    path = save(helper.make_model(graph), tmp_path)
    with pytest.raises(SpecError, match=r"one input; this one has 2 \('a', 'b'\)"):
        read_onnx(path, None)


# ---- exported torch.nn models against the same network written directly --------------------


def _export(model: Any, shape: tuple[int, ...], tmp_path: Path, torch: Any) -> str:
    path = str(tmp_path / "exported.onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # dynamo=False: the TorchScript exporter, which needs no onnxscript. Without constant
        # folding BatchNorm stays a node of its own (eval-mode export folds it into the conv).
        torch.onnx.export(
            model.eval(),
            (torch.zeros(shape),),
            path,
            opset_version=17,
            dynamo=False,
            do_constant_folding=False,
        )
    return path


TORCH_CASES = {
    "resnet_block": (
        (2, 3, 17, 17),
        """
        layers:
          - Conv2d(3, 16, 3, stride=2, padding=1, bias=False)
          - BatchNorm2d(16)
          - ReLU
          - Conv2d(16, 32, 3, stride=2, padding=1, bias=False)
          - BatchNorm2d(32)
          - ReLU
          - Conv2d(32, 32, 3, padding=1, bias=False)
          - {type: BatchNorm2d, name: body}
          - {type: Conv2d, from: relu_1, out_channels: 32, kernel_size: 1, stride: 2, bias: false}
          - {type: BatchNorm2d, name: short}
          - {type: Add, from: [body, short]}
          - ReLU
          - AdaptiveAvgPool2d(1)
          - Flatten
          - Linear(32, 10)
        """,
    ),
    "conv_transpose": (
        (1, 8, 5, 6),
        """
        layers:
          - ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1)
          - ReLU
          - ConvTranspose2d(4, 6, (3, 2), stride=(2, 3), padding=(0, 1), groups=2, dilation=2, bias=False)
          - Conv2d(6, 2, 1)
        """,
    ),
    "upsample": (
        (1, 4, 6, 7),
        """
        layers:
          - Upsample(scale_factor=2, mode='nearest')
          - Conv2d(4, 4, 3, padding=1)
          - Upsample(size=(20, 15), mode='bilinear', align_corners=False)
          - MaxPool2d(3, stride=2, ceil_mode=True)
          - ZeroPad2d((1, 2, 0, 3))
          - Conv2d(4, 3, 3, dilation=2, groups=1)
          - Hardswish
        """,
    ),
}


def _torch_model(case: str, torch: Any) -> Any:
    nn = torch.nn
    if case == "resnet_block":

        class Block(nn.Module):  # type: ignore[misc,name-defined]
            def __init__(self) -> None:
                super().__init__()
                self.stem = nn.Sequential(
                    nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()
                )
                self.body = nn.Sequential(
                    nn.Conv2d(16, 32, 3, 2, 1, bias=False),
                    nn.BatchNorm2d(32),
                    nn.ReLU(),
                    nn.Conv2d(32, 32, 3, 1, 1, bias=False),
                    nn.BatchNorm2d(32),
                )
                self.short = nn.Sequential(nn.Conv2d(16, 32, 1, 2, bias=False), nn.BatchNorm2d(32))
                self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10))

            def forward(self, x: Any) -> Any:
                x = self.stem(x)
                return self.head(torch.relu(self.body(x) + self.short(x)))

        return Block()
    if case == "conv_transpose":
        return nn.Sequential(
            nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(4, 6, (3, 2), stride=(2, 3), padding=(0, 1), groups=2, dilation=2, bias=False),
            nn.Conv2d(6, 2, 1),
        )
    return nn.Sequential(
        nn.Upsample(scale_factor=2, mode="nearest"),
        nn.Conv2d(4, 4, 3, padding=1),
        nn.Upsample(size=(20, 15), mode="bilinear", align_corners=False),
        nn.MaxPool2d(3, stride=2, ceil_mode=True),
        nn.ZeroPad2d((1, 2, 0, 3)),
        nn.Conv2d(4, 3, 3, dilation=2),
        nn.Hardswish(),
    )


@pytest.mark.torch
@pytest.mark.parametrize(
    ("example", "params", "macs"),
    [
        ("resnet18", 11_689_512, 1_814_073_344),
        ("mobilenet_v2", 3_504_872, 300_774_272),
        ("googlenet", 6_624_904, 1_498_376_192),
        ("squeezenet1_0", 1_248_424, 818_924_576),
    ],
)
def test_examples_exported_through_torch_keep_torchvisions_figures(
    example: str, params: int, macs: int, tmp_path: Path
) -> None:
    """An example built as a real nn.Module, exported to ONNX and read back: torchvision's
    published figures (the README's table) survive the round trip."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch = pytest.importorskip("torch")
    from tests.conftest import EXAMPLES
    from tests.torch_build import to_torch

    network = cnncalc.load(str(EXAMPLES / f"{example}.yaml"))
    path = _export(to_torch(network, torch), network.input_shape, tmp_path, torch)
    report = cnncalc.analyze(read_onnx(path, None))
    assert (report.output_shape, report.totals.params, report.totals.macs) == ((1, 1000), params, macs)


@pytest.mark.torch
@pytest.mark.parametrize("case", sorted(TORCH_CASES))
def test_exported_torch_models_match_the_direct_description(case: str, tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch = pytest.importorskip("torch")
    shape, text = TORCH_CASES[case]
    model = _torch_model(case, torch)
    path = _export(model, shape, tmp_path, torch)
    report = cnncalc.analyze(read_onnx(path, None))
    direct = cnncalc.analyze(
        load_text(f"input: {list(shape)}\n" + text.replace("\n        ", "\n"), "<direct>")
    )
    with torch.no_grad():
        expected = tuple(model.eval()(torch.zeros(shape)).shape)
    assert report.output_shape == direct.output_shape == expected
    assert report.totals.params == direct.totals.params == sum(p.numel() for p in model.parameters())
    assert report.totals.macs == direct.totals.macs


# ---- the vocabulary of modern networks (issue 11): hand-built graphs ------------------------


def _layers(report: Report) -> list[tuple[str, tuple[int, ...], int, int]]:
    return [(layer.type, layer.output_shape, layer.params, layer.macs) for layer in report.layers]


def test_erf_gelu_pattern_is_gelu_and_a_broken_one_is_not(tmp_path: Path) -> None:
    """torch/onnx/symbolic_opset9.py gelu: Mul(Mul(x, Add(Erf(Div(x, √2)), 1)), 0.5)."""

    def gelu(half: float) -> Any:
        nodes = [
            helper.make_node("Div", ["x", "sqrt2"], ["d"], "/act/Div"),
            helper.make_node("Erf", ["d"], ["e"], "/act/Erf"),
            helper.make_node("Add", ["e", "one"], ["a"], "/act/Add"),
            helper.make_node("Mul", ["x", "a"], ["m"], "/act/Mul"),
            helper.make_node("Mul", ["m", "half"], ["y"], "/act/Mul_1"),
        ]
        scalars = {"sqrt2": 2**0.5, "one": 1.0, "half": half}
        return make_model(nodes, {k: np.array(v, dtype=np.float32) for k, v in scalars.items()}, [1, 4, 3])

    report = read(gelu(0.5), tmp_path)
    assert rows(report) == [("act", "GELU", (1, 4, 3), 0)]
    # 0.25 instead of 0.5 is not GELU: each node is its own layer (x times the sum is a merge)
    broken = [layer.type for layer in read(gelu(0.25), tmp_path).layers]
    assert broken == ["Arith", "Arith", "Arith", "Mul", "Arith"]


def test_reductions_keepdims_and_axes(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("ReduceMean", ["x"], ["m"], "mean", axes=[2, 3], keepdims=1),
        helper.make_node("ReduceMax", ["m"], ["a"], "max", axes=[-1], keepdims=0),
        helper.make_node("ReduceSum", ["a", "axes"], ["y"], "sum", keepdims=0),  # axes an input (opset 13)
    ]
    report = read(make_model(nodes, {"axes": ints(1)}, [2, 3, 4, 5]), tmp_path)
    # (2, 3, 4, 5) -mean over 2,3 kept-> (2, 3, 1, 1) -max over 3-> (2, 3, 1) -sum over 1-> (2, 1)
    assert [(r.type, r.output_shape) for r in report.layers] == [
        ("Mean", (2, 3, 1, 1)),
        ("Amax", (2, 3, 1)),
        ("Sum", (2, 1)),
    ]
    l2 = helper.make_node("ReduceL2", ["x"], ["y"], "norm", axes=[-1], keepdims=1)
    report = read(make_model([l2], {}, [2, 3, 4]), tmp_path)
    assert [(r.type, r.output_shape) for r in report.layers] == [
        ("Arith", (2, 3, 4)),
        ("Sum", (2, 3, 1)),
        ("Arith", (2, 3, 1)),
    ]


def test_slice_split_gather_on_computed_tensors(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Relu", ["x"], ["r"], "relu"),
        # x[:, 1:, ::2] on (1, 6, 7): axis 1 keeps 5, axis 2 keeps 4 (0, 2, 4, 6)
        helper.make_node("Slice", ["r", "starts", "ends", "axes", "steps"], ["s"], "slice"),
        helper.make_node("Split", ["s", "split"], ["p", "q"], "split", axis=1),
        helper.make_node("Gather", ["p", "zero"], ["g"], "pick", axis=1),  # x[:, 0]
        helper.make_node("Gather", ["q", "run"], ["h"], "run", axis=1),  # x[:, 1:3]
        helper.make_node("Relu", ["g"], ["y"], "out1"),
        helper.make_node("Relu", ["h"], ["z"], "out2"),
    ]
    weights = {
        "starts": ints(1, 0),
        "ends": ints(2**62, 2**62),
        "axes": ints(1, 2),
        "steps": ints(1, 2),
        "split": ints(2, 3),
        "zero": np.array(0, dtype=np.int64),
        "run": ints(1, 2),
    }
    report = read(make_model(nodes, weights, [1, 6, 7], outputs=("y", "z")), tmp_path)
    assert [(r.type, r.output_shape) for r in report.layers] == [
        ("ReLU", (1, 6, 7)),
        ("Narrow", (1, 5, 7)),
        ("Slice", (1, 5, 4)),
        ("Narrow", (1, 2, 4)),
        ("Narrow", (1, 3, 4)),
        ("Select", (1, 4)),
        ("Narrow", (1, 2, 4)),
        ("ReLU", (1, 4)),
        ("ReLU", (1, 2, 4)),
    ]
    shuffled = helper.make_node("Gather", ["x", "idx"], ["y"], "shuffled", axis=1)
    path = save(make_model([shuffled], {"idx": ints(2, 0)}, [1, 3, 4]), tmp_path)
    with pytest.raises(SpecError) as info:
        read_onnx(path, None)
    assert str(info.value) == (
        f"{path}#node0:Gather:shuffled:1:1: Gather of indices of shape (2,) on axis 1: only one index or a "
        f"run of consecutive indices is read"
    )


def test_attention_matmul_softmax_einsum_and_learned_tensors(tmp_path: Path) -> None:
    """Self-attention on (1, 4, 8) tokens: q·kᵀ (Transpose + MatMul and the Einsum form), Softmax,
    attn·v; a class token concatenated in front, a position embedding added, a layer scale."""
    nodes = [
        helper.make_node("Concat", ["cls", "x"], ["t"], "cat", axis=1),  # (1, 5, 8)
        helper.make_node("Add", ["t", "pos"], ["p"], "pos_add"),
        helper.make_node("Transpose", ["p"], ["pt"], "kt", perm=[0, 2, 1]),  # (1, 8, 5)
        helper.make_node("MatMul", ["p", "pt"], ["s"], "scores"),  # (1, 5, 5)
        helper.make_node("Mul", ["s", "scale"], ["ss"], "scale"),
        helper.make_node("Softmax", ["ss"], ["a"], "softmax", axis=-1),
        helper.make_node("Einsum", ["a", "p"], ["o"], "av", equation="bij,bjd->bid"),  # (1, 5, 8)
        helper.make_node("Einsum", ["o", "p"], ["o2"], "qk", equation="bid,bjd->bij"),  # (1, 5, 5)
        helper.make_node("Expand", ["o2", "shape"], ["e"], "expand"),  # (2, 5, 5)
        helper.make_node("Mul", ["e", "gamma"], ["y"], "layer_scale"),
    ]
    weights = {
        "cls": zeros(1, 1, 8),
        "pos": zeros(1, 5, 8),
        "scale": np.array(0.125, dtype=np.float32),
        "shape": ints(2, 1, 1),
        "gamma": zeros(5),
    }
    report = read(make_model(nodes, weights, [1, 4, 8]), tmp_path)
    # torchvision's _ops convention: (…, n, k) @ (…, k, m) is prod(…)·n·k·m multiply-adds
    assert _layers(report) == [
        ("LearnedConcat", (1, 5, 8), 8, 0),
        ("LearnedAdd", (1, 5, 8), 40, 0),
        ("Permute", (1, 8, 5), 0, 0),
        ("MatMul", (1, 5, 5), 0, 5 * 8 * 5),
        ("Arith", (1, 5, 5), 0, 0),
        ("Softmax", (1, 5, 5), 0, 0),
        ("MatMul", (1, 5, 8), 0, 5 * 5 * 8),
        ("Transpose", (1, 8, 5), 0, 0),
        ("MatMul", (1, 5, 5), 0, 5 * 8 * 5),
        ("Expand", (2, 5, 5), 0, 0),
        ("LearnedMul", (2, 5, 5), 5, 0),
    ]


# ---- small real exports made in the test, against PyTorch and torchvision -------------------


def _vocab_module(torch: Any) -> Any:
    """A ConvNeXt/ViT-like module: channels-last LayerNorm through permute, GELU, layer scale,
    a class token and position embedding, multi-head self-attention, chunk, mean."""
    nn = torch.nn

    class Tiny(nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.stem = nn.Conv2d(3, 16, 4, stride=4)
            self.norm = nn.LayerNorm(16)
            self.mlp = nn.Sequential(nn.Linear(16, 32), nn.GELU(), nn.Linear(32, 16))
            self.gamma = nn.Parameter(torch.ones(16, 1, 1))
            self.cls = nn.Parameter(torch.zeros(1, 1, 16))
            self.pos = nn.Parameter(torch.zeros(1, 17, 16))
            self.attn = nn.MultiheadAttention(16, 2, batch_first=True)
            self.head = nn.Linear(8, 5)

        def forward(self, x: Any) -> Any:
            x = self.stem(x)  # (1, 16, 4, 4)
            y = self.mlp(self.norm(x.permute(0, 2, 3, 1))).permute(0, 3, 1, 2)
            x = x + self.gamma * y
            t = x.flatten(2).transpose(1, 2)  # (1, 16, 16)
            t = torch.cat([self.cls.expand(t.shape[0], -1, -1), t], dim=1) + self.pos
            t = self.attn(t, t, t, need_weights=False)[0]
            a, b = t.chunk(2, dim=-1)
            return self.head((a * torch.sigmoid(b)).mean(dim=1))

    return Tiny()


@pytest.mark.torch
def test_a_tiny_convnext_vit_like_export_keeps_torchs_figures(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch = pytest.importorskip("torch")
    model = _vocab_module(torch).eval()
    path = str(tmp_path / "tiny.onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros(1, 3, 16, 16),), path, opset_version=17, dynamo=False)
    report = cnncalc.analyze(read_onnx(path, None))
    with torch.no_grad():
        expected = tuple(model(torch.zeros(1, 3, 16, 16)).shape)
    assert report.output_shape == expected == (1, 5)
    assert report.totals.params == sum(p.numel() for p in model.parameters())
    # hand count, torchvision's convention (convolutions, Linear, matmuls; nothing element-wise):
    # stem 16·4·4 outputs × 3·4·4; mlp 16 tokens × (16·32 + 32·16); attention on 17 tokens:
    # in-proj 17·16·48, q·kᵀ 2 heads × 17·8·17, attn·v 2 × 17·17·8, out-proj 17·16·16; head 8·5
    macs = 16 * 16 * 48 + 16 * (512 + 512) + 17 * 16 * 48 + 2 * 17 * 8 * 17 * 2 + 17 * 16 * 16 + 40
    assert report.totals.macs == macs
    assert "GELU" in {layer.type for layer in report.layers}


def _torchvision_models() -> Any:
    import types

    sys.modules.setdefault(
        "torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations")
    )
    return pytest.importorskip("torchvision.models")


@pytest.mark.torch
@pytest.mark.parametrize("name", ["mobilenet_v3_small", "shufflenet_v2_x0_5", "mnasnet0_5"])
def test_small_torchvision_exports_give_published_macs(name: str, tmp_path: Path) -> None:
    """Real exports (default constant folding, as a user makes them) read with torchvision's
    published _ops (GFLOPS = multiply-adds) to three decimals and torch's output shape."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch = pytest.importorskip("torch")
        models = _torchvision_models()
    model = models.get_model(name).eval()
    meta = models.get_model_weights(name).DEFAULT.meta
    path = str(tmp_path / f"{name}.onnx")
    x = torch.zeros(1, 3, 224, 224)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), path, opset_version=17, dynamo=False)
    report = cnncalc.analyze(read_onnx(path, None))
    assert f"{report.totals.macs / 1e9:.3f}" == f"{meta['_ops']:.3f}"
    with torch.no_grad():
        assert report.output_shape == tuple(model(x).shape)
