"""The sections of Darknet's classifiers and first detectors: [softmax], [cost], [crop],
[local] and [detection] (YOLOv1), and [reorg3d].

Each follows its parse_* function in AlexeyAB's src/parser.c and the make_*/forward_* functions
of its layer file; none of them sets ``l.bflops``, so Darknet's total counts none of them.
"""

from __future__ import annotations

from cnncalc.errors import SpecError
from cnncalc.readers.darknet.cfg import Options
from cnncalc.readers.darknet.translator import Output, Translated, Translator, c_div, section, shaped


def softmax(t: Translator, index: int, opts: Options, prev: Output) -> Translated:
    """src/softmax_layer.c: a softmax over each of ``groups`` equal runs of the layer's inputs,
    output the size of the input (make_softmax_layer: ``outputs = inputs``, no weights).

    On a vector or a 1×1 map the runs are runs of channels: Softmax over the channels has the
    same shape, figures (none) and positions. On a larger map Darknet normalises the flat array
    (forward_softmax_layer): Flatten, then Softmax over it. With ``groups`` dividing the channels
    each run still spans every position, so every output depends on the whole map, as it does
    through Flatten; ``tree=`` (a hierarchy file) changes which values are normalised together,
    not the shape.
    """
    inputs = prev.c * prev.h * prev.w
    groups = opts.integer("groups", 1)
    if groups < 1:
        raise SpecError(f"groups must be positive, got {groups}", opts.where("groups"))
    if inputs % groups:
        # make_softmax_layer: assert(inputs%groups == 0)
        raise SpecError(f"groups={groups} does not divide the {inputs} inputs", opts.where("groups"))
    opts.number("temperature", 1)
    where = opts.section.position
    last = f"layer_{index}"
    if prev.flat or (prev.h, prev.w) == (1, 1):
        out = shaped(t.emit(where, last, "Softmax", prev, dim=1), prev.c, prev.h, prev.w, prev.flat)
        return out, section(index, "softmax", prev, out)
    if opts.number("spatial", 0):
        # forward_softmax_layer normalises runs of inputs; forward_softmax_layer_gpu with spatial
        # normalises the channels at each position: the two builds disagree
        raise SpecError(
            f"spatial= on a {prev.whc} map: Darknet's CPU and GPU builds normalise different values",
            opts.where("spatial"),
        )
    if prev.c % groups:
        raise SpecError(
            f"groups={groups} does not divide the {prev.c} channels: a run would end inside a channel",
            opts.where("groups"),
        )
    flat = t.emit(where, f"flatten_{index}", "Flatten", prev)
    out = shaped(t.emit(where, last, "Softmax", flat, dim=1), inputs, 1, 1, flat=True)
    return out, section(index, "softmax", prev, out)


def cost(t: Translator, index: int, opts: Options, prev: Output) -> Translated:
    """src/cost_layer.c: the training loss; at inference its output is its input
    (make_cost_layer: ``outputs = inputs``, no weights)."""
    opts.number("scale", 1)
    opts.number("ratio", 0)
    out = t.emit(opts.section.position, f"layer_{index}", "Identity", prev)
    return out, section(index, "cost", prev, out)


def crop(t: Translator, index: int, opts: Options, prev: Output) -> Translated:
    """src/crop_layer.c: a crop_height × crop_width window of every channel. Training takes it
    anywhere (and may flip it); at inference forward_crop_layer takes the centre,
    ``dh = (h - crop_height)/2``, ``dw = (w - crop_width)/2``. The values become ``2x - 1``
    (``x`` with ``noadjust=1``), which changes no shape or figure."""
    t.image(opts, prev)
    height = opts.integer("crop_height", darknet=1)
    width = opts.integer("crop_width", darknet=1)
    for key, value, size in (("crop_height", height, prev.h), ("crop_width", width, prev.w)):
        if value < 1:
            raise SpecError(f"{key} must be positive, got {value}", opts.where(key))
        if value > size:
            # forward_crop_layer would read from (size - value)/2 < 0, before the input
            raise SpecError(f"{key}={value} is larger than the input's {size}", opts.where(key))
    where = opts.section.position
    out = prev
    cuts = [(2, (prev.h - height) // 2, height, prev.h), (3, (prev.w - width) // 2, width, prev.w)]
    cuts = [cut for cut in cuts if cut[2] != cut[3]]
    if not cuts:
        out = t.emit(where, f"layer_{index}", "Identity", prev)
    for n, (dim, start, length, _) in enumerate(cuts):
        name = f"layer_{index}" if n == len(cuts) - 1 else f"rows_{index}"
        out = t.emit(where, name, "Slice", out, dim=dim, start=start, end=start + length)
    out = shaped(out, prev.c, height, width)
    return out, section(index, "crop", prev, out)


def local(t: Translator, index: int, opts: Options, prev: Output) -> Translated:
    """src/parser.c parse_local, src/local_layer.c: a convolution with its own weights and
    biases at every output position (LocallyConnected2d), then the activation (logistic by
    default). local_out_height: ``(h - (pad ? 1 : size))/stride + 1``, while forward_local_layer
    pads ``pad`` on every side (im2col_cpu); the two agree for pad=0 and for pad=1 with size 3."""
    t.image(opts, prev)
    filters = opts.integer("filters", darknet=1)
    size = opts.integer("size", darknet=1)
    stride = opts.integer("stride", 1)
    pad = opts.integer("pad", 0)
    for key, value in (("filters", filters), ("size", size), ("stride", stride)):
        if value < 1:
            raise SpecError(f"{key} must be positive, got {value}", opts.where(key))
    if pad < 0:
        raise SpecError(f"pad must not be negative, got {pad}", opts.where("pad"))
    outs = []
    for axis, size_in in (("height", prev.h), ("width", prev.w)):
        darknet = c_div(size_in - (1 if pad else size), stride) + 1
        real = (size_in + 2 * pad - size) // stride + 1
        if darknet != real or real < 1:
            raise SpecError(
                f"with pad={pad} and size={size} Darknet sizes the output {axis} {darknet} but its "
                f"convolution gives {real}; only pad=0, or pad=1 with size=3, keeps them equal",
                opts.where("pad") if opts.given("pad") else opts.where("size"),
            )
        outs.append(real)
    where = opts.section.position
    has_act = t.has_activation(opts, "logistic")
    out = t.emit(
        where,
        f"local_{index}" if has_act else f"layer_{index}",
        "LocallyConnected2d",
        prev,
        out_channels=filters,
        kernel_size=size,
        stride=stride,
        padding=pad,
    )
    out = shaped(t.activation(opts, "logistic", index, out), filters, outs[0], outs[1])
    return out, section(
        index, "local", prev, out, filters=filters, size=size, stride_x=stride, stride_y=stride
    )


def detection(t: Translator, index: int, opts: Options, prev: Output) -> Translated:
    """src/detection_layer.c: YOLOv1's output, its input unchanged; make_detection_layer asserts
    ``side·side·((1 + coords)·num + classes) == inputs``."""
    coords = opts.integer("coords", 1)
    classes = opts.integer("classes", 1)
    num = opts.integer("num", 1)
    side = opts.integer("side", 7)
    inputs = prev.c * prev.h * prev.w
    need = side * side * ((1 + coords) * num + classes)
    if need != inputs:
        raise SpecError(
            f"the layer before gives {inputs} values but [detection] needs side²·((1 + coords)·num + "
            f"classes) = {side}²·((1 + {coords})·{num} + {classes}) = {need}",
            opts.section.position,
        )
    out = t.emit(opts.section.position, f"detection_{index}", "Identity", prev)
    return out, section(index, "detection", prev, out)


def reorg3d(t: Translator, index: int, opts: Options, prev: Output) -> Translated:
    """src/parser.c parse_reorg, src/reorg_layer.c: space to depth by ``stride``.

    forward_reorg_layer calls ``reorg_cpu(input, out_w, out_h, out_c, ..., 0, output)``, which
    sets output channel ``k`` at (j, i) to input channel ``k % c`` at
    ``(j·s + (k / c) / s, i·s + (k / c) % s)``: PixelUnshuffle's positions with the channels in
    another order, so shapes, figures and receptive fields are PixelUnshuffle's.
    """
    t.image(opts, prev)
    stride = opts.integer("stride", 1)
    if stride < 1:
        raise SpecError(f"stride must be positive, got {stride}", opts.where("stride"))
    if opts.integer("reverse", 0):
        # reverse: reorg_cpu(input, out_w, out_h, out_c, ..., 1, output) reads the input as an
        # (out_c, out_h, out_w) array, which is not its own layout: positions mix
        raise SpecError(
            "[reorg3d] reverse=1 is not supported: Darknet's reorg_cpu then reads the input in "
            "the output's layout, mixing positions",
            opts.where("reverse"),
        )
    if prev.h % stride or prev.w % stride:
        raise SpecError(
            f"reorg3d needs the height and width ({prev.h} x {prev.w}) divisible by stride={stride}",
            opts.where("stride"),
        )
    out = t.emit(opts.section.position, f"layer_{index}", "PixelUnshuffle", prev, downscale_factor=stride)
    out = shaped(out, prev.c * stride * stride, prev.h // stride, prev.w // stride)
    return out, section(index, "reorg3d", prev, out, stride_x=stride, stride_y=stride)
