"""Layer kinds, one module per family; each kind owns its geometry (shape, parameters, MACs)."""

import difflib
import importlib

from cnncalc.layers.base import REGISTRY, Geometry, Layer, Shape, Spatial, Window

# In the order lookup() tries them: the families of a plain CNN (VGG-16 needs the first five)
# first, so that a network without norms or merges never defines those kinds.
_FAMILIES = (
    "conv",
    "activation",
    "pool",
    "linear",
    "reshape",
    "pad",
    "norm",
    "merge",
    "tensor",
    "arith",
    "attention",
)


_LOADED: list[bool] = []  # set once every family has been imported


def registry() -> dict[str, type[Layer]]:
    """Every known layer kind by lower-cased name (aliases included), importing families once."""
    if not _LOADED:
        for family in _FAMILIES:  # some may have been imported directly before: still all of them
            importlib.import_module(f"cnncalc.layers.{family}")
        _LOADED.append(True)
    return REGISTRY


def kinds() -> list[type[Layer]]:
    """Every layer kind once, sorted by canonical name."""
    return sorted({cls for cls in registry().values()}, key=lambda cls: cls.kind)


def lookup(name: str) -> type[Layer] | None:
    """The layer kind called ``name`` (case-insensitive), or None."""
    key = name.lower()
    # Families are imported one by one until one defines the name: defining a family's pydantic
    # classes is most of start-up, and no name is defined by two families.
    if not _LOADED:
        for family in _FAMILIES:
            if key in REGISTRY:
                break
            importlib.import_module(f"cnncalc.layers.{family}")
    found = REGISTRY.get(key)
    return found if found is not None else registry().get(key)


def suggest(name: str) -> list[str]:
    """The known layer names closest to ``name`` (all that tie for closest, at most three)."""
    names = [cls.kind for cls in kinds()] + [cls.lazy_alias for cls in kinds() if cls.lazy_alias]
    lowered = {n.lower(): n for n in names}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=3, cutoff=0.6)
    if not close:
        return []

    def score(candidate: str) -> float:
        return difflib.SequenceMatcher(None, name.lower(), candidate).ratio()

    best = score(close[0])
    return sorted(lowered[c] for c in close if score(c) == best)


__all__ = ["Geometry", "Layer", "Shape", "Spatial", "Window", "kinds", "lookup", "registry", "suggest"]
