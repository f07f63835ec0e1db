"""``--from-torch SPEC``: the module a SPEC names, built without evaluating any text.

SPEC is ``package.module:attr`` (a module object, a class or a factory, called without
arguments) or ``package.module:factory(...)`` with literal arguments only
(``timm:create_model('convnext_tiny')``), parsed as the call form is (:mod:`cnncalc.spec.callform`).
Importing the package and calling the factory runs its code: that is the point, and the help
says so. The model is built on the meta device when the factory allows it (no weights are
allocated), else on the CPU.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cnncalc.errors import Position, SourceError, SpecError

_MODULE = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$")
_ATTR = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$")


@dataclass(frozen=True)
class TorchSpec:
    """A parsed SPEC: the module to import, the attribute, and the literal call arguments
    (``call`` is False for a bare ``module:attr``)."""

    module: str
    attr: str
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()
    call: bool = False

    @property
    def name(self) -> str:
        """The network's name: the model name given to a factory, else the attribute."""
        for value in (*self.args, *(v for _, v in self.kwargs)):
            if isinstance(value, str):
                return value
        return self.attr.rpartition(".")[2]


def parse_spec(text: str, where: Position) -> TorchSpec:
    """``package.module:attr`` or ``package.module:factory(literal, key=literal)``."""
    from cnncalc.spec.callform import CallFormError, parse_call

    text = text.strip()
    cut = text.find(".py:")  # a file path: path/to/net.py:Net(...)
    if cut > 0:
        module, colon, rest = text[: cut + 3], ":", text[cut + 4 :]
    else:
        module, colon, rest = text.partition(":")
    if not colon or not (_MODULE.match(module) or cut > 0) or not rest:
        raise SpecError(
            "--from-torch wants package.module:attr, package.module:factory(...) or "
            f"path/to/file.py:factory(...), got {text!r}",
            where,
        )
    if "(" not in rest:
        if not _ATTR.match(rest):
            raise SpecError(f"--from-torch: {rest!r} is not an attribute name", where)
        return TorchSpec(module, rest)
    attr = rest.partition("(")[0].strip()
    if not _ATTR.match(attr):
        raise SpecError(f"--from-torch: {attr!r} is not an attribute name", where)
    owner = attr.rpartition(".")[0]  # models.resnet50(...): the call form is resnet50(...)
    lead = len(owner) + 1 if owner else 0
    try:
        call = parse_call(rest[lead:])
    except CallFormError as exc:
        column = len(module) + 2 + lead + exc.offset
        message = exc.message.replace("as layer arguments", "as arguments")
        raise SpecError(f"--from-torch: {message}", Position(where.file, 1, column)) from None
    args = tuple(a.value for a in call.args if a.keyword is None)
    kwargs = tuple((a.keyword, a.value) for a in call.args if a.keyword is not None)
    return TorchSpec(module, attr, args, kwargs, True)


def _import(name: str, where: Position) -> Any:
    """The module ``name``: a dotted name, found also in the working directory (as ``python -m``
    finds it; appended, so it never shadows an installed package), or a ``.py`` file, loaded
    under its stem with its own directory importable for its imports."""
    import os
    import sys

    if not name.endswith(".py"):
        if os.getcwd() not in sys.path:
            sys.path.append(os.getcwd())
        return importlib.import_module(name)
    from pathlib import Path

    path = Path(name)
    if not path.is_file():
        raise SourceError(f"no Python file {name!r}", where)
    found = importlib.util.spec_from_file_location(path.stem, path)
    if found is None or found.loader is None:
        raise SourceError(f"cannot load {name!r} as a Python module", where)
    module = importlib.util.module_from_spec(found)
    sys.modules[path.stem] = module
    folder = str(path.resolve().parent)
    if folder not in sys.path:
        sys.path.append(folder)
    found.loader.exec_module(module)
    return module


def build_model(spec: TorchSpec, torch: Any, where: Position) -> tuple[Any, bool]:
    """The ``nn.Module`` the SPEC names, in eval mode, and whether it lives on the meta device."""
    try:
        module = _import(spec.module, where)
    except SourceError:
        raise
    except Exception as exc:  # the user's package failed to import: say how, in one line
        raise SourceError(f"cannot import {spec.module!r}: {_first_line(exc)}", where) from None
    target: Any = module
    for part in spec.attr.split("."):
        target = getattr(target, part, None)
        if target is None:
            raise SpecError(f"{spec.module!r} has no attribute {spec.attr!r}", where)
    if isinstance(target, torch.nn.Module):
        return target.eval(), _on_meta(target)
    if not callable(target):
        raise SpecError(f"{spec.module}:{spec.attr} is neither an nn.Module nor callable", where)
    kwargs = dict(spec.kwargs)
    try:
        with torch.device("meta"):
            model = target(*spec.args, **kwargs)
        meta = True
    except Exception:  # the factory computes with real tensors (RegNet's widths): only weights on meta
        try:
            with _weights_on_meta(torch):
                model = target(*spec.args, **kwargs)
            meta = True
        except Exception as exc:
            raise SpecError(f"{spec.module}:{spec.attr}(...) failed: {_first_line(exc)}", where) from None
    if not isinstance(model, torch.nn.Module):
        raise SpecError(f"{spec.module}:{spec.attr} gave {type(model).__name__}, not an nn.Module", where)
    return model.eval(), meta and _on_meta(model)


@contextlib.contextmanager
def _weights_on_meta(torch: Any) -> Iterator[None]:
    """Every parameter and buffer a module registers is moved to the meta device as it is
    registered, while the factory's other tensors stay real: a 600-million-parameter model is
    built without keeping its weights (each is allocated, uninitialised, only until registered)."""
    module = torch.nn.Module
    register_parameter, register_buffer = module.register_parameter, module.register_buffer

    def parameter(self: Any, name: str, param: Any) -> None:
        if param is not None and param.device.type != "meta":
            param = torch.nn.Parameter(param.to("meta"), requires_grad=param.requires_grad)
        register_parameter(self, name, param)

    def buffer(self: Any, name: str, tensor: Any, persistent: bool = True) -> None:
        register_buffer(self, name, None if tensor is None else tensor.to("meta"), persistent)

    module.register_parameter, module.register_buffer = parameter, buffer
    try:
        yield
    finally:
        module.register_parameter, module.register_buffer = register_parameter, register_buffer


def _on_meta(model: Any) -> bool:
    tensors = [*model.parameters(), *model.buffers()]
    return bool(tensors) and all(t.device.type == "meta" for t in tensors)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
