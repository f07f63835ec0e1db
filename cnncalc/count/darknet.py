"""Darknet's convention (AlexeyAB's darknet, the BFLOPs it prints as it loads a cfg): the
operations of :mod:`cnncalc.readers.darknet.view`, counted in FLOPs for one image. A
convolution counts 2 per multiply-add (Darknet's kernels are square: a 2d convolution with
another kernel has no Darknet figure), a max-pool size²·c per output position, a shortcut one
addition per element per added layer; every other layer 0, fully connected ones included.
"""

from __future__ import annotations

from cnncalc.count import Convention, Rule, Site
from cnncalc.readers.darknet.view import conv_flops, maxpool_flops, shortcut_flops


def _square(value: int | tuple[int, ...]) -> int | None:
    """A kernel size as Darknet's one ``size``; None for a kernel that is not square."""
    if isinstance(value, int):
        return value
    return value[0] if len(set(value)) == 1 else None


def _hw(site: Site) -> tuple[int, int, int]:
    c, h, w = site.output[-3:]
    return c, h, w


def conv(site: Site) -> int | None:
    """conv_flops: 2 · weights · out_h · out_w."""
    if _square(site.arg("kernel_size")) is None or len(site.output) not in (3, 4):
        return None
    _, h, w = _hw(site)
    return conv_flops(site.geometry.weights, h, w)


def maxpool(site: Site) -> int | None:
    """maxpool_flops: size² · c · out_h · out_w."""
    size = _square(site.arg("kernel_size"))
    if size is None or len(site.output) not in (3, 4):
        return None
    c, h, w = _hw(site)
    return maxpool_flops(size, c, h, w)


def shortcut(site: Site) -> int | None:
    """shortcut_flops: out_w · out_h · out_c · (inputs − 1)."""
    if len(site.output) not in (3, 4):
        return None
    c, h, w = _hw(site)
    return shortcut_flops(w, h, c, len(site.inputs) - 1)


RULES: dict[str, Rule] = {"Conv2d": conv, "MaxPool2d": maxpool, "Add": shortcut}

# kinds Darknet has no layer for, whose operations it would count: no figure
_NO_DARKNET_LAYER = {
    "Conv1d",
    "Conv3d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "ConvTranspose3d",
    "MaxPool1d",
    "MaxPool3d",
}


def rule(site: Site) -> int | None:
    """The layer's Darknet operations; 0 for the layers that set no ``l.bflops``."""
    found = RULES.get(site.kind)
    if found is not None:
        return found(site)
    return None if site.kind in _NO_DARKNET_LAYER else 0


CONVENTION = Convention(
    "darknet", "FLOPs", rule, source="darknet (AlexeyAB) parse_network_cfg_custom, Total BFLOPS"
)
