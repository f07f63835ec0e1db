"""Ultralytics' building blocks (``ultralytics/nn/modules/conv.py`` and ``block.py``) as cnncalc
layers, one function per module with the module's constructor arguments in its order.

Each function adds the module's children as Ultralytics' ``__init__`` makes them and wires them
as its ``forward`` does (chunks are :class:`~cnncalc.layers.reshape.Narrow` pieces of the channel
axis, ``torch.cat`` a Concat, residuals an Add), inside a block named like the module's
attribute, so the rows read ``model.2.m.0.cv1.conv`` as in ``named_modules()``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from cnncalc.readers.ultralytics.emit import Act, Emit

IntOrPair = int | Sequence[int]


def autopad(k: IntOrPair, p: IntOrPair | None = None, d: int = 1) -> IntOrPair:
    """ultralytics.nn.modules.conv.autopad: 'same' padding for stride 1 when none is given."""
    if d > 1:
        k = d * (k - 1) + 1 if isinstance(k, int) else [d * (x - 1) + 1 for x in k]
    if p is None:
        p = k // 2 if isinstance(k, int) else [x // 2 for x in k]
    return p


def _pair(v: IntOrPair) -> int | list[int]:
    return v if isinstance(v, int) else list(v)


def conv(
    e: Emit,
    x: int,
    c1: int,
    c2: int,
    k: IntOrPair = 1,
    s: int = 1,
    p: IntOrPair | None = None,
    g: int = 1,
    d: int = 1,
    act: Act | bool = True,
) -> int:
    """Conv: Conv2d (no bias) → BatchNorm2d → the activation (SiLU unless the model says)."""
    y = e.add(
        "Conv2d",
        x,
        "conv",
        in_channels=c1,
        out_channels=c2,
        kernel_size=_pair(k),
        stride=s,
        padding=_pair(autopad(k, p, d)),
        groups=g,
        dilation=d,
        bias=False,
    )
    y = e.add("BatchNorm2d", y, "bn", num_features=c2)
    return e.act(y, act)


def conv_transpose(
    e: Emit, x: int, c1: int, c2: int, k: int = 1, s: int = 1, p: int = 0, op: int = 0, g: int = 1
) -> int:
    """torch.nn.ConvTranspose2d as a YAML row (one of parse_model's base modules: c1, c2 first)."""
    return e.add(
        "ConvTranspose2d",
        x,
        "conv_transpose",
        in_channels=c1,
        out_channels=c2,
        kernel_size=k,
        stride=s,
        padding=p,
        output_padding=op,
        groups=g,
    )


def sub(e: Emit, name: str, kind: str, fn: Callable[..., int], x: int, *args: Any, **kw: Any) -> int:
    """``fn`` built as the child module ``name`` (kind ``kind``)."""
    with e.module(name, kind):
        return fn(e, x, *args, **kw)


def c(e: Emit, name: str, x: int, *args: Any, **kw: Any) -> int:
    """A child Conv called ``name``."""
    return sub(e, name, "Conv", conv, x, *args, **kw)


def dwconv(
    e: Emit, x: int, c1: int, c2: int, k: int = 1, s: int = 1, d: int = 1, act: Act | bool = True
) -> int:
    """DWConv: a Conv with groups gcd(c1, c2)."""
    return conv(e, x, c1, c2, k, s, None, math.gcd(c1, c2), d, act)


def chunk2(e: Emit, x: int, c: int) -> tuple[int, int]:
    """``x.chunk(2, 1)`` (or ``split((c, c), 1)``) of a 2c-channel tensor: its two halves."""
    a = e.add("Narrow", x, None, dim=1, start=0, length=c)
    b = e.add("Narrow", x, None, dim=1, start=c, length=c)
    return a, b


def bottleneck(
    e: Emit, x: int, c1: int, c2: int, shortcut: bool = True, g: int = 1, k: Any = (3, 3), e_: float = 0.5
) -> int:
    """Bottleneck: cv1 (k[0]) → cv2 (k[1], groups g), plus the input when shortcut and c1 == c2."""
    c_ = int(c2 * e_)
    y = c(e, "cv1", x, c1, c_, k[0], 1)
    y = c(e, "cv2", y, c_, c2, k[1], 1, g=g)
    return e.add("Add", [x, y], "add") if shortcut and c1 == c2 else y


def _bneck(e: Emit, name: str, x: int, *args: Any, **kw: Any) -> int:
    return sub(e, name, "Bottleneck", bottleneck, x, *args, **kw)


def c2f(
    e: Emit, x: int, c1: int, c2: int, n: int = 1, shortcut: bool = False, g: int = 1, ex: float = 0.5
) -> int:
    """C2f: cv1 to 2c channels, split in two, n Bottlenecks chained on the second half, every
    piece concatenated into cv2."""
    ch = int(c2 * ex)
    return _c2f_like(
        e, x, c1, c2, n, ch, lambda name, y: _bneck(e, name, y, ch, ch, shortcut, g, (3, 3), 1.0)
    )


def _c2f_like(e: Emit, x: int, c1: int, c2: int, n: int, ch: int, inner: Callable[[str, int], int]) -> int:
    y = c(e, "cv1", x, c1, 2 * ch, 1, 1)
    ys = list(chunk2(e, y, ch))
    for i in range(n):
        ys.append(inner(f"m.{i}", ys[-1]))
    cat = e.add("Concat", ys, None, dim=1)
    return c(e, "cv2", cat, (2 + n) * ch, c2, 1)


def c3k2(
    e: Emit,
    x: int,
    c1: int,
    c2: int,
    n: int = 1,
    c3k: bool = False,
    ex: float = 0.5,
    attn: bool = False,
    g: int = 1,
    shortcut: bool = True,
) -> int:
    """C3k2: a C2f whose inner modules are C3k (two Bottlenecks) when c3k, else Bottlenecks."""
    ch = int(c2 * ex)

    def inner(name: str, y: int) -> int:
        if attn:
            from cnncalc.readers.ultralytics.attention import c3k2_attn_inner

            with e.module(name, "Sequential"):
                return c3k2_attn_inner(e, y, ch, shortcut, g, bottleneck)
        if c3k:
            return sub(e, name, "C3k", c3, y, ch, ch, 2, shortcut, g, 0.5, (3, 3))
        return _bneck(e, name, y, ch, ch, shortcut, g)

    return _c2f_like(e, x, c1, c2, n, ch, inner)


def c3(
    e: Emit,
    x: int,
    c1: int,
    c2: int,
    n: int = 1,
    shortcut: bool = True,
    g: int = 1,
    ex: float = 0.5,
    k: Any = ((1, 1), (3, 3)),
    inner: str = "bottleneck",
) -> int:
    """C3 (and C3k with k=(k, k), C3Ghost): cv1 → n inner modules, beside cv2, concatenated
    into cv3. ``k`` is the kernels of the Bottlenecks (C3k passes one int, used twice)."""
    c_ = int(c2 * ex)
    kk = (k, k) if isinstance(k, int) or (len(k) == 2 and isinstance(k[0], int)) else k
    a = c(e, "cv1", x, c1, c_, 1, 1)
    for i in range(n):
        if inner == "ghost":
            a = sub(e, f"m.{i}", "GhostBottleneck", ghost_bottleneck, a, c_, c_)
        else:
            a = _bneck(e, f"m.{i}", a, c_, c_, shortcut, g, kk, 1.0)
    b = c(e, "cv2", x, c1, c_, 1, 1)
    cat = e.add("Concat", [a, b], None, dim=1)
    return c(e, "cv3", cat, 2 * c_, c2, 1)


def c3ghost(
    e: Emit, x: int, c1: int, c2: int, n: int = 1, shortcut: bool = True, g: int = 1, ex: float = 0.5
) -> int:
    """C3Ghost: a C3 of GhostBottlenecks."""
    return c3(e, x, c1, c2, n, shortcut, g, ex, inner="ghost")


def c2(
    e: Emit, x: int, c1: int, c2_: int, n: int = 1, shortcut: bool = True, g: int = 1, ex: float = 0.5
) -> int:
    """C2: cv1 to 2c, split; n Bottlenecks on the first half, concatenated with the second."""
    ch = int(c2_ * ex)
    y = c(e, "cv1", x, c1, 2 * ch, 1, 1)
    a, b = chunk2(e, y, ch)
    for i in range(n):
        a = _bneck(e, f"m.{i}", a, ch, ch, shortcut, g, (3, 3), 1.0)
    cat = e.add("Concat", [a, b], None, dim=1)
    return c(e, "cv2", cat, 2 * ch, c2_, 1)


def ghost_conv(
    e: Emit, x: int, c1: int, c2: int, k: int = 1, s: int = 1, g: int = 1, act: Act | bool = True
) -> int:
    """GhostConv: cv1 to c2/2, a 5×5 depthwise cv2 on it, both concatenated."""
    c_ = c2 // 2
    y = c(e, "cv1", x, c1, c_, k, s, None, g, act=act)
    z = c(e, "cv2", y, c_, c_, 5, 1, None, c_, act=act)
    return e.add("Concat", [y, z], None, dim=1)


def ghost_bottleneck(e: Emit, x: int, c1: int, c2: int, k: int = 3, s: int = 1) -> int:
    """GhostBottleneck: GhostConv → (DWConv when s=2) → GhostConv without act, plus a shortcut."""
    c_ = c2 // 2
    y = sub(e, "conv.0", "GhostConv", ghost_conv, x, c1, c_, 1, 1)
    if s == 2:
        y = sub(e, "conv.1", "DWConv", dwconv, y, c_, c_, k, s, act=False)
    y = sub(e, "conv.2", "GhostConv", ghost_conv, y, c_, c2, 1, 1, act=False)
    short = x
    if s == 2:
        short = sub(e, "shortcut.0", "DWConv", dwconv, x, c1, c1, k, s, act=False)
        short = c(e, "shortcut.1", short, c1, c2, 1, 1, act=False)
    return e.add("Add", [y, short], "add")


def sppf(
    e: Emit, x: int, c1: int, c2: int, k: int = 5, n: int = 3, shortcut: bool = False, legacy: bool = True
) -> int:
    """SPPF: cv1 (no activation since YOLO26; parse_model gives it the default one for rows of
    three arguments or fewer), the same max pool n times in a chain, all concatenated into cv2."""
    c_ = c1 // 2
    ys = [c(e, "cv1", x, c1, c_, 1, 1, act=legacy)]
    for _ in range(n):
        ys.append(e.add("MaxPool2d", ys[-1], None, kernel_size=k, stride=1, padding=k // 2))
    cat = e.add("Concat", ys, None, dim=1)
    y = c(e, "cv2", cat, c_ * (n + 1), c2, 1, 1)
    return e.add("Add", [y, x], "add") if shortcut and c1 == c2 else y


def spp(e: Emit, x: int, c1: int, c2: int, k: Sequence[int] = (5, 9, 13)) -> int:
    """SPP: cv1, then max pools of each size in parallel, concatenated into cv2."""
    c_ = c1 // 2
    y = c(e, "cv1", x, c1, c_, 1, 1)
    pools = [
        e.add("MaxPool2d", y, f"m.{i}", kernel_size=kk, stride=1, padding=kk // 2) for i, kk in enumerate(k)
    ]
    cat = e.add("Concat", [y, *pools], None, dim=1)
    return c(e, "cv2", cat, c_ * (len(k) + 1), c2, 1, 1)


def rep_conv(e: Emit, x: int, c1: int, c2: int, k: int = 3, s: int = 1, p: int = 1, g: int = 1) -> int:
    """RepConv (training form): a 3×3 Conv and a 1×1 Conv without activation, added (plus a
    BatchNorm of the input when c1 == c2 and s == 1 with bn), then the activation."""
    a = c(e, "conv1", x, c1, c2, k, s, p, g, act=False)
    b = c(e, "conv2", x, c1, c2, 1, s, p - k // 2, g, act=False)
    y = e.add("Add", [a, b], "add")
    return e.act(y, True)


def rep_csp(
    e: Emit, x: int, c1: int, c2: int, n: int = 1, shortcut: bool = True, g: int = 1, ex: float = 0.5
) -> int:
    """RepCSP: a C3 whose Bottlenecks start with a RepConv."""
    c_ = int(c2 * ex)
    a = c(e, "cv1", x, c1, c_, 1, 1)
    for i in range(n):
        with e.module(f"m.{i}", "RepBottleneck"):
            y = sub(e, "cv1", "RepConv", rep_conv, a, c_, c_, 3, 1)
            y = c(e, "cv2", y, c_, c_, 3, 1, g=g)
            a = e.add("Add", [a, y], "add") if shortcut else y
    b = c(e, "cv2", x, c1, c_, 1, 1)
    cat = e.add("Concat", [a, b], None, dim=1)
    return c(e, "cv3", cat, 2 * c_, c2, 1)


def rep_c3(e: Emit, x: int, c1: int, c2: int, n: int = 3, ex: float = 1.0) -> int:
    """RepC3: cv1 → n RepConvs, added to cv2, then cv3 (when c_ != c2)."""
    c_ = int(c2 * ex)
    a = c(e, "cv1", x, c1, c_, 1, 1)
    for i in range(n):
        a = sub(e, f"m.{i}", "RepConv", rep_conv, a, c_, c_)
    b = c(e, "cv2", x, c1, c_, 1, 1)
    y = e.add("Add", [a, b], "add")
    return c(e, "cv3", y, c_, c2, 1, 1) if c_ != c2 else y


def rep_ncspelan4(e: Emit, x: int, c1: int, c2: int, c3_: int, c4: int, n: int = 1) -> int:
    """RepNCSPELAN4: cv1 split in two; cv2 (RepCSP → Conv) on the second half, cv3 (RepCSP →
    Conv) on that; the four concatenated into cv4."""
    ch = c3_ // 2
    y = c(e, "cv1", x, c1, c3_, 1, 1)
    ys = list(chunk2(e, y, ch))
    with e.module("cv2", "Sequential"):
        z = sub(e, "0", "RepCSP", rep_csp, ys[-1], ch, c4, n)
        ys.append(c(e, "1", z, c4, c4, 3, 1))
    with e.module("cv3", "Sequential"):
        z = sub(e, "0", "RepCSP", rep_csp, ys[-1], c4, c4, n)
        ys.append(c(e, "1", z, c4, c4, 3, 1))
    cat = e.add("Concat", ys, None, dim=1)
    return c(e, "cv4", cat, c3_ + 2 * c4, c2, 1, 1)


def elan1(e: Emit, x: int, c1: int, c2: int, c3_: int, c4: int) -> int:
    """ELAN1: RepNCSPELAN4 with plain 3×3 Convs as cv2 and cv3."""
    ch = c3_ // 2
    y = c(e, "cv1", x, c1, c3_, 1, 1)
    ys = list(chunk2(e, y, ch))
    ys.append(c(e, "cv2", ys[-1], ch, c4, 3, 1))
    ys.append(c(e, "cv3", ys[-1], c4, c4, 3, 1))
    cat = e.add("Concat", ys, None, dim=1)
    return c(e, "cv4", cat, c3_ + 2 * c4, c2, 1, 1)


def _avg2(e: Emit, x: int) -> int:
    # F.avg_pool2d(x, 2, 1, 0, False, True): kernel 2, stride 1, no padding
    return e.add(
        "AvgPool2d",
        x,
        None,
        origin="builtin_function_or_method.avg_pool2d",
        kernel_size=2,
        stride=1,
        padding=0,
        ceil_mode=False,
        count_include_pad=True,
    )


def aconv(e: Emit, x: int, c1: int, c2: int) -> int:
    """AConv: a 2×2 stride-1 average pool, then a 3×3 stride-2 Conv."""
    return c(e, "cv1", _avg2(e, x), c1, c2, 3, 2, 1)


def adown(e: Emit, x: int, c1: int, c2: int) -> int:
    """ADown: a 2×2 stride-1 average pool, split in two: a 3×3 stride-2 Conv on one half, a 3×3
    stride-2 max pool and a 1×1 Conv on the other, concatenated."""
    ch = c2 // 2
    a, b = chunk2(e, _avg2(e, x), c1 // 2)
    a = c(e, "cv1", a, c1 // 2, ch, 3, 2, 1)
    b = e.add("MaxPool2d", b, None, origin="function.max_pool2d", kernel_size=3, stride=2, padding=1)
    b = c(e, "cv2", b, c1 // 2, ch, 1, 1, 0)
    return e.add("Concat", [a, b], None, dim=1)


def sppelan(e: Emit, x: int, c1: int, c2: int, c3_: int, k: int = 5) -> int:
    """SPPELAN: cv1, three max pools in a chain, all concatenated into cv5."""
    ys = [c(e, "cv1", x, c1, c3_, 1, 1)]
    for name in ("cv2", "cv3", "cv4"):
        ys.append(e.add("MaxPool2d", ys[-1], name, kernel_size=k, stride=1, padding=k // 2))
    cat = e.add("Concat", ys, None, dim=1)
    return c(e, "cv5", cat, 4 * c3_, c2, 1, 1)


def scdown(e: Emit, x: int, c1: int, c2: int, k: int, s: int) -> int:
    """SCDown: a 1×1 Conv, then a depthwise k×k stride-s Conv without activation."""
    y = c(e, "cv1", x, c1, c2, 1, 1)
    return c(e, "cv2", y, c2, c2, k, s, None, c2, act=False)


def rep_vgg_dw(e: Emit, x: int, ed: int) -> int:
    """RepVGGDW: depthwise 7×7 and 3×3 Convs without activation, added, then SiLU."""
    a = c(e, "conv", x, ed, ed, 7, 1, 3, ed, act=False)
    b = c(e, "conv1", x, ed, ed, 3, 1, 1, ed, act=False)
    y = e.add("Add", [a, b], "add")
    return e.add("SiLU", y, "act")


def cib(e: Emit, x: int, c1: int, c2: int, shortcut: bool = True, ex: float = 0.5, lk: bool = False) -> int:
    """CIB: depthwise 3×3, 1×1, (RepVGGDW or depthwise 3×3), 1×1, depthwise 3×3; plus the input."""
    c_ = int(c2 * ex)
    with e.module("cv1", "Sequential"):
        y = c(e, "0", x, c1, c1, 3, g=c1)
        y = c(e, "1", y, c1, 2 * c_, 1)
        if lk:
            y = sub(e, "2", "RepVGGDW", rep_vgg_dw, y, 2 * c_)
        else:
            y = c(e, "2", y, 2 * c_, 2 * c_, 3, g=2 * c_)
        y = c(e, "3", y, 2 * c_, c2, 1)
        y = c(e, "4", y, c2, c2, 3, g=c2)
    return e.add("Add", [x, y], "add") if shortcut and c1 == c2 else y


def c2fcib(
    e: Emit,
    x: int,
    c1: int,
    c2: int,
    n: int = 1,
    shortcut: bool = False,
    lk: bool = False,
    g: int = 1,
    ex: float = 0.5,
) -> int:
    """C2fCIB: a C2f whose inner modules are CIBs."""
    ch = int(c2 * ex)
    return _c2f_like(
        e, x, c1, c2, n, ch, lambda name, y: sub(e, name, "CIB", cib, y, ch, ch, shortcut, 1.0, lk)
    )


def resnet_block(e: Emit, x: int, c1: int, c2: int, s: int = 1, ex: int = 4) -> int:
    """ResNetBlock: 1×1, 3×3 (stride s), 1×1 without act, plus a projected shortcut, then ReLU."""
    c3_ = ex * c2
    y = c(e, "cv1", x, c1, c2, 1, 1)
    y = c(e, "cv2", y, c2, c2, 3, s, 1)
    y = c(e, "cv3", y, c2, c3_, 1, act=False)
    short = c(e, "shortcut.0", x, c1, c3_, 1, s, act=False) if s != 1 or c1 != c3_ else x
    y = e.add("Add", [y, short], "add")
    return e.add("ReLU", y, "relu")


def resnet_layer(
    e: Emit, x: int, c1: int, c2: int, s: int = 1, is_first: bool = False, n: int = 1, ex: int = 4
) -> int:
    """ResNetLayer: a 7×7 stride-2 Conv and a max pool (first), or n ResNetBlocks."""
    if is_first:
        y = c(e, "layer.0", x, c1, c2, 7, 2, 3)
        return e.add("MaxPool2d", y, "layer.1", kernel_size=3, stride=2, padding=1)
    y = sub(e, "layer.0", "ResNetBlock", resnet_block, x, c1, c2, s, ex)
    for i in range(1, n):
        y = sub(e, f"layer.{i}", "ResNetBlock", resnet_block, y, ex * c2, c2, 1, ex)
    return y


def cb_linear(
    e: Emit, x: int, c1: int, c2: int, k: int = 1, s: int = 1, p: int | None = None, g: int = 1
) -> int:
    """CBLinear: one Conv2d with bias to sum(c2s) channels; its ``split(c2s, 1)`` is taken by the
    CBFuse rows that read it (:func:`cb_fuse`)."""
    return e.add(
        "Conv2d",
        x,
        "conv",
        in_channels=c1,
        out_channels=c2,
        kernel_size=k,
        stride=s,
        padding=_pair(autopad(k, p)),
        groups=g,
    )


def cb_fuse(e: Emit, parts: Sequence[tuple[int, Sequence[int], int]], last: int) -> int:
    """CBFuse: piece ``index`` of each CBLinear's split, resized to the last input's size
    (``F.interpolate(mode="nearest")``), summed with the last input."""
    size = e.shape(last, "CBFuse")[2:]
    resized = []
    for x, c2s, index in parts:
        piece = e.add("Narrow", x, None, dim=1, start=sum(c2s[:index]), length=c2s[index])
        resized.append(
            e.add("Upsample", piece, None, origin="function.interpolate", size=list(size), mode="nearest")
        )
    return e.add("Add", [*resized, last], None)
