"""The text of a Darknet ``.cfg``: sections of ``key=value`` options with their positions, what
each section kind may contain, and its options read with Darknet's defaults."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from cnncalc.errors import Position, SpecError, shown

# ---- the cfg text: sections of key=value options (src/parser.c read_cfg) --------------------


@dataclass(frozen=True)
class Option:
    """One ``key=value`` line of a section, with whitespace removed as Darknet removes it."""

    key: str
    value: str
    position: Position


@dataclass
class Section:
    """A ``[type]`` header and its options in the order written; ``repeated``: the later lines
    of a key given twice in [net], which Darknet does not read."""

    header: str
    position: Position
    options: dict[str, Option]
    repeated: list[Option] = field(default_factory=list)


def parse_cfg(text: str, file: str, stop: int | None = None) -> list[Section]:
    """The sections of a cfg file, read as src/parser.c ``read_cfg`` reads them.

    src/utils.c ``strip`` removes every blank anywhere in a line (``layers = -1, 61`` is
    ``layers=-1,61``); a line starting with ``#`` or ``;`` is a comment; ``[`` starts a section.
    Where Darknet only warns (a line without ``=``) this is an error. A key given twice in the
    first section ([net]) keeps its first value, as src/option_list.c ``option_find`` returns the
    first match (the later line is kept in ``repeated`` for a note); twice in a layer it is an
    error, because a layer's geometry would then rest on a line Darknet ignores.
    """
    sections: list[Section] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = "".join(raw.split())
        if not line or line[0] in "#;":
            continue
        where = Position(file, number, len(raw) - len(raw.lstrip()) + 1)
        if line[0] == "[":
            if stop is not None and len(sections) == stop:
                break  # ``stop`` sections are all the caller needs (a limit was passed)
            sections.append(Section(line, where, {}))
            continue
        if not sections:
            raise SpecError(f"{shown(raw.strip())} comes before the first [section]", where)
        key, equals, value = line.partition("=")
        if not equals or not key:
            raise SpecError(f"expected key=value, got {shown(raw.strip())}", where)
        section = sections[-1]
        if key in section.options and len(sections) == 1:
            section.repeated.append(Option(key, value, where))
            continue
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
    "[softmax]": "softmax",
    "[soft]": "softmax",
    "[cost]": "cost",
    "[crop]": "crop",
    "[local]": "local",
    "[detection]": "detection",
    "[reorg3d]": "reorg3d",
}

# The recurrent layers (text and sequence models over time_steps): refused as a family.
RECURRENT_SECTIONS = ("[rnn]", "[gru]", "[lstm]", "[crnn]", "[conv_lstm]", "[history]")

# the other layer types string_to_layer_type knows, which this reader does not translate
OTHER_DARKNET_SECTIONS = (
    *RECURRENT_SECTIONS,
    "[Gaussian_yolo]",
    "[activation]",
    "[local_avg]",
    "[local_avgpool]",
    "[lrn]",
    "[normalization]",
    "[batchnorm]",
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
    "softmax": ("groups", "temperature", "tree", "spatial", "noloss"),
    "cost": ("type", "scale", "ratio"),
    "crop": (
        "crop_height",
        "crop_width",
        "flip",
        "angle",
        "saturation",
        "exposure",
        "noadjust",
        "shift",
    ),
    "local": ("filters", "size", "stride", "pad", "activation"),
    "detection": (
        "coords",
        "classes",
        "rescore",
        "num",
        "side",
        "softmax",
        "sqrt",
        "max",
        "coord_scale",
        "forced",
        "object_scale",
        "noobject_scale",
        "class_scale",
        "jitter",
        "resize",
        "random",
        "reorg",
    ),
    "reorg3d": ("stride", "reverse"),
}

# Sections whose keys change no shape or figure: an unread key in them is a note, not an error.
_HEADS = ("yolo", "region", "detection")

_INT = re.compile(r"[+-]?\d+")
_DIGITS = 4300  # Python's limit on the digits of an integer read from text


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
        if len(value) > _DIGITS:
            raise SpecError(
                f"{key} has {len(value):,} digits, more than the {_DIGITS:,} a number may have",
                self.where(key),
            )
        return int(value)

    def number(self, key: str, default: float) -> float:
        value = self._value(key)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            raise SpecError(f"{key} must be a number, got {shown(value)}", self.where(key)) from None
        if not math.isfinite(number):
            raise SpecError(f"{key} must be a finite number, got {shown(value)}", self.where(key))
        return number

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
        if any(len(p) > _DIGITS for p in parts):
            raise SpecError(f"{key} has a number of more than {_DIGITS:,} digits", self.where(key))
        return [int(p) for p in parts]

    def check_keys(self) -> list[str]:
        """Refuse keys Darknet's parser does not read for this section; in a detection head
        (which has no geometry to get wrong) they are notes instead, as Darknet only prints
        "Unused field" for them (src/option_list.c option_unused)."""
        allowed = KEYS[self.kind]
        notes = []
        for key, option in self.section.options.items():
            if key in allowed or key in _EVERY_LAYER:
                continue
            if self.kind in _HEADS:
                notes.append(
                    f"line {option.position.line}: {self.section.header} {key}= is not read by "
                    f'Darknet (it prints "Unused field"); a detection head\'s figures do not depend on it'
                )
                continue
            raise SpecError(
                f"{self.section.header} has no option {key!r} (src/parser.c does not read it)",
                option.position,
            )
        return notes

    def refuse(self, key: str, unless: int = 0, why: str = "") -> None:
        """Refuse an option Darknet reads but this reader does not translate, unless it has its
        neutral value."""
        if self.given(key) and self.integer(key) != unless:
            reason = f": {why}" if why else ""
            raise SpecError(f"{self.section.header} {key}= is not supported{reason}", self.where(key))
