"""quick_init keeps a frozen dataclass's behaviour: fields, defaults, replace, equality, frozenness."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import pytest

from cnncalc.records import quick_init


@dataclass(frozen=True)
class Plain:
    a: int
    b: str = "b"
    c: list[int] = field(default_factory=list)


@quick_init
@dataclass(frozen=True)
class Quick:
    a: int
    b: str = "b"
    c: list[int] = field(default_factory=list)


def test_same_behaviour_as_the_generated_init() -> None:
    for args, kwargs in (((1,), {}), ((1, "x"), {}), ((), {"a": 2, "c": [3]})):
        plain, quick = Plain(*args, **kwargs), Quick(*args, **kwargs)  # type: ignore[arg-type]
        assert dataclasses.astuple(plain) == dataclasses.astuple(quick)
        assert repr(quick) == repr(plain).replace("Plain", "Quick")
    assert Quick(1) == Quick(1) and Quick(1) != Quick(2)
    assert Quick(1).c is not Quick(1).c  # a fresh default per instance
    assert dataclasses.replace(Quick(1), b="y") == Quick(1, "y")
    with pytest.raises(dataclasses.FrozenInstanceError):
        Quick(1).a = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        Quick()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Quick(1, d=4)  # type: ignore[call-arg]
