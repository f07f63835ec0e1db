"""Ultralytics' convention (the GFLOPs of ``model.info()`` and the model summaries, ultralytics
8.4): ``get_flops`` in ultralytics/utils/torch_utils.py is
``thop.profile(model, ...)[0] / 1e9 * 2`` on the model ``fuse()`` left, BatchNorm folded into
each convolution. So: thop's rules (:mod:`cnncalc.count.thop`, which count no bias) on the
fused network, times 2, in FLOPs. (get_flops profiles stride-sized proxy images and
extrapolates; thop checks the extrapolation, which is exact where the cost grows linearly or
quadratically with the image.)"""

from __future__ import annotations

from cnncalc.count import Convention, Site
from cnncalc.count.thop import rule as thop_rule


def rule(site: Site) -> int | None:
    """Twice thop's count."""
    macs = thop_rule(site)
    return None if macs is None else 2 * macs


CONVENTION = Convention(
    "ultralytics", "FLOPs", rule, fused=True, source="ultralytics 8.4 get_flops(model.fuse()) * 1e9"
)
