"""The reader registry: one read() for every format, found by suffix, by reference or by content."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import cnncalc
from cnncalc import readers
from cnncalc.errors import SourceError
from cnncalc.readers import ReadOptions, Source, reader_for

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_suffixes_choose_the_reader() -> None:
    assert reader_for(Source("net.cfg")).name == "darknet"
    assert reader_for(Source("MODEL.ONNX")).name == "onnx"
    assert reader_for(Source("net.yaml")).name == "yaml"
    assert reader_for(Source("net.yml")).name == "yaml"


def test_a_python_reference_is_the_torch_reader() -> None:
    assert reader_for(Source("torchvision.models:resnet18")).name == "torch"


def test_content_decides_when_the_suffix_says_nothing(tmp_path: Path) -> None:
    cfg = tmp_path / "tiny.txt"
    shutil.copy(EXAMPLES / "yolov3-tiny.cfg", cfg)
    assert reader_for(Source(str(cfg))).name == "darknet"
    result = readers.read(str(cfg))
    assert "darknet" in result.extras  # Darknet's own layer list comes with it
    yaml_file = tmp_path / "lenet"
    shutil.copy(EXAMPLES / "lenet5.yaml", yaml_file)
    # LeNet-5 as in Dive into Deep Learning, 6.6: 61,706 parameters
    assert cnncalc.analyze(readers.read(str(yaml_file)).network).totals.params == 61_706


def test_onnx_bytes_are_sniffed(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 5, 7])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 5, 7])],
    )
    path = tmp_path / "model.bin"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    assert reader_for(Source(str(path))).name == "onnx"
    report = cnncalc.analyze(readers.read(str(path)).network)
    assert report.output_shape == (1, 3, 5, 7)  # ReLU keeps the shape


def test_a_format_can_be_named(tmp_path: Path) -> None:
    path = tmp_path / "net.data"
    path.write_text("input: [1, 1, 4, 4]\nlayers: [ReLU]\n", encoding="utf-8")
    result = readers.read(str(path), ReadOptions(input_shape=(2, 1, 6, 6)), format="yaml")
    assert cnncalc.analyze(result.network).output_shape == (2, 1, 6, 6)


def test_in_memory_sources_are_read_once() -> None:
    source = Source("-", b"input: [1, 2, 3, 3]\nlayers: [ReLU]\n")
    assert source.label == "<stdin>"
    assert source.path is None
    network = readers.read(source).network
    assert network.input_shape == (1, 2, 3, 3)
    assert network.source == "<stdin>"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "<stdin>:1:1: nothing on standard input"),
        (b"\x00\x01", "<stdin>:1:1: this is a binary file, not a YAML network file"),
        (b"input: [1]\n\xff", "<stdin>:2:1: not UTF-8 text (byte 0xff at offset 11)"),
    ],
)
def test_text_errors_are_located(data: bytes, message: str) -> None:
    with pytest.raises(SourceError) as err:
        Source("-", data).text()
    assert str(err.value) == message


def test_missing_files_and_directories(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as err:
        readers.read(str(tmp_path / "none.yaml"))
    assert str(err.value) == f"{tmp_path / 'none.yaml'}:1:1: no such file"
    with pytest.raises(SourceError) as err:
        readers.read(str(tmp_path))
    assert str(err.value) == f"{tmp_path}:1:1: is a directory, not a network file"


def test_every_registered_reader_has_a_read_function() -> None:
    import importlib

    for info in readers.READERS:
        if info.name == "onnx":
            pytest.importorskip("onnx")
        module = importlib.import_module(info.module)
        assert callable(module.read), info.name


def test_onnx_on_standard_input() -> None:
    pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], strides=[2, 2])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 4, 3])],
    )
    data = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()
    network = readers.read(Source("-", data)).network  # sniffed: a ModelProto opens with 0x08
    assert network.source == "<stdin>"
    # floor((8 - 2) / 2) + 1 = 4 and floor((6 - 2) / 2) + 1 = 3 (spec MaxPool, no padding)
    assert cnncalc.analyze(network).output_shape == (1, 3, 4, 3)
