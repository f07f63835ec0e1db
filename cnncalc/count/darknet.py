"""Darknet's convention (AlexeyAB's darknet, the BFLOPs it prints as it loads a cfg): the
operations of :mod:`cnncalc.readers.darknet.view`, counted in FLOPs for one image. A
convolution counts 2 per multiply-add (2 · weights · output positions), a max-pool kernel · c
per output position, a shortcut one addition per element per added layer; every other layer 0,
fully connected ones included. Darknet's kernels are square and 2d: a convolution or max-pool of
another shape counts by the same formula (the DFL of a YOLOv8 head is cnncalc's Conv3d); a
transposed convolution has no figure.
"""

from __future__ import annotations

import math

from cnncalc.count import Convention, Rule, Site
from cnncalc.readers.darknet.view import conv_flops, maxpool_flops, shortcut_flops


def _positions(site: Site) -> tuple[int, int]:
    """Darknet's (out_h, out_w), or, beyond 2d, the output positions as one axis."""
    spatial = site.output[-site.layer.dims :]
    return (spatial[0], spatial[1]) if len(spatial) == 2 else (1, math.prod(spatial))


def conv(site: Site) -> int:
    """conv_flops: 2 · weights · out_h · out_w."""
    return conv_flops(site.geometry.weights, *_positions(site))


def maxpool(site: Site) -> int:
    """maxpool_flops: size² · c · out_h · out_w (size² the kernel's positions)."""
    kernel: int | tuple[int, ...] = site.arg("kernel_size")
    dims = site.layer.dims
    window = math.prod(kernel) if isinstance(kernel, tuple) else kernel**dims
    c = site.output[-(dims + 1)]
    h, w = _positions(site)
    return maxpool_flops(1, window * c, h, w)


def shortcut(site: Site) -> int:
    """shortcut_flops: out_w · out_h · out_c · (inputs − 1)."""
    return shortcut_flops(
        math.prod(site.output[1:]) if len(site.output) > 1 else 1, 1, 1, len(site.inputs) - 1
    )


RULES: dict[str, Rule] = {
    **{f"Conv{n}d": conv for n in (1, 2, 3)},
    **{f"MaxPool{n}d": maxpool for n in (1, 2, 3)},
    "Add": shortcut,
}

# kinds Darknet has no layer for, whose operations it would count: no figure
_NO_DARKNET_LAYER = {f"ConvTranspose{n}d" for n in (1, 2, 3)}


def rule(site: Site) -> int | None:
    """The layer's Darknet operations; 0 for the layers that set no ``l.bflops``."""
    found = RULES.get(site.kind)
    if found is not None:
        return found(site)
    return None if site.kind in _NO_DARKNET_LAYER else 0


CONVENTION = Convention(
    "darknet", "FLOPs", rule, source="darknet (AlexeyAB) parse_network_cfg_custom, Total BFLOPS"
)
