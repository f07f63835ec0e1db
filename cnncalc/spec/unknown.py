"""A network file with one layer argument left as ``?``, read for ``cnncalc solve``.

Everywhere else a ``?`` stays what it is, a located error (the call form does not parse, a
mapping value ``"?"`` is not a valid argument). Here the one ``?`` is found in the document —
``- Conv2d(3, 16, 3, padding=?)`` in a call form, or ``padding: "?"`` in a layer mapping (a bare
``?`` after ``padding:`` is YAML's mapping-key indicator, so the mapping form quotes it) — and
replaced by a placeholder value; the network is then built and validated as any network file,
and the layer the ``?`` was written in is found again by the argument's position.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cnncalc.errors import Position, SpecError
from cnncalc.graph import Network
from cnncalc.limits import Limits
from cnncalc.spec.lower import LEAF_KEYS, rejoin
from cnncalc.spec.network import _offset, network_from_document
from cnncalc.spec.yamlload import PosDict, PosList, PosStr, load_yaml

# What stands for the ``?`` while the network is built (one character where it can be, so that
# the columns of the call form's other arguments stay exact; ceil_mode needs a bool).
PLACEHOLDERS: dict[str, Any] = {
    "padding": 0,
    "output_padding": 0,
    "kernel_size": 1,
    "stride": 1,
    "dilation": 1,
    "ceil_mode": False,
}

# the keys of a layer mapping that hold lists of layers (``branches``: a list of such lists)
_LAYER_LISTS = ("layers", "body", "shortcut")


@dataclass(frozen=True)
class UnknownNetwork:
    """The network (the ``?`` holding a placeholder), the layer's key and the argument."""

    network: Network
    layer: str
    argument: str


@dataclass
class _Found:
    """One ``?``: where it is, the argument, the position the builder records for it, and how
    to put the placeholder in its place."""

    where: Position
    argument: str
    arg_position: Position
    container: PosList | PosDict
    key: Any
    value: Any


def load_unknown(
    text: str, file: str, input_override: tuple[int, ...] | None = None, limits: Limits | None = None
) -> UnknownNetwork:
    """The network of a file with exactly one layer argument written ``?``."""
    limits = limits or Limits()
    doc = load_yaml(text, file, limits.max_depth, limits.max_layers)
    found: list[_Found] = []
    if isinstance(doc, PosDict) and isinstance(doc.get("layers"), PosList):
        _layer_list(doc["layers"], found, set())
    if len(found) != 1:
        where = found[1].where if len(found) > 1 else Position(file)
        raise SpecError(f"write exactly one layer argument as ? to solve for, found {len(found)}", where)
    (unknown,) = found
    if unknown.argument not in PLACEHOLDERS:
        choices = ", ".join(PLACEHOLDERS)
        raise SpecError(f"cannot solve for {unknown.argument!r}: the solver takes {choices}", unknown.where)
    if isinstance(unknown.container, PosDict):
        unknown.container[unknown.key] = PLACEHOLDERS[unknown.argument]
    else:
        unknown.container[unknown.key] = unknown.value
    network = network_from_document(doc, file, input_override, limits)
    nodes = [n for n in network.nodes if n.arg_positions.get(unknown.argument) == unknown.arg_position]
    if len(nodes) != 1:
        # a ? inside a repeated block (or an anchor used twice) stands for several layers
        raise SpecError(
            f"the ? stands for {len(nodes)} layers (a repeated block or an alias): write it in one",
            unknown.where,
        )
    return UnknownNetwork(network, nodes[0].key, unknown.argument)


def _layer_list(items: PosList, found: list[_Found], seen: set[int]) -> None:
    """The ``?`` of a list of layers and of the blocks in it (an alias's list is walked once)."""
    if id(items) in seen:
        return
    seen.add(id(items))
    for item, _ in rejoin(items):
        if isinstance(item, PosStr) and _question(item) is not None:
            found.append(_in_call(item, items))
        elif isinstance(item, PosDict):
            _mapping(item, found, seen)


def _mapping(item: PosDict, found: list[_Found], seen: set[int]) -> None:
    if id(item) in seen:
        return
    seen.add(id(item))
    for key, value in item.items():
        if isinstance(value, str) and value.strip() == "?" and key not in LEAF_KEYS:
            where = item.value_pos[key]
            found.append(_Found(where, key, where, item, key, None))
        elif key in _LAYER_LISTS and isinstance(value, PosList):
            _layer_list(value, found, seen)
        elif key == "branches" and isinstance(value, PosList):
            for branch in value:
                if isinstance(branch, PosList):
                    _layer_list(branch, found, seen)


def _in_call(text: PosStr, items: PosList) -> _Found:
    """A call form with a ``?``: the argument it stands for, and the piece of ``items`` (YAML
    splits a call form in a flow sequence at its commas) to write the placeholder into."""
    from cnncalc.engine.solve import SENTINEL, parse_unknown_call

    at = _question(text)
    assert at is not None
    try:
        uc = parse_unknown_call(text)
    except SpecError as exc:
        column = exc.position.column if exc.position is not None else 1
        raise SpecError(exc.message, _offset(text, column - 1)) from None
    arg = next(a for a in uc.call.args if a.value == SENTINEL)
    where = _offset(text, at)
    placeholder = PLACEHOLDERS.get(uc.argument, 0)
    piece, start = _piece(text, at)
    index = next(i for i, x in enumerate(items) if x is piece)
    local = at - start
    new = PosStr(piece[:local] + str(placeholder) + piece[local + 1 :])
    new.pos, new.style = piece.pos, piece.style
    return _Found(where, uc.argument, _offset(text, arg.offset), items, index, new)


def _piece(text: PosStr, at: int) -> tuple[PosStr, int]:
    """The scalar of the document that holds character ``at`` of ``text``, and its offset."""
    pieces = getattr(text, "pieces", None)
    if not pieces:
        return text, 0
    start, piece = next((s, p) for s, p in reversed(pieces) if s <= at)
    return piece, start


def _question(text: str) -> int | None:
    """The offset of the first ``?`` outside quotes, or None."""
    quote = None
    for i, ch in enumerate(text):
        if quote is None and ch in "'\"":
            quote = ch
        elif ch == quote:
            quote = None
        elif quote is None and ch == "?":
            return i
    return None
