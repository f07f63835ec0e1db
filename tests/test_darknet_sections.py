"""The Darknet sections of the classifiers and first detectors, [shortcut] between unequal shapes,
XNOR BFLOPs, activation=silu and repeated [net] keys: AlexeyAB's published totals and
hand-derived figures, each derived from Darknet's source in a comment."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cnncalc import readers
from cnncalc.cli import app
from cnncalc.engine.analyze import analyze
from cnncalc.errors import SpecError
from cnncalc.graph import Network
from cnncalc.readers.darknet.view import DarknetView, darknet_layers, float32, total_bflops
from cnncalc.render.darknet import darknet_table
from cnncalc.report import Report

DATA = Path(__file__).resolve().parent / "data" / "darknet"
NET = "[net]\nbatch=1\nwidth=16\nheight=16\nchannels=3\n"  # a 16×16 RGB image, lines 1-5


def read(text: str) -> tuple[Network, Report, DarknetView]:
    result = readers.read(readers.Source("net.cfg", text.encode()), readers.ReadOptions(None))
    return result.network, analyze(result.network), result.extras["darknet"]


def by_name(report: Report) -> dict[str, tuple[int, ...]]:
    return {layer.name: layer.output_shape for layer in report.layers}


def rows(report: Report, view: DarknetView) -> list[str]:
    return darknet_table(report, view).splitlines()[1:-1]


@pytest.mark.parametrize(
    ("name", "size", "published"),
    [
        # AlexeyAB/darknet README, "Pre-trained models": enet-coco.cfg (EfficientNetB0-Yolov3)
        # 3.7 BFlops, yolov3-tiny-prn.cfg 3.5 BFlops, both at the 416×416 the cfgs declare, and
        # csresnext50-panet-spp.cfg 71.3 BFlops. That cfg declares 416×416, and the README does not
        # say its size: 71.3 is its total at 512×512 (2·MACs of a convolution scale with the output
        # area, (512/416)² = 1.515 times the 416 total), the size given here.
        ("enet-coco.cfg", 416, "3.7"),
        ("yolov3-tiny-prn.cfg", 416, "3.5"),
        ("csresnext50-panet-spp.cfg", 512, "71.3"),
    ],
)
def test_published_totals(name: str, size: int, published: str) -> None:
    result = readers.read(str(DATA / name), readers.ReadOptions((1, 3, size, size)))
    report = analyze(result.network)
    assert f"{total_bflops(darknet_layers(result.extras['darknet'], report)):.1f}" == published


def test_shortcut_of_fewer_channels() -> None:
    # layer 0: conv 64 1×1 → 16×16×64; layer 1: conv 128 3×3 pad=1 → 16×16×128; layer 2 [shortcut]
    # from=-2 adds the 64-channel map onto the 128-channel one. parse_shortcut gives it the
    # previous layer's shape, 16×16×128; shortcut_multilayer_cpu adds element i of layer 0's
    # 16·16·64 array onto element i of layer 1's, i < 16·16·64: channels 0-63 get layer 0's,
    # channels 64-127 are layer 1's alone. No weights; l.bflops = 16·16·128·1/1e9.
    text = NET + "[convolutional]\nfilters=64\nsize=1\n[convolutional]\nfilters=128\nsize=3\npad=1\n"
    network, report, view = read(text + "[shortcut]\nfrom=-2\n")
    assert by_name(report)["layer_2"] == (1, 128, 16, 16)
    assert report.totals.params == (3 * 64 + 64) + (64 * 128 * 9 + 128)  # the convolutions' only
    slices = {(n.name, n.layer.kind): n.layer.model_dump() for n in network.nodes if n.layer.kind == "Narrow"}
    assert slices == {
        ("head_2_0", "Narrow"): {"dim": 1, "start": 0, "length": 64},
        ("rest_2_0", "Narrow"): {"dim": 1, "start": 64, "length": 64},
    }
    shortcut = darknet_layers(view, report)[2]
    assert shortcut.output == (16, 16, 128)
    assert shortcut.bflops == float32(16 * 16 * 128 / 1e9)
    rf = report.layers[-1].receptive_field
    assert rf is not None and rf.size == (3, 3)  # the union of a 1×1 and a 3×3 path


def test_shortcut_of_more_channels() -> None:
    # layer 0: conv 128 1×1; layer 1: conv 64 1×1; layer 2 [shortcut] from=-2: output 16×16×64
    # (the previous layer's), element i < 16·16·64 of layer 0 added, i.e. its channels 0-63.
    text = NET + "[convolutional]\nfilters=128\nsize=1\n[convolutional]\nfilters=64\nsize=1\n"
    network, report, _ = read(text + "[shortcut]\nfrom=-2\nactivation=leaky\n")
    assert by_name(report)["layer_2"] == (1, 64, 16, 16)
    [cut] = [n.layer.model_dump() for n in network.nodes if n.layer.kind == "Narrow"]
    assert cut == {"dim": 1, "start": 0, "length": 64}


def test_shortcut_of_another_size_is_added_flat() -> None:
    # layer 0: conv 8 3×3 pad=1 → 16×16×8 (2048 values); layer 1: conv 16 3×3 stride 2 pad=1 →
    # 8×8×16 (1024 values); layer 2 [shortcut] from=-2: output 8×8×16, element i < 1024 of layer
    # 0's flat array added onto element i: rows 0-7 of layer 0's channels 0-3, not a spatial map.
    text = (
        NET
        + "[convolutional]\nfilters=8\nsize=3\npad=1\n[convolutional]\nfilters=16\nsize=3\nstride=2\npad=1\n"
    )
    network, report, _ = read(text + "[shortcut]\nfrom=-2\n")
    assert by_name(report)["layer_2"] == (1, 16, 8, 8)
    [cut] = [n.layer.model_dump() for n in network.nodes if n.layer.kind == "Narrow"]
    assert cut == {"dim": 1, "start": 0, "length": 1024}
    assert report.layers[-1].receptive_field is None  # unknown, not guessed
    assert any("flat array onto flat array" in note for note in network.notes)


def test_softmax_and_cost() -> None:
    # [avgpool] → 1×1×8; [softmax]: make_softmax_layer outputs = inputs = 8, no weights, no
    # bflops; [cost]: outputs = inputs. Darknet prints "softmax %4d" and "cost %4d" of the inputs.
    text = NET + "[convolutional]\nfilters=8\nsize=1\n[avgpool]\n[softmax]\ngroups=1\n[cost]\ntype=sse\n"
    _, report, view = read(text)
    assert by_name(report)["layer_2"] == by_name(report)["layer_3"] == (1, 8, 1, 1)
    assert report.layers[-2].type == "Softmax"
    assert rows(report, view)[2:] == [f"   2 softmax{' ' * 40}   8", f"   3 cost{' ' * 43}   8"]
    assert [layer.bflops for layer in darknet_layers(view, report)][2:] == [0.0, 0.0]


def test_softmax_over_a_map_normalises_the_flat_array() -> None:
    # forward_softmax_layer normalises the 16·16·3 = 768 inputs as one array (groups=1)
    _, report, _ = read(NET + "[softmax]\n")
    assert report.layers[-1].output_shape == (1, 768)
    with pytest.raises(SpecError, match="groups=2 does not divide the 3 channels"):
        read(NET + "[softmax]\ngroups=2\n")


def test_crop_takes_the_centre() -> None:
    # forward_crop_layer at inference: dh = (16 - 10)/2 = 3, dw = (16 - 12)/2 = 2; out 12 wide,
    # 10 high, 3 channels, so output row j reads input row j + 3, column i reads i + 2.
    network, report, view = read(NET + "[crop]\ncrop_height=10\ncrop_width=12\nflip=0\n")
    assert report.output_shape == (1, 3, 10, 12)
    cuts = [n.layer.model_dump() for n in network.nodes if n.layer.kind == "Slice"]
    assert cuts == [
        {"dim": 2, "start": 3, "end": 13, "step": 1},
        {"dim": 3, "start": 2, "end": 14, "step": 1},
    ]
    rf = report.layers[-1].receptive_field
    assert rf is not None and (rf.size, rf.stride, rf.padding) == ((1, 1), (1, 1), (-3, -2))
    assert rows(report, view) == ["   0 Crop Layer: 16 x 16 -> 10 x 12 x 3 image"]
    with pytest.raises(SpecError, match="crop_width=17 is larger than the input's 16"):
        read(NET + "[crop]\ncrop_height=8\ncrop_width=17\n")


def test_local_layer() -> None:
    # make_local_layer on 16×16×3 with size=3, stride=2, pad=0: out = (16 - 3)/2 + 1 = 7, so
    # 7·7 = 49 locations; weights c·n·size²·locations = 3·4·9·49 = 5292, biases outputs =
    # 7·7·4 = 196; MACs 3·9 per output value, 196·27 = 5292; Darknet sets no l.bflops.
    _, report, view = read(NET + "[local]\nfilters=4\nsize=3\nstride=2\npad=0\nactivation=leaky\n")
    local = report.layers[0]
    assert (local.type, local.output_shape, local.params, local.macs) == (
        "LocallyConnected2d",
        (1, 4, 7, 7),
        5292 + 196,
        5292,
    )
    assert local.receptive_field is not None and local.receptive_field.size == (3, 3)
    assert rows(report, view) == ["   0 Local Layer: 16 x 16 x 3 image, 4 filters -> 7 x 7 x 4 image"]
    assert darknet_layers(view, report)[0].bflops == 0.0
    # pad=1 with size=3: local_out_height (16 - 1)/1 + 1 = 16, im2col (16 + 2 - 3)/1 + 1 = 16
    assert read(NET + "[local]\nfilters=2\nsize=3\npad=1\n")[1].output_shape == (1, 2, 16, 16)
    with pytest.raises(SpecError, match="only pad=0, or pad=1 with size=3"):
        read(NET + "[local]\nfilters=2\nsize=5\npad=1\n")  # 16 by local_out_height, 14 by im2col


def test_detection_layer() -> None:
    # make_detection_layer asserts side·side·((1 + coords)·num + classes) == inputs:
    # 2·2·((1 + 4)·1 + 3) = 32, the [connected] layer's output; its output is its input.
    text = NET + "[connected]\noutput=32\n[detection]\nside=2\ncoords=4\nnum=1\nclasses=3\n"
    network, report, view = read(text)
    assert report.output_shape == (1, 32)
    assert [network.nodes[i].name for i in network.output_nodes] == ["detection_1"]
    assert rows(report, view)[-1] == "   1 Detection Layer"
    with pytest.raises(SpecError, match=r"needs side²·\(\(1 \+ coords\)·num \+ classes\) = 7²"):
        read(NET + "[connected]\noutput=32\n[detection]\nclasses=3\n")


def test_reorg3d() -> None:
    # make_reorg_layer, stride 2 on 16×16×3: out 8×8×12; reorg_cpu puts input channel k % 3 at
    # (2j + (k/3)/2, 2i + (k/3)%2) into output channel k: PixelUnshuffle's positions
    _, report, view = read(NET + "[reorg3d]\nstride=2\n")
    assert (report.layers[0].type, report.output_shape) == ("PixelUnshuffle", (1, 12, 8, 8))
    assert rows(report, view) == ["   0 reorg              / 2    16 x  16 x   3   ->     8 x   8 x  12"]
    with pytest.raises(SpecError, match="reverse=1 is not supported"):
        read(NET + "[convolutional]\nfilters=8\nsize=1\n[reorg3d]\nstride=2\nreverse=1\n")


def test_xnor_bflops() -> None:
    # make_convolutional_layer: nweights = 3·16·3·3 = 432; l.bflops = 2·432·16·16/1e9 as a float,
    # then "if (l.xnor) l.bflops = l.bflops / 32;" in float; printed with "convX "
    _, report, view = read(NET + "[convolutional]\nfilters=16\nsize=3\npad=1\nxnor=1\n")
    [layer] = darknet_layers(view, report)
    assert layer.bflops == float32(float32(2 * 432 * 16 * 16 / 1e9) / 32)
    assert rows(report, view)[0].startswith("   0 convX    16 ")
    assert report.totals.params == 432 + 16  # the same weights, stored binarised


def test_silu_runs_as_relu() -> None:
    # src/activations.c get_activation: "silu" is no name it knows; it prints "Couldn't find
    # activation function silu, going with ReLU" and returns RELU
    network, report, _ = read(NET + "[convolutional]\nfilters=8\nsize=1\nactivation=silu\n")
    assert report.layers[-1].type == "ReLU"
    assert any("activation=silu" in note and "runs ReLU" in note for note in network.notes)


def test_repeated_net_keys_take_the_first() -> None:
    # src/option_list.c option_find returns the first "batch" of [net]'s list: batch=1 (line 2)
    text = "[net]\nbatch=1\nwidth=16\nheight=16\nchannels=3\nbatch=64\n[convolutional]\nfilters=4\nsize=1\n"
    network, report, _ = read(text)
    assert report.input_shape == (1, 3, 16, 16)
    assert network.notes == ("[net] gives batch= twice (lines 2 and 6): Darknet reads the first, batch=1",)


def test_unread_keys_of_a_head_are_notes() -> None:
    # src/option_list.c option_unused: Darknet prints "Unused field" for a key parse_yolo does
    # not read (csresnext50-panet-spp-original-optimal.cfg's uc_normalizer=) and goes on; a
    # head has no geometry it could change. In a layer with geometry it stays an error.
    text = NET + "[convolutional]\nfilters=255\nsize=1\n[yolo]\nmask=0,1,2\nclasses=80\nbeta1=0.6\n"
    network, report, _ = read(text)
    assert report.output_shape == (1, 255, 16, 16)
    assert network.notes == (
        'line 12: [yolo] beta1= is not read by Darknet (it prints "Unused field"); a detection '
        "head's figures do not depend on it",
    )
    with pytest.raises(SpecError, match="has no option 'beta1'"):
        read(NET + "[convolutional]\nfilters=8\nsize=1\nbeta1=0.6\n")


def test_recurrent_models_are_refused_in_one_line(runner: CliRunner, tmp_path: Path) -> None:
    # cfg/rnn.cfg's shape: [net] gives inputs= (a vector per time step), no image
    path = tmp_path / "rnn.cfg"
    path.write_text(
        "[net]\ninputs=256\nbatch=1\ntime_steps=1\n\n[rnn]\nbatch_normalize=1\noutput=1024\nhidden=1024\n"
    )
    result = runner.invoke(app, ["shape", str(path)])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"{path}:6:1: [rnn] layers are not supported")
    assert "--input" not in result.stderr
