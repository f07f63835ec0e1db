"""One handler per Darknet section kind, registered in :data:`HANDLERS`, and the loop that
translates a cfg's sections through them.

Each Darknet layer ``i`` becomes one or more cnncalc layers: the last is named ``layer_<i>``
(``yolo_<i>``/``region_<i>`` for the detection heads), the ones before it ``<role>_<i>``
(``conv_3``, ``bn_3``, ``pad_5``). A handler returns the layer's output and the
:class:`~cnncalc.readers.darknet.view.DarknetSection` Darknet's printout needs.
"""

from __future__ import annotations

import difflib
from typing import Any

from cnncalc.errors import SpecError, shown
from cnncalc.readers.darknet import classic
from cnncalc.readers.darknet.cfg import (
    OTHER_DARKNET_SECTIONS,
    RECURRENT_SECTIONS,
    SECTION_KINDS,
    Options,
    Section,
)
from cnncalc.readers.darknet.merges import shortcut
from cnncalc.readers.darknet.translator import Handler, Output, Translated, Translator, c_div, shaped
from cnncalc.readers.darknet.translator import section as _section

# forward_maxpool_layer reads -FLT_MAX (float.h) where a window leaves the input
FLT_MAX_NEGATIVE = -3.4028234663852886e38


def translate(t: Translator, index: int, section: Section) -> None:
    """Translate Darknet layer ``index`` with the handler of its section kind."""
    kind = SECTION_KINDS.get(section.header)
    if kind is None or kind == "net":
        if section.header in RECURRENT_SECTIONS:
            raise SpecError(recurrent_refusal(section.header), section.position)
        if section.header in OTHER_DARKNET_SECTIONS:
            raise SpecError(
                f"{section.header} layers are not supported by cnncalc's Darknet reader",
                section.position,
            )
        if kind is not None:
            raise SpecError(f"{section.header} may only be the first section", section.position)
        close = difflib.get_close_matches(
            section.header, [*SECTION_KINDS, *OTHER_DARKNET_SECTIONS], n=1, cutoff=0.8
        )
        hint = f"; did you mean {close[0]}?" if close else ""
        raise SpecError(
            f"unknown section {shown(section.header)} (Darknet's src/parser.c has no such layer type{hint})",
            section.position,
        )
    opts = Options(section, kind)
    for note in opts.check_keys():
        t.note(note)
    prev = t.layers[-1] if t.layers else t.input
    if t.layers and kind != "route":
        t.used.add(index - 1)
    out, printed = HANDLERS[kind](t, index, opts, prev)
    t.layers.append(out)
    t.sections.append(printed)


def recurrent_refusal(header: str) -> str:
    """The message for a recurrent layer: its input is a sequence, which no input shape fixes."""
    return (
        f"{header} layers are not supported by cnncalc's Darknet reader: recurrent layers run "
        "over time_steps of a sequence (Darknet's text and sequence models), which cnncalc's "
        "network model does not express"
    )


def convolutional(t: Translator, index: int, opts: Options, prev: Output) -> Translated:
    """src/parser.c parse_convolutional, src/convolutional_layer.c make_convolutional_layer."""
    t.image(opts, prev)
    filters = opts.integer("filters", darknet=1)
    size = opts.integer("size", darknet=1)
    groups = max(opts.integer("groups", 1), 1)  # make_convolutional_layer: groups < 1 means 1
    stride_x, stride_y = opts.integer("stride_x", -1), opts.integer("stride_y", -1)
    if stride_x < 1 or stride_y < 1:
        stride = opts.integer("stride", 1)
        stride_x = stride if stride_x < 1 else stride_x
        stride_y = stride if stride_y < 1 else stride_y
    dilation = 1 if size == 1 else opts.integer("dilation", 1)  # parse_convolutional: size 1, dilation 1
    padding = opts.integer("padding", 0)
    if opts.integer("pad", 0):
        padding = size // 2  # parse_convolutional: "if(pad) padding = size/2;"
    batch_normalize = opts.integer("batch_normalize", 0) or opts.integer("cbn", 0)
    opts.refuse("antialiasing", why="it adds a blur convolution and moves the stride to it")
    xnor = opts.integer("xnor", 0)
    if xnor and groups != 1:
        # make_convolutional_layer: "if (xnor) groups = 1", which the cfg then does not say
        raise SpecError(
            f"xnor=1 with groups={groups}: Darknet's XNOR convolution ignores groups", opts.where("groups")
        )
    opts.refuse("share_index", unless=-1000000000, why="weights shared with another layer")
    opts.refuse("coordconv", why="it adds coordinate channels")
    for key in ("sway", "rotate", "stretch", "stretch_sway"):
        opts.refuse(key, why="deformable (rotated or stretched) weights")
    for key, value in (("filters", filters), ("size", size), ("stride", min(stride_x, stride_y))):
        if value < 1:
            raise SpecError(f"{key} must be positive, got {value}", opts.where(key))
    if dilation < 1:
        raise SpecError(f"dilation must be positive, got {dilation}", opts.where("dilation"))
    if padding < 0:
        raise SpecError(f"padding must not be negative, got {padding}", opts.where("padding"))
    extent = dilation * (size - 1) + 1
    for axis, size_in in (("height", prev.h), ("width", prev.w)):
        if size_in + 2 * padding * dilation < extent:
            raise SpecError(
                f"size={size} spans {extent} inputs but the padded {axis} is "
                f"{size_in} + 2*{padding * dilation}",
                opts.where("size"),
            )
    # convolutional_out_height/width: (h + 2*pad - size)/stride + 1, whatever the dilation;
    # the convolution itself pads pad*dilation (im2col_cpu_ext, cudnnSetConvolution2dDescriptor).
    # Both agree for dilation 1 and for pad = size/2 with an odd size; otherwise Darknet's
    # buffers do not match its own convolution, and nothing exact can be said.
    out_h = c_div(prev.h + 2 * padding - size, stride_y) + 1
    out_w = c_div(prev.w + 2 * padding - size, stride_x) + 1
    for axis, size_in, stride, out_size in (
        ("height", prev.h, stride_y, out_h),
        ("width", prev.w, stride_x, out_w),
    ):
        real = (size_in + 2 * padding * dilation - dilation * (size - 1) - 1) // stride + 1
        if real != out_size:
            raise SpecError(
                f"with dilation={dilation} Darknet sizes the output {axis} {out_size} "
                f"((in + 2*pad - size)/stride + 1) but its convolution gives {real}; "
                "only padding (size-1)/2 (pad=1 with an odd size) keeps them equal",
                opts.where("dilation"),
            )
    where = opts.section.position
    conv_args: dict[str, Any] = {
        "out_channels": filters,
        "kernel_size": size,
        "stride": stride_x if stride_x == stride_y else [stride_y, stride_x],
        "padding": padding * dilation,
    }
    if dilation != 1:
        conv_args["dilation"] = dilation
    if groups != 1:
        conv_args["groups"] = groups
    conv_args["bias"] = not batch_normalize
    has_act = t.has_activation(opts, "logistic")
    last = f"layer_{index}"
    out = t.emit(where, f"conv_{index}" if batch_normalize or has_act else last, "Conv2d", prev, **conv_args)
    if batch_normalize:
        # make_convolutional_layer: with batch_normalize the biases are BatchNorm's β
        out = t.emit(where, f"bn_{index}" if has_act else last, "BatchNorm2d", out)
    out = shaped(t.activation(opts, "logistic", index, out), filters, out_h, out_w)
    return out, _section(
        index,
        "conv",
        prev,
        out,
        filters=filters,
        size=size,
        stride_x=stride_x,
        stride_y=stride_y,
        dilation=dilation,
        groups=groups,
        xnor=bool(xnor),
    )


def maxpool(t: Translator, index: int, opts: Options, prev: Output) -> Translated:
    """src/parser.c parse_maxpool, src/maxpool_layer.c make_maxpool_layer."""
    t.image(opts, prev)
    stride = opts.integer("stride", 1)
    stride_x, stride_y = opts.integer("stride_x", stride), opts.integer("stride_y", stride)
    size = opts.integer("size", stride)
    padding = opts.integer("padding", size - 1)  # parse_maxpool: total padding, default size-1
    opts.refuse("maxpool_depth", why="it pools across channels")
    opts.refuse("antialiasing", why="it adds a blur convolution and moves the stride to it")
    for key, value in (("size", size), ("stride", min(stride_x, stride_y))):
        if value < 1:
            raise SpecError(f"{key} must be positive, got {value}", opts.where(key))
    if padding < 0:
        raise SpecError(f"padding must not be negative, got {padding}", opts.where("padding"))
    for axis, size_in in (("height", prev.h), ("width", prev.w)):
        if size_in + padding < size:
            raise SpecError(
                f"size={size} is larger than the padded {axis} ({size_in} + {padding})",
                opts.where("size"),
            )
    # make_maxpool_layer: out = (w + padding - size)/stride + 1; forward_maxpool_layer reads
    # from -pad/2, so padding//2 on the left and top, the rest on the right and bottom, with
    # -FLT_MAX where the window leaves the input, the value padded here.
    out_h = (prev.h + padding - size) // stride_y + 1
    out_w = (prev.w + padding - size) // stride_x + 1
    where = opts.section.position
    out = prev
    if padding:
        left = padding // 2
        out = t.emit(
            where,
            f"pad_{index}",
            "ConstantPad2d",
            out,
            padding=[left, padding - left, left, padding - left],
            value=FLT_MAX_NEGATIVE,
        )
    pool = {"kernel_size": size, "stride": stride_x if stride_x == stride_y else [stride_y, stride_x]}
    out = shaped(t.emit(where, f"layer_{index}", "MaxPool2d", out, **pool), prev.c, out_h, out_w)
    return out, _section(index, "max", prev, out, size=size, stride_x=stride_x, stride_y=stride_y)


def avgpool(t: Translator, index: int, opts: Options, prev: Output) -> Translated:
    """src/avgpool_layer.c make_avgpool_layer: the mean of each channel, out 1x1."""
    t.image(opts, prev)
    out = t.emit(opts.section.position, f"layer_{index}", "AdaptiveAvgPool2d", prev, output_size=1)
    out = shaped(out, prev.c, 1, 1)
    return out, _section(index, "avg", prev, out)


def route(t: Translator, index: int, opts: Options, prev: Output) -> Translated:
    """src/parser.c parse_route, src/route_layer.c: inputs concatenated along the channels;
    with groups=G, group_id=K each input gives its K-th of G equal parts."""
    indices = [t.reference(opts, "layers", v, index) for v in opts.integers("layers")]
    sources = [t.layers[i] for i in indices]
    groups = opts.integer("groups", 1)
    group_id = opts.integer("group_id", 0)
    if groups < 1:
        raise SpecError(f"groups must be positive, got {groups}", opts.where("groups"))
    if not 0 <= group_id < groups:
        raise SpecError(f"group_id must be in 0..{groups - 1}, got {group_id}", opts.where("group_id"))
    first = sources[0]
    for other in sources[1:]:
        if (other.w, other.h) != (first.w, first.h) or other.flat != first.flat:
            # parse_route: "The width and height of the input layers are different."
            raise SpecError(
                f"the width and height of the input layers are different ({first.whc} and {other.whc})",
                opts.where("layers"),
            )
    where = opts.section.position
    last = f"layer_{index}"
    printed: dict[str, Any] = {"sources": tuple(indices), "groups": groups, "group_id": group_id}
    if groups == 1:
        out = t.emit(where, last, "Concat", sources, dim=1)
        out = shaped(out, sum(s.c for s in sources), first.h, first.w, first.flat)
        return out, _section(index, "route", prev, out, **printed)
    for source in sources:
        if source.c % groups:
            # forward_route_layer copies input_size/groups elements from offset
            # group_id*input_size/groups: channels only when groups divides them
            raise SpecError(
                f"groups={groups} does not divide the {source.c} channels of {source.name}",
                opts.where("groups"),
            )
    parts = []
    for k, source in enumerate(sources):
        part = source.c // groups
        name = last if len(sources) == 1 else f"slice_{index}_{k}"
        parts.append(t.emit(where, name, "Narrow", source, dim=1, start=group_id * part, length=part))
    out = parts[0] if len(parts) == 1 else t.emit(where, last, "Concat", parts, dim=1)
    out = shaped(out, sum(s.c for s in sources) // groups, first.h, first.w, first.flat)
    return out, _section(index, "route", prev, out, **printed)


def upsample(t: Translator, index: int, opts: Options, prev: Output) -> Translated:
    """src/upsample_layer.c: each value repeated stride×stride times (nearest neighbour)."""
    t.image(opts, prev)
    stride = opts.integer("stride", 2)
    if stride < 1:
        raise SpecError(
            f"stride={stride}: only upsampling (a positive stride) is supported", opts.where("stride")
        )
    out = t.emit(
        opts.section.position, f"layer_{index}", "Upsample", prev, scale_factor=float(stride), mode="nearest"
    )
    out = shaped(out, prev.c, prev.h * stride, prev.w * stride)
    return out, _section(index, "upsample", prev, out, stride_x=stride, stride_y=stride)


def _head(
    t: Translator, index: int, opts: Options, prev: Output, kind: str, per_anchor: int, anchors: int
) -> Translated:
    """[yolo] and [region]: outputs; their output is their input (no parameters)."""
    t.image(opts, prev)
    if prev.c != anchors * per_anchor:
        # parse_yolo / parse_region: "Error: l.outputs == params.inputs"
        raise SpecError(
            f"the layer before has {prev.c} channels but [{kind}] needs {anchors}×{per_anchor} = "
            f"{anchors * per_anchor} (filters= of the [convolutional] layer before must match "
            f"classes= and {'mask=' if kind == 'yolo' else 'num='})",
            opts.section.position,
        )
    out = t.emit(opts.section.position, f"{kind}_{index}", "Identity", prev)
    return out, _section(index, kind, prev, out)


def yolo(t: Translator, index: int, opts: Options, prev: Output) -> Translated:
    """src/parser.c parse_yolo: filters = len(mask)·(classes + 5), or num·(classes + 5)."""
    classes = opts.integer("classes", 20)
    anchors = opts.integer("num", 1)
    if opts.given("mask"):
        anchors = len(opts.integers("mask"))
    return _head(t, index, opts, prev, "yolo", classes + 4 + 1, anchors)


def region(t: Translator, index: int, opts: Options, prev: Output) -> Translated:
    """src/parser.c parse_region: filters = num·(classes + coords + 1)."""
    coords = opts.integer("coords", 4)
    classes = opts.integer("classes", 20)
    return _head(t, index, opts, prev, "region", classes + coords + 1, opts.integer("num", 1))


def dropout(t: Translator, index: int, opts: Options, prev: Output) -> Translated:
    """src/dropout_layer.c: nothing at inference; the output is the input."""
    p = opts.number("probability", 0.2)  # parse_dropout's default
    if not 0 <= p <= 1:
        raise SpecError(f"probability must be between 0 and 1, got {p}", opts.where("probability"))
    out = t.emit(opts.section.position, f"layer_{index}", "Dropout", prev, p=p)
    return out, _section(index, "dropout", prev, out, probability=p)


def connected(t: Translator, index: int, opts: Options, prev: Output) -> Translated:
    """src/connected_layer.c: every input value to every output, on the flattened input."""
    outputs = opts.integer("output", darknet=1)
    if outputs < 1:
        raise SpecError(f"output must be positive, got {outputs}", opts.where("output"))
    batch_normalize = opts.integer("batch_normalize", 0)
    has_act = t.has_activation(opts, "logistic")
    where = opts.section.position
    out = prev
    if not prev.flat:
        out = t.emit(where, f"flatten_{index}", "Flatten", out)
    last = f"layer_{index}"
    name = f"fc_{index}" if batch_normalize or has_act else last
    out = t.emit(where, name, "Linear", out, out_features=outputs, bias=not batch_normalize)
    if batch_normalize:
        out = t.emit(where, f"bn_{index}" if has_act else last, "BatchNorm1d", out)
    out = shaped(t.activation(opts, "logistic", index, out), outputs, 1, 1, flat=True)
    return out, _section(index, "connected", prev, out)


def reorg(t: Translator, index: int, opts: Options, prev: Output) -> Translated:
    """src/reorg_old_layer.c: space to depth by ``stride`` (``reverse=1``: depth to space).

    Darknet orders the channels differently from PixelUnshuffle/PixelShuffle; the shapes,
    the (zero) parameters and the positions each output reads are the same."""
    t.image(opts, prev)
    stride = opts.integer("stride", 1)
    reverse = opts.integer("reverse", 0)
    if stride < 1:
        raise SpecError(f"stride must be positive, got {stride}", opts.where("stride"))
    where = opts.section.position
    if reverse:
        if prev.c % (stride * stride):
            raise SpecError(
                f"reverse reorg needs channels ({prev.c}) divisible by stride² ({stride * stride})",
                opts.where("stride"),
            )
        out = t.emit(where, f"layer_{index}", "PixelShuffle", prev, upscale_factor=stride)
        out = shaped(out, prev.c // (stride * stride), prev.h * stride, prev.w * stride)
    else:
        if prev.h % stride or prev.w % stride:
            raise SpecError(
                f"reorg needs the height and width ({prev.h} x {prev.w}) divisible by stride={stride}",
                opts.where("stride"),
            )
        out = t.emit(where, f"layer_{index}", "PixelUnshuffle", prev, downscale_factor=stride)
        out = shaped(out, prev.c * stride * stride, prev.h // stride, prev.w // stride)
    return out, _section(index, "reorg", prev, out, stride_x=stride, stride_y=stride)


def _scale(
    t: Translator, index: int, opts: Options, prev: Output, source: int, default_act: str
) -> Translated:
    """[sam] and [scale_channels]: the previous layer times ``from``, then the activation; both
    print alike, "scale Layer: <from>"."""
    name = f"mul_{index}" if t.has_activation(opts, default_act) else f"layer_{index}"
    out = t.emit(opts.section.position, name, "Mul", [prev, t.layers[source]])
    scaled = t.layers[source]
    out = shaped(t.activation(opts, default_act, index, out), scaled.c, scaled.h, scaled.w)
    return out, _section(index, "scale", prev, out, sources=(source,))


def sam(t: Translator, index: int, opts: Options, prev: Output) -> Translated:
    """src/sam_layer.c: the previous layer times ``from`` element by element (equal shapes)."""
    t.image(opts, prev)
    index_from = t.reference(opts, "from", opts.integer("from"), index)
    source = t.layers[index_from]
    if (source.c, source.h, source.w) != (prev.c, prev.h, prev.w):
        # make_sam_layer asserts equal shapes
        raise SpecError(
            f"[sam] needs equal shapes, got {prev.whc} and {source.name} {source.whc}", opts.where("from")
        )
    return _scale(t, index, opts, prev, index_from, "linear")


def scale_channels(t: Translator, index: int, opts: Options, prev: Output) -> Translated:
    """src/scale_channels_layer.c: ``from`` scaled per channel by the previous layer's 1×1×C
    output (``scale_wh=1``: per position by its H×W×1 output); the shape is ``from``'s."""
    t.image(opts, prev)
    index_from = t.reference(opts, "from", opts.integer("from"), index)
    source = t.layers[index_from]
    scale_wh = opts.integer("scale_wh", 0)
    # make_scale_channels_layer asserts these
    ok = (
        (prev.h, prev.w, prev.c) == (source.h, source.w, 1)
        if scale_wh
        else (prev.h, prev.w, prev.c) == (1, 1, source.c)
    )
    if not ok:
        need = f"{source.w} x {source.h} x 1" if scale_wh else f"1 x 1 x {source.c}"
        raise SpecError(
            f"[scale_channels] needs the previous layer to be {need}, got {prev.whc}", opts.where("from")
        )
    return _scale(t, index, opts, prev, index_from, "linear")


# The handler of each section kind (SECTION_KINDS maps Darknet's names and aliases to these).
HANDLERS: dict[str, Handler] = {
    "convolutional": convolutional,
    "maxpool": maxpool,
    "avgpool": avgpool,
    "route": route,
    "shortcut": shortcut,
    "upsample": upsample,
    "yolo": yolo,
    "region": region,
    "dropout": dropout,
    "connected": connected,
    "reorg": reorg,
    "sam": sam,
    "scale_channels": scale_channels,
    "softmax": classic.softmax,
    "cost": classic.cost,
    "crop": classic.crop,
    "local": classic.local,
    "detection": classic.detection,
    "reorg3d": classic.reorg3d,
}
