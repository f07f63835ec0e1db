"""Number formatting shared by the human-readable renderers."""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cnncalc.report import Report


def thousands(n: int) -> str:
    """``138357544`` → ``138,357,544``."""
    return f"{n:,}"


def si(n: int) -> str:
    """A count with a K/M/G/T unit and two decimals: ``15470264320`` → ``15.47 G``."""
    for unit, scale in (("T", 10**12), ("G", 10**9), ("M", 10**6), ("K", 10**3)):
        if abs(n) >= scale:
            return f"{n / scale:.2f} {unit}"
    return str(n)


def size(n: int) -> str:
    """A byte count in binary units: ``720`` → ``720 B``, ``1048576`` → ``1.00 MiB``."""
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(n) >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{n} B"


def things(n: int, noun: str) -> str:
    """``n`` with separators and ``noun`` singular or plural: ``1 position``, ``44,521 positions``."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def count(n: int) -> str:
    """Exact with separators, plus the unit form when it helps: ``61,706 (61.71 K)``, ``93``."""
    return thousands(n) if abs(n) < 1000 else f"{thousands(n)} ({si(n)})"


def exact(value: Fraction | int) -> str:
    """An exact number: ``3``, ``1/2``, ``-3/2``."""
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def per_axis(values: tuple[Fraction | int, ...]) -> str:
    """Values per spatial axis joined like a kernel size: ``7×5``, ``1/2×1/2``."""
    return "×".join(exact(Fraction(v)) for v in values) if values else "-"


def times(ratio: Fraction | int) -> str:
    """A ratio, one way in every table: exact when whole (``784×``), else two decimals with
    separators (``1.39×``, ``2,626.86×``)."""
    ratio = Fraction(ratio)
    return f"{ratio.numerator:,}×" if ratio.denominator == 1 else f"{float(ratio):,.2f}×"


def ops_label(report: Report, flops: bool = False) -> str:
    """The name of the MACs column: ``MACs``, ``FLOPs``, or under ``--count`` the convention's
    unit and name, ``MACs (fvcore)``, ``FLOPs (ultralytics)``."""
    count = report.count
    if count is None:
        return "FLOPs" if flops else "MACs"
    return f"{'FLOPs' if flops or count.unit == 'FLOPs' else 'MACs'} ({count.name})"


def count_note(report: Report) -> str | None:
    """The line under a counted table: whose convention, and the layers it leaves unknown."""
    count = report.count
    if count is None:
        return None
    fused = ", BatchNorm folded into the convolutions" if count.fused else ""
    line = f"{count.unit} as {count.name} counts them{fused}"
    if count.unknown:
        shown = ", ".join(count.unknown[:5]) + (", …" if len(count.unknown) > 5 else "")
        line += f"; unknown under its rules, counted 0: {len(count.unknown)} layers ({shown})"
    return line
