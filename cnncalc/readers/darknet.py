"""Darknet ``.cfg`` networks read into cnncalc's network model by Darknet's own parsing rules.

The rules are those of AlexeyAB/darknet (``src/parser.c`` and the ``make_*_layer`` functions it
calls); every choice that Darknet's source decides cites the function. Each Darknet layer ``i``
becomes one or more cnncalc layers: the last is named ``layer_<i>`` (``yolo_<i>``/``region_<i>``
for the detection heads), the ones before it ``<role>_<i>`` (``conv_3``, ``bn_3``, ``pad_5``), so
``[route]`` and ``[shortcut]`` references are exact and :func:`darknet_layers` can give Darknet's
own per-layer view of an analysed network (its load-time printout, for ``--darknet``).
"""

from __future__ import annotations

import difflib
import re
import struct
from dataclasses import dataclass
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from cnncalc.errors import Position, SpecError, shown
from cnncalc.readers import Read, ReadOptions, Source
from cnncalc.readers._items import Item, build_items

if TYPE_CHECKING:
    from cnncalc.graph import Network, Node
    from cnncalc.report import LayerReport, Report

# ---- the cfg text: sections of key=value options (src/parser.c read_cfg) --------------------


@dataclass(frozen=True)
class Option:
    """One ``key=value`` line of a section, with whitespace removed as Darknet removes it."""

    key: str
    value: str
    position: Position


@dataclass
class Section:
    """A ``[type]`` header and its options in the order written."""

    header: str
    position: Position
    options: dict[str, Option]


def parse_cfg(text: str, file: str) -> list[Section]:
    """The sections of a cfg file, read as src/parser.c ``read_cfg`` reads them.

    src/utils.c ``strip`` removes every blank anywhere in a line (``layers = -1, 61`` is
    ``layers=-1,61``); a line starting with ``#`` or ``;`` is a comment; ``[`` starts a section.
    Where Darknet only warns (a line without ``=``) or silently keeps the first of two values of a
    key, this is an error: cnncalc does not guess which one was meant.
    """
    sections: list[Section] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = "".join(raw.split())
        if not line or line[0] in "#;":
            continue
        where = Position(file, number, len(raw) - len(raw.lstrip()) + 1)
        if line[0] == "[":
            sections.append(Section(line, where, {}))
            continue
        if not sections:
            raise SpecError(f"{shown(raw.strip())} comes before the first [section]", where)
        key, equals, value = line.partition("=")
        if not equals or not key:
            raise SpecError(f"expected key=value, got {shown(raw.strip())}", where)
        section = sections[-1]
        if key in section.options:
            first = section.options[key].position.line
            raise SpecError(f"{key!r} is given twice in {section.header} (first on line {first})", where)
        section.options[key] = Option(key, value, where)
    return sections


# ---- what each section may contain ---------------------------------------------------------

# src/parser.c string_to_layer_type: the section names this reader translates (with aliases)
SECTION_KINDS = {
    "[net]": "net",
    "[network]": "net",
    "[convolutional]": "convolutional",
    "[conv]": "convolutional",
    "[maxpool]": "maxpool",
    "[max]": "maxpool",
    "[avgpool]": "avgpool",
    "[avg]": "avgpool",
    "[route]": "route",
    "[shortcut]": "shortcut",
    "[upsample]": "upsample",
    "[yolo]": "yolo",
    "[region]": "region",
    "[dropout]": "dropout",
    "[connected]": "connected",
    "[conn]": "connected",
    "[reorg]": "reorg",
    "[sam]": "sam",
    "[scale_channels]": "scale_channels",
}

# the other layer types string_to_layer_type knows, which this reader does not translate
OTHER_DARKNET_SECTIONS = (
    "[crop]",
    "[cost]",
    "[detection]",
    "[Gaussian_yolo]",
    "[local]",
    "[activation]",
    "[crnn]",
    "[gru]",
    "[lstm]",
    "[conv_lstm]",
    "[history]",
    "[rnn]",
    "[local_avg]",
    "[local_avgpool]",
    "[reorg3d]",
    "[lrn]",
    "[normalization]",
    "[batchnorm]",
    "[soft]",
    "[softmax]",
    "[contrastive]",
    "[empty]",
    "[silence]",
    "[implicit]",
)

# Options src/parser.c reads in parse_network_cfg_custom for every layer: training switches.
_EVERY_LAYER = (
    "clip",
    "onlyforward",
    "dont_update",
    "burnin_update",
    "stopbackward",
    "train_only_bn",
    "dontload",
    "dontloadscales",
    "learning_rate",
)

# Every option each parse_* function of src/parser.c reads. A key outside its section's list is
# an error (Darknet prints "Unused field"); keys that would change the geometry in a way this
# reader does not translate are refused where they are read.
KEYS: dict[str, tuple[str, ...]] = {
    "convolutional": (
        "filters",
        "groups",
        "size",
        "stride",
        "stride_x",
        "stride_y",
        "dilation",
        "antialiasing",
        "pad",
        "padding",
        "activation",
        "assisted_excitation",
        "share_index",
        "batch_normalize",
        "cbn",
        "binary",
        "xnor",
        "bin_output",
        "sway",
        "rotate",
        "stretch",
        "stretch_sway",
        "flipped",
        "dot",
        "angle",
        "grad_centr",
        "reverse",
        "coordconv",
        "stream",
        "wait_stream",
    ),
    "maxpool": (
        "stride",
        "stride_x",
        "stride_y",
        "size",
        "padding",
        "maxpool_depth",
        "out_channels",
        "antialiasing",
        "maxpool_zero_nonmax",
    ),
    "avgpool": (),
    "route": ("layers", "groups", "group_id", "stream", "wait_stream"),
    "shortcut": ("from", "activation", "weights_type", "weights_normalization"),
    "upsample": ("stride", "scale"),
    "yolo": (
        "classes",
        "num",
        "mask",
        "max",
        "show_details",
        "max_delta",
        "counters_per_class",
        "label_smooth_eps",
        "scale_x_y",
        "objectness_smooth",
        "new_coords",
        "iou_normalizer",
        "obj_normalizer",
        "cls_normalizer",
        "delta_normalizer",
        "iou_loss",
        "iou_thresh_kind",
        "beta_nms",
        "nms_kind",
        "jitter",
        "resize",
        "focal_loss",
        "ignore_thresh",
        "truth_thresh",
        "iou_thresh",
        "random",
        "track_history_size",
        "sim_thresh",
        "dets_for_track",
        "dets_for_show",
        "track_ciou_norm",
        "embedding_layer",
        "map",
        "anchors",
    ),
    "region": (
        "coords",
        "classes",
        "num",
        "max",
        "log",
        "sqrt",
        "softmax",
        "focal_loss",
        "jitter",
        "resize",
        "rescore",
        "thresh",
        "classfix",
        "absolute",
        "random",
        "coord_scale",
        "object_scale",
        "noobject_scale",
        "mask_scale",
        "class_scale",
        "bias_match",
        "tree",
        "map",
        "anchors",
    ),
    "dropout": ("probability", "dropblock", "dropblock_size_rel", "dropblock_size_abs"),
    "connected": ("output", "activation", "batch_normalize"),
    "reorg": ("stride", "reverse"),
    "sam": ("from", "activation"),
    "scale_channels": ("from", "scale_wh", "activation"),
}

# src/activations.c get_activation: the names Darknet knows, as torch.nn modules (None: linear).
# Darknet's definitions (src/activations.h): leaky is x > 0 ? x : 0.1x; swish is x·σ(x); gelu is
# the tanh approximation 0.5x(1 + tanh(0.797885x + 0.035677x³)); hardtan clamps to [-1, 1].
ACTIVATIONS: dict[str, dict[str, Any] | None] = {
    "linear": None,
    "leaky": {"type": "LeakyReLU", "negative_slope": 0.1},
    "relu": {"type": "ReLU"},
    "relu6": {"type": "ReLU6"},
    "logistic": {"type": "Sigmoid"},
    "tanh": {"type": "Tanh"},
    "mish": {"type": "Mish"},
    "swish": {"type": "SiLU"},
    "elu": {"type": "ELU"},
    "selu": {"type": "SELU"},
    "gelu": {"type": "GELU", "approximate": "tanh"},
    "hardtan": {"type": "Hardtanh"},
}
# Darknet activations with no torch.nn module of the same definition.
DARKNET_ONLY_ACTIVATIONS = (
    "hard_mish",
    "loggy",
    "relie",
    "ramp",
    "plse",
    "lhtan",
    "stair",
    "revleaky",
    "normalize_channels",
    "normalize_channels_softmax",
    "normalize_channels_softmax_maxval",
)

_INT = re.compile(r"[+-]?\d+")

# forward_maxpool_layer reads -FLT_MAX (float.h) where a window leaves the input
FLT_MAX_NEGATIVE = -3.4028234663852886e38


class Options:
    """A section's options read with Darknet's defaults; values are checked, not ``atoi``-ed."""

    def __init__(self, section: Section, kind: str) -> None:
        self.section = section
        self.kind = kind

    def where(self, key: str) -> Position:
        """Where ``key`` was written, or the section header when it was not."""
        option = self.section.options.get(key)
        return option.position if option is not None else self.section.position

    def given(self, key: str) -> bool:
        return key in self.section.options

    def _value(self, key: str) -> str | None:
        option = self.section.options.get(key)
        if option is None:
            return None
        # src/parser.c parse_yolo_mask stops at '#': a comment after a value is read as one
        return option.value.split("#", 1)[0]

    def integer(self, key: str, default: int | None = None, darknet: int | None = None) -> int:
        """An integer option; without a default it is required (``darknet``: the value Darknet
        would take, with a warning, when it is missing)."""
        value = self._value(key)
        if value is None:
            if default is None:
                hint = f" (Darknet would warn and use {darknet})" if darknet is not None else ""
                raise SpecError(f"{self.section.header} needs {key}={hint}", self.section.position)
            return default
        if not _INT.fullmatch(value):
            raise SpecError(f"{key} must be an integer, got {shown(value)}", self.where(key))
        return int(value)

    def number(self, key: str, default: float) -> float:
        value = self._value(key)
        if value is None:
            return default
        try:
            return float(value)
        except ValueError:
            raise SpecError(f"{key} must be a number, got {shown(value)}", self.where(key)) from None

    def text(self, key: str, default: str) -> str:
        value = self._value(key)
        return default if value is None else value

    def integers(self, key: str) -> list[int]:
        """A required comma-separated list of integers (``layers = -1, 61``)."""
        value = self._value(key)
        if value is None:
            raise SpecError(f"{self.section.header} needs {key}=", self.section.position)
        parts = value.split(",")
        if not all(_INT.fullmatch(p) for p in parts):
            raise SpecError(
                f"{key} must be layer indices separated by commas, got {shown(value)}", self.where(key)
            )
        return [int(p) for p in parts]

    def check_keys(self) -> None:
        """Refuse keys Darknet's parser does not read for this section."""
        allowed = KEYS[self.kind]
        for key, option in self.section.options.items():
            if key not in allowed and key not in _EVERY_LAYER:
                raise SpecError(
                    f"{self.section.header} has no option {key!r} (src/parser.c does not read it)",
                    option.position,
                )

    def refuse(self, key: str, unless: int = 0, why: str = "") -> None:
        """Refuse an option Darknet reads but this reader does not translate, unless it has its
        neutral value."""
        if self.given(key) and self.integer(key) != unless:
            reason = f": {why}" if why else ""
            raise SpecError(f"{self.section.header} {key}= is not supported{reason}", self.where(key))


# ---- from sections to network items --------------------------------------------------------


@dataclass(frozen=True)
class Output:
    """What a Darknet layer gives the next: its node name and Darknet's out_c, out_h, out_w.

    ``flat``: a [connected] layer's output, a vector (N, c) rather than an image."""

    name: str
    c: int
    h: int
    w: int
    flat: bool = False

    @property
    def whc(self) -> str:
        return f"{self.w} x {self.h} x {self.c}"


def read(source: Source, options: ReadOptions) -> Read:
    """The network of a Darknet cfg (see :func:`read_darknet`)."""
    network = read_darknet(source.text(), source.label, options.input_shape)
    return Read(network, {"darknet": network})


def read_darknet(text: str, file: str, input_override: tuple[int, ...] | None) -> Network:
    """The network of a Darknet cfg: [net] gives the input (batch, channels, height, width)."""
    sections = parse_cfg(text, file)
    if not sections:
        raise SpecError("no [net] section: a Darknet cfg starts with [net] or [network]", Position(file))
    net = sections[0]
    if SECTION_KINDS.get(net.header) != "net":
        # src/parser.c parse_network_cfg_custom: "First section must be [net] or [network]"
        raise SpecError(f"the first section must be [net] or [network], got {net.header}", net.position)
    declared = _net_input(net, input_override is not None)
    shape = declared if input_override is None else _check_override(input_override)
    if len(sections) == 1:
        raise SpecError("the network has no layers after [net]", net.position)
    builder = _Builder(shape)
    for index, section in enumerate(sections[1:]):
        builder.add(index, section)
    name = PurePath(file).stem if file not in ("-", "<stdin>") else None
    return build_items(builder.items, shape, name, file, builder.outputs())


def _net_input(net: Section, overridden: bool) -> tuple[int, int, int, int]:
    """(batch, channels, height, width) from [net] (src/parser.c parse_net_options)."""
    opts = Options(net, "net")
    batch = opts.integer("batch", 1)
    dims = [opts.integer(key, 0) for key in ("channels", "height", "width")]
    if not overridden and not all(dims):
        missing = [k for k, v in zip(("channels", "height", "width"), dims) if not v]
        raise SpecError(
            f"[net] needs {', '.join(k + '=' for k in missing)} (the input image), or give --input",
            net.position,
        )
    for key, value in zip(("batch", "channels", "height", "width"), [batch, *dims]):
        if value < 0 or (key == "batch" and value == 0):
            raise SpecError(f"[net] {key} must be positive, got {value}", opts.where(key))
    channels, height, width = dims
    return (batch, channels or 1, height or 1, width or 1)


def _check_override(shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    if len(shape) != 4:
        raise SpecError(
            f"a Darknet network takes a 4D input (batch, channels, height, width); --input gave "
            f"{len(shape)} values",
            Position("<option --input>"),
        )
    return (shape[0], shape[1], shape[2], shape[3])


class _Builder:
    """Translates sections one by one, following Darknet's layer indices."""

    def __init__(self, shape: tuple[int, int, int, int]) -> None:
        self.items: list[tuple[Item, Position]] = []
        self.layers: list[Output] = []
        self.kinds: list[str] = []
        self.used: set[int] = set()
        self.input = Output("input", shape[1], shape[2], shape[3])
        self.last = "input"  # the name of the last item written

    # -- helpers --

    def emit(self, where: Position, name: str, kind: str, source: str | list[str], **args: Any) -> str:
        item: dict[str, Any] = {"type": kind, "name": name, **args}
        if isinstance(source, list) or source != self.last:
            item["from"] = source
        self.items.append((item, where))
        self.last = name
        return name

    def activation(self, opts: Options, default: str, index: int, source: str) -> str | None:
        """The activation as an item named ``layer_<index>``, or None for linear."""
        name = opts.text("activation", default)
        if name in DARKNET_ONLY_ACTIVATIONS:
            raise SpecError(
                f"activation={name} has no torch.nn module of the same definition", opts.where("activation")
            )
        if name not in ACTIVATIONS:
            # src/activations.c get_activation falls back to ReLU with a warning; not guessed here
            raise SpecError(f"unknown activation {shown(name)}", opts.where("activation"))
        spec = ACTIVATIONS[name]
        if spec is None:
            return None
        args = {k: v for k, v in spec.items() if k != "type"}
        return self.emit(opts.section.position, f"layer_{index}", spec["type"], source, **args)

    def reference(self, opts: Options, key: str, value: int, index: int) -> int:
        """A layer index as src/parser.c resolves it: negative values count back from this layer."""
        resolved = index + value if value < 0 else value
        if not 0 <= resolved < index:
            before = (
                "no layer comes"
                if index == 0
                else "only layer 0 comes"
                if index == 1
                else f"only layers 0 to {index - 1} come"
            )
            raise SpecError(
                f"{key}={value} refers to layer {resolved}, but {before} before layer {index}",
                opts.where(key),
            )
        self.used.add(resolved)
        return resolved

    def image(self, opts: Options, prev: Output) -> None:
        if prev.flat:
            # src/parser.c: "Layer before ... layer must output image." Darknet makes [connected]
            # a 1x1 image; cnncalc keeps it the vector nn.Linear gives.
            raise SpecError(
                f"{opts.section.header} after a [connected] layer (a 1×1 image in Darknet) is not "
                "supported: the layer before must output an image",
                opts.section.position,
            )

    # -- dispatch --

    def add(self, index: int, section: Section) -> None:
        kind = SECTION_KINDS.get(section.header)
        if kind is None or kind == "net":
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
                f"unknown section {shown(section.header)} (Darknet's src/parser.c has no such layer "
                f"type{hint})",
                section.position,
            )
        opts = Options(section, kind)
        opts.check_keys()
        prev = self.layers[-1] if self.layers else self.input
        if self.layers and kind != "route":
            self.used.add(index - 1)
        out = getattr(self, kind)(index, opts, prev)
        self.layers.append(out)
        self.kinds.append(kind)

    def outputs(self) -> list[str]:
        """The detection heads, any layer whose output nothing reads, and the last layer."""
        last = len(self.layers) - 1
        return [
            out.name
            for i, (out, kind) in enumerate(zip(self.layers, self.kinds))
            if kind in ("yolo", "region") or i not in self.used or i == last
        ]

    # -- one method per section kind, named as the section --

    def convolutional(self, index: int, opts: Options, prev: Output) -> Output:
        """src/parser.c parse_convolutional, src/convolutional_layer.c make_convolutional_layer."""
        self.image(opts, prev)
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
        opts.refuse("xnor", why="XNOR convolutions force groups=1 and count a 32nd of the FLOPs")
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
        out_h = _c_div(prev.h + 2 * padding - size, stride_y) + 1
        out_w = _c_div(prev.w + 2 * padding - size, stride_x) + 1
        for axis, size_in, stride, out in (
            ("height", prev.h, stride_y, out_h),
            ("width", prev.w, stride_x, out_w),
        ):
            real = (size_in + 2 * padding * dilation - dilation * (size - 1) - 1) // stride + 1
            if real != out:
                raise SpecError(
                    f"with dilation={dilation} Darknet sizes the output {axis} {out} "
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
        act_name = opts.text("activation", "logistic")
        has_act = ACTIVATIONS.get(act_name, {}) is not None
        last = f"layer_{index}"
        name = self.emit(
            where, f"conv_{index}" if batch_normalize or has_act else last, "Conv2d", prev.name, **conv_args
        )
        if batch_normalize:
            # make_convolutional_layer: with batch_normalize the biases are BatchNorm's β
            name = self.emit(where, f"bn_{index}" if has_act else last, "BatchNorm2d", name)
        name = self.activation(opts, "logistic", index, name) or name
        return Output(name, filters, out_h, out_w)

    def maxpool(self, index: int, opts: Options, prev: Output) -> Output:
        """src/parser.c parse_maxpool, src/maxpool_layer.c make_maxpool_layer."""
        self.image(opts, prev)
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
        name = prev.name
        if padding:
            left = padding // 2
            name = self.emit(
                where,
                f"pad_{index}",
                "ConstantPad2d",
                name,
                padding=[left, padding - left, left, padding - left],
                value=FLT_MAX_NEGATIVE,
            )
        pool = {"kernel_size": size, "stride": stride_x if stride_x == stride_y else [stride_y, stride_x]}
        name = self.emit(where, f"layer_{index}", "MaxPool2d", name, **pool)
        return Output(name, prev.c, out_h, out_w)

    def avgpool(self, index: int, opts: Options, prev: Output) -> Output:
        """src/avgpool_layer.c make_avgpool_layer: the mean of each channel, out 1x1."""
        self.image(opts, prev)
        name = self.emit(
            opts.section.position, f"layer_{index}", "AdaptiveAvgPool2d", prev.name, output_size=1
        )
        return Output(name, prev.c, 1, 1)

    def route(self, index: int, opts: Options, prev: Output) -> Output:
        """src/parser.c parse_route, src/route_layer.c: inputs concatenated along the channels;
        with groups=G, group_id=K each input gives its K-th of G equal parts."""
        sources = [self.layers[self.reference(opts, "layers", v, index)] for v in opts.integers("layers")]
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
        if groups == 1:
            name = self.emit(where, last, "Concat", [s.name for s in sources], dim=1)
            return Output(name, sum(s.c for s in sources), first.h, first.w, first.flat)
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
            parts.append(
                self.emit(
                    where,
                    last if len(sources) == 1 else f"slice_{index}_{k}",
                    "Narrow",
                    source.name,
                    dim=1,
                    start=group_id * part,
                    length=part,
                )
            )
        name = parts[0] if len(parts) == 1 else self.emit(where, last, "Concat", parts, dim=1)
        return Output(name, sum(s.c for s in sources) // groups, first.h, first.w, first.flat)

    def shortcut(self, index: int, opts: Options, prev: Output) -> Output:
        """src/parser.c parse_shortcut, src/shortcut_layer.c: the previous layer plus the ``from``
        layers, element by element, then the activation (linear by default)."""
        sources = [self.layers[self.reference(opts, "from", v, index)] for v in opts.integers("from")]
        weights = opts.text("weights_type", "none")
        if weights != "none":
            raise SpecError(
                f"weights_type={weights} (learnt weights per input) has no torch.nn equivalent",
                opts.where("weights_type"),
            )
        for source in sources:
            if (source.c, source.h, source.w) != (prev.c, prev.h, prev.w):
                # shortcut_multilayer_cpu adds each input as a flat array where the indices exist:
                # with other channel counts only the first channels are added (or zeros padded);
                # with another width or height the positions no longer match.
                what = (
                    "channel counts differ: Darknet adds the first channels only, and cnncalc has no "
                    "channel slice or pad layer for it yet"
                    if (source.h, source.w) == (prev.h, prev.w)
                    else "Darknet would add them as flat arrays, mixing positions"
                )
                raise SpecError(
                    f"cannot add {source.name} ({source.whc}) to the previous layer ({prev.whc}): {what}",
                    opts.where("from"),
                )
        where = opts.section.position
        has_act = ACTIVATIONS.get(opts.text("activation", "linear"), {}) is not None
        name = self.emit(
            where,
            f"add_{index}" if has_act else f"layer_{index}",
            "Add",
            [prev.name] + [s.name for s in sources],
        )
        name = self.activation(opts, "linear", index, name) or name
        return Output(name, prev.c, prev.h, prev.w, prev.flat)

    def upsample(self, index: int, opts: Options, prev: Output) -> Output:
        """src/upsample_layer.c: each value repeated stride×stride times (nearest neighbour)."""
        self.image(opts, prev)
        stride = opts.integer("stride", 2)
        if stride < 1:
            raise SpecError(
                f"stride={stride}: only upsampling (a positive stride) is supported", opts.where("stride")
            )
        name = self.emit(
            opts.section.position,
            f"layer_{index}",
            "Upsample",
            prev.name,
            scale_factor=float(stride),
            mode="nearest",
        )
        return Output(name, prev.c, prev.h * stride, prev.w * stride)

    def _head(
        self, index: int, opts: Options, prev: Output, kind: str, per_anchor: int, anchors: int
    ) -> Output:
        """[yolo] and [region]: outputs; their output is their input (no parameters)."""
        self.image(opts, prev)
        if prev.c != anchors * per_anchor:
            # parse_yolo / parse_region: "Error: l.outputs == params.inputs"
            raise SpecError(
                f"the layer before has {prev.c} channels but [{kind}] needs {anchors}×{per_anchor} = "
                f"{anchors * per_anchor} (filters= of the [convolutional] layer before must match "
                f"classes= and {'mask=' if kind == 'yolo' else 'num='})",
                opts.section.position,
            )
        name = self.emit(opts.section.position, f"{kind}_{index}", "Identity", prev.name)
        return Output(name, prev.c, prev.h, prev.w)

    def yolo(self, index: int, opts: Options, prev: Output) -> Output:
        """src/parser.c parse_yolo: filters = len(mask)·(classes + 5), or num·(classes + 5)."""
        classes = opts.integer("classes", 20)
        anchors = opts.integer("num", 1)
        if opts.given("mask"):
            anchors = len(opts.integers("mask"))
        return self._head(index, opts, prev, "yolo", classes + 4 + 1, anchors)

    def region(self, index: int, opts: Options, prev: Output) -> Output:
        """src/parser.c parse_region: filters = num·(classes + coords + 1)."""
        coords = opts.integer("coords", 4)
        classes = opts.integer("classes", 20)
        return self._head(index, opts, prev, "region", classes + coords + 1, opts.integer("num", 1))

    def dropout(self, index: int, opts: Options, prev: Output) -> Output:
        """src/dropout_layer.c: nothing at inference; the output is the input."""
        p = opts.number("probability", 0.2)  # parse_dropout's default
        if not 0 <= p <= 1:
            raise SpecError(f"probability must be between 0 and 1, got {p}", opts.where("probability"))
        name = self.emit(opts.section.position, f"layer_{index}", "Dropout", prev.name, p=p)
        return Output(name, prev.c, prev.h, prev.w, prev.flat)

    def connected(self, index: int, opts: Options, prev: Output) -> Output:
        """src/connected_layer.c: every input value to every output, on the flattened input."""
        outputs = opts.integer("output", darknet=1)
        if outputs < 1:
            raise SpecError(f"output must be positive, got {outputs}", opts.where("output"))
        batch_normalize = opts.integer("batch_normalize", 0)
        has_act = ACTIVATIONS.get(opts.text("activation", "logistic"), {}) is not None
        where = opts.section.position
        name = prev.name
        if not prev.flat:
            name = self.emit(where, f"flatten_{index}", "Flatten", name)
        last = f"layer_{index}"
        name = self.emit(
            where,
            f"fc_{index}" if batch_normalize or has_act else last,
            "Linear",
            name,
            out_features=outputs,
            bias=not batch_normalize,
        )
        if batch_normalize:
            name = self.emit(where, f"bn_{index}" if has_act else last, "BatchNorm1d", name)
        name = self.activation(opts, "logistic", index, name) or name
        return Output(name, outputs, 1, 1, flat=True)

    def reorg(self, index: int, opts: Options, prev: Output) -> Output:
        """src/reorg_old_layer.c: space to depth by ``stride`` (``reverse=1``: depth to space).

        Darknet orders the channels differently from PixelUnshuffle/PixelShuffle; the shapes,
        the (zero) parameters and the positions each output reads are the same."""
        self.image(opts, prev)
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
            name = self.emit(where, f"layer_{index}", "PixelShuffle", prev.name, upscale_factor=stride)
            return Output(name, prev.c // (stride * stride), prev.h * stride, prev.w * stride)
        if prev.h % stride or prev.w % stride:
            raise SpecError(
                f"reorg needs the height and width ({prev.h} x {prev.w}) divisible by stride={stride}",
                opts.where("stride"),
            )
        name = self.emit(where, f"layer_{index}", "PixelUnshuffle", prev.name, downscale_factor=stride)
        return Output(name, prev.c * stride * stride, prev.h // stride, prev.w // stride)

    def _scale(self, index: int, opts: Options, prev: Output, source: Output, default_act: str) -> Output:
        """[sam] and [scale_channels]: the previous layer times ``from``, then the activation."""
        has_act = ACTIVATIONS.get(opts.text("activation", default_act), {}) is not None
        name = self.emit(
            opts.section.position,
            f"mul_{index}" if has_act else f"layer_{index}",
            "Mul",
            [prev.name, source.name],
        )
        name = self.activation(opts, default_act, index, name) or name
        return Output(name, source.c, source.h, source.w)

    def sam(self, index: int, opts: Options, prev: Output) -> Output:
        """src/sam_layer.c: the previous layer times ``from`` element by element (equal shapes)."""
        self.image(opts, prev)
        source = self.layers[self.reference(opts, "from", opts.integer("from"), index)]
        if (source.c, source.h, source.w) != (prev.c, prev.h, prev.w):
            # make_sam_layer asserts equal shapes
            raise SpecError(
                f"[sam] needs equal shapes, got {prev.whc} and {source.name} {source.whc}", opts.where("from")
            )
        return self._scale(index, opts, prev, source, "linear")

    def scale_channels(self, index: int, opts: Options, prev: Output) -> Output:
        """src/scale_channels_layer.c: ``from`` scaled per channel by the previous layer's 1×1×C
        output (``scale_wh=1``: per position by its H×W×1 output); the shape is ``from``'s."""
        self.image(opts, prev)
        source = self.layers[self.reference(opts, "from", opts.integer("from"), index)]
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
        return self._scale(index, opts, prev, source, "linear")


def _c_div(a: int, b: int) -> int:
    """C's integer division, which truncates toward zero."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


# ---- Darknet's view of an analysed network (its load-time printout) ------------------------

_NAME = re.compile(r"(?P<role>[a-z]+)_(?P<index>\d+)(?:_\d+)?")
_ROLES = ("layer", "conv", "bn", "pad", "flatten", "fc", "add", "mul", "slice", "yolo", "region")


@dataclass(frozen=True)
class DarknetLayer:
    """One Darknet layer as Darknet's loader prints it, with cnncalc's shapes.

    ``input``/``output`` are Darknet's (width, height, channels); ``bflops`` is Darknet's
    ``l.bflops``, a 32-bit float, 0 for the layers that set none."""

    index: int
    kind: str
    input: tuple[int, int, int]
    output: tuple[int, int, int]
    bflops: float = 0.0
    filters: int = 0
    size: int = 0
    stride_x: int = 0
    stride_y: int = 0
    dilation: int = 1
    groups: int = 1
    sources: tuple[int, ...] = ()
    group_id: int = 0
    probability: float = 0.0


def darknet_layers(network: Network, report: Report) -> tuple[DarknetLayer, ...]:
    """Darknet's layers of a network read from a cfg, with the figures Darknet prints.

    BFLOPs follow Darknet: a convolution's are 2·weights·out_h·out_w/1e9 (src/convolutional_layer.c),
    i.e. 2 × cnncalc's MACs for one image; a [maxpool]'s size²·c·out_h·out_w/1e9 (src/maxpool_layer.c)
    and a [shortcut]'s out_w·out_h·out_c·inputs/1e9 (src/shortcut_layer.c), which cnncalc's MACs do
    not count; every other layer sets none ([connected] included, whose MACs cnncalc counts).
    """
    members: dict[int, list[int]] = {}
    index_of: dict[int, int] = {}
    for node in network.nodes:
        match = _NAME.fullmatch(node.name)
        if match is None or match["role"] not in _ROLES or node.depth != 1:
            raise SpecError(
                f"Darknet's view needs a network read from a Darknet .cfg; layer {node.key!r} is not "
                "named after a Darknet layer index",
                node.position,
            )
        index_of[node.index] = int(match["index"])
        members.setdefault(index_of[node.index], []).append(node.index)
    if sorted(members) != list(range(len(members))):
        raise SpecError("the layers do not number Darknet's layers 0, 1, 2, ...", network.nodes[0].position)
    return tuple(
        _darknet_layer(i, [(network.nodes[k], report.layers[k]) for k in nodes], index_of)
        for i, nodes in sorted(members.items())
    )


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


def _pair(value: int | tuple[int, ...] | None) -> tuple[int, int]:
    """(y, x) of a 2D size argument: an int or a (height, width) tuple."""
    if value is None or value == ():
        raise ValueError("a 2D size is needed")
    if isinstance(value, int):
        return (value, value)
    return (value[0], value[-1])


def _darknet_layer(
    index: int, parts: list[tuple[Node, LayerReport]], index_of: dict[int, int]
) -> DarknetLayer:
    """One Darknet layer from its cnncalc layers (``parts``, in order)."""
    from cnncalc.layers.activation import Dropout
    from cnncalc.layers.conv import Conv2d
    from cnncalc.layers.pool import MaxPool2d
    from cnncalc.layers.reshape import Narrow

    by_kind = {node.layer.kind: (node, rep) for node, rep in parts}
    shape_in, shape_out = _whc(parts[0][1].input_shape), _whc(parts[-1][1].output_shape)
    w, h, c = shape_out
    batch = parts[-1][1].output_shape[0]

    def layer(kind: str, **fields: Any) -> DarknetLayer:
        return DarknetLayer(index=index, kind=kind, input=shape_in, output=shape_out, **fields)

    if "Conv2d" in by_kind:
        node, rep = by_kind["Conv2d"]
        conv = node.layer
        assert isinstance(conv, Conv2d)
        sy, sx = _pair(conv.stride)
        return layer(
            "conv",
            bflops=float32(2.0 * (rep.macs // batch) / 1e9),
            filters=conv.out_channels,
            size=_pair(conv.kernel_size)[0],
            stride_x=sx,
            stride_y=sy,
            dilation=_pair(conv.dilation)[0],
            groups=conv.groups,
        )
    if "MaxPool2d" in by_kind:
        pool = by_kind["MaxPool2d"][0].layer
        assert isinstance(pool, MaxPool2d)
        size = _pair(pool.kernel_size)[0]
        sy, sx = _pair(pool.stride if pool.stride is not None else pool.kernel_size)
        return layer(
            "max", bflops=float32(_c_int(size * size * c * h * w) / 1e9), size=size, stride_x=sx, stride_y=sy
        )
    if "Narrow" in by_kind:
        slices = [(node, rep) for node, rep in parts if node.layer.kind == "Narrow"]
        node, rep = slices[0]
        narrow = node.layer
        assert isinstance(narrow, Narrow)
        return layer(
            "route",
            sources=tuple(index_of[n.inputs[0]] for n, _ in slices),
            groups=rep.input_shape[1] // narrow.length,
            group_id=narrow.start // narrow.length,
        )
    if "Concat" in by_kind:
        return layer("route", sources=tuple(index_of[i] for i in by_kind["Concat"][0].inputs))
    if "Add" in by_kind:
        added = by_kind["Add"][0].inputs[1:]
        return layer(
            "shortcut",
            bflops=float32(_c_int(w * h * c * len(added)) / 1e9),
            sources=tuple(index_of[i] for i in added),
        )
    if "Mul" in by_kind:  # [sam] and [scale_channels] print alike: "scale Layer: <from>"
        return layer("scale", sources=(index_of[by_kind["Mul"][0].inputs[1]],))
    if "Upsample" in by_kind:
        return layer("upsample", stride_x=w // shape_in[0])
    if "Dropout" in by_kind:
        dropout = by_kind["Dropout"][0].layer
        assert isinstance(dropout, Dropout)
        return layer("dropout", probability=dropout.p)
    if "Identity" in by_kind:  # the detection heads, named yolo_<i> or region_<i>
        match = _NAME.fullmatch(by_kind["Identity"][0].name)
        if match is not None and match["role"] in ("yolo", "region"):
            return layer(match["role"])
    if "PixelUnshuffle" in by_kind:
        return layer("reorg", stride_x=shape_in[0] // w)
    if "PixelShuffle" in by_kind:
        return layer("reorg", stride_x=w // shape_in[0])
    if "AdaptiveAvgPool2d" in by_kind:
        return layer("avg")
    if "Linear" in by_kind:
        return layer("connected")
    raise SpecError(
        f"Darknet layer {index} ({', '.join(by_kind)}) is not one the Darknet reader writes",
        parts[0][0].position,
    )


def total_bflops(layers: tuple[DarknetLayer, ...]) -> float:
    """Darknet's "Total BFLOPS": the positive ``l.bflops`` summed in a 32-bit float
    (src/parser.c parse_network_cfg_custom: ``float bflops = 0; ... bflops += l.bflops``)."""
    total = 0.0
    for layer in layers:
        if layer.bflops > 0:
            total = float32(total + layer.bflops)
    return total
