"""Darknet's own load-time layer list (``--darknet``): its columns, its BFLOPs, its total."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from cnncalc.errors import SpecError
from cnncalc.readers.darknet.view import DarknetLayer, DarknetView, darknet_layers, total_bflops

if TYPE_CHECKING:
    from cnncalc.report import Report

# src/parser.c parse_network_cfg_custom prints this header before the layers
HEADER = "   layer   filters  size/strd(dil)      input                output"


def darknet_text(report: Report, extras: Mapping[str, Any]) -> str:
    """``--format darknet``: Darknet's layer list of a network read from a ``.cfg`` (its reader's
    ``extras["darknet"]``)."""
    view = extras.get("darknet")
    if not isinstance(view, DarknetView):
        raise SpecError("the darknet format is Darknet's own layer list: give a Darknet .cfg network")
    return darknet_table(report, view)


def darknet_table(report: Report, view: DarknetView) -> str:
    """The layer list Darknet (AlexeyAB) prints when it loads the cfg, then "Total BFLOPS":
    ``view`` as the reader recorded it, with the shapes of ``report``.

    Each row is written with the format string of the Darknet function that prints it; tabs are
    expanded to 8 columns as a terminal shows them, and trailing blanks dropped.
    """
    layers = darknet_layers(view, report)
    lines = [HEADER]
    lines += [(f"{layer.index:4d} " + row(layer)).expandtabs(8).rstrip() for layer in layers]
    lines.append(f"Total BFLOPS {total_bflops(layers):5.3f}")
    return "\n".join(lines) + "\n"


def _io(layer: DarknetLayer) -> str:
    """``%4d x%4d x%4d -> %4d x%4d x%4d``: input and output width, height, channels."""
    (w, h, c), (ow, oh, oc) = layer.input, layer.output
    return f"{w:4d} x{h:4d} x{c:4d} -> {ow:4d} x{oh:4d} x{oc:4d}"


def row(layer: DarknetLayer) -> str:
    """One layer as Darknet prints it, after the index."""
    section = layer.section
    if layer.kind == "conv":  # src/convolutional_layer.c make_convolutional_layer
        filters = (
            f"{section.filters:5d}/{section.groups:4d} "
            if section.groups > 1
            else f"{section.filters:5d}      "
        )
        if section.stride_x != section.stride_y:
            window = f"{section.size:2d}x{section.size:2d}/{section.stride_x:2d}x{section.stride_y:2d} "
        elif section.dilation > 1:
            window = f"{section.size:2d} x{section.size:2d}/{section.stride_x:2d}({section.dilation:1d})"
        else:
            window = f"{section.size:2d} x{section.size:2d}/{section.stride_x:2d}   "
        kind = "convX " if section.xnor else "conv  "
        return f"{kind}{filters}{window}{_io(layer)} {layer.bflops:5.3f} BF"
    if layer.kind == "max":  # src/maxpool_layer.c make_maxpool_layer
        if section.stride_x == section.stride_y:
            window = f"max               {section.size:2d}x{section.size:2d}/{section.stride_x:2d}   "
        else:
            window = (
                f"max              {section.size:2d}x{section.size:2d}/"
                f"{section.stride_x:2d}x{section.stride_y:2d} "
            )
        return f"{window}{_io(layer)} {layer.bflops:5.3f} BF"
    w, h, c = layer.input
    ow, oh, oc = layer.output
    if layer.kind == "route":  # src/route_layer.c make_route_layer, src/parser.c parse_route
        n = len(section.sources)
        gap = " \t    " if n > 3 else " \t            " if n > 1 else " \t\t            "
        group = f"{section.group_id}/{section.groups}" if section.groups > 1 else "   "
        sources = "".join(f" {s}" for s in section.sources)
        return f"route {sources}{gap}           {group} -> {ow:4d} x{oh:4d} x{oc:4d} "
    if layer.kind == "shortcut":  # src/shortcut_layer.c make_shortcut_layer (no weights)
        sources = "".join(f"{s}, " for s in section.sources)
        outputs = f"{ow:4d} x{oh:4d} x{oc:4d} {layer.bflops:5.3f} BF"
        return f"Shortcut Layer: {sources} wt = 0, wn = 0, outputs:{outputs}"
    if layer.kind == "upsample":  # src/upsample_layer.c make_upsample_layer
        return f"upsample                {section.stride_x:2d}x  {_io(layer)}"
    if layer.kind == "avg":  # src/avgpool_layer.c make_avgpool_layer
        return f"avg                          {w:4d} x{h:4d} x{c:4d} ->   {oc:4d}"
    if layer.kind == "yolo":  # src/yolo_layer.c make_yolo_layer
        return "yolo"
    if layer.kind == "region":  # src/region_layer.c make_region_layer
        return "detection"
    if layer.kind == "dropout":  # src/dropout_layer.c make_dropout_layer
        inputs = w * h * c
        return f"dropout    p = {section.probability:.3f}        {inputs:4d}  ->   {inputs:4d}"
    if layer.kind == "connected":  # src/connected_layer.c make_connected_layer
        return f"connected                            {w * h * c:4d}  ->  {oc:4d}"
    if layer.kind in ("reorg", "reorg3d"):
        # [reorg]: src/reorg_old_layer.c make_reorg_old_layer; [reorg3d]: src/reorg_layer.c make_reorg_layer
        shapes = f"{w:4d} x{h:4d} x{c:4d}   ->  {ow:4d} x{oh:4d} x{oc:4d}"
        word = "reorg_old" if layer.kind == "reorg" else "reorg"
        return f"{word}              /{section.stride_x:2d}  {shapes}"
    if layer.kind == "softmax":  # src/softmax_layer.c make_softmax_layer
        return f"softmax                                        {w * h * c:4d}"
    if layer.kind == "cost":  # src/cost_layer.c make_cost_layer
        return f"cost                                           {w * h * c:4d}"
    if layer.kind == "crop":  # src/crop_layer.c make_crop_layer: h, w first
        return f"Crop Layer: {h} x {w} -> {oh} x {ow} x {c} image"
    if layer.kind == "local":  # src/local_layer.c make_local_layer: h, w first
        return f"Local Layer: {h} x {w} x {c} image, {oc} filters -> {oh} x {ow} x {oc} image"
    if layer.kind == "detection":  # src/detection_layer.c make_detection_layer
        return "Detection Layer"
    if layer.kind == "scale":  # [sam] and [scale_channels]: src/sam_layer.c, src/scale_channels_layer.c
        return f"scale Layer: {section.sources[0]}"
    raise ValueError(f"no Darknet row for a {layer.kind!r} layer")
