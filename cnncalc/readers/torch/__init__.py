"""Read a PyTorch ``nn.Module`` (optional extra ``cnncalc[torch]``) through ``torch.export``.

``--from-torch SPEC`` names the module (:mod:`.spec`); :func:`network_of` reads a module object
(``cnncalc.from_torch``). The module is captured with ``torch.export`` on the input shape, so
shapes are concrete and Python control flow is resolved, then turned into the functional ATen
graph; :mod:`.walk` reads that graph into cnncalc layers named by the user's module paths.
Extra ``forward`` arguments take their defaults; the first tensor argument is the network input.
Parameters the forward never reads are reported apart (``Network.unused``), never dropped.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

from cnncalc.errors import Position, SourceError, SpecError
from cnncalc.graph import Network, NetworkBuilder
from cnncalc.layers.base import Shape
from cnncalc.limits import Limits
from cnncalc.readers import Read, ReadOptions, Source


def read(source: Source, options: ReadOptions) -> Read:
    """Build the module ``package.module:factory(...)`` names and read it on the input shape."""
    from cnncalc.readers.torch.spec import build_model, parse_spec

    text = source.name.removeprefix("torch:")
    where = Position(f"<torch {text}>", 1, 1)
    spec = parse_spec(text, where)
    if options.input_shape is None:
        raise SpecError("--from-torch needs the input shape: --input 1,3,224,224", where)
    torch = import_torch(where)
    model, meta = build_model(spec, torch, where)
    network = network_of(
        model, options.input_shape, name=spec.name, label=where.file, limits=options.limits, meta=meta
    )
    return Read(network)


def import_torch(where: Position) -> Any:
    """torch, or the one-line error saying how to install it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns when NumPy is missing
            import torch
            import torch.export
    except ImportError:
        raise SourceError(
            "reading PyTorch modules needs torch: pip install 'cnncalc[torch]'", where
        ) from None
    return torch


def network_of(
    model: Any,
    input_shape: Shape,
    *,
    name: str | None = None,
    label: str = "<torch>",
    limits: Limits | None = None,
    meta: bool | None = None,
) -> Network:
    """The network ``model`` computes on a tensor of ``input_shape`` (its first tensor input)."""
    from cnncalc.readers.torch.capture import capture, unused_modules
    from cnncalc.readers.torch.walk import Walk

    where = Position(label, 1, 1)
    torch = import_torch(where)
    if not isinstance(model, torch.nn.Module):
        raise SpecError(f"expected a torch.nn.Module, got {type(model).__name__}", where)
    program = capture(model, tuple(input_shape), torch, where, meta)
    builder = NetworkBuilder(
        tuple(input_shape), name=name or type(model).__name__, source=label, limits=limits
    )
    walked = Walk(program, model, builder, torch, label).run()
    network = builder.build()
    note = (
        f"input: the tensor given to forward's first argument {_input_name(program)!r}; "
        "other arguments take their defaults"
    )
    return dataclasses.replace(
        network,
        shared_params=walked.shared_params,
        unused=unused_modules(model, walked.used),
        notes=(note,),
    )


def _input_name(program: Any) -> str:
    from torch.export.graph_signature import InputKind

    for spec in program.graph_signature.input_specs:
        if spec.kind == InputKind.USER_INPUT:
            return str(spec.arg.name)
    return "input"
