"""The ONNX model file before translation: loading it, checking it against the limits, its one
input and the tensor shapes ONNX's own shape inference gives for that input."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from cnncalc.errors import LimitError, Position, SourceError, SpecError
from cnncalc.layers.base import Shape
from cnncalc.limits import Limits

if TYPE_CHECKING:
    import onnx

    from cnncalc.readers import Source

# TensorProto element types that set the network's dtype (the activation-memory figures).
FLOAT_TYPES = {1: "float32", 10: "float16", 11: "float64", 16: "bfloat16"}

# A tensor's shape by shape inference: None where a dimension is not known.
Dims = tuple[int | None, ...]


def require_onnx(where: Position) -> None:
    """Reading ONNX needs the optional onnx package: say so in one line when it is missing."""
    try:
        import onnx  # noqa: F401
    except ImportError:
        raise SourceError("reading ONNX needs the onnx package: pip install 'cnncalc[onnx]'", where) from None


def load(source: Source, where: Position, limits: Limits | None = None) -> onnx.ModelProto:
    """``onnx.load`` with one clear error for every failure (no traceback); standard input and
    in-memory bytes are parsed as they are (external data needs the model's folder). With
    ``limits``, the node count is checked before external data is looked for (onnx walks every
    node's attributes for it: seconds on a million-node graph)."""
    import onnx

    p = source.path
    if p is not None:
        if p.is_dir():
            raise SourceError("is a directory, not an ONNX model", where)
        if not p.exists():
            raise SourceError("no such file", where)
        if p.stat().st_size == 0:
            raise SourceError("the file is empty", where)
    try:
        if p is None:
            data = source.data()
            if not data:
                raise SourceError("nothing on standard input", where)
            model = onnx.load_model_from_string(data)
        else:
            model = onnx.load(str(p), load_external_data=False)
            if limits is not None:
                check_limits(model, limits, where)
            from onnx.external_data_helper import load_external_data_for_model

            load_external_data_for_model(model, str(p.parent))
    except PermissionError:
        raise SourceError("permission denied", where) from None
    except (SourceError, LimitError):
        raise
    except Exception as exc:  # protobuf's DecodeError, onnx's own errors, missing external data
        if type(exc).__name__ == "DecodeError":  # bytes that are no protobuf at all
            raise SourceError("not an ONNX model: its bytes do not decode as one", where) from None
        lines = str(exc).strip().splitlines()
        text = lines[0] if lines else type(exc).__name__
        text = text if len(text) <= 160 else text[:157] + "..."
        raise SourceError(f"cannot read the ONNX model: {text}", where) from None
    if not model.HasField("graph") or not model.graph.node:
        raise SourceError("not an ONNX model: it has no graph nodes", where)
    return model


def check_limits(model: onnx.ModelProto, limits: Limits, where: Position) -> None:
    """Refuse a graph with more nodes than the layer limit before any of it is translated (every
    node that is not folded into a constant becomes one layer or more)."""
    count = len(model.graph.node)
    if count > limits.max_layers:
        raise LimitError(
            f"the model has {count:,} nodes, more than the limit of {limits.max_layers:,} layers",
            "max_layers",
            where,
        )


def network_input(
    graph: onnx.GraphProto, override: tuple[int, ...] | None, where: Position
) -> tuple[str, Shape, str]:
    """The one graph input that is not an initializer: its name, shape and dtype.

    The shape is the model's (a symbolic leading batch dimension reads as 1) unless ``override``
    gives one.
    """
    inits = {i.name for i in graph.initializer}
    inputs = [i for i in graph.input if i.name not in inits]
    if len(inputs) != 1:
        names = ", ".join(repr(i.name) for i in inputs[:4]) or "none"
        raise SpecError(f"cnncalc reads models with one input; this one has {len(inputs)} ({names})", where)
    value = inputs[0]
    ttype = value.type.tensor_type
    dtype = FLOAT_TYPES.get(ttype.elem_type, "float32")
    declared: list[int | str | None] = []
    if ttype.HasField("shape"):
        for d in ttype.shape.dim:
            if d.HasField("dim_value") and d.dim_value > 0:
                declared.append(int(d.dim_value))
            else:
                declared.append(d.dim_param or None)
    if override is not None:
        if declared and len(declared) != len(override):
            raise SpecError(
                f"--input has {len(override)} dimensions but the model's input {value.name!r} has "
                f"{len(declared)}",
                where,
            )
        return value.name, tuple(override), dtype
    if not ttype.HasField("shape"):
        raise SpecError(f"the model's input {value.name!r} has no shape: give one with --input", where)
    shape = []
    for axis, dim in enumerate(declared):
        if isinstance(dim, int):
            shape.append(dim)
        elif axis == 0:
            # a symbolic leading dimension is the batch; cnncalc's figures are for the batch
            # given, so it reads as 1 (--input gives another)
            shape.append(1)
        else:
            what = f"symbolic ({dim!r})" if dim else "unknown"
            raise SpecError(
                f"dimension {axis} of the model's input {value.name!r} is {what}: give the shape "
                f"with --input",
                where,
            )
    return value.name, tuple(shape), dtype


def infer_shapes(model: onnx.ModelProto, input_name: str, input_shape: Shape) -> dict[str, Dims]:
    """Tensor shapes by ONNX shape inference for the input shape being read (None: unknown).

    Run on a copy whose input has that shape; large floating-point initializers keep only
    their dimensions, which is all inference reads of them.
    """
    import onnx

    source = model.graph
    graph = onnx.GraphProto(name=source.name)
    for field in ("node", "input", "output", "value_info"):
        getattr(graph, field).extend(getattr(source, field))
    for init in source.initializer:
        if init.data_type in FLOAT_TYPES and math.prod(init.dims) > 64:
            light = graph.initializer.add()
            light.name, light.data_type = init.name, init.data_type
            light.dims.extend(init.dims)
        else:
            graph.initializer.add().CopyFrom(init)
    for value in graph.input:
        if value.name == input_name:
            shape = value.type.tensor_type.shape
            del shape.dim[:]
            for d in input_shape:
                shape.dim.add().dim_value = d
    for value in graph.output:  # declared output shapes may disagree with another input shape
        value.type.tensor_type.ClearField("shape")
    declared = tuple(d.dim_value for i in source.input if i.name == input_name for d in _dims(i))
    if declared != input_shape:
        del graph.value_info[:]
    copy = onnx.ModelProto(ir_version=model.ir_version, graph=graph)
    copy.opset_import.extend(model.opset_import)
    copy.functions.extend(model.functions)
    try:
        inferred = onnx.shape_inference.infer_shapes(copy, strict_mode=False, data_prop=True)
    except Exception:  # inference is a cross-check only: a model it cannot handle is still read
        return {}
    shapes: dict[str, Dims] = {}
    for value in [*inferred.graph.value_info, *inferred.graph.output]:
        if value.type.tensor_type.HasField("shape"):
            shapes[value.name] = tuple(
                int(d.dim_value) if d.HasField("dim_value") else None for d in _dims(value)
            )
    return shapes


def attributes(node: onnx.NodeProto) -> dict[str, Any]:
    """A node's attributes as Python values (strings decoded)."""
    from onnx import helper

    attrs: dict[str, Any] = {}
    for attr in node.attribute:
        value = helper.get_attribute_value(attr)
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        elif isinstance(value, list) and value and isinstance(value[0], bytes):
            value = [v.decode("utf-8", "replace") for v in value]
        attrs[attr.name] = value
    return attrs


def _dims(value: onnx.ValueInfoProto) -> list[Any]:
    return list(value.type.tensor_type.shape.dim)
