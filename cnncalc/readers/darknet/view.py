"""Darknet's own view of a cfg network: what the reader records per Darknet layer while it
translates the sections, and the figures Darknet's load-time printout shows, with the shapes of
an analysis."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cnncalc.errors import SpecError

if TYPE_CHECKING:
    from cnncalc.report import Report

# The name a section's ``input`` has when the section reads the network input
INPUT = "input"


@dataclass(frozen=True)
class DarknetSection:
    """One Darknet layer (a section after [net]) as the reader translated it.

    ``kind`` is the word Darknet's printout starts the row with (``conv``, ``max``, ``route``,
    ``shortcut``, ``upsample``, ``avg``, ``yolo``, ``region``, ``dropout``, ``connected``,
    ``reorg`` ([reorg], reorg_old_layer.c), ``reorg3d`` ([reorg3d], reorg_layer.c), ``softmax``,
    ``cost``, ``crop``, ``local``, ``detection``; ``scale`` for [sam] and [scale_channels]).
    ``input`` is the node whose output the layer reads (``input``: the network input),
    ``output`` the node that gives its output;
    ``sources`` are the Darknet layer indices a [route], [shortcut] or [sam] reads, resolved.
    The other fields are the section's options as Darknet reads them, where its row shows them.
    """

    index: int
    kind: str
    input: str
    output: str
    filters: int = 0
    size: int = 0
    stride_x: int = 0
    stride_y: int = 0
    dilation: int = 1
    groups: int = 1
    sources: tuple[int, ...] = ()
    group_id: int = 0
    probability: float = 0.0
    xnor: bool = False  # a [convolutional] with xnor=1: Darknet prints "convX" and a 32nd of the BFLOPs


@dataclass(frozen=True)
class DarknetView:
    """Every Darknet layer of a cfg, in Darknet's order: the reader's ``extras["darknet"]``."""

    sections: tuple[DarknetSection, ...]


@dataclass(frozen=True)
class DarknetLayer:
    """One row of Darknet's printout: the section, and its figures for the analysed input.

    ``input``/``output`` are Darknet's (width, height, channels); ``bflops`` is Darknet's
    ``l.bflops``, a 32-bit float, 0 for the layers that set none."""

    section: DarknetSection
    input: tuple[int, int, int]
    output: tuple[int, int, int]
    bflops: float = 0.0

    @property
    def index(self) -> int:
        return self.section.index

    @property
    def kind(self) -> str:
        return self.section.kind


def darknet_layers(view: DarknetView, report: Report) -> tuple[DarknetLayer, ...]:
    """Darknet's layers with the shapes of ``report`` (the analysis of the network read with
    ``view``) and the BFLOPs Darknet prints for them.

    BFLOPs follow Darknet: a convolution's are 2·weights·out_h·out_w/1e9 (src/convolutional_layer.c),
    i.e. 2 × cnncalc's MACs for one image; a [maxpool]'s size²·c·out_h·out_w/1e9 (src/maxpool_layer.c)
    and a [shortcut]'s out_w·out_h·out_c·inputs/1e9 (src/shortcut_layer.c), which cnncalc's MACs do
    not count; an XNOR convolution's a 32nd of its convolution's; every other layer sets none
    ([connected] and [local] included, whose MACs cnncalc counts).
    """
    shapes = {layer.path or layer.name: layer.output_shape for layer in report.layers}
    shapes[INPUT] = report.input_shape
    rows = []
    for section in view.sections:
        if section.input not in shapes or section.output not in shapes:
            missing = section.input if section.input not in shapes else section.output
            raise SpecError(
                f"the report has no layer {missing!r}: it is not of the network read with this view"
            )
        shape_in, shape_out = _whc(shapes[section.input]), _whc(shapes[section.output])
        rows.append(DarknetLayer(section, shape_in, shape_out, bflops(section, shape_in, shape_out)))
    return tuple(rows)


def bflops(section: DarknetSection, shape_in: tuple[int, int, int], shape_out: tuple[int, int, int]) -> float:
    """Darknet's ``l.bflops`` of one layer, from its (w, h, c) input and output."""
    w, h, c = shape_out
    if section.kind == "conv":
        # make_convolutional_layer: l.bflops = (2.0 * l.nweights * l.out_h * l.out_w) / 1000000000.
        flops = float32(
            conv_flops(shape_in[2] // section.groups * section.filters * section.size * section.size, h, w)
            / 1e9
        )
        # "if (l.xnor) l.bflops = l.bflops / 32;": a float divided in float
        return float32(flops / 32) if section.xnor else flops
    if section.kind == "max":
        return float32(maxpool_flops(section.size, c, h, w) / 1e9)
    if section.kind == "shortcut":
        return float32(shortcut_flops(w, h, c, len(section.sources)) / 1e9)
    return 0.0


def conv_flops(weights: int, out_h: int, out_w: int) -> int:
    """A [convolutional] layer's operations, exactly: make_convolutional_layer's
    ``l.nweights = (c / groups) * n * size * size`` (C ints) and ``l.bflops = (2.0 * l.nweights
    * l.out_h * l.out_w) / 1000000000.`` before the division."""
    return 2 * _c_int(weights) * out_h * out_w


def maxpool_flops(size: int, c: int, out_h: int, out_w: int) -> int:
    """A [maxpool]'s: make_maxpool_layer's ``l.size*l.size*l.c * l.out_h*l.out_w`` (C ints)."""
    return _c_int(size * size * c * out_h * out_w)


def shortcut_flops(w: int, h: int, c: int, sources: int) -> int:
    """A [shortcut]'s: make_shortcut_layer's ``l.out_w * l.out_h * l.out_c * l.n`` (C ints), with
    ``l.n`` the layers it adds to the previous one."""
    return _c_int(w * h * c * sources)


def _whc(shape: tuple[int, ...]) -> tuple[int, int, int]:
    """Darknet's (w, h, c) of a (N, C, H, W) image or an (N, F) vector (a 1×1×F image)."""
    if len(shape) == 4:
        return (shape[3], shape[2], shape[1])
    return (1, 1, shape[-1])


def float32(value: float) -> float:
    """The nearest 32-bit float, as C stores a double into a ``float``."""
    return float(struct.unpack("f", struct.pack("f", value))[0])


def _c_int(value: int) -> int:
    """A product of C ``int``s: 32 bits, wrapping on overflow as Darknet's builds do."""
    return (value + 2**31) % 2**32 - 2**31


def total_bflops(layers: tuple[DarknetLayer, ...]) -> float:
    """Darknet's "Total BFLOPS": the positive ``l.bflops`` summed in a 32-bit float
    (src/parser.c parse_network_cfg_custom: ``float bflops = 0; ... bflops += l.bflops``)."""
    total = 0.0
    for layer in layers:
        if layer.bflops > 0:
            total = float32(total + layer.bflops)
    return total
