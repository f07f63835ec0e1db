"""The FLOPs counters themselves, run on a real module: the oracles of cnncalc's ``--count``
conventions (tests/test_count.py, scripts/count_vs_tools.py). Each returns the tool's own figure
as an exact int (thop's float total must be a whole number)."""

from __future__ import annotations

import contextlib
import io
import logging
import sys
import types
import warnings
from typing import Any


def stub_torchvision() -> None:
    """torchvision's compiled operators do not load on this torch build: its module registering
    their fake kernels is stubbed before the import (see tests/conftest.py)."""
    name = "torchvision._meta_registrations"
    sys.modules.setdefault(name, types.ModuleType(name))


def importorskip(name: str) -> Any:
    """The tool's package, or a skipped test where it is not installed; imported quietly (fvcore
    scripts functions at import, which torch 2.13 deprecates)."""
    import pytest

    stub_torchvision()  # ptflops imports torchvision.ops
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pytest.importorskip(name)


def _whole(value: float) -> int:
    assert float(value).is_integer(), value
    return int(value)


@contextlib.contextmanager
def _quiet() -> Any:
    """The tools print and warn about operators they skip: keep the test output clean."""
    logging.disable(logging.WARNING)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(logging.NOTSET)


def fvcore_count(model: Any, x: Any) -> int:
    """fvcore's ``FlopCountAnalysis(model.eval(), x).total()`` (timm's convention)."""
    with _quiet():
        from fvcore.nn import FlopCountAnalysis

        analysis = FlopCountAnalysis(model.eval(), x)
        analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        return _whole(analysis.total())


def thop_count(model: Any, x: Any) -> int:
    """thop's ``profile(model, inputs=(x,))[0]``: multiply-adds."""
    with _quiet():
        import thop

        return _whole(thop.profile(model, inputs=(x,), verbose=False)[0])


def ptflops_count(model: Any, x: Any) -> int:
    """ptflops' ``get_model_complexity_info`` with its default pytorch backend, on one image of
    ``x``'s shape."""
    stub_torchvision()
    from ptflops import get_model_complexity_info

    with _quiet():
        macs, _ = get_model_complexity_info(
            model, tuple(x.shape[1:]), as_strings=False, print_per_layer_stat=False, backend="pytorch"
        )
    assert macs is not None, "ptflops failed on the model"
    return int(macs)


def ultralytics_flops(model: Any, x: Any) -> int:
    """What Ultralytics' ``get_flops`` computes before rounding to GFLOPs: twice thop's
    stride-extrapolated multiply-adds (ultralytics/utils/torch_utils.py), on ``model`` as given
    (fuse it first, as ``model.fuse()`` does before printing)."""
    import thop

    stride = max(int(model.stride.max()), 32) if hasattr(model, "stride") else 32
    with _quiet():
        return 2 * _whole(thop.profile(model, inputs=[x], stride=stride, verbose=False)[0])


def ultralytics_get_flops(model: Any, imgsz: int) -> float:
    """Ultralytics' own ``get_flops(model, imgsz)``: GFLOPs, a float."""
    from ultralytics.utils.torch_utils import get_flops

    with _quiet():
        return float(get_flops(model, imgsz))


def fused(model: Any, torch: Any) -> Any:
    """A copy of ``model`` with every BatchNorm folded into the convolution before it, in place
    of the module tree (``torch.nn.utils.fusion.fuse_conv_bn_eval``, the folding of
    Ultralytics' ``fuse_conv_and_bn``): the pairs are found in torch.fx's trace, a convolution
    whose only user is a BatchNorm, as torch.fx's own ``fuse`` finds them."""
    import copy

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from torch.fx import symbolic_trace
        from torch.nn.utils.fusion import fuse_conv_bn_eval

        model = copy.deepcopy(model).eval()
        modules = dict(model.named_modules())
        nn = torch.nn
        for node in symbolic_trace(model).graph.nodes:
            norm = modules.get(node.target) if node.op == "call_module" else None
            source = node.args[0] if norm is not None and node.args else None
            if (
                not isinstance(norm, nn.modules.batchnorm._BatchNorm)
                or getattr(source, "op", "") != "call_module"
            ):
                continue
            conv = modules[source.target]
            if isinstance(conv, nn.modules.conv._ConvNd) and len(source.users) == 1:
                transpose = isinstance(conv, nn.modules.conv._ConvTransposeNd)
                model.set_submodule(source.target, fuse_conv_bn_eval(conv, norm, transpose=transpose))
                model.set_submodule(node.target, nn.Identity())
        return model
