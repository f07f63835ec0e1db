"""The ONNX reader: a ``.onnx`` model file as a network, one operator at a time, by the ONNX spec.

:mod:`.model` loads and checks the file, :mod:`.walk` walks the graph in topological order, and
:mod:`.handlers` maps each operator to the small function that translates it. Every layer's
output shape is computed by cnncalc's own geometry as it is added, and checked against ONNX's
shape inference where that gives one.
"""

from __future__ import annotations

from cnncalc.errors import Position
from cnncalc.readers import Read, ReadOptions, Source
from cnncalc.readers.onnx import model
from cnncalc.readers.onnx.walk import translate


def read(source: Source, options: ReadOptions) -> Read:
    """The network of an ONNX model file.

    The input shape is the model's (a symbolic leading batch dimension reads as 1) unless
    ``options.input_shape`` gives one. With ``options.skip_unknown``, an operator cnncalc does
    not read passes as an Identity layer, but only where ONNX shape inference shows that it keeps
    its input's shape; anything else is an error naming the operator and the node.
    """
    where = Position(source.label, 1, 1)
    model.require_onnx(where)
    proto = model.load(source, where, options.limits)
    model.check_limits(proto, options.limits, where)
    return Read(translate(proto, source.label, options))
