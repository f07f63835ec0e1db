"""The Darknet .cfg reader and Darknet's layer list: the reference cfgs against Darknet's printed
figures and independent parameter counts, hand-derived shapes, every section kind, and errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cnncalc import readers
from cnncalc.cli import app
from cnncalc.engine.analyze import analyze
from cnncalc.errors import ArgumentError, LimitError, Position, SpecError
from cnncalc.graph import Network
from cnncalc.limits import Limits
from cnncalc.readers.darknet.view import DarknetSection, DarknetView, darknet_layers, float32, total_bflops
from cnncalc.render.darknet import darknet_table, darknet_text
from cnncalc.report import Report
from tests.conftest import EXAMPLES

DATA = Path(__file__).resolve().parent / "data" / "darknet"


Loaded = tuple[Network, Report, DarknetView]


def analysed(result: readers.Read) -> Loaded:
    return result.network, analyze(result.network), result.extras["darknet"]


def load(name: str, shape: tuple[int, ...] | None = None) -> Loaded:
    return analysed(readers.read(str(DATA / name), readers.ReadOptions(shape)))


def read(text: str, shape: tuple[int, ...] | None = None) -> Loaded:
    source = readers.Source("net.cfg", text.encode())
    return analysed(readers.read(source, readers.ReadOptions(shape)))


def shapes(report: Report) -> dict[str, tuple[int, ...]]:
    return {layer.name: layer.output_shape for layer in report.layers}


# ---- the reference cfgs against Darknet's own printout ----------------------------------------


@pytest.mark.parametrize(
    ("name", "input_shape", "total"),
    [
        # "Total BFLOPS" printed by AlexeyAB/darknet when it loads the cfg (src/parser.c), at the
        # size each cfg declares (416×416 for the first three, 608×608 for yolov4)
        ("yolov3-tiny.cfg", (1, 3, 416, 416), "5.571"),
        ("yolov3.cfg", (1, 3, 416, 416), "65.879"),
        ("yolov4-tiny.cfg", (1, 3, 416, 416), "6.910"),
        ("yolov4.cfg", (64, 3, 608, 608), "128.459"),  # batch=64 in [net]
    ],
)
def test_total_bflops_as_darknet_prints(name: str, input_shape: tuple[int, ...], total: str) -> None:
    _, report, view = load(name)
    assert report.input_shape == input_shape
    layers = darknet_layers(view, report)
    assert f"{total_bflops(layers):5.3f}" == total
    assert darknet_table(report, view).endswith(f"Total BFLOPS {total}\n")


@pytest.mark.parametrize("name", ["yolov3-tiny.cfg", "yolov3.cfg", "yolov4.cfg"])
def test_conv_bflops_are_twice_the_macs(name: str) -> None:
    # Darknet's convolution BFLOPs, 2·(filters·size²·c/groups)·out_h·out_w/1e9, are 2 × cnncalc's
    # MACs for one image; its total also counts [maxpool] and [shortcut] work, which MACs do not
    _, report, view = load(name)
    batch = report.input_shape[0]
    layers = darknet_layers(view, report)
    convs = [layer for layer in report.layers if layer.type == "Conv2d"]
    rows = [layer for layer in layers if layer.kind == "conv"]
    assert len(rows) == len(convs)
    for row, conv in zip(rows, convs):
        assert row.bflops == float32(2 * conv.macs // batch / 1e9)
    assert sum(conv.macs for conv in convs) == report.totals.macs
    extra = [layer for layer in layers if layer.kind in ("max", "shortcut")]
    for row in extra:  # size²·c·out_h·out_w (maxpool_layer.c), out elements × inputs (shortcut_layer.c)
        w, h, c = row.output
        section = row.section
        work = (
            section.size * section.size * c * h * w if row.kind == "max" else w * h * c * len(section.sources)
        )
        assert row.bflops == float32(work / 1e9)


# The first rows AlexeyAB/darknet printed loading cfg/yolov3-tiny.cfg at 608×608
# (junxnone/aiwiki issue #52).
YOLOV3_TINY_608 = """\
   layer   filters  size/strd(dil)      input                output
   0 conv     16       3 x 3/ 1    608 x 608 x   3 ->  608 x 608 x  16 0.319 BF
   1 max                2x 2/ 2    608 x 608 x  16 ->  304 x 304 x  16 0.006 BF
   2 conv     32       3 x 3/ 1    304 x 304 x  16 ->  304 x 304 x  32 0.852 BF
   3 max                2x 2/ 2    304 x 304 x  32 ->  152 x 152 x  32 0.003 BF
   4 conv     64       3 x 3/ 1    152 x 152 x  32 ->  152 x 152 x  64 0.852 BF
   5 max                2x 2/ 2    152 x 152 x  64 ->   76 x  76 x  64 0.001 BF
   6 conv    128       3 x 3/ 1     76 x  76 x  64 ->   76 x  76 x 128 0.852 BF
   7 max                2x 2/ 2     76 x  76 x 128 ->   38 x  38 x 128 0.001 BF
   8 conv    256       3 x 3/ 1     38 x  38 x 128 ->   38 x  38 x 256 0.852 BF
   9 max                2x 2/ 2     38 x  38 x 256 ->   19 x  19 x 256 0.000 BF
  10 conv    512       3 x 3/ 1     19 x  19 x 256 ->   19 x  19 x 512 0.852 BF
  11 max                2x 2/ 1     19 x  19 x 512 ->   19 x  19 x 512 0.001 BF
  12 conv   1024       3 x 3/ 1     19 x  19 x 512 ->   19 x  19 x1024 3.407 BF
  13 conv    256       1 x 1/ 1     19 x  19 x1024 ->   19 x  19 x 256 0.189 BF
"""

# Rows 109-127 AlexeyAB/darknet printed loading cfg/yolov4.cfg at 544×544 (AlexeyAB/darknet
# issue #5672), tabs as printed by parse_route.
YOLOV4_544 = """\
 109 route  107 \t\t                           ->   17 x  17 x 512 \n\
 110 max                9x 9/ 1     17 x  17 x 512 ->   17 x  17 x 512 0.012 BF
 111 route  107 \t\t                           ->   17 x  17 x 512 \n\
 112 max               13x13/ 1     17 x  17 x 512 ->   17 x  17 x 512 0.025 BF
 113 route  112 110 108 107 \t                   ->   17 x  17 x2048 \n\
 114 conv    512       1 x 1/ 1     17 x  17 x2048 ->   17 x  17 x 512 0.606 BF
 115 conv   1024       3 x 3/ 1     17 x  17 x 512 ->   17 x  17 x1024 2.727 BF
 116 conv    512       1 x 1/ 1     17 x  17 x1024 ->   17 x  17 x 512 0.303 BF
 117 conv    256       1 x 1/ 1     17 x  17 x 512 ->   17 x  17 x 256 0.076 BF
 118 upsample                 2x    17 x  17 x 256 ->   34 x  34 x 256
 119 route  85 \t\t                           ->   34 x  34 x 512 \n\
 120 conv    256       1 x 1/ 1     34 x  34 x 512 ->   34 x  34 x 256 0.303 BF
 121 route  120 118 \t                           ->   34 x  34 x 512 \n\
 122 conv    256       1 x 1/ 1     34 x  34 x 512 ->   34 x  34 x 256 0.303 BF
 123 conv    512       3 x 3/ 1     34 x  34 x 256 ->   34 x  34 x 512 2.727 BF
"""

# The first rows AlexeyAB/darknet printed loading cfg/yolov4-tiny.cfg at 1280×736
# (ceccocats/tkDNN issue #133).
YOLOV4_TINY_1280X736 = """\
   layer   filters  size/strd(dil)      input                output
   0 conv     32       3 x 3/ 2   1280 x 736 x   3 ->  640 x 368 x  32 0.407 BF
   1 conv     64       3 x 3/ 2    640 x 368 x  32 ->  320 x 184 x  64 2.171 BF
   2 conv     64       3 x 3/ 1    320 x 184 x  64 ->  320 x 184 x  64 4.341 BF
   3 route  2                                  1/2 ->  320 x 184 x  32
   4 conv     32       3 x 3/ 1    320 x 184 x  32 ->  320 x 184 x  32 1.085 BF
   5 conv     32       3 x 3/ 1    320 x 184 x  32 ->  320 x 184 x  32 1.085 BF
   6 route  5 4                                    ->  320 x 184 x  64
   7 conv     64       1 x 1/ 1    320 x 184 x  64 ->  320 x 184 x  64 0.482 BF
   8 route  2 7                                    ->  320 x 184 x 128
   9 max                2x 2/ 2    320 x 184 x 128 ->  160 x  92 x 128 0.008 BF
  10 conv    128       3 x 3/ 1    160 x  92 x 128 ->  160 x  92 x 128 4.341 BF
  11 route  10                                 1/2 ->  160 x  92 x  64
"""


def _printed(text: str) -> list[str]:
    return [line.expandtabs(8).rstrip() for line in text.splitlines()]


def test_rows_as_darknet_prints_yolov3_tiny_at_608() -> None:
    _, report, view = load("yolov3-tiny.cfg", (1, 3, 608, 608))
    table = darknet_table(report, view).splitlines()
    assert table[:15] == _printed(YOLOV3_TINY_608)


def test_rows_as_darknet_prints_yolov4_at_544() -> None:
    _, report, view = load("yolov4.cfg", (1, 3, 544, 544))
    table = darknet_table(report, view).splitlines()
    assert table[110:125] == _printed(YOLOV4_544)


def test_rows_as_darknet_prints_yolov4_tiny_at_1280x736() -> None:
    _, report, view = load("yolov4-tiny.cfg", (1, 3, 736, 1280))
    table = darknet_table(report, view).splitlines()
    assert table[:13] == _printed(YOLOV4_TINY_1280X736)


def test_whole_table_yolov3_tiny() -> None:
    _, report, view = load("yolov3-tiny.cfg")
    assert darknet_table(report, view).splitlines()[14:] == [
        "  13 conv    256       1 x 1/ 1     13 x  13 x1024 ->   13 x  13 x 256 0.089 BF",
        "  14 conv    512       3 x 3/ 1     13 x  13 x 256 ->   13 x  13 x 512 0.399 BF",
        "  15 conv    255       1 x 1/ 1     13 x  13 x 512 ->   13 x  13 x 255 0.044 BF",
        "  16 yolo",
        "  17 route  13                                     ->   13 x  13 x 256",
        "  18 conv    128       1 x 1/ 1     13 x  13 x 256 ->   13 x  13 x 128 0.011 BF",
        "  19 upsample                 2x    13 x  13 x 128 ->   26 x  26 x 128",
        "  20 route  19 8                                   ->   26 x  26 x 384",
        "  21 conv    256       3 x 3/ 1     26 x  26 x 384 ->   26 x  26 x 256 1.196 BF",
        "  22 conv    255       1 x 1/ 1     26 x  26 x 256 ->   26 x  26 x 255 0.088 BF",
        "  23 yolo",
        "Total BFLOPS 5.571",
    ]


# ---- parameters, derived independently from the cfg text --------------------------------------


def conv_params(text: str) -> int:
    """Σ over [convolutional]: filters·(c_in/groups)·size² weights, plus a bias per filter, or
    BatchNorm's weight and bias per filter with batch_normalize=1. c_in is followed through the
    layers that change channels here: [route] (sum of its inputs, divided by groups)."""
    blocks = re.split(r"^\[", text, flags=re.M)[1:]
    sections = []
    for block in blocks:
        header, _, body = block.partition("\n")
        options = dict(
            line.replace(" ", "").split("=", 1)
            for line in body.splitlines()
            if "=" in line and line[0] != "#"
        )
        sections.append((header.rstrip("]"), options))
    channels = [int(sections[0][1]["channels"])]  # channels[-1]: the input's; then one per layer
    total = 0
    for kind, options in sections[1:]:
        c = channels[-1]
        if kind == "convolutional":
            filters, size, groups = (
                int(options["filters"]),
                int(options["size"]),
                int(options.get("groups", 1)),
            )
            bn = options.get("batch_normalize") == "1"
            total += filters * (c // groups) * size * size + filters * (2 if bn else 1)
            c = filters
        elif kind == "route":
            layers = [int(v) for v in options["layers"].split(",")]
            here = len(channels) - 1
            c = sum(channels[1 + (here + v if v < 0 else v)] for v in layers) // int(options.get("groups", 1))
        channels.append(c)
    return total


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("yolov3-tiny.cfg", 8_852_366),
        # the same count Keras YOLOv3 prints as trainable and ultralytics' yolov3.yaml as parameters
        ("yolov3.cfg", 61_949_149),
        ("yolov4-tiny.cfg", 6_056_606),
        ("yolov4.cfg", 64_363_101),
    ],
)
def test_parameters(name: str, params: int) -> None:
    assert conv_params((DATA / name).read_text()) == params
    _, report, _ = load(name)
    assert report.totals.params == params


# ---- shapes, derived by hand -------------------------------------------------------------------


def test_yolov3_tiny_shapes() -> None:
    _, report, _ = load("yolov3-tiny.cfg")
    out = shapes(report)
    # five [maxpool] size=2 stride=2 halve 416 → 208 → 104 → 52 → 26 → 13: padding is size-1 = 1,
    # (w + 1 - 2)/2 + 1 = w/2, padded on the right and bottom only (left = 1//2 = 0)
    assert out["pad_1"] == (1, 16, 417, 417)
    assert out["layer_1"] == (1, 16, 208, 208)
    assert out["layer_9"] == (1, 256, 13, 13)
    # layer 11, [maxpool] size=2 stride=1: (13 + 1 - 2)/1 + 1 = 13, the size is kept
    assert out["pad_11"] == (1, 512, 14, 14)
    assert out["layer_11"] == (1, 512, 13, 13)
    # conv 15: filters=255 = 3 anchors × (80 classes + 5); the [yolo] output is its input
    assert out["layer_15"] == out["yolo_16"] == (1, 255, 13, 13)
    # route -4 from layer 17 is layer 13 (256 channels); upsample ×2 gives 26×26
    assert out["layer_17"] == (1, 256, 13, 13)
    assert out["layer_19"] == (1, 128, 26, 26)
    # route -1, 8: 128 (upsampled) + 256 (layer 8) channels at 26×26
    assert out["layer_20"] == (1, 384, 26, 26)
    assert out["yolo_23"] == (1, 255, 26, 26)
    assert report.outputs == ("yolo_16", "yolo_23")


def test_yolov3_and_yolov4_shapes() -> None:
    _, report, _ = load("yolov3.cfg")
    out = shapes(report)
    # layer 4 [shortcut] from=-3: layer 1 (64 channels, stride 2 → 208) plus layer 3
    assert out["layer_4"] == (1, 64, 208, 208)
    # route 86 = layer 85 (upsampled to 26, 256 channels) + layer 61 (26×26, 512 channels)
    assert out["layer_86"] == (1, 768, 26, 26)
    assert report.outputs == ("yolo_82", "yolo_94", "yolo_106")
    assert [out[name] for name in report.outputs] == [(1, 255, 13, 13), (1, 255, 26, 26), (1, 255, 52, 52)]
    _, report, _ = load("yolov4.cfg")
    out = shapes(report)
    # SPP: [maxpool] size 5, 9, 13 with stride 1 keep 19×19 (608/32); route -1,-3,-5,-6 = 4 × 512
    assert out["pad_108"] == (64, 512, 23, 23)  # padding 4: 2 left, 2 right
    assert out["pad_112"] == (64, 512, 31, 31)
    assert out["layer_112"] == (64, 512, 19, 19)
    assert out["layer_113"] == (64, 2048, 19, 19)
    assert [out[name] for name in report.outputs] == [(64, 255, 76, 76), (64, 255, 38, 38), (64, 255, 19, 19)]


# ---- the translation of each section ------------------------------------------------------------

NET = "[net]\nbatch=2\nwidth=16\nheight=16\nchannels=3\n"


def items(network: Network) -> list[tuple[str, str, tuple[str, ...]]]:
    """(name, kind, inputs) of every node."""
    names = {node.index: node.name for node in network.nodes}
    names[-1] = "input"
    return [(n.name, n.layer.kind, tuple(names[i] for i in n.inputs)) for n in network.nodes]


def test_route_and_shortcut_references() -> None:
    text = NET + (
        "[convolutional]\nfilters=8\nsize=3\npad=1\nactivation=leaky\n"  # 0
        "[convolutional]\nbatch_normalize=1\nfilters=8\nsize=1\nactivation=linear\n"  # 1
        "[shortcut]\nfrom=-2\nactivation=relu\n"  # 2: layer 1 + layer 0, then ReLU
        "[route]\nlayers=0, -1\n"  # 3: absolute 0 and relative -1 (layer 2): 16 channels
        "[convolutional]\nfilters=4\nsize=1\nactivation=logistic\n"  # 4
        "[route]\nlayers=-3\n"  # 5: layer 2 again
    )
    network, report, view = read(text)
    assert items(network) == [
        ("conv_0", "Conv2d", ("input",)),
        ("layer_0", "LeakyReLU", ("conv_0",)),
        ("conv_1", "Conv2d", ("layer_0",)),
        ("layer_1", "BatchNorm2d", ("conv_1",)),
        ("add_2", "Add", ("layer_1", "layer_0")),
        ("layer_2", "ReLU", ("add_2",)),
        ("layer_3", "Concat", ("layer_0", "layer_2")),
        ("conv_4", "Conv2d", ("layer_3",)),
        ("layer_4", "Sigmoid", ("conv_4",)),
        ("layer_5", "Concat", ("layer_2",)),
    ]
    out = shapes(report)
    assert out["layer_3"] == (2, 16, 16, 16)
    assert out["layer_5"] == (2, 8, 16, 16)
    # conv 0 has a bias (no batch_normalize); conv 1 none, BatchNorm has weight and bias
    assert [layer.params for layer in report.layers[:4]] == [8 * 3 * 9 + 8, 0, 8 * 8, 16]
    # layer 4's output is read by nothing: Darknet computes it anyway, so it is an output
    assert report.outputs == ("layer_4", "layer_5")
    table = darknet_table(report, view).splitlines()
    assert table[3] == "   2 Shortcut Layer: 0,  wt = 0, wn = 0, outputs:  16 x  16 x   8 0.000 BF"
    assert table[4] == "   3 route  0 2                                    ->   16 x  16 x  16"


def test_convolution_arguments() -> None:
    text = NET + (
        "[convolutional]\nfilters=6\nsize=3\nstride_x=2\nstride_y=1\npadding=2\ngroups=3\nactivation=mish\n"
        "[convolutional]\nfilters=6\nsize=3\ndilation=2\npad=1\nactivation=swish\n"
        "[convolutional]\nfilters=4\nsize=2\nstride=2\nactivation=linear\n"
    )
    network, report, view = read(text)
    conv = [node.layer.model_dump() for node in network.nodes if node.layer.kind == "Conv2d"]
    assert (conv[0]["stride"], conv[0]["padding"], conv[0]["groups"]) == ((1, 2), 2, 3)
    # dilation 2 with pad=1: Darknet pads pad·dilation = 2 (im2col_cpu_ext), so 3×3 keeps the size
    assert (conv[1]["dilation"], conv[1]["padding"]) == (2, 2)
    out = shapes(report)
    # (16 + 2·2 - 3)/1 + 1 = 18 high, (16 + 4 - 3)/2 + 1 = 9 wide
    assert out["layer_0"] == (2, 6, 18, 9)
    assert out["layer_1"] == (2, 6, 18, 9)
    assert out["layer_2"] == (2, 4, 9, 4)
    assert [n.layer.kind for n in network.nodes] == ["Conv2d", "Mish", "Conv2d", "SiLU", "Conv2d"]
    rows = darknet_table(report, view).splitlines()
    assert rows[1].startswith("   0 conv      6/   3  3x 3/ 2x 1   16 x  16 x   3 ->    9 x  18 x   6")
    assert rows[2].startswith("   1 conv      6       3 x 3/ 1(2)   9 x  18 x   6 ->    9 x  18 x   6")


@pytest.mark.parametrize(
    ("options", "padded", "out"),
    [
        # out = (w + padding - size)/stride + 1 (make_maxpool_layer), padding size-1 by default
        ("size=2\nstride=1", (0, 1), 16),
        ("size=3\nstride=2", (1, 1), 8),  # (16 + 2 - 3)/2 + 1 = 8
        ("size=3\nstride=2\npadding=0", None, 7),
        ("size=2\nstride=2\npadding=3", (1, 2), 9),  # (16 + 3 - 2)/2 + 1 = 9, left 3//2 = 1
        ("stride=2", (0, 1), 8),  # size defaults to stride
    ],
)
def test_maxpool_padding(options: str, padded: tuple[int, int] | None, out: int) -> None:
    network, report, _ = read(NET + "[maxpool]\n" + options + "\n")
    first = network.nodes[0].layer.model_dump()
    if padded is None:
        assert len(network.nodes) == 1
    else:
        left, right = padded
        assert first["padding"] == (left, right, left, right)
        assert first["value"] == -3.4028234663852886e38  # Darknet reads -FLT_MAX outside the input
    assert report.output_shape == (2, 3, out, out)


def test_other_sections() -> None:
    text = NET + (
        "[convolutional]\nfilters=8\nsize=3\npad=1\nstride=2\nactivation=relu6\n"  # 0: 8×8×8
        "[reorg]\nstride=2\n"  # 1: 4×4×32
        "[convolutional]\nfilters=32\nsize=1\nactivation=logistic\n"  # 2
        "[sam]\nfrom=-2\n"  # 3: layer 2 × layer 1
        "[avgpool]\n"  # 4: 1×1×32
        "[scale_channels]\nfrom=-2\nactivation=linear\n"  # 5: layer 3 scaled by layer 4
        "[upsample]\nstride=2\n"  # 6: 8×8×32
        "[dropout]\nprobability=.25\n"  # 7
        "[connected]\noutput=10\nactivation=leaky\nbatch_normalize=1\n"  # 8
        "[dropout]\nprobability=.5\n"  # 9
        "[connected]\noutput=5\nactivation=linear\n"  # 10
    )
    network, report, view = read(text)
    out = shapes(report)
    assert out["layer_1"] == (2, 32, 4, 4)
    assert out["layer_3"] == (2, 32, 4, 4)
    assert out["layer_4"] == (2, 32, 1, 1)
    assert out["layer_5"] == (2, 32, 4, 4)
    assert out["layer_6"] == (2, 32, 8, 8)
    assert out["layer_8"] == (2, 10)
    assert out["layer_10"] == (2, 5)
    kinds = [(name, kind) for name, kind, _ in items(network)]
    assert kinds[2:] == [
        ("layer_1", "PixelUnshuffle"),
        ("conv_2", "Conv2d"),
        ("layer_2", "Sigmoid"),
        ("layer_3", "Mul"),
        ("layer_4", "AdaptiveAvgPool2d"),
        ("layer_5", "Mul"),
        ("layer_6", "Upsample"),
        ("layer_7", "Dropout"),
        ("flatten_8", "Flatten"),
        ("fc_8", "Linear"),
        ("bn_8", "BatchNorm1d"),
        ("layer_8", "LeakyReLU"),
        ("layer_9", "Dropout"),
        ("layer_10", "Linear"),
    ]
    # Linear without bias before BatchNorm1d (its β is the bias), then a biased Linear
    assert report.layers[11].params == 32 * 8 * 8 * 10
    assert report.layers[15].params == 10 * 5 + 5
    rows = darknet_table(report, view).splitlines()
    assert rows[2:] == [
        "   1 reorg_old              / 2     8 x   8 x   8   ->     4 x   4 x  32",
        "   2 conv     32       1 x 1/ 1      4 x   4 x  32 ->    4 x   4 x  32 0.000 BF",
        "   3 scale Layer: 1",
        "   4 avg                             4 x   4 x  32 ->     32",
        "   5 scale Layer: 3",
        "   6 upsample                 2x     4 x   4 x  32 ->    8 x   8 x  32",
        "   7 dropout    p = 0.250        2048  ->   2048",
        "   8 connected                            2048  ->    10",
        "   9 dropout    p = 0.500          10  ->     10",
        "  10 connected                              10  ->     5",
        "Total BFLOPS 0.000",
    ]


def test_region_head_and_reverse_reorg() -> None:
    text = NET + "[reorg]\nstride=2\nreverse=1\n"  # depth to space needs channels divisible by 2²
    with pytest.raises(SpecError, match=r"reverse reorg needs channels \(3\) divisible by stride² \(4\)"):
        read(text)
    text = NET + "[convolutional]\nfilters=125\nsize=1\nactivation=linear\n[region]\nclasses=20\nnum=5\n"
    _, report, view = read(text)
    assert report.outputs == ("region_1",)
    assert darknet_table(report, view).splitlines()[2] == "   1 detection"


def test_input_from_net_and_override() -> None:
    network, _, _ = read(NET + "[avgpool]\n")
    assert network.input_shape == (2, 3, 16, 16)
    network, report, _ = read(NET + "[avgpool]\n", (1, 5, 7, 9))
    assert network.input_shape == (1, 5, 7, 9)
    assert report.output_shape == (1, 5, 1, 1)
    network, _, _ = read("[network]\nwidth=8\nheight=4\nchannels=1\n[avgpool]\n")  # batch 1 by default
    assert network.input_shape == (1, 1, 4, 8)


# ---- errors: exit 2 and file:line:col ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            NET + "[convolutional]\nfilters=8\nsize=3\n[foo]\nx=1\n",
            "9:1: unknown section '[foo]' (Darknet's src/parser.c has no such layer type)",
        ),
        (
            NET + "\n[convolutional]\nsize=3\npad=1\n",
            "7:1: [convolutional] needs filters= (Darknet would warn and use 1)",
        ),
        (
            NET + "[convolutional]\nfilters=8\nsize=3\n[route]\nlayers = -3\n",
            "10:1: layers=-3 refers to layer -2, but only layer 0 comes before layer 1",
        ),
        (NET + "[route]\nlayers=2\n", "7:1: layers=2 refers to layer 2, but no layer comes before layer 0"),
        (
            NET + "[convolutional]\nfilters=8\nsize=3\nfiltrs=8\n",
            "9:1: [convolutional] has no option 'filtrs' (src/parser.c does not read it)",
        ),
        (
            NET + "[convolutional]\nfilters=8\nsize=3\nsize=5\n",
            "9:1: 'size' is given twice in [convolutional] (first on line 8)",
        ),
        (NET + "[convolutional]\nfilters=eight\nsize=3\n", "7:1: filters must be an integer, got 'eight'"),
        (
            NET + "[convolutional]\nfilters=8\nsize=3\nactivation=stair\n",
            "9:1: activation=stair has no torch.nn module of the same definition",
        ),
        (NET + "[convolutional]\nfilters=8\nsize=3\nactivation=leakyy\n", "9:1: unknown activation 'leakyy'"),
        (
            NET + "[convolutional]\nfilters=254\nsize=1\n[yolo]\nmask=0,1,2\nclasses=80\n",
            "9:1: the layer before has 254 channels but [yolo] needs 3×85 = 255 (filters= of the "
            "[convolutional] layer before must match classes= and mask=)",
        ),
        (
            NET + "[convolutional]\nfilters=8\nsize=3\ndilation=2\n",
            "9:1: with dilation=2 Darknet sizes the output height 14 ((in + 2*pad - size)/stride + 1) "
            "but its convolution gives 12; only padding (size-1)/2 (pad=1 with an odd size) keeps them "
            "equal",
        ),
        (
            NET + "[maxpool]\nsize=2\nmaxpool_depth=1\n",
            "8:1: [maxpool] maxpool_depth= is not supported: it pools across channels",
        ),
        (
            NET + "[maxpool]\nsize=19\nstride=1\npadding=0\n",
            "7:1: size=19 is larger than the padded height (16 + 0)",
        ),
        (
            "[convolutional]\nfilters=8\nsize=3\n",
            "1:1: the first section must be [net] or [network], got [convolutional]",
        ),
        ("filters=8\n[net]\n", "1:1: 'filters=8' comes before the first [section]"),
        (
            "[net]\nwidth=16\nheight=16\n[avgpool]\n",
            "1:1: [net] needs channels= (the input image), or give --input",
        ),
        (
            NET + "[local_avgpool]\n",
            "6:1: [local_avgpool] layers are not supported by cnncalc's Darknet reader",
        ),
        (
            NET + "[connected]\noutput=4\n[convolutional]\nfilters=8\nsize=1\n",
            "8:1: [convolutional] after a [connected] layer (a 1×1 image in Darknet) is not supported: "
            "the layer before must output an image",
        ),
    ],
)
def test_errors(text: str, message: str, runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "net.cfg"
    path.write_text(text)
    result = runner.invoke(app, ["shape", str(path)])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"{path}:{message}\n"


def test_geometry_errors_point_at_the_section(runner: CliRunner, tmp_path: Path) -> None:
    # Darknet does not check groups; PyTorch refuses 3 input channels in 2 groups
    path = tmp_path / "net.cfg"
    path.write_text(NET + "\n[convolutional]\nfilters=8\nsize=3\ngroups=2\n")
    result = runner.invoke(app, ["shape", str(path)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"{path}:7:1: layer 0 'conv_0' (Conv2d) on input (2, 3, 16, 16): in_channels (3) must be "
        "divisible by groups (2)\n"
    )


def test_override_must_be_4d(runner: CliRunner) -> None:
    result = runner.invoke(app, ["shape", str(DATA / "yolov3-tiny.cfg"), "-i", "1,3,416"])
    assert result.exit_code == 2
    assert result.stderr == (
        "<option --input>:1:1: a Darknet network takes a 4D input (batch, channels, height, width); --input "
        "gave 3 values\n"
    )


def test_route_groups() -> None:
    text = NET + (
        "[convolutional]\nfilters=8\nsize=1\n"
        "[convolutional]\nfilters=4\nsize=1\n"
        "[route]\nlayers=-1\ngroups=2\ngroup_id=1\n"  # channels 2..3 of layer 1
        "[route]\nlayers=0,1\ngroups=4\ngroup_id=3\n"  # channels 6..7 of layer 0, 3 of layer 1
    )
    network, report, view = read(text)
    slices = [n.layer.model_dump() for n in network.nodes if n.layer.kind == "Narrow"]
    assert [(s["start"], s["length"]) for s in slices] == [(2, 2), (6, 2), (3, 1)]
    assert shapes(report)["layer_2"] == (2, 2, 16, 16)
    assert shapes(report)["layer_3"] == (2, 3, 16, 16)
    rows = darknet_table(report, view).splitlines()
    assert rows[3] == "   2 route  1                                  1/2 ->   16 x  16 x   2"
    assert rows[4] == "   3 route  0 1                                3/4 ->   16 x  16 x   3"


def test_darknet_view_needs_a_darknet_network() -> None:
    from cnncalc import network as build

    net = build((1, 3, 8, 8), ["Conv2d(3, 4, 3)"])
    with pytest.raises(SpecError, match=r"Darknet's own layer list: give a Darknet \.cfg network"):
        darknet_text(analyze(net), {})


def test_view_records_each_section() -> None:
    # one entry per section after [net], in order: what it reads, the node giving its output
    # (the last cnncalc layer of the section) and the options its row prints
    text = NET + (
        "[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\npad=1\nactivation=leaky\n"  # 0
        "[maxpool]\nsize=2\nstride=2\n"  # 1: pad_1, layer_1
        "[route]\nlayers=-2\ngroups=2\ngroup_id=1\n"  # 2: channels 4..7 of layer 0
        "[convolutional]\nfilters=4\nsize=1\nactivation=linear\n"  # 3
        "[shortcut]\nfrom=-2\nactivation=relu\n"  # 4: layer 3 + layer 2, then ReLU
        "[yolo]\nmask=0\nclasses=-1\n"  # 5: 1 anchor × (-1 + 5) = 4 channels
    )
    network, _, view = read(text)
    assert view == DarknetView(
        (
            DarknetSection(0, "conv", "input", "layer_0", filters=8, size=3, stride_x=1, stride_y=1),
            DarknetSection(1, "max", "layer_0", "layer_1", size=2, stride_x=2, stride_y=2),
            DarknetSection(2, "route", "layer_1", "layer_2", sources=(0,), groups=2, group_id=1),
            DarknetSection(3, "conv", "layer_2", "layer_3", filters=4, size=1, stride_x=1, stride_y=1),
            DarknetSection(4, "shortcut", "layer_3", "layer_4", sources=(2,)),
            DarknetSection(5, "yolo", "layer_4", "yolo_5"),
        )
    )
    assert [n.name for n in network.nodes] == [
        "conv_0", "bn_0", "layer_0", "pad_1", "layer_1", "layer_2", "layer_3", "add_4", "layer_4", "yolo_5",
    ]  # fmt: skip


def test_max_layers_refuses_before_translating() -> None:
    # the third section would be an error, but the limit is said first, at that section
    text = NET + "[avgpool]\n[dropout]\n[foo]\n"
    source = readers.Source("net.cfg", text.encode())
    with pytest.raises(LimitError) as caught:
        readers.read(source, readers.ReadOptions(limits=Limits(max_layers=2)))
    assert (caught.value.message, caught.value.limit) == (
        "the network has 3 layers, more than the limit of 2",
        "max_layers",
    )
    assert caught.value.position == Position("net.cfg", 8, 1)
    assert len(read(NET + "[avgpool]\n[dropout]\n")[0].nodes) == 2


def test_max_layers_option(runner: CliRunner) -> None:
    path = EXAMPLES / "yolov3-tiny.cfg"
    result = runner.invoke(app, ["--max-layers", "23", "shape", str(path)])
    assert result.exit_code == 2
    assert result.stderr.endswith(
        ": the network has 24 layers, more than the limit of 23 (raise it with --max-layers)\n"
    )


def test_wrong_input_length_names_the_argument() -> None:
    with pytest.raises(ArgumentError) as caught:
        read(NET + "[avgpool]\n", (1, 3, 16))
    assert caught.value.argument == "input_shape"


# ---- against real PyTorch ---------------------------------------------------------------------


@pytest.mark.torch
def test_yolov3_tiny_in_torch() -> None:
    torch = pytest.importorskip("torch")
    from tests.torch_build import to_torch

    network, report, _ = load("yolov3-tiny.cfg")
    model = to_torch(network, torch).eval()
    seen: dict[int, tuple[int, ...]] = {}
    for i, module in enumerate(model.layers):
        module.register_forward_hook(lambda m, x, y, i=i: seen.__setitem__(i, tuple(y.shape)))
    with torch.no_grad():
        out = model(torch.randn(report.input_shape))
    assert tuple(out.shape) == report.output_shape == (1, 255, 13, 13)
    merges = {i for i, layer in enumerate(report.layers) if layer.type == "Concat"}
    assert set(seen) == set(range(len(report.layers))) - merges
    assert all(seen[i] == report.layers[i].output_shape for i in seen)
    assert sum(p.numel() for p in model.parameters()) == report.totals.params


def test_bundled_examples_match_darknets_totals(runner: CliRunner) -> None:
    # Darknet's load-time printout: "Total BFLOPS 5.571" (yolov3-tiny) and 6.910 (yolov4-tiny) at 416×416
    for name, total in (("yolov3-tiny.cfg", "5.571"), ("yolov4-tiny.cfg", "6.910")):
        result = runner.invoke(app, ["shape", str(EXAMPLES / name), "--darknet"])
        assert result.exit_code == 0
        assert result.stdout.splitlines()[-1] == f"Total BFLOPS {total}"
