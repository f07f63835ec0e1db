"""Darknet's [shortcut]: the previous layer plus the ``from`` layers, of any shapes.

src/parser.c parse_shortcut makes the layer with the previous layer's width, height and channels
(``make_shortcut_layer(..., params.w, params.h, params.c, ...)``; it only prints "Downsample
here" when a ``from`` layer differs). src/shortcut_layer.c forward_shortcut_layer adds equal
shapes element by element; otherwise ``shortcut_multilayer_cpu`` adds, for each output element
at flat index ``i`` of the previous layer's (c, h, w) array, element ``i`` of each ``from``
layer's flat array where that layer has one. So a ``from`` layer of the same width and height
adds its first channels onto the first channels (the rest of the wider one is unused, the rest
of the narrower sum is the previous layer alone); one of another width or height is added as a
flat array, which no spatial rule follows: its receptive field is unknown.
"""

from __future__ import annotations

from cnncalc.errors import Position, SpecError
from cnncalc.readers.darknet.cfg import Options
from cnncalc.readers.darknet.translator import Output, Translated, Translator, section, shaped


def shortcut(t: Translator, index: int, opts: Options, prev: Output) -> Translated:
    """src/parser.c parse_shortcut, src/shortcut_layer.c: the previous layer plus the ``from``
    layers, then the activation (linear by default); the output has the previous layer's shape."""
    indices = [t.reference(opts, "from", v, index) for v in opts.integers("from")]
    sources = [t.layers[i] for i in indices]
    weights = opts.text("weights_type", "none")
    if weights != "none":
        raise SpecError(
            f"weights_type={weights} (learnt weights per input) has no torch.nn equivalent",
            opts.where("weights_type"),
        )
    where = opts.section.position
    name = f"add_{index}" if t.has_activation(opts, "linear") else f"layer_{index}"
    if all(_same(source, prev) for source in sources):
        out = t.emit(where, name, "Add", [prev, *sources])
    else:
        for source in sources:
            if (source.flat or prev.flat) and not _same(source, prev):
                raise SpecError(
                    f"cannot add {source.name} ({source.whc}) to the previous layer ({prev.whc}): "
                    "a [connected] layer's vector of another size is not supported",
                    opts.where("from"),
                )
        out = prev
        for k, source in enumerate(sources):
            step = name if k == len(sources) - 1 else f"add_{index}_{k}"
            out = shaped(_add(t, where, index, k, out, source, step), prev.c, prev.h, prev.w)
    out = t.activation(opts, "linear", index, out)
    return out, section(index, "shortcut", prev, out, sources=tuple(indices))


def _same(a: Output, b: Output) -> bool:
    return (a.c, a.h, a.w, a.flat) == (b.c, b.h, b.w, b.flat)


def _add(
    t: Translator, where: Position, index: int, k: int, acc: Output, source: Output, name: str
) -> Output:
    """``acc`` plus ``source`` as shortcut_multilayer_cpu adds it: flat element i of ``source``
    onto flat element i of ``acc`` where both have one; the result has ``acc``'s shape."""
    if _same(source, acc):
        return t.emit(where, name, "Add", [acc, source])
    if (source.h, source.w) == (acc.h, acc.w):
        # the same positions: channel j of ``source`` onto channel j of ``acc``, j < both counts
        if source.c > acc.c:
            part = t.emit(where, f"slice_{index}_{k}", "Narrow", source, dim=1, start=0, length=acc.c)
            return t.emit(where, name, "Add", [acc, shaped(part, acc.c, acc.h, acc.w)])
        head = t.emit(where, f"head_{index}_{k}", "Narrow", acc, dim=1, start=0, length=source.c)
        head = shaped(head, source.c, acc.h, acc.w)
        summed = t.emit(where, f"sum_{index}_{k}", "Add", [head, source])
        rest = t.emit(
            where, f"rest_{index}_{k}", "Narrow", acc, dim=1, start=source.c, length=acc.c - source.c
        )
        return t.emit(where, name, "Concat", [summed, rest], dim=1)
    # another width or height: the flat arrays, cut or padded with zeros to the output's length
    length, given = acc.c * acc.h * acc.w, source.c * source.h * source.w
    flat = t.emit(where, f"flatten_{index}_{k}", "Flatten", source)
    if given > length:
        flat = t.emit(where, f"slice_{index}_{k}", "Narrow", flat, dim=1, start=0, length=length)
    elif given < length:
        flat = t.emit(
            where, f"pad_{index}_{k}", "ConstantPad1d", flat, padding=(0, length - given), value=0.0
        )
    image = t.emit(
        where, f"unflatten_{index}_{k}", "Unflatten", flat, dim=1, unflattened_size=(acc.c, acc.h, acc.w)
    )
    t.note(
        "[shortcut] of layers of another width or height: added as Darknet adds them, flat array "
        "onto flat array (shortcut_multilayer_cpu); positions mix, so receptive fields through "
        "them are unknown"
    )
    return t.emit(where, name, "Add", [acc, shaped(image, acc.c, acc.h, acc.w)])
