"""A faster constructor for the frozen dataclasses made once per layer.

A frozen dataclass's generated ``__init__`` stores each field with its own
``object.__setattr__`` call (it must get past the class's refusing ``__setattr__``); for the
records cnncalc makes per layer (nodes, trace steps, fields, report rows) that was about a tenth
of a 100,000-layer run. :func:`quick_init` replaces it with one that builds the instance
dictionary item by item, without a call per field. Everything else stays the
dataclass's: fields, defaults, ``replace``, equality, repr, the refusal to mutate.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T")


def quick_init(cls: type[T]) -> type[T]:
    """Give the frozen dataclass ``cls`` (no ``__post_init__``, no slots, no init-only fields)
    an ``__init__`` with the same signature that sets all fields at once."""
    params = dataclasses.fields(cls)  # type: ignore[arg-type]
    if hasattr(cls, "__post_init__") or hasattr(cls, "__slots__"):
        raise TypeError(f"quick_init cannot build {cls.__name__}")
    names = [f.name for f in params]
    scope: dict[str, Any] = {"_MISSING": dataclasses.MISSING}
    signature = []
    for f in params:
        if f.default is not dataclasses.MISSING:
            scope[f"_d_{f.name}"] = f.default
            signature.append(f"{f.name}=_d_{f.name}")
        elif f.default_factory is not dataclasses.MISSING:
            scope[f"_f_{f.name}"] = f.default_factory
            signature.append(f"{f.name}=_MISSING")
        else:
            signature.append(f.name)
    factories = "".join(
        f"    if {f.name} is _MISSING: {f.name} = _f_{f.name}()\n"
        for f in params
        if f.default_factory is not dataclasses.MISSING
    )
    # item by item into the instance's own dictionary: faster than one ``object.__setattr__``
    # per field, and smaller than storing a new dictionary (which loses key sharing)
    stores = "".join(f"    d[{name!r}] = {name}\n" for name in names)
    source = f"def __init__(self, {', '.join(signature)}):\n{factories}    d = self.__dict__\n{stores}"
    exec(source, scope)  # code built above from the class's own field names, as dataclasses does
    init = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    cls.__init__ = init  # type: ignore[method-assign]
    return cls
