"""A safe YAML loader that keeps every node's position and refuses duplicate keys and unknown tags."""

from __future__ import annotations

import sys
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from cnncalc.errors import LimitError, Position, SpecError, shown
from cnncalc.limits import Limits

_STR = "tag:yaml.org,2002:str"

# Plain-YAML tags we construct; anything else (``!!python/object``, ``!custom``) is refused.
_SAFE_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}


class PosDict(dict[str, Any]):
    """A mapping from YAML that remembers where it, its keys and its values were written."""

    pos: Position
    key_pos: dict[str, Position]
    value_pos: dict[str, Position]
    expansion: _Builder


def check_expansion(document: Any) -> None:
    """Refuse a document whose aliases expand past the item budget of its limits. The document's
    own checks (keys, name, input) come first, so a bomb in a wrong place is named as such; its
    layers, whose reading would walk the expansion, come after."""
    builder = getattr(document, "expansion", None)
    if builder is not None:
        builder.check()


class PosList(list[Any]):
    """A sequence from YAML that remembers where it and each item were written."""

    pos: Position
    item_pos: list[Position]


class PosStr(str):
    """A string scalar from YAML with its position and quoting style (for call-form columns)."""

    pos: Position
    style: str | None


def _tag(tag: str) -> str:
    """A tag as written: ``tag:yaml.org,2002:python/object`` → ``!!python/object``."""
    return "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml.org,2002:") else tag


def _pos(file: str, node: Node) -> Position:
    return Position(file, node.start_mark.line + 1, node.start_mark.column + 1)


class _Loader(yaml.SafeLoader):
    file: str = "<input>"


# libyaml's parser when PyYAML was built with it (the common case) scans ~10x faster; syntax
# errors are then re-read with the pure-Python parser, so messages do not depend on the build.
_CBase: type[yaml.SafeLoader] | None = getattr(yaml, "CSafeLoader", None)
_FastLoader: type[_Loader] = type("_FastLoader", (_CBase, _Loader), {}) if _CBase is not None else _Loader


def item_budget(max_layers: int) -> int:
    """How many YAML items (scalars, lists, mappings, aliases expanded) a document may hold:
    a layer written as a mapping takes about ten, so ten per layer of the limit, and a little
    more for the rest of the file."""
    return 10 * max_layers + 10_000


class _Builder:
    """Builds values from YAML nodes. A node reached twice through an alias is built once and
    shared (so a "billion laughs" document costs its size, not its expansion), but it counts as
    what it expands to everywhere: its items against :func:`item_budget`, its depth against
    ``max_depth`` where it is used, and an alias inside the node it names (a cycle) is refused.
    Nesting is bounded before Python's recursion limit is reached."""

    def __init__(self, loader: _Loader, max_depth: int, max_layers: int = Limits.max_layers) -> None:
        self.loader = loader
        self.file = loader.file
        self.max_depth = max_depth
        self.max_layers = max_layers
        self.budget = item_budget(max_layers)
        self.items = 0
        self.over: Position | None = None  # where the expansion first passed the budget
        self.memo: dict[int, Any] = {}
        self.size: dict[int, int] = {}  # items of a collection with its aliases expanded
        self.height: dict[int, int] = {}  # its nesting, aliases expanded
        self.active: set[int] = set()  # collections being built (an alias to one is a cycle)

    def count(self, items: int, node: Node) -> None:
        self.items += items
        if self.items > self.budget and self.over is None:
            self.over = _pos(self.file, node)

    def check(self) -> None:
        """Refuse a document whose aliases expand past :func:`item_budget` (see :func:`check_expansion`)."""
        if self.over is not None:
            raise LimitError(
                f"the YAML expands to more than {self.budget:,} items (aliases counted as what they "
                f"repeat), more than a network of the limit of {self.max_layers:,} layers needs",
                "max_layers",
                self.over,
            )

    def build(self, node: Node, depth: int = 0) -> Any:
        if isinstance(node, ScalarNode):
            self.count(1, node)
            return self.scalar(node)
        key = id(node)
        if key in self.active:
            where = _pos(self.file, node)
            raise SpecError("a YAML alias refers to a list or mapping that contains it", where)
        if key in self.memo:
            if depth + self.height[key] > self.max_depth + 1:
                raise LimitError(
                    f"the YAML nests deeper than {self.max_depth} levels (through an alias)",
                    "max_depth",
                    _pos(self.file, node),
                )
            self.count(self.size[key], node)
            return self.memo[key]
        if depth > self.max_depth:
            raise LimitError(
                f"the YAML nests deeper than {self.max_depth} levels",
                "max_depth",
                _pos(self.file, node),
            )
        if node.tag not in ("tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"):
            raise SpecError(f"YAML tag {_tag(node.tag)!r} is not allowed", _pos(self.file, node))
        start = self.items
        self.count(1, node)
        self.active.add(key)
        self.height[key] = 1
        if isinstance(node, SequenceNode):
            value: Any = self.sequence(node, depth)
        elif isinstance(node, MappingNode):
            value = self.mapping(node, depth)
        else:  # pragma: no cover
            raise SpecError("unsupported YAML node", _pos(self.file, node))
        self.active.discard(key)
        self.size[key] = self.items - start
        return value

    def child(self, parent: Node, node: Node, depth: int) -> Any:
        """Build ``node`` under ``parent``, whose height grows with the child's."""
        value = self.build(node, depth + 1)
        if not isinstance(node, ScalarNode):
            key = id(parent)
            self.height[key] = max(self.height[key], self.height[id(node)] + 1)
        return value

    def scalar(self, node: ScalarNode) -> Any:
        if node.tag not in _SAFE_SCALAR_TAGS:
            raise SpecError(f"YAML tag {_tag(node.tag)!r} is not allowed", _pos(self.file, node))
        digits = sys.get_int_max_str_digits() or 4300
        if node.tag == "tag:yaml.org,2002:int" and len(node.value) > digits:
            raise SpecError(
                f"the integer has {len(node.value):,} digits, more than the {digits:,} a number may have",
                _pos(self.file, node),
            )
        try:
            value = yaml.SafeLoader.yaml_constructors[node.tag](self.loader, node)
        except (ValueError, KeyError, TypeError, OverflowError):
            # an explicit tag on a value it cannot construct: !!int 'eight', !!bool maybe
            raise SpecError(
                f"{shown(node.value)} is not a valid {_tag(node.tag)}", _pos(self.file, node)
            ) from None
        if isinstance(value, str):
            text = PosStr(value)
            text.pos = _pos(self.file, node)
            text.style = node.style
            return text
        return value

    def sequence(self, node: SequenceNode, depth: int) -> PosList:
        out = PosList()
        self.memo[id(node)] = out
        out.pos = _pos(self.file, node)
        out.item_pos = []
        for child in node.value:
            if type(child) is ScalarNode and child.tag == _STR:
                # the common item, a call-form line: what build() and scalar() do for a plain
                # string, inline, with one Position shared by the string and the list (a
                # 100,000-layer stack spent a fifth of its reading time in the general path)
                self.count(1, child)
                where = _pos(self.file, child)
                text = PosStr(child.value)
                text.pos = where
                text.style = child.style
                out.append(text)
                out.item_pos.append(where)
                continue
            out.append(self.child(node, child, depth))
            out.item_pos.append(_pos(self.file, child))
        return out

    def mapping(self, node: MappingNode, depth: int) -> PosDict:
        if any(key.tag == "tag:yaml.org,2002:merge" for key, _ in node.value):
            self.loader.flatten_mapping(node)  # YAML merge keys (<<: *base)
        out = PosDict()
        self.memo[id(node)] = out
        out.pos = _pos(self.file, node)
        out.key_pos = {}
        out.value_pos = {}
        for key_node, value_node in node.value:
            key = self.child(node, key_node, depth)
            if not isinstance(key, str):
                raise SpecError(f"mapping key {shown(key)} is not a string", _pos(self.file, key_node))
            key = str(key)
            if key in out:
                first = out.key_pos[key]
                raise SpecError(
                    f"duplicate key {key!r} (first at line {first.line})", _pos(self.file, key_node)
                )
            out[key] = self.child(node, value_node, depth)
            out.key_pos[key] = _pos(self.file, key_node)
            out.value_pos[key] = _pos(self.file, value_node)
        return out


def _flow_depth(text: str, file: str, limit: int) -> None:
    """Refuse [ { nesting deeper than ``limit`` before parsing: PyYAML's pure-Python scanner is
    quadratic in the flow depth, so a few kilobytes of brackets would take seconds, and more
    would hang. Quoted strings and comments are skipped; the scan is linear."""
    if text.count("[") + text.count("{") <= limit:
        return  # the depth cannot exceed the openers there are: no need to walk every character
    depth = 0
    quote = ""
    line, line_start = 1, 0
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line, line_start = line + 1, i + 1
        if quote:
            if c == "\\" and quote == '"':
                i += 2
                continue
            if c == quote:
                quote = ""
        elif c in "\"'" and (i == 0 or text[i - 1] in " \t\n[{,:"):
            quote = c
        elif c == "#" and (i == 0 or text[i - 1] in " \t\n"):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        elif c in "[{":
            depth += 1
            if depth > limit:
                raise LimitError(
                    f"the YAML nests deeper than {limit} levels",
                    "max_depth",
                    Position(file, line, i - line_start + 1),
                )
        elif c in "]}":
            depth = max(depth - 1, 0)
        i += 1


def _item_estimate(text: str, file: str, max_layers: int) -> None:
    """Refuse a document too large for the limits before parsing it: every item of YAML is
    introduced by a separator (``,``, ``- ``, ``: ``, a new line), so their count bounds the
    items from above, and the parser's memory (nodes with positions) grows with them."""
    estimate = text.count(",") + text.count("\n") + text.count("- ") + text.count(": ")
    budget = item_budget(max_layers)
    if estimate > budget:
        raise LimitError(
            f"the YAML holds about {estimate:,} items, more than the {budget:,} that a network of "
            f"the limit of {max_layers:,} layers needs",
            "max_layers",
            Position(file, 1, 1),
        )


def load_yaml(
    text: str, file: str, max_depth: int = Limits.max_depth, max_layers: int = Limits.max_layers
) -> Any:
    """Parse one YAML document into PosDict/PosList/PosStr values; errors carry file:line:col."""
    _item_estimate(text, file, max_layers)
    _flow_depth(text, file, max_depth)
    if _FastLoader is not _Loader:
        try:
            return _load(_FastLoader, text, file, max_depth, max_layers)
        except SpecError as exc:
            if not exc.message.startswith("YAML"):
                raise
    return _load(_Loader, text, file, max_depth, max_layers)


def _reader_error(exc: yaml.reader.ReaderError, text: str, file: str) -> SpecError:
    """YAML refuses control characters (other than tab and newlines): say which and where."""
    before = text[: exc.position]
    line = before.count("\n") + 1
    column = exc.position - (before.rfind("\n") + 1) + 1
    char = exc.character if isinstance(exc.character, str) else chr(exc.character)
    return SpecError(f"YAML does not allow the control character {char!r} here", Position(file, line, column))


def _load(loader_class: type[_Loader], text: str, file: str, max_depth: int, max_layers: int) -> Any:
    try:
        loader = loader_class(text)
    except yaml.reader.ReaderError as exc:
        raise _reader_error(exc, text, file) from None
    loader.file = file
    try:
        try:
            node = loader.get_single_node()
        except RecursionError:
            raise SpecError(
                "the YAML nests too deeply to be read (thousands of levels)", Position(file, 1, 1)
            ) from None
        if node is None:
            raise SpecError("the file is empty", Position(file, 1, 1))
        builder = _Builder(loader, max_depth, max_layers)
        value = builder.build(node)
        if isinstance(value, PosDict):
            value.expansion = builder
        else:
            builder.check()
        return value
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Position(file, mark.line + 1, mark.column + 1) if mark else Position(file)
        problem = exc.problem or exc.context or "invalid YAML"
        raise SpecError(f"YAML syntax error: {problem}", where) from None
    except ConstructorError as exc:  # pragma: no cover - _construct raises SpecError first
        raise SpecError(f"YAML error: {exc.problem}", Position(file)) from None
    except yaml.reader.ReaderError as exc:
        raise _reader_error(exc, text, file) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"YAML error: {exc}", Position(file)) from None
    finally:
        loader.dispose()
