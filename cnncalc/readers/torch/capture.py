"""Capture a module's computation with ``torch.export``, and find the parameters it never reads.

Export runs the forward on fake tensors of the input shape: nothing is computed and, for a
model on the meta device, no weight exists. Non-strict export (tracing the Python code as it
runs) comes first; strict export (TorchDynamo) is the fallback for code the first cannot follow.
The graph is then made functional (``run_decompositions({})``: in-place operators rewritten,
composite operators kept whole), which is what :mod:`.ops` reads.
"""

from __future__ import annotations

import warnings
from typing import Any

from cnncalc.errors import Position, SpecError
from cnncalc.layers.base import Shape


def capture(model: Any, input_shape: Shape, torch: Any, where: Position, meta: bool | None) -> Any:
    """The exported program of ``model`` on one tensor of ``input_shape``."""
    on_meta = meta if meta is not None else _on_meta(model)
    device = "meta" if on_meta else _device(model)
    x = torch.empty(input_shape, device=device)
    errors = []
    training = model.training
    model.eval()  # read as used for inference: dropout off, batch norm on its running statistics
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for strict in (False, True):
            try:
                program = torch.export.export(model, (x,), strict=strict)
                return program.run_decompositions({})
            except Exception as exc:  # the user's forward failed to trace: say why, in one line
                errors.append(_first_line(exc))
            finally:
                model.train(training)
    raise SpecError(f"torch.export cannot capture the model: {errors[0]}", where)


def unused_modules(model: Any, used: set[str]) -> tuple[tuple[str, int], ...]:
    """The modules whose parameters the forward never reads, outermost first, with their count
    of parameters not read (each tied parameter once)."""
    names: dict[int, str] = {}
    sizes: dict[str, int] = {}
    for name, param in model.named_parameters(remove_duplicate=False):
        first = names.setdefault(id(param), name)
        if first == name:
            sizes[name] = param.numel()
    aliases: dict[str, str] = {}
    for name, param in model.named_parameters(remove_duplicate=False):
        aliases[name] = names[id(param)]
    read = {aliases.get(n, n) for n in used}
    unread = [n for n in sizes if n not in read]
    if not unread:
        return ()
    groups: dict[str, int] = {}
    for name in unread:
        owner = _outermost_unread(name, sizes, read)
        groups[owner] = groups.get(owner, 0) + sizes[name]
    return tuple(groups.items())


def _outermost_unread(name: str, sizes: dict[str, int], read: set[str]) -> str:
    """The shortest module path above a parameter none of whose parameters is read."""
    parts = name.split(".")
    for cut in range(1, len(parts)):
        prefix = ".".join(parts[:cut])
        if not any(r == prefix or r.startswith(prefix + ".") for r in read):
            return prefix
    return name


def _on_meta(model: Any) -> bool:
    tensors = [*model.parameters(), *model.buffers()]
    return bool(tensors) and all(t.device.type == "meta" for t in tensors)


def _device(model: Any) -> Any:
    for t in [*model.parameters(), *model.buffers()]:
        return t.device
    return "cpu"


def _first_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).strip().splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[0][:300]}" if lines else type(exc).__name__
