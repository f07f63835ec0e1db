"""Fully connected layers: ``Linear`` on the last dimension, with any leading dimensions."""

from cnncalc.errors import GeometryError
from cnncalc.layers.base import Geometry, Layer, Shape, check_channels, numel


class Linear(Layer):
    """``Linear(in_features, out_features)``: y = x W^T + b over the last dimension."""

    lazy_alias = "LazyLinear"
    inferred = "in_features"

    in_features: int | None = None
    out_features: int
    bias: bool = True

    def apply(self, x: Shape) -> Geometry:
        if not x:
            raise GeometryError("Linear needs an input of at least 1 dimension, got a scalar")
        cin = check_channels(self.in_features, x[-1], "in_features", "features in its last dimension")
        if self.out_features < 0:
            raise GeometryError(f"out_features must not be negative, got {self.out_features}")
        y = x[:-1] + (self.out_features,)
        params = cin * self.out_features + (self.out_features if self.bias else 0)
        # every output element is a dot product over in_features: one MAC per input feature.
        # On a flat (N, F) input every output sees everything before; on a spatial tensor,
        # Linear mixes only the last axis, which the receptive-field algebra does not model.
        return Geometry(y, params, numel(y) * cin, "global" if len(x) <= 2 else "unknown")
