"""What every section handler shares: the network being built, the Darknet layers translated so
far (their outputs by Darknet index), and the helpers that add layers and resolve references."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cnncalc.errors import Position, SpecError, shown
from cnncalc.graph import NETWORK_INPUT, NetworkBuilder
from cnncalc.readers.darknet.cfg import Options
from cnncalc.readers.darknet.view import INPUT, DarknetSection
from cnncalc.spec.build import make_layer

# src/activations.c get_activation: the names Darknet knows, as torch.nn modules (None: linear).
# Darknet's definitions (src/activations.h): leaky is x > 0 ? x : 0.1x; swish is x·σ(x); gelu is
# the tanh approximation 0.5x(1 + tanh(0.797885x + 0.035677x³)); hardtan clamps to [-1, 1].
ACTIVATIONS: dict[str, tuple[str, dict[str, Any]] | None] = {
    "linear": None,
    "leaky": ("LeakyReLU", {"negative_slope": 0.1}),
    "relu": ("ReLU", {}),
    "relu6": ("ReLU6", {}),
    "logistic": ("Sigmoid", {}),
    "tanh": ("Tanh", {}),
    "mish": ("Mish", {}),
    "swish": ("SiLU", {}),
    "elu": ("ELU", {}),
    "selu": ("SELU", {}),
    "gelu": ("GELU", {"approximate": "tanh"}),
    "hardtan": ("Hardtanh", {}),
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
# Names Darknet's get_activation does not know but real cfgs write: it prints "Couldn't find
# activation function <name>, going with ReLU" and runs ReLU (src/activations.c), so they are
# read as ReLU with a note saying so.
RELU_FALLBACK = ("silu",)


@dataclass(frozen=True)
class Output:
    """What a Darknet layer gives the next: the node that computes it (its builder handle and
    name) and Darknet's out_c, out_h, out_w.

    ``flat``: a [connected] layer's output, a vector (N, c) rather than an image."""

    node: int
    name: str
    c: int
    h: int
    w: int
    flat: bool = False

    @property
    def whc(self) -> str:
        return f"{self.w} x {self.h} x {self.c}"


class Translator:
    """The state of one cfg's translation, section by section, in Darknet's layer order."""

    def __init__(self, builder: NetworkBuilder, shape: tuple[int, int, int, int]) -> None:
        self.builder = builder
        self.input = Output(NETWORK_INPUT, INPUT, shape[1], shape[2], shape[3])
        self.layers: list[Output] = []  # by Darknet layer index
        self.sections: list[DarknetSection] = []  # the view, by Darknet layer index
        self.used: set[int] = set()  # Darknet layers some later layer reads
        self.notes: list[str] = []  # what the table says under it about how the cfg was read

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def emit(
        self, where: Position, name: str, kind: str, inputs: list[Output] | Output, **args: Any
    ) -> Output:
        """Add one cnncalc layer reading ``inputs``; its output, with the shape of the first
        input until the handler gives Darknet's (see :func:`shaped`)."""
        sources = inputs if isinstance(inputs, list) else [inputs]
        node = self.builder.add(
            make_layer(kind, where, **args), name, [s.node for s in sources], position=where
        )
        first = sources[0]
        return Output(node, name, first.c, first.h, first.w, first.flat)

    def activation(self, opts: Options, default: str, index: int, source: Output) -> Output:
        """The activation after ``source``, named ``layer_<index>``; ``source`` itself for linear."""
        name = opts.text("activation", default)
        if name in RELU_FALLBACK:
            self.note(
                f"activation={name}: Darknet's get_activation does not know {name!r} and runs ReLU "
                f'("Couldn\'t find activation function {name}, going with ReLU"); read as ReLU, '
                "as Darknet runs it"
            )
            name = "relu"
        if name in DARKNET_ONLY_ACTIVATIONS:
            raise SpecError(
                f"activation={name} has no torch.nn module of the same definition", opts.where("activation")
            )
        if name not in ACTIVATIONS:
            # src/activations.c get_activation falls back to ReLU with a warning; not guessed here
            raise SpecError(f"unknown activation {shown(name)}", opts.where("activation"))
        spec = ACTIVATIONS[name]
        if spec is None:
            return source
        kind, args = spec
        return self.emit(opts.section.position, f"layer_{index}", kind, source, **args)

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

    def has_activation(self, opts: Options, default: str) -> bool:
        """Whether the section ends in an activation layer (not linear)."""
        name = opts.text("activation", default)
        return name in RELU_FALLBACK or ACTIVATIONS.get(name, ()) is not None

    def outputs(self) -> list[str]:
        """The detection heads, any layer whose output nothing reads, and the last layer."""
        last = len(self.layers) - 1
        return [
            out.name
            for i, (out, section) in enumerate(zip(self.layers, self.sections))
            if section.kind in ("yolo", "region", "detection") or i not in self.used or i == last
        ]


Translated = tuple[Output, DarknetSection]
Handler = Callable[[Translator, int, Options, Output], Translated]


def section(index: int, kind: str, prev: Output, out: Output, **fields: Any) -> DarknetSection:
    """The view's record of Darknet layer ``index``: it reads ``prev`` and gives ``out``."""
    return DarknetSection(index, kind, prev.name, out.name, **fields)


def shaped(out: Output, c: int, h: int, w: int, flat: bool = False) -> Output:
    """``out`` with Darknet's out_c, out_h, out_w."""
    return Output(out.node, out.name, c, h, w, flat)


def c_div(a: int, b: int) -> int:
    """C's integer division, which truncates toward zero."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q
