"""Ultralytics' attention modules (``ultralytics/nn/modules/block.py``): Attention and the
PSABlock, PSA and C2PSA built on it (YOLOv10, YOLO11), and the area attention AAttn, ABlock and
A2C2f of YOLO12, as cnncalc layers: the 1×1 convolutions that make q, k and v, the views and
transposes of ``forward`` as Reshape, Split and Transpose layers, the products as MatMul, the
scale as Arith. Reshapes need the input's size, which :class:`~.emit.Emit` tracks.
"""

from __future__ import annotations

from typing import Any

from cnncalc.readers.ultralytics.emit import Emit
from cnncalc.readers.ultralytics.modules import c, c3, chunk2, sub


def _product(e: Emit, q: int, k: int, v: int, scale: float) -> int:
    """``v @ ((q * scale).transpose(-2, -1) @ k).softmax(-1).transpose(-2, -1)`` of (…, d, N)
    tensors: (…, dv, N)."""
    qs = e.add("Arith", q, None, op="mul", value=scale)
    qt = e.add("Transpose", qs, None, dim0=-2, dim1=-1)
    attn = e.add("MatMul", [qt, k], None, origin="operator.matmul")
    attn = e.add("Softmax", attn, None, origin="method_descriptor.softmax", dim=-1)
    at = e.add("Transpose", attn, None, dim0=-2, dim1=-1)
    return e.add("MatMul", [v, at], None, origin="operator.matmul")


def attention(e: Emit, x: int, dim: int, num_heads: int = 8, attn_ratio: float = 0.5) -> int:
    """Attention: qkv (1×1 Conv, no act) viewed (B, heads, 2·key_dim + head_dim, N) and split;
    softmax attention over the N positions; plus a depthwise 3×3 positional Conv of v; proj."""
    b, _, h, w = e.shape(x, "Attention")
    head_dim = dim // num_heads
    key_dim = int(head_dim * attn_ratio)
    qkv = c(e, "qkv", x, dim, dim + 2 * key_dim * num_heads, 1, act=False)
    t = e.add("Reshape", qkv, None, shape=(b, num_heads, 2 * key_dim + head_dim, h * w))
    sections = (key_dim, key_dim, head_dim)
    q, k, v = (e.add("Split", t, None, split_size_or_sections=sections, dim=2, index=i) for i in range(3))
    y = _product(e, q, k, v, key_dim**-0.5)
    y = e.add("Reshape", y, None, shape=(b, dim, h, w))
    pe = c(e, "pe", e.add("Reshape", v, None, shape=(b, dim, h, w)), dim, dim, 3, 1, g=dim, act=False)
    return c(e, "proj", e.add("Add", [y, pe], None), dim, dim, 1, act=False)


def _ffn(e: Emit, x: int, c_: int, hidden: int, name: str) -> int:
    with e.module(name, "Sequential"):
        y = c(e, "0", x, c_, hidden, 1)
        return c(e, "1", y, hidden, c_, 1, act=False)


def psa_block(
    e: Emit, x: int, c_: int, attn_ratio: float = 0.5, num_heads: int = 4, shortcut: bool = True
) -> int:
    """PSABlock: x + attn(x), then that + ffn(that) (two 1×1 Convs, 2c hidden)."""
    a = sub(e, "attn", "Attention", attention, x, c_, num_heads, attn_ratio)
    x = e.add("Add", [x, a], None) if shortcut else a
    f = _ffn(e, x, c_, 2 * c_, "ffn")
    return e.add("Add", [x, f], None) if shortcut else f


def psa(e: Emit, x: int, c1: int, c2: int, ex: float = 0.5) -> int:
    """PSA: cv1 split in two; the second half through attention and an ffn, each residual;
    concatenated with the first into cv2."""
    ch = int(c1 * ex)
    a, b = chunk2(e, c(e, "cv1", x, c1, 2 * ch, 1, 1), ch)
    b = e.add("Add", [b, sub(e, "attn", "Attention", attention, b, ch, max(ch // 64, 1), 0.5)], None)
    b = e.add("Add", [b, _ffn(e, b, ch, 2 * ch, "ffn")], None)
    return c(e, "cv2", e.add("Concat", [a, b], None, dim=1), 2 * ch, c1, 1)


def c2psa(e: Emit, x: int, c1: int, c2: int, n: int = 1, ex: float = 0.5) -> int:
    """C2PSA: cv1 split in two; n PSABlocks on the second half; concatenated into cv2."""
    ch = int(c1 * ex)
    a, b = chunk2(e, c(e, "cv1", x, c1, 2 * ch, 1, 1), ch)
    for i in range(n):
        b = sub(e, f"m.{i}", "PSABlock", psa_block, b, ch, 0.5, max(ch // 64, 1))
    return c(e, "cv2", e.add("Concat", [a, b], None, dim=1), 2 * ch, c1, 1)


def area_attention(e: Emit, x: int, dim: int, num_heads: int, area: int = 1) -> int:
    """AAttn: qkv (1×1 Conv) as (B, N, 3·C), cut into ``area`` strips of N/area positions,
    attention within each strip, back to (B, C, H, W); plus a depthwise 7×7 Conv of v; proj."""
    b, _, h, w = e.shape(x, "AAttn")
    head_dim = dim // num_heads
    all_dim = head_dim * num_heads
    n = h * w
    qkv = c(e, "qkv", x, dim, all_dim * 3, 1, act=False)
    t = e.add("Flatten", qkv, None, start_dim=2)
    t = e.add("Transpose", t, None, dim0=1, dim1=2)
    bb, nn = (b * area, n // area) if area > 1 else (b, n)
    t = e.add("Reshape", t, None, shape=(bb, nn, num_heads, head_dim * 3))
    t = e.add("Permute", t, None, dims=(0, 2, 3, 1))
    sections = (head_dim, head_dim, head_dim)
    q, k, v = (e.add("Split", t, None, split_size_or_sections=sections, dim=2, index=i) for i in range(3))
    y = _product(e, q, k, v, head_dim**-0.5)

    def image(z: int) -> int:
        z = e.add("Permute", z, None, dims=(0, 3, 1, 2))
        if area > 1:
            z = e.add("Reshape", z, None, shape=(b, n, all_dim))
        z = e.add("Reshape", z, None, shape=(b, h, w, all_dim))
        return e.add("Permute", z, None, dims=(0, 3, 1, 2))

    pe = c(e, "pe", image(v), all_dim, all_dim, 7, 1, 3, g=all_dim, act=False)
    return c(e, "proj", e.add("Add", [image(y), pe], None), all_dim, dim, 1, act=False)


def ablock(e: Emit, x: int, dim: int, num_heads: int, mlp_ratio: float = 1.2, area: int = 1) -> int:
    """ABlock: x + AAttn(x), then that + mlp(that) (two 1×1 Convs, dim·mlp_ratio hidden)."""
    a = sub(e, "attn", "AAttn", area_attention, x, dim, num_heads, area)
    x = e.add("Add", [x, a], None)
    return e.add("Add", [x, _ffn(e, x, dim, int(dim * mlp_ratio), "mlp")], None)


def a2c2f(
    e: Emit,
    x: int,
    c1: int,
    c2: int,
    n: int = 1,
    a2: bool = True,
    area: int = 1,
    residual: bool = False,
    mlp_ratio: float = 2.0,
    ex: float = 0.5,
    g: int = 1,
    shortcut: bool = True,
) -> int:
    """A2C2f: cv1, then n modules chained (two ABlocks each when a2, else a C3k), every output
    concatenated into cv2; with a2 and residual, x + gamma · that (gamma one per channel)."""
    c_ = int(c2 * ex)
    ys = [c(e, "cv1", x, c1, c_, 1, 1)]
    for i in range(n):
        if a2:
            with e.module(f"m.{i}", "Sequential"):
                y = ys[-1]
                for j in range(2):
                    y = sub(e, str(j), "ABlock", ablock, y, c_, c_ // 32, mlp_ratio, area)
        else:
            y = sub(e, f"m.{i}", "C3k", c3, ys[-1], c_, c_, 2, shortcut, g, 0.5, (3, 3))
        ys.append(y)
    out = c(e, "cv2", e.add("Concat", ys, None, dim=1), (1 + n) * c_, c2, 1)
    if a2 and residual:
        scaled = e.add("LearnedMul", out, "gamma", shape=(1, c2, 1, 1))
        return e.add("Add", [x, scaled], None)
    return out


def c3k2_attn_inner(e: Emit, y: int, ch: int, shortcut: bool, g: int, bottleneck: Any) -> int:
    """C3k2 with attn: each inner module a Bottleneck then a PSABlock."""
    y = sub(e, "0", "Bottleneck", bottleneck, y, ch, ch, shortcut, g)
    return sub(e, "1", "PSABlock", psa_block, y, ch, 0.5, max(ch // 64, 1))
