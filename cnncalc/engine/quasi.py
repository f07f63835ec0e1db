"""Quasi-affine integer functions of one input size, and the integer expressions that print them.

A quasi-affine function of an integer ``n`` is ``f(n) = s*n + c[n mod T]``: a rational slope
``s``, a period ``T`` with ``s*T`` an integer, and one offset per residue class. Every size map of
a convolution, pooling, transposed convolution, padding or integer resampling is
``floor((a*x + b) / c)`` of its input size ``x``, and such a floor of a quasi-affine function is
quasi-affine again (:meth:`QA.floordiv`), exactly and for every integer ``n``: nothing is
sampled, so what is derived here holds for all sizes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

# Periods beyond this are refused rather than tabulated (a network would need strides whose
# product exceeds it).
MAX_PERIOD = 1 << 16


class NotQuasiAffineError(Exception):
    """A size map that is not of the quasi-affine form (or whose period is too long to tabulate)."""


@dataclass(frozen=True)
class QA:
    """``f(n) = slope*n + offsets[n % len(offsets)]``, integer-valued for every integer ``n``."""

    slope: Fraction
    offsets: tuple[Fraction, ...]

    @staticmethod
    def const(c: int) -> QA:
        return QA(Fraction(0), (Fraction(c),))

    @staticmethod
    def ident() -> QA:
        return QA(Fraction(1), (Fraction(0),))

    @property
    def period(self) -> int:
        return len(self.offsets)

    @property
    def is_const(self) -> bool:
        return self.slope == 0 and len(set(self.offsets)) == 1

    def __call__(self, n: int) -> int:
        value = self.slope * n + self.offsets[n % self.period]
        assert value.denominator == 1, "a quasi-affine size map took a fractional value"
        return int(value)

    def on_class(self, r: int, t: int) -> tuple[int, int]:
        """On ``n = r + t*q`` (``t`` a multiple of the period): ``f = a + b*q``, as ``(a, b)``."""
        step = self.slope * t
        assert step.denominator == 1 and t % self.period == 0
        return self(r), int(step)

    def with_period(self, t: int) -> QA:
        """The same function tabulated over a multiple ``t`` of the period."""
        if t > MAX_PERIOD:
            raise NotQuasiAffineError(f"the size map's period {t} is longer than {MAX_PERIOD}")
        offsets = tuple(self.offsets[r % self.period] for r in range(t))
        return QA(self.slope, offsets)

    def plus(self, other: QA, k: int = 1) -> QA:
        """``self + k*other``."""
        t = math.lcm(self.period, other.period)
        a, b = self.with_period(t), other.with_period(t)
        return QA(a.slope + k * b.slope, tuple(x + k * y for x, y in zip(a.offsets, b.offsets)))

    def times(self, other: QA) -> QA:
        """A product; quasi-affine only when one factor is a constant."""
        if other.is_const:
            k = other.offsets[0]
            return QA(self.slope * k, tuple(c * k for c in self.offsets))
        if self.is_const:
            return other.times(self)
        raise NotQuasiAffineError("a product of two sizes that both depend on the input size")

    def floordiv(self, a: int, b: int, c: int) -> QA:
        """``floor((a*f(n) + b) / c)`` for ``c > 0``.

        With ``T'`` a multiple of the period making ``a*s*T'/c`` an integer, ``n = r + T'*q``
        gives ``a*f(n) + b = a*f(r) + b + c*(a*s*T'/c)*q``, so the floor is
        ``floor((a*f(r) + b)/c) + (a*s*T'/c)*q``: quasi-affine with period ``T'``, for every ``n``.
        """
        assert c > 0
        slope = self.slope * a / c
        t = self.period * (slope * self.period).denominator
        base = self.with_period(t)
        offsets = tuple(Fraction((a * base(r) + b) // c) - slope * r for r in range(t))
        return _reduced(QA(slope, offsets))


def _reduced(f: QA) -> QA:
    """The same function over its shortest period (for shorter tables and simpler formulas)."""
    t = f.period
    for p in sorted(d for d in range(1, t + 1) if t % d == 0):
        if p == t:
            break
        if (f.slope * p).denominator != 1:
            continue
        if all(f.offsets[r] == f.offsets[r % p] for r in range(t)):
            return QA(f.slope, f.offsets[:p])
    return f


# ---- expressions --------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Expr:
    """An integer expression in the input's axis names (a DAG: layers share their inputs)."""


@dataclass(frozen=True, eq=False)
class Var(Expr):
    name: str


@dataclass(frozen=True, eq=False)
class Const(Expr):
    value: int


@dataclass(frozen=True, eq=False)
class Lin(Expr):
    """``sum(k * e for k, e in terms) + const``."""

    terms: tuple[tuple[int, Expr], ...]
    const: int = 0


@dataclass(frozen=True, eq=False)
class Floor(Expr):
    """``arg // den`` (floor division, ``den > 0``)."""

    arg: Expr
    den: int


@dataclass(frozen=True, eq=False)
class Prod(Expr):
    factors: tuple[Expr, ...]


@dataclass(frozen=True, eq=False)
class Unknown(Expr):
    """A size whose map is not derived: the reason says which layer."""

    reason: str


def const_value(e: Expr) -> int | None:
    """The value of an expression without names, or None."""
    if isinstance(e, Const):
        return e.value
    return None


def lin(terms: list[tuple[int, Expr]], const: int = 0) -> Expr:
    """A linear combination, with constants folded and unknowns passed on."""
    kept: list[tuple[int, Expr]] = []
    for k, e in terms:
        if isinstance(e, Unknown):
            return e
        v = const_value(e)
        if v is not None:
            const += k * v
        elif isinstance(e, Lin):  # 2 * (2 * x + 1) is 4 * x + 2: flat sums print shorter
            kept.extend((k * k2, e2) for k2, e2 in e.terms)
            const += k * e.const
        elif k:
            kept.append((k, e))
    if not kept:
        return Const(const)
    if len(kept) == 1 and kept[0][0] == 1 and const == 0:
        return kept[0][1]
    return Lin(tuple(kept), const)


def affine_floor(x: Expr, a: int, b: int, c: int) -> Expr:
    """``(a*x + b) // c``, folded where ``x`` is a constant."""
    inner = lin([(a, x)], b)
    if isinstance(inner, Unknown):
        return inner
    v = const_value(inner)
    if v is not None:
        return Const(v // c)
    return inner if c == 1 else Floor(inner, c)


def prod(factors: list[Expr]) -> Expr:
    """A product, with constants folded."""
    k = 1
    kept = []
    for e in factors:
        if isinstance(e, Unknown):
            return e
        v = const_value(e)
        if v is not None:
            k *= v
        else:
            kept.append(e)
    if not kept:
        return Const(k)
    body = kept[0] if len(kept) == 1 else Prod(tuple(kept))
    return body if k == 1 else lin([(k, body)])


def names(e: Expr, memo: dict[int, frozenset[str]] | None = None) -> frozenset[str]:
    """The axis names an expression depends on."""
    memo = {} if memo is None else memo
    key = id(e)
    if key in memo:
        return memo[key]
    if isinstance(e, Var):
        found = frozenset({e.name})
    elif isinstance(e, Lin):
        found = frozenset().union(*(names(t, memo) for _, t in e.terms))
    elif isinstance(e, Floor):
        found = names(e.arg, memo)
    elif isinstance(e, Prod):
        found = frozenset().union(*(names(t, memo) for t in e.factors))
    else:
        found = frozenset()
    memo[key] = found
    return found


def evaluate(e: Expr, env: Mapping[str, int], memo: dict[int, int] | None = None) -> int:
    """The value of an expression for integer axis sizes."""
    memo = {} if memo is None else memo
    key = id(e)
    if key in memo:
        return memo[key]
    if isinstance(e, Var):
        value = env[e.name]
    elif isinstance(e, Const):
        value = e.value
    elif isinstance(e, Lin):
        value = sum(k * evaluate(t, env, memo) for k, t in e.terms) + e.const
    elif isinstance(e, Floor):
        value = evaluate(e.arg, env, memo) // e.den
    elif isinstance(e, Prod):
        value = math.prod(evaluate(t, env, memo) for t in e.factors)
    else:
        assert isinstance(e, Unknown)
        raise NotQuasiAffineError(e.reason)
    memo[key] = value
    return value


def to_qa(e: Expr, axis: str, env: Mapping[str, int], memo: dict[int, QA] | None = None) -> QA:
    """The expression as a quasi-affine function of ``axis``, the other names fixed by ``env``."""
    memo = {} if memo is None else memo
    key = id(e)
    if key in memo:
        return memo[key]
    if isinstance(e, Var):
        f = QA.ident() if e.name == axis else QA.const(env[e.name])
    elif isinstance(e, Const):
        f = QA.const(e.value)
    elif isinstance(e, Lin):
        f = QA.const(e.const)
        for k, t in e.terms:
            f = f.plus(to_qa(t, axis, env, memo), k)
    elif isinstance(e, Floor):
        f = to_qa(e.arg, axis, env, memo).floordiv(1, 0, e.den)
    elif isinstance(e, Prod):
        f = QA.const(1)
        for t in e.factors:
            f = f.times(to_qa(t, axis, env, memo))
    else:
        assert isinstance(e, Unknown)
        raise NotQuasiAffineError(e.reason)
    memo[key] = f
    return f


# ---- printing -----------------------------------------------------------------------------------


def floor_text(name: str, a: int, b: int, c: int) -> str:
    """``(a*name + b) // c`` as plain Python: ``H // 32``, ``(H + 1) // 2``, ``2 * H - 1``."""
    if a == 0:
        return str(b // c)
    body = name if a == 1 else f"{a} * {name}"
    if b:
        body = f"{body} {'+' if b > 0 else '-'} {abs(b)}"
    if c == 1:
        return body
    return f"{body} // {c}" if not b else f"({body}) // {c}"


def to_text(e: Expr) -> str:
    """The expression as plain Python integer arithmetic (digits, names, ``+ - * //``, brackets)."""
    if isinstance(e, Var):
        return e.name
    if isinstance(e, Const):
        return str(e.value)
    if isinstance(e, Lin):
        parts = []
        for i, (k, t) in enumerate(e.terms):
            inner = to_text(t)
            mag = abs(k)
            if isinstance(t, Lin) or (isinstance(t, Floor) and mag != 1):
                inner = f"({inner})"  # 2 * (H // 2), not 2 * H // 2
            term = inner if mag == 1 else f"{mag} * {inner}"
            if i == 0:
                parts.append(term if k > 0 else f"-{term}")
            else:
                parts.append(f"{'+' if k > 0 else '-'} {term}")
        if e.const:
            parts.append(f"{'+' if e.const > 0 else '-'} {abs(e.const)}")
        return " ".join(parts)
    if isinstance(e, Floor):
        inner = to_text(e.arg)
        if not isinstance(e.arg, (Var, Const)):
            inner = f"({inner})"
        return f"{inner} // {e.den}"
    if isinstance(e, Prod):
        return " * ".join(f"({to_text(t)})" if isinstance(t, (Lin, Floor)) else to_text(t) for t in e.factors)
    assert isinstance(e, Unknown)
    raise NotQuasiAffineError(e.reason)
