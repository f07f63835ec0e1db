"""The call form: PyTorch constructor syntax such as ``Conv2d(2, 3, kernel_size=3)``, parsed
with :mod:`ast` and never evaluated — only literals are accepted as arguments."""

from __future__ import annotations

import ast
import functools
import re
from dataclasses import dataclass
from typing import Any

from cnncalc.errors import SpecError


@dataclass(frozen=True)
class Arg:
    """One argument of a call: its keyword (None if positional), literal value and column offset."""

    keyword: str | None
    value: Any
    offset: int


@dataclass(frozen=True)
class Call:
    """A parsed call form: the layer type as written and its arguments in order."""

    type_name: str
    args: tuple[Arg, ...]


class CallFormError(SpecError):
    """A call form that is not a literal-only constructor call; ``offset`` is 0-based in the text."""

    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.offset = offset


def _literal(node: ast.expr) -> Any:
    """Convert a literal AST node to its value; refuse anything that would need evaluation."""
    if isinstance(node, ast.Constant) and (
        node.value is None or isinstance(node.value, (bool, int, float, str))
    ):
        return node.value
    if isinstance(node, (ast.Tuple, ast.List)):
        return tuple(_literal(item) for item in node.elts)
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, (ast.USub, ast.UAdd))
        and isinstance(node.operand, ast.Constant)
        and isinstance(node.operand.value, (int, float))
        and not isinstance(node.operand.value, bool)
    ):
        value = node.operand.value
        return -value if isinstance(node.op, ast.USub) else value
    what = {
        ast.Name: "a name",
        ast.Attribute: "an attribute",
        ast.Call: "a call",
        ast.BinOp: "an operator",
        ast.UnaryOp: "an operator",
        ast.BoolOp: "an operator",
        ast.Compare: "a comparison",
        ast.Subscript: "a subscript",
        ast.Lambda: "a lambda",
    }.get(type(node), "an expression")
    raise CallFormError(
        f"only literals (numbers, strings, booleans, None, tuples, lists) are allowed "
        f"as layer arguments, found {what}",
        node.col_offset,
    )


# Bounds checked before ast.parse, whose recursive parser fails (RecursionError, MemoryError)
# on a few thousand nested operators and whose cost grows with the text: a layer written by
# hand has a handful of signs and a few hundred characters.
MAX_LENGTH = 100_000
MAX_OPERATORS = 1_000
_OPERATORS = re.compile(r"[-+~*/%@&|^<>!]")
_STRINGS = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'")


def _check_size(source: str, lead: int) -> None:
    """Refuse a call form too long, or with too many operators, for the parser to be safe."""
    if len(source) > MAX_LENGTH:
        raise CallFormError(
            f"the layer expression has {len(source):,} characters, more than the limit of {MAX_LENGTH:,}",
            lead,
        )
    unquoted = _STRINGS.sub("", source)
    operators = _OPERATORS.findall(unquoted)
    if len(operators) > MAX_OPERATORS:
        match = next(m for i, m in enumerate(_OPERATORS.finditer(source)) if i == MAX_OPERATORS)
        raise CallFormError(
            f"the layer expression has {len(operators):,} operators, more than the limit of "
            f"{MAX_OPERATORS:,} (only literals are allowed as arguments)",
            match.start() + lead,
        )


@functools.lru_cache(maxsize=4096)
def parse_call(text: str) -> Call:
    """Parse ``Name`` or ``Name(arg, ..., key=value, ...)`` with literal arguments only."""
    source = text.strip()
    lead = len(text) - len(text.lstrip())
    if not source:
        raise CallFormError("empty layer expression", 0)
    _check_size(source, lead)
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        offset = (exc.offset or 1) - 1 + lead
        raise CallFormError(f"not a layer expression: {exc.msg}", offset) from None
    except (RecursionError, MemoryError):
        raise CallFormError("the layer expression nests too deeply to be read", lead) from None
    except ValueError as exc:  # an integer over Python's digit limit
        raise CallFormError(f"not a layer expression: {str(exc).split(';')[0]}", lead) from None
    body = tree.body
    if isinstance(body, ast.Name):
        return Call(body.id, ())
    if not (isinstance(body, ast.Call) and isinstance(body.func, ast.Name)):
        raise CallFormError(
            "a layer is written as TypeName or TypeName(arguments), e.g. Conv2d(3, 16, 3)",
            body.col_offset + lead,
        )
    args: list[Arg] = []
    for node in body.args:
        if isinstance(node, ast.Starred):
            raise CallFormError("*arguments are not allowed", node.col_offset + lead)
        try:
            args.append(Arg(None, _literal(node), node.col_offset + lead))
        except CallFormError as exc:
            exc.offset += lead
            raise
    for kw in body.keywords:
        if kw.arg is None:
            raise CallFormError("**arguments are not allowed", kw.col_offset + lead)
        try:
            args.append(Arg(kw.arg, _literal(kw.value), kw.col_offset + lead))
        except CallFormError as exc:
            exc.offset += lead
            raise
    return Call(body.func.id, tuple(args))
