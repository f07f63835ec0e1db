"""Print what PyTorch's autograd saves for backward, per layer kind, in a train-mode forward.

Each case runs one module on an input that requires grad (and, with ``--leaf``, on one that does
not) under ``torch.autograd.graph.saved_tensors_hooks`` and names every saved storage: the
layer's input, its output, a parameter or buffer, or another tensor (dtype and shape). The rule
table in ``cnncalc/engine/saved.py`` is derived from this output.
"""

from __future__ import annotations

import sys
from typing import Any

import torch
from torch import nn

N, C, H, W = 2, 4, 6, 6

CASES: list[tuple[str, Any, tuple[int, ...]]] = [
    ("Conv2d", nn.Conv2d(C, 8, 3), (N, C, H, W)),
    ("Conv2d no bias", nn.Conv2d(C, 8, 3, bias=False), (N, C, H, W)),
    ("Conv1d", nn.Conv1d(C, 8, 3), (N, C, W)),
    ("Conv3d", nn.Conv3d(C, 8, 3), (N, C, 4, 4, 4)),
    ("Conv2d reflect", nn.Conv2d(C, 8, 3, padding=1, padding_mode="reflect"), (N, C, H, W)),
    ("ConvTranspose2d", nn.ConvTranspose2d(C, 8, 3, stride=2), (N, C, H, W)),
    ("Linear", nn.Linear(W, 5), (N, W)),
    ("Linear no bias", nn.Linear(W, 5, bias=False), (N, W)),
    ("Linear 3D", nn.Linear(W, 5), (N, C, W)),
    ("BatchNorm2d", nn.BatchNorm2d(C), (N, C, H, W)),
    ("BatchNorm2d no affine", nn.BatchNorm2d(C, affine=False), (N, C, H, W)),
    ("BatchNorm2d no stats", nn.BatchNorm2d(C, track_running_stats=False), (N, C, H, W)),
    ("BatchNorm1d", nn.BatchNorm1d(C), (N, C)),
    ("InstanceNorm2d", nn.InstanceNorm2d(C), (N, C, H, W)),
    ("InstanceNorm2d affine", nn.InstanceNorm2d(C, affine=True), (N, C, H, W)),
    ("LayerNorm", nn.LayerNorm(W), (N, C, W)),
    ("LayerNorm no bias", nn.LayerNorm(W, bias=False), (N, C, W)),
    ("GroupNorm", nn.GroupNorm(2, C), (N, C, H, W)),
    ("RMSNorm", nn.RMSNorm(W), (N, C, W)),
    ("LocalResponseNorm", nn.LocalResponseNorm(2), (N, C, H, W)),
    ("ReLU", nn.ReLU(), (N, C, H, W)),
    ("ReLU inplace", nn.ReLU(inplace=True), (N, C, H, W)),
    ("ReLU6", nn.ReLU6(), (N, C, H, W)),
    ("ReLU6 inplace", nn.ReLU6(inplace=True), (N, C, H, W)),
    ("LeakyReLU", nn.LeakyReLU(0.1), (N, C, H, W)),
    ("LeakyReLU inplace", nn.LeakyReLU(0.1, inplace=True), (N, C, H, W)),
    ("ELU", nn.ELU(), (N, C, H, W)),
    ("ELU inplace", nn.ELU(inplace=True), (N, C, H, W)),
    ("CELU", nn.CELU(), (N, C, H, W)),
    ("CELU inplace", nn.CELU(inplace=True), (N, C, H, W)),
    ("SELU", nn.SELU(), (N, C, H, W)),
    ("SELU inplace", nn.SELU(inplace=True), (N, C, H, W)),
    ("GELU", nn.GELU(), (N, C, H, W)),
    ("GELU tanh", nn.GELU("tanh"), (N, C, H, W)),
    ("SiLU", nn.SiLU(), (N, C, H, W)),
    ("SiLU inplace", nn.SiLU(inplace=True), (N, C, H, W)),
    ("Mish", nn.Mish(), (N, C, H, W)),
    ("Mish inplace", nn.Mish(inplace=True), (N, C, H, W)),
    ("Hardswish", nn.Hardswish(), (N, C, H, W)),
    ("Hardswish inplace", nn.Hardswish(inplace=True), (N, C, H, W)),
    ("Hardsigmoid", nn.Hardsigmoid(), (N, C, H, W)),
    ("Hardsigmoid inplace", nn.Hardsigmoid(inplace=True), (N, C, H, W)),
    ("Hardtanh", nn.Hardtanh(), (N, C, H, W)),
    ("Hardtanh inplace", nn.Hardtanh(inplace=True), (N, C, H, W)),
    ("Sigmoid", nn.Sigmoid(), (N, C, H, W)),
    ("Tanh", nn.Tanh(), (N, C, H, W)),
    ("LogSigmoid", nn.LogSigmoid(), (N, C, H, W)),
    ("Softsign", nn.Softsign(), (N, C, H, W)),
    ("Tanhshrink", nn.Tanhshrink(), (N, C, H, W)),
    ("Softplus", nn.Softplus(), (N, C, H, W)),
    ("Hardshrink", nn.Hardshrink(), (N, C, H, W)),
    ("Softshrink", nn.Softshrink(), (N, C, H, W)),
    ("Threshold", nn.Threshold(0.1, 0.0), (N, C, H, W)),
    ("Threshold inplace", nn.Threshold(0.1, 0.0, inplace=True), (N, C, H, W)),
    ("PReLU", nn.PReLU(), (N, C, H, W)),
    ("Softmax", nn.Softmax(dim=1), (N, C, H, W)),
    ("LogSoftmax", nn.LogSoftmax(dim=1), (N, C, H, W)),
    ("Softmin", nn.Softmin(dim=1), (N, C, H, W)),
    ("Softmax2d", nn.Softmax2d(), (N, C, H, W)),
    ("Dropout", nn.Dropout(0.5), (N, C, H, W)),
    ("Dropout inplace", nn.Dropout(0.5, inplace=True), (N, C, H, W)),
    ("Dropout p=0", nn.Dropout(0.0), (N, C, H, W)),
    ("Dropout p=1", nn.Dropout(1.0), (N, C, H, W)),
    ("Dropout1d", nn.Dropout1d(0.5), (N, C, W)),
    ("Dropout2d", nn.Dropout2d(0.5), (N, C, H, W)),
    ("Dropout3d", nn.Dropout3d(0.5), (N, C, 4, 4, 4)),
    ("AlphaDropout", nn.AlphaDropout(0.5), (N, C, H, W)),
    ("FeatureAlphaDropout", nn.FeatureAlphaDropout(0.5), (N, C, H, W)),
    ("Identity", nn.Identity(), (N, C, H, W)),
    ("MaxPool1d", nn.MaxPool1d(2), (N, C, W)),
    ("MaxPool2d", nn.MaxPool2d(2), (N, C, H, W)),
    ("MaxPool3d", nn.MaxPool3d(2), (N, C, 4, 4, 4)),
    ("AvgPool1d", nn.AvgPool1d(2), (N, C, W)),
    ("AvgPool2d", nn.AvgPool2d(2), (N, C, H, W)),
    ("AvgPool3d", nn.AvgPool3d(2), (N, C, 4, 4, 4)),
    ("LPPool2d", nn.LPPool2d(2, 2), (N, C, H, W)),
    ("AdaptiveAvgPool1d 1", nn.AdaptiveAvgPool1d(1), (N, C, W)),
    ("AdaptiveAvgPool1d 2", nn.AdaptiveAvgPool1d(2), (N, C, W)),
    ("AdaptiveAvgPool2d 1", nn.AdaptiveAvgPool2d(1), (N, C, H, W)),
    ("AdaptiveAvgPool2d (1,2)", nn.AdaptiveAvgPool2d((1, 2)), (N, C, H, W)),
    ("AdaptiveAvgPool2d 6", nn.AdaptiveAvgPool2d(6), (N, C, H, W)),
    ("AdaptiveAvgPool3d 1", nn.AdaptiveAvgPool3d(1), (N, C, 4, 4, 4)),
    ("AdaptiveAvgPool3d 2", nn.AdaptiveAvgPool3d(2), (N, C, 4, 4, 4)),
    ("AdaptiveMaxPool1d", nn.AdaptiveMaxPool1d(2), (N, C, W)),
    ("AdaptiveMaxPool2d", nn.AdaptiveMaxPool2d(2), (N, C, H, W)),
    ("AdaptiveMaxPool2d 1", nn.AdaptiveMaxPool2d(1), (N, C, H, W)),
    ("AdaptiveMaxPool3d", nn.AdaptiveMaxPool3d(2), (N, C, 4, 4, 4)),
    ("Flatten", nn.Flatten(), (N, C, H, W)),
    ("Unflatten", nn.Unflatten(1, (2, 2)), (N, C, H, W)),
    ("PixelShuffle", nn.PixelShuffle(2), (N, C, H, W)),
    ("PixelUnshuffle", nn.PixelUnshuffle(2), (N, C, H, W)),
    ("ChannelShuffle", nn.ChannelShuffle(2), (N, C, H, W)),
    ("Upsample nearest", nn.Upsample(scale_factor=2), (N, C, H, W)),
    ("Upsample nearest-exact", nn.Upsample(scale_factor=2, mode="nearest-exact"), (N, C, H, W)),
    ("Upsample bilinear", nn.Upsample(scale_factor=2, mode="bilinear"), (N, C, H, W)),
    ("Upsample bicubic", nn.Upsample(scale_factor=2, mode="bicubic"), (N, C, H, W)),
    ("Upsample linear", nn.Upsample(scale_factor=2, mode="linear"), (N, C, W)),
    ("Upsample trilinear", nn.Upsample(scale_factor=2, mode="trilinear"), (N, C, 4, 4, 4)),
    ("Upsample area", nn.Upsample(size=3, mode="area"), (N, C, H, W)),
    ("UpsamplingNearest2d", nn.UpsamplingNearest2d(scale_factor=2), (N, C, H, W)),
    ("UpsamplingBilinear2d", nn.UpsamplingBilinear2d(scale_factor=2), (N, C, H, W)),
    ("ZeroPad2d", nn.ZeroPad2d(1), (N, C, H, W)),
    ("ConstantPad2d", nn.ConstantPad2d(1, 0.5), (N, C, H, W)),
    ("ReflectionPad2d", nn.ReflectionPad2d(1), (N, C, H, W)),
    ("ReplicationPad2d", nn.ReplicationPad2d(1), (N, C, H, W)),
    ("CircularPad2d", nn.CircularPad2d(1), (N, C, H, W)),
]


def sid(t: torch.Tensor) -> int:
    return int(t.untyped_storage()._cdata)


def measure(module: nn.Module, shape: tuple[int, ...], dtype: torch.dtype, leaf: bool) -> str:
    module = module.to(dtype).train()
    known = {sid(t): "param" for t in [*module.parameters(), *module.buffers()]}
    x = torch.randn(shape, dtype=dtype)
    if not leaf:
        x = (x * torch.ones((), dtype=dtype, requires_grad=True)).clone()  # requires grad, not a leaf
    saved: list[torch.Tensor] = []

    def pack(t: torch.Tensor) -> torch.Tensor:
        saved.append(t)
        return t

    known[sid(x)] = "input"
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        y = module(x)
    # the product in the non-leaf input saves its operands: drop what was saved before module ran
    names = []
    seen: set[int] = set()
    out = sid(y)
    for t in saved:
        s = sid(t)
        if s in seen:
            continue
        seen.add(s)
        if s == out and known.get(s) != "input":
            names.append("output")
        elif s in known:
            names.append(known[s])
        else:
            names.append(f"{str(t.dtype)[6:]}{tuple(t.shape)}[{t.untyped_storage().nbytes()}B]")
    same = " (output is input)" if out == sid(x) else ""
    return ", ".join(names) + same


def main() -> None:
    dtype = getattr(torch, sys.argv[1]) if len(sys.argv) > 1 else torch.float32
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {dtype}, input (N, C, H, W) = {(N, C, H, W)}")
    for name, module, shape in CASES:
        needs = measure(module, shape, dtype, leaf=False)
        plain = measure(module, shape, dtype, leaf=True)
        print(f"{name:26} grad input: {needs or '-':60} | no-grad input: {plain or '-'}")


if __name__ == "__main__":
    main()
