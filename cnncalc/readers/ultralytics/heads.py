"""Ultralytics' output heads (``ultralytics/nn/modules/head.py``): Detect and the heads built on
it (Segment, Pose, OBB, v10Detect), and Classify, as cnncalc layers.

Detect in eval returns ``torch.cat((dbox, scores.sigmoid()), 1)``, shape (B, 4 + nc, anchors),
where dbox is DFL's expectation of each box side. The branches are built exactly; the per-level
outputs flattened and concatenated as ``forward_head`` does; DFL as the same weighted sum over
its ``reg_max`` bins (see :func:`dfl`). The box decoding against the anchor grid (``dist2bbox``
times the stride), the key-point decoding of Pose and the angle scaling of OBB are element-wise
arithmetic with constant grids: they keep the shape and have no parameters or multiply-adds in
cnncalc's count, and are not drawn as layers. End-to-end heads (v10Detect, ``end2end: True``)
carry a second, one-to-one copy of the branches: Detect.forward runs it too (its tensors are
outputs beside the answer), but the decoded answer comes from the one-to-many branches unless
``end2end`` is switched on after building (then a top-k selection, not modelled here).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from cnncalc.readers.ultralytics.emit import Emit
from cnncalc.readers.ultralytics.modules import c, dwconv, sub


def _branch(e: Emit, name: str, x: int, cin: int, mid: int, cout: int, light: str | None = None) -> int:
    """One level's branch: two Convs (3×3, or depthwise 3×3 + 1×1 when ``light``) and a 1×1
    Conv2d with bias."""
    with e.module(name, "Sequential"):
        if light is None:
            y = c(e, "0", x, cin, mid, 3)
            y = c(e, "1", y, mid, mid, 3)
        else:
            y = x
            for i, (a, b) in enumerate(((cin, mid), (mid, mid))):
                with e.module(str(i), "Sequential"):
                    if light == "dw":
                        y = sub(e, "0", "DWConv", dwconv, y, a, a, 3)
                    else:  # v10Detect: Conv(x, x, 3, g=x)
                        y = c(e, "0", y, a, a, 3, g=a)
                    y = c(e, "1", y, a, b, 1)
        return e.add("Conv2d", y, "2", in_channels=mid, out_channels=cout, kernel_size=1)


def _levels(
    e: Emit, name: str, xs: Sequence[int], ch: Sequence[int], mid: int, cout: int, light: str | None
) -> int:
    """A ModuleList of branches, one per level, each flattened to (B, cout, H·W), concatenated."""
    flat = []
    for i, (x, cin) in enumerate(zip(xs, ch)):
        y = _branch(e, f"{name}.{i}", x, cin, mid, cout, light)
        flat.append(e.add("Flatten", y, None, start_dim=2))
    return e.add("Concat", flat, f"{name}_cat", dim=2) if len(flat) > 1 else flat[0]


def dfl(e: Emit, x: int, reg_max: int) -> int:
    """DFL: ``conv(x.view(b, 4, c1, a).transpose(2, 1).softmax(1)).view(b, 4, a)`` with a fixed
    (untrained) 1×1 Conv2d(c1, 1) whose weights are 0..c1-1. Drawn without the transpose as the
    same sum: (b, 1, 4, c1, a), softmax over the bins, a Conv3d(1, 1, (1, c1, 1)) without bias —
    its c1 weights and its 4·a·c1 multiply-adds are those of DFL's convolution."""
    with e.module("dfl", "DFL"):
        y = e.add("Unflatten", x, None, dim=1, unflattened_size=(1, 4, reg_max))
        y = e.add("Softmax", y, None, origin="method_descriptor.softmax", dim=3)
        y = e.add(
            "Conv3d",
            y,
            "conv",
            trainable=False,  # requires_grad_(False): fixed weights 0..c1-1
            in_channels=1,
            out_channels=1,
            kernel_size=(1, reg_max, 1),
            bias=False,
        )
        return e.add("Flatten", y, None, start_dim=1, end_dim=3)


def detect(
    e: Emit,
    xs: Sequence[int],
    kind: str,
    nc: int,
    ch: Sequence[int],
    *,
    reg_max: int = 16,
    end2end: bool = False,
    legacy: bool = False,
    extra: Callable[[str], int] | None = None,
) -> list[int]:
    """Detect and its task heads: the outputs (the decoded eval tensor, and the one-to-one
    branches' tensors beside it when the head is end-to-end).

    ``extra`` builds the task branch (cv4) of Segment, Pose and OBB for a head's prefix (``""``
    or ``"one2one_"``): its flattened output is concatenated after the scores."""
    c2 = max(16, ch[0] // 4, reg_max * 4)
    c3 = max(ch[0], min(nc, 100))
    light = "v10" if kind == "v10Detect" else None if legacy else "dw"
    heads = [("", True)] + ([("one2one_", False)] if end2end else [])
    answers: list[int] = []
    others: list[int] = []
    for prefix, many in heads:
        boxes = _levels(e, prefix + "cv2", xs, ch, c2, 4 * reg_max, None)
        scores = _levels(e, prefix + "cv3", xs, ch, c3, nc, light)
        if not many:  # the one-to-one head answers only once end2end is switched on
            others.extend([boxes, scores])
            if extra is not None:
                others.append(extra(prefix))
            continue
        pieces = [dfl(e, boxes, reg_max) if reg_max > 1 else boxes]
        pieces.append(e.add("Sigmoid", scores, None))
        if extra is not None:
            task = extra(prefix)
            pieces.append(e.add("Sigmoid", task, None) if kind == "OBB" else task)
        answers.append(e.add("Concat", pieces, prefix + "y", dim=1))
    return answers + others


def proto(e: Emit, x: int, c1: int, c_: int = 256, c2: int = 32) -> int:
    """Proto: Conv 3×3, ConvTranspose2d 2×2 stride 2 (bias), Conv 3×3, Conv 1×1."""
    y = c(e, "cv1", x, c1, c_, 3)
    y = e.add(
        "ConvTranspose2d", y, "upsample", in_channels=c_, out_channels=c_, kernel_size=2, stride=2, padding=0
    )
    y = c(e, "cv2", y, c_, c_, 3)
    return c(e, "cv3", y, c_, c2)


def _cv4(e: Emit, xs: Sequence[int], ch: Sequence[int], mid: int, out: int) -> Callable[[str], int]:
    return lambda prefix: _levels(e, prefix + "cv4", xs, ch, mid, out, None)


def conv_params(c1: int, c2: int, k: int, g: int = 1) -> int:
    """Parameters of an Ultralytics Conv: the Conv2d's weights and the BatchNorm's two vectors."""
    return c1 // g * c2 * k * k + 2 * c2


def head(
    e: Emit, kind: str, xs: Sequence[int], ch: Sequence[int], args: list[Any], legacy: bool
) -> list[int]:
    """A detection-family head from its row's arguments as parse_model completes them
    (``[nc, *task args, reg_max, end2end, ch]``; v10Detect ``[nc, ch]``)."""
    if kind == "v10Detect":
        return detect(e, xs, kind, args[0], ch, end2end=True, legacy=legacy)
    nc = args[0]
    reg_max, end2end = args[-3], bool(args[-2])
    task = list(args[1:-3])
    common: dict[str, Any] = {"reg_max": reg_max, "end2end": end2end, "legacy": legacy}
    if kind == "Detect":
        return detect(e, xs, kind, nc, ch, **common)
    if kind in ("Segment", "Segment26"):
        nm, npr = (task + [32, 256])[:2]
        out = detect(e, xs, kind, nc, ch, extra=_cv4(e, xs, ch, max(ch[0] // 4, nm), nm), **common)
        # eval returns ((y, proto), preds): the prototypes second, before the one-to-one tensors
        if kind == "Segment":
            return [out[0], sub(e, "proto", "Proto", proto, xs[0], ch[0], npr, nm), *out[1:]]
        with e.module("proto", "Proto26"):
            return [out[0], proto26(e, xs, ch, npr, nm, nc), *out[1:]]
    if kind == "Pose":
        kpt = (task + [(17, 3)])[0]
        nk = kpt[0] * kpt[1]
        return detect(e, xs, kind, nc, ch, extra=_cv4(e, xs, ch, max(ch[0] // 4, nk), nk), **common)
    if kind == "Pose26":
        return pose26(e, xs, ch, nc, (task + [(17, 3)])[0], common)
    ne = (task + [1])[0]  # OBB, and OBB26 (its angle not passed through a sigmoid)
    return detect(e, xs, kind, nc, ch, extra=_cv4(e, xs, ch, max(ch[0] // 4, ne), ne), **common)


def proto26(e: Emit, xs: Sequence[int], ch: Sequence[int], c_: int, c2: int, nc: int) -> int:
    """Proto26: the coarser levels refined by 1×1 Convs to ch[0] channels, upsampled (nearest,
    ×2, ×4) and added to the finest; a 3×3 feat_fuse Conv; then Proto's layers. Its semseg
    branch runs only in training: its parameters are reported as unused."""
    feat = xs[0]
    for i, (x, c1) in enumerate(zip(xs[1:], ch[1:])):
        up = c(e, f"feat_refine.{i}", x, c1, ch[0], 1)
        up = e.add(
            "Upsample",
            up,
            None,
            origin="function.interpolate",
            scale_factor=float(2 ** (i + 1)),
            mode="nearest",
        )
        feat = e.add("Add", [feat, up], None)
    y = proto(e, c(e, "feat_fuse", feat, ch[0], c_, 3), c_, c_, c2)
    semseg = conv_params(ch[0], c_, 3) + conv_params(c_, c_, 3) + c_ * nc + nc
    e.unused.append((e.builder.path("semseg"), semseg))
    return y


# RealNVP (ultralytics/nn/modules/block.py): 12 coupling nets of Linear(2, 64), Linear(64, 64),
# Linear(64, 2), with biases
REALNVP_PARAMS = 12 * ((2 * 64 + 64) + (64 * 64 + 64) + (64 * 2 + 2))


def pose26(
    e: Emit, xs: Sequence[int], ch: Sequence[int], nc: int, kpt: Sequence[int], common: dict[str, Any]
) -> list[int]:
    """Pose26: per level two 3×3 Convs (cv4) then a 1×1 Conv2d to the key points (cv4_kpts).
    Its sigma convolutions (cv4_sigma) and its RealNVP flow model serve the training loss only:
    their parameters are reported as unused."""
    nk = kpt[0] * kpt[1]
    c4 = max(ch[0] // 4, kpt[0] * (kpt[1] + 2))

    def kpts(prefix: str) -> int:
        flat = []
        for i, (x, c1) in enumerate(zip(xs, ch)):
            with e.module(f"{prefix}cv4.{i}", "Sequential"):
                y = c(e, "1", c(e, "0", x, c1, c4, 3), c4, c4, 3)
            y = e.add("Conv2d", y, f"{prefix}cv4_kpts.{i}", in_channels=c4, out_channels=nk, kernel_size=1)
            flat.append(e.add("Flatten", y, None, start_dim=2))
        sigma = len(xs) * (c4 * kpt[0] * 2 + kpt[0] * 2)
        e.unused.append((e.builder.path(f"{prefix}cv4_sigma"), sigma))
        return e.add("Concat", flat, f"{prefix}kpts_cat", dim=2) if len(flat) > 1 else flat[0]

    out = detect(e, xs, "Pose26", nc, ch, extra=kpts, **common)
    e.unused.append((e.builder.path("flow_model"), REALNVP_PARAMS))
    return out


def classify(
    e: Emit, x: int, c1: int, c2: int, k: int = 1, s: int = 1, p: int | None = None, g: int = 1
) -> int:
    """Classify: Conv to 1280 channels, global average pool, flatten, Dropout(0), Linear to c2;
    in eval the softmax of that."""
    y = c(e, "conv", x, c1, 1280, k, s, p, g)
    y = e.add("AdaptiveAvgPool2d", y, "pool", output_size=1)
    y = e.add("Flatten", y, None, start_dim=1)
    y = e.add("Dropout", y, "drop", p=0.0)
    y = e.add("Linear", y, "linear", in_features=1280, out_features=c2)
    return e.add("Softmax", y, None, origin="method_descriptor.softmax", dim=1)
