"""torchvision's convention, cnncalc's own MACs: multiply-adds of convolutions, linear layers and
matrix products, nothing else (the GFLOPS column of torchvision's model tables, its ``_ops``)."""

from cnncalc.count import Convention, Site


def macs(site: Site) -> int:
    """cnncalc's MACs of the layer (see each kind in :mod:`cnncalc.layers`)."""
    return site.geometry.macs


CONVENTION = Convention(
    "torchvision", "MACs", macs, source="torchvision.models, the _ops of each weight's meta"
)
