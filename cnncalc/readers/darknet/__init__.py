"""Darknet ``.cfg`` networks read into cnncalc's network model by Darknet's own parsing rules.

The rules are those of AlexeyAB/darknet (``src/parser.c`` and the ``make_*_layer`` functions it
calls); every choice that Darknet's source decides cites the function. :mod:`.cfg` reads the
text into sections, :mod:`.sections` translates each section kind with its own handler, and
:mod:`.view` holds what Darknet's load-time printout needs, recorded while translating: the
reader's ``extras["darknet"]``, a :class:`~cnncalc.readers.darknet.view.DarknetView`.
"""

from __future__ import annotations

import dataclasses
from pathlib import PurePath

from cnncalc.errors import ArgumentError, LimitError, Position, SpecError
from cnncalc.graph import NetworkBuilder
from cnncalc.readers import Read, ReadOptions, Source
from cnncalc.readers.darknet.cfg import RECURRENT_SECTIONS, SECTION_KINDS, Options, Section, parse_cfg
from cnncalc.readers.darknet.sections import recurrent_refusal, translate
from cnncalc.readers.darknet.translator import Translator
from cnncalc.readers.darknet.view import DarknetView

__all__ = ["DarknetView", "read"]


def read(source: Source, options: ReadOptions) -> Read:
    """The network of a Darknet cfg: [net] gives the input (batch, channels, height, width),
    ``options.input_shape`` overrides it; ``extras["darknet"]`` is Darknet's view of it."""
    file = source.label
    text = source.text()
    limit = options.limits.max_layers
    # sections are counted by their headers before any is read: past the limit only the first
    # limit + 2 (the [net] and the first layer over it) are parsed, for the message
    headers = sum(1 for raw in text.splitlines() if raw.lstrip().startswith("["))
    sections = parse_cfg(text, file, stop=limit + 2 if headers - 1 > limit else None)
    if not sections:
        raise SpecError("no [net] section: a Darknet cfg starts with [net] or [network]", Position(file))
    net = sections[0]
    if SECTION_KINDS.get(net.header) != "net":
        # src/parser.c parse_network_cfg_custom: "First section must be [net] or [network]"
        raise SpecError(f"the first section must be [net] or [network], got {net.header}", net.position)
    recurrent = next((s for s in sections[1:] if s.header in RECURRENT_SECTIONS), None)
    if recurrent is not None:
        # before [net]'s input is read: a recurrent model gives inputs= (a vector per time step)
        # and no image, and no input shape would make it readable
        raise SpecError(recurrent_refusal(recurrent.header), recurrent.position)
    override = options.input_shape
    declared = _net_input(net, override is not None)
    shape = declared if override is None else _check_override(override)
    layers = sections[1:]
    if not layers:
        raise SpecError("the network has no layers after [net]", net.position)
    if headers - 1 > limit and len(layers) > limit:
        raise LimitError(
            f"the network has {headers - 1:,} layers, more than the limit of {limit:,}",
            "max_layers",
            layers[limit].position,
        )
    name = PurePath(file).stem if file not in ("-", "<stdin>") else None
    builder = NetworkBuilder(shape, name=name, source=file, limits=options.limits)
    translator = Translator(builder, shape)
    for index, section in enumerate(layers):
        translate(translator, index, section)
    builder.output(*translator.outputs())
    network = builder.build()
    notes = (*_repeated_notes(net), *translator.notes)
    if notes:
        network = dataclasses.replace(network, notes=notes)
    return Read(network, {"darknet": DarknetView(tuple(translator.sections))})


def _repeated_notes(net: Section) -> list[str]:
    """A note per key given twice in [net]: src/option_list.c option_find returns the first."""
    notes = []
    for later in net.repeated:
        first = net.options[later.key]
        notes.append(
            f"[net] gives {later.key}= twice (lines {first.position.line} and {later.position.line}): "
            f"Darknet reads the first, {later.key}={first.value}"
        )
    return notes


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
        raise ArgumentError(
            f"a Darknet network takes a 4D input (batch, channels, height, width); --input gave "
            f"{len(shape)} values",
            "input_shape",
        )
    return (shape[0], shape[1], shape[2], shape[3])
