"""PyTorch oracle: runs one generated case through real torch.nn and records the outcome."""

from __future__ import annotations

import warnings
from typing import Any

with warnings.catch_warnings():
    # torch prints "Failed to initialize NumPy" (UserWarning) when numpy is absent.
    warnings.simplefilter("ignore")
    import torch


def torch_version() -> str:
    """The version string of the torch that serves as oracle."""
    return str(torch.__version__)


def _tuplify(value: Any) -> Any:
    """JSON lists back to the tuples PyTorch's constructors expect (recursively)."""
    if isinstance(value, list):
        return tuple(_tuplify(v) for v in value)
    if isinstance(value, dict):
        return {k: _tuplify(v) for k, v in value.items()}
    return value


def run_torch(case: dict[str, Any]) -> dict[str, Any]:
    """Build ``torch.nn.<type>(*args, **kwargs)``, run it in eval mode and report.

    oneDNN (mkldnn) is switched off for the forward pass: depending on batch size and
    build, PyTorch routes some transposed convolutions through it, and that path accepts
    an output dimension of 0 (and even dilation 0) that the reference kernels reject with
    "Output size is too small". The golden data must not hinge on such backend choices.
    """
    args = [_tuplify(a) for a in case["args"]]
    kwargs = {k: _tuplify(v) for k, v in case["kwargs"].items()}
    shape = [int(s) for s in case["input"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            cls = getattr(torch.nn, case["type"])
            module = cls(*args, **kwargs)
        except Exception:
            return {"ok": False, "params": None}
        params = int(sum(p.numel() for p in module.parameters()))
        try:
            module.eval()
            with torch.no_grad(), torch.backends.mkldnn.flags(enabled=False):
                torch.manual_seed(0)
                out = module(torch.randn(shape))
        except Exception:
            return {"ok": False, "params": params}
    return {"ok": True, "output_shape": [int(s) for s in out.shape], "params": params}
