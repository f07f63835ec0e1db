"""Leaf ``nn.Module`` calls read as one layer each, from the module's own attributes.

A module is read as a unit when its class, or the ``torch.nn`` class it derives from without
changing ``forward``, is a cnncalc layer kind of the same name (``Conv2d``, ``BatchNorm2d``,
``Linear``, ``LayerNorm``, ``ReLU``, …): the row is then the user's module (``layer1.0.conv1``)
with PyTorch's constructor arguments read back from it. A subclass with its own ``forward``
(timm's ``Conv2dSame``) is read operator by operator instead, since its forward may differ.
Kinds whose names differ from the class are listed in :data:`RENAMED`.
"""

from __future__ import annotations

from typing import Any

from cnncalc.layers import lookup

# arguments where an int stands for the same value on every axis (torch.nn.modules.utils._ntuple)
_PER_AXIS = {"kernel_size", "stride", "padding", "dilation", "output_padding", "output_size", "size"}

# classes read as a cnncalc kind of another name: qualified class name -> kind
RENAMED = {
    "torch.nn.modules.linear.NonDynamicallyQuantizableLinear": "Linear",
    "torchvision.ops.stochastic_depth.StochasticDepth": "StochasticDepth",
    "torchvision.ops.misc.Permute": "Permute",
    "timm.layers.drop.DropPath": "DropPath",
    "timm.layers.norm.LayerNorm2d": "LayerNorm2d",
}


def unit_kind(module: Any, torch: Any) -> str | None:
    """The cnncalc kind that reads this module as one layer, or None (read its operators)."""
    cls = type(module)
    renamed = RENAMED.get(f"{cls.__module__}.{cls.__qualname__}")
    if renamed is not None:
        return renamed if lookup(renamed) is not None else None
    for base in cls.__mro__:
        if not base.__module__.startswith("torch.nn.modules"):
            continue
        if getattr(base, "forward", None) is not getattr(cls, "forward", None):  # its own forward
            return None
        found = lookup(base.__name__)
        if found is None or found.is_merge:
            return None
        return found.kind
    return None


def unit_fields(kind: str, module: Any, torch: Any) -> dict[str, Any]:
    """The layer's arguments, read from the module's attributes of the same names."""
    cls = lookup(kind)
    assert cls is not None
    fields: dict[str, Any] = {}
    for name in cls.model_fields:
        value = getattr(module, name, None)
        if name == "bias" and not isinstance(value, bool):
            fields[name] = value is not None  # the module holds the bias tensor or None
            continue
        if not hasattr(module, name) or isinstance(value, torch.Tensor):
            continue
        if isinstance(value, (tuple, list, torch.Size)):
            # modules store (3, 3) for kernel_size=3: write it back as PyTorch's int form
            same = name in _PER_AXIS and len(set(value)) == 1
            value = value[0] if same else tuple(value)
        fields[name] = value
    if kind == "LayerNorm2d":  # timm's subclass of nn.LayerNorm: normalized_shape is (C,)
        return {
            "num_channels": int(module.normalized_shape[0]),
            "eps": float(module.eps),
            "affine": bool(module.elementwise_affine),
        }
    if kind == "MultiheadAttention":  # its biases are in_proj_bias, bias_k and bias_v
        fields["bias"] = module.in_proj_bias is not None
        fields["add_bias_kv"] = module.bias_k is not None
    return fields
