"""An Ultralytics model dictionary turned into layers by the rules of
``ultralytics/nn/tasks.py`` ``parse_model``: rows ``[from, repeats, module, args]`` of
``backbone`` then ``head``; repeats scaled by the depth multiple, output channels of the base
modules by the width multiple (``make_divisible(min(c2, max_channels) * width, 8)``), the
repeat count inserted as the third argument of the repeat modules, the heads given
``[reg_max, end2end, input channels]``.

Ultralytics computes those channel counts in floating point (``math.ceil(x / 8) * 8``) and the
repeats with Python's ``round``; they are reproduced the same way, since they decide integers.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cnncalc.errors import Position, SpecError, shown
from cnncalc.graph import NETWORK_INPUT, NetworkBuilder
from cnncalc.readers.ultralytics import attention, heads, modules
from cnncalc.readers.ultralytics.emit import Act, Emit

# modules whose first two arguments parse_model makes (c1, c2 scaled by width): base_modules
_BASE: dict[str, Callable[..., int]] = {
    "Conv": modules.conv,
    "GhostConv": modules.ghost_conv,
    "Bottleneck": modules.bottleneck,
    "GhostBottleneck": modules.ghost_bottleneck,
    "SPP": modules.spp,
    "SPPF": modules.sppf,
    "DWConv": modules.dwconv,
    "C2": modules.c2,
    "C2f": modules.c2f,
    "C3k2": modules.c3k2,
    "RepNCSPELAN4": modules.rep_ncspelan4,
    "ELAN1": modules.elan1,
    "ADown": modules.adown,
    "AConv": modules.aconv,
    "SPPELAN": modules.sppelan,
    "C3": modules.c3,
    "C3Ghost": modules.c3ghost,
    "RepC3": modules.rep_c3,
    "SCDown": modules.scdown,
    "C2fCIB": modules.c2fcib,
    "Classify": heads.classify,
    "nn.ConvTranspose2d": modules.conv_transpose,
    "PSA": attention.psa,
    "C2PSA": attention.c2psa,
    "A2C2f": attention.a2c2f,
}
# of those, the ones that take the repeat count as their third argument: repeat_modules
_REPEAT = {"C2", "C2f", "C3k2", "C3", "C3Ghost", "RepC3", "C2fCIB", "C2PSA", "A2C2f", "C2fPSA", "C3x", "C1"}
_HEADS = {"Detect", "Segment", "Segment26", "Pose", "Pose26", "OBB", "OBB26", "v10Detect"}
# modules parse_model knows that this reader refuses, with why
_REFUSED = {
    "C2fPSA": "its PSABlock attention needs MatMul and Reshape layers",
    "C2fAttn": "text-guided (YOLO-World): its forward takes text embeddings as a second input",
    "ImagePoolingAttn": "text-guided (YOLO-World): it attends over text embeddings",
    "AIFI": "its transformer layer needs MultiheadAttention and Reshape layers",
    "RTDETRDecoder": "a deformable-attention decoder (query selection by top-k)",
    "HGStem": "not yet translated (RT-DETR backbone)",
    "HGBlock": "not yet translated (RT-DETR backbone)",
    "TorchVision": "a torchvision model built by name (read it with the PyTorch reader)",
    "WorldDetect": "text-guided head: its forward takes text embeddings",
    "YOLOEDetect": "text-guided head: its forward takes text embeddings",
    "YOLOESegment": "text-guided head: its forward takes text embeddings",
    "YOLOESegment26": "text-guided head: its forward takes text embeddings",
    "SemanticSegment": "not yet translated",
    "Depth": "not yet translated",
}
# torch.nn modules the shipped files name (nn.Upsample, nn.MaxPool2d, ...): their arguments
# are those of the torch.nn constructor, given positionally
_TORCH = {
    "nn.Upsample": ("Upsample", ("size", "scale_factor", "mode", "align_corners")),
    "nn.MaxPool2d": ("MaxPool2d", ("kernel_size", "stride", "padding", "dilation")),
    "nn.ZeroPad2d": ("ZeroPad2d", ("padding",)),
    "nn.Identity": ("Identity", ()),
}
# YAML activation: values (Conv.default_act) the shipped files use
_ACTIVATIONS: dict[str, Act] = {
    "nn.SiLU()": ("SiLU", {}),
    "torch.nn.SiLU()": ("SiLU", {}),
    "nn.ReLU()": ("ReLU", {}),
    "torch.nn.ReLU()": ("ReLU", {}),
    "nn.LeakyReLU(0.1)": ("LeakyReLU", {"negative_slope": 0.1}),
    "torch.nn.LeakyReLU(0.1)": ("LeakyReLU", {"negative_slope": 0.1}),
}


def make_divisible(x: float, divisor: int = 8) -> int:
    """ultralytics.utils.ops.make_divisible: the nearest multiple of ``divisor`` at or above x."""
    return math.ceil(x / divisor) * divisor


@dataclass(frozen=True)
class Scaling:
    """The chosen scale: depth and width multiples, the channel cap, and its letter."""

    depth: float
    width: float
    max_channels: float
    scale: str


@dataclass
class Row:
    """One printed row of Ultralytics' model summary: index, from, repeats, module, arguments."""

    index: int
    source: Any
    repeats: int
    module: str
    args: list[Any]
    channels: int


def _where(doc: Any, key: str, index: int, file: str) -> Position:
    items = doc.get(key)
    positions = getattr(items, "item_pos", None)
    if positions and index < len(positions):
        pos: Position = positions[index]
        return pos
    return getattr(doc, "pos", Position(file))


def _resolve(value: Any, names: Mapping[str, Any]) -> Any:
    """parse_model's ``locals()[a] if a in locals() else ast.literal_eval(a)`` for strings."""
    if isinstance(value, str):
        if value in names:
            return names[value]
        try:
            return ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return str(value)
    return value


def build(
    doc: Any, builder: NetworkBuilder, scaling: Scaling, nc: int, ch: int, file: str
) -> tuple[list[Row], list[int], list[tuple[str, int]]]:
    """Add the model's layers to ``builder``; the summary rows, the output handles and the
    modules the eval forward never calls (with their parameters)."""
    act = doc.get("activation")
    default_act: Act = ("SiLU", {})
    if act is not None:
        if str(act) not in _ACTIVATIONS:
            raise SpecError(f"activation {shown(act)} is not one this reader knows", Position(file))
        default_act = _ACTIVATIONS[str(act)]
    reg_max = doc.get("reg_max", 16)
    end2end = doc.get("end2end")
    names = {"nc": nc, "reg_max": reg_max, "end2end": end2end, "kpt_shape": doc.get("kpt_shape", 1.0)}
    names |= {"scale": scaling.scale, "depth": scaling.depth, "width": scaling.width}
    outs: list[int] = []  # each row's output handle
    chans: list[Any] = []  # a CBLinear row's entry is its list of split sizes
    rows: list[Row] = []
    legacy = True
    head_outputs: list[int] = []
    shapes: dict[int, Any] = {NETWORK_INPUT: tuple(builder.input_shape)}
    unused: list[tuple[str, int]] = []
    entries = [("backbone", j, r) for j, r in enumerate(doc.get("backbone") or [])]
    entries += [("head", j, r) for j, r in enumerate(doc.get("head") or [])]
    for i, (key, j, raw) in enumerate(entries):
        where = _where(doc, key, j, file)
        if not isinstance(raw, list) or len(raw) != 4:
            raise SpecError(f"{key} row {j}: expected [from, repeats, module, args], got {shown(raw)}", where)
        f, n, m, args = raw
        m = str(m)
        args = [_resolve(a, names) for a in (args or [])]
        e = Emit(builder, where, f"row {i} ({m})", default_act, shapes, unused)

        froms = list(f) if isinstance(f, list) else [f]
        for k in froms:  # parse_model indexes its list of earlier rows; row 0 reads the image
            if not isinstance(k, int) or not (-i <= k < i or (k == -1 and i == 0)):
                raise SpecError(f"row {i} ({m}): from {shown(k)} refers to no earlier row", where)

        def src(k: int, i: int = i) -> int:
            return outs[k] if k != -1 or i else NETWORK_INPUT

        def cin(k: int, i: int = i) -> int:
            return ch if i == 0 and k == -1 else chans[k]

        n_ = max(round(n * scaling.depth), 1) if n > 1 else n
        if m in _REFUSED:
            raise e.refuse(m, _REFUSED[m])
        path = f"model.{i}"
        if m in _BASE:
            c1, c2 = cin(froms[0]), args[0]
            if m != "Classify":
                c2 = make_divisible(min(c2, scaling.max_channels) * scaling.width, 8)
            full = [c1, c2, *args[1:]]
            if m in _REPEAT:
                full.insert(2, n_)
                n_here = 1
            else:
                n_here = n_
            if m in ("C3k2", "C2fCIB", "A2C2f"):
                legacy = False
            if m == "A2C2f" and scaling.scale in {"l", "x"}:
                full.extend((True, 1.2))
            if m == "C3k2" and scaling.scale in {"m", "l", "x"}:
                full[3:4] = [True]
            if m == "SPPF":  # rows of up to 3 arguments predate YOLO26's SPPF (cv1 activated)
                activated = len(full) <= 3
                full = [*full, *[5, 3, False][len(full) - 2 :], activated]
            fn = _BASE[m]
            x = src(froms[0])
            with e.module(path, m if n_here == 1 else "Sequential"):
                if n_here == 1:
                    x = fn(e, x, *full)
                else:  # nn.Sequential(*(m(*args) for _ in range(n))): the same arguments each time
                    for r in range(n_here):
                        x = modules.sub(e, str(r), m, fn, x, *full)
            c_out = c2
        elif m == "Concat":
            dim = args[0] if args else 1
            x = e.add("Concat", [src(k) for k in froms], path, dim=dim)
            c_out = sum(cin(k) for k in froms)
        elif m == "ResNetLayer":  # its arguments as written: c1, c2, s, is_first, n, e
            with e.module(path, m):
                x = modules.resnet_layer(e, src(froms[0]), *args)
            c_out = args[1] if args[3] else args[1] * 4
        elif m == "CBLinear":  # one convolution whose output is split into c2s (CBFuse picks)
            c2s = list(args[0])
            with e.module(path, m):
                x = modules.cb_linear(e, src(froms[0]), cin(froms[0]), sum(c2s), *args[1:])
            c_out = c2s
        elif m == "CBFuse":
            parts = [(src(k), chans[k], index) for k, index in zip(froms[:-1], args[0])]
            with e.module(path, m):
                x = modules.cb_fuse(e, parts, src(froms[-1]))
            c_out = cin(froms[-1])
        elif m in _HEADS:
            chs = [cin(k) for k in froms]
            full = list(args) + ([chs] if m == "v10Detect" else [reg_max, end2end, chs])
            if m in ("Segment", "Segment26"):
                full[2] = make_divisible(min(full[2], scaling.max_channels) * scaling.width, 8)
            with e.module(path, m):
                got = heads.head(e, m, [src(k) for k in froms], chs, full, legacy)
            head_outputs.extend(got)
            x = got[0]
            c_out = chs[0]
        elif m in _TORCH:
            kind, fields = _TORCH[m]
            given = dict(zip(fields, args))
            x = e.add(kind, src(froms[0]), path, **{k: v for k, v in given.items() if v is not None})
            c_out = cin(froms[0])
        else:
            raise SpecError(f"row {i}: unknown module {shown(m)} (not one parse_model knows)", where)
        outs.append(x)
        chans.append(c_out)
        rows.append(Row(i, f, n_, m, args, c_out))
    last = outs[-1] if outs else NETWORK_INPUT
    return rows, head_outputs or [last], unused
