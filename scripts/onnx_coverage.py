"""Export every torchvision classification model to ONNX (opset 17) and read each export with
cnncalc: writes docs/coverage/onnx.md, the table of what reads, what is refused and why, with
parameters and MACs against torchvision's published ``num_params`` and ``_ops``.

    nice -n 19 python scripts/onnx_coverage.py [--cache /work/cache/onnx] [--only resnet18 ...]

Exports are made once, each in its own process (a failing or huge export stops only itself),
and reused from the cache directory afterwards; each model's export status is kept beside its
file (``status.json``). Models are built with random weights (an export needs real tensors, not
meta ones) in the configuration of their DEFAULT weights (GoogLeNet and Inception-v3 transform
their input) and exported at the DEFAULT weights' crop size, the size ``_ops`` is published for.
Each export is read by the ``cnncalc shape --format json`` command, in a process of its own, so
a refusal is the one-line message and exit status a user sees.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import types
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OPSET = 17
EXPORT_LIMIT = 5 * 2**30  # bytes: larger exports are skipped and recorded


def _torchvision() -> Any:
    """torchvision's models, importable without its compiled operators."""
    sys.modules.setdefault(
        "torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations")
    )
    from torchvision import models

    return models


def model_names() -> list[str]:
    """Every torchvision classification model, by name."""
    models = _torchvision()
    return sorted(models.list_models(module=models))


def published(name: str) -> dict[str, Any]:
    """What torchvision publishes for the DEFAULT weights: parameters, GFLOPS (multiply-adds)
    and the crop size they are measured at."""
    weights = _torchvision().get_model_weights(name).DEFAULT
    crop = weights.transforms().crop_size
    size = int(crop[0]) if isinstance(crop, list | tuple) else int(crop)
    return {"num_params": int(weights.meta["num_params"]), "ops": float(weights.meta["_ops"]), "size": size}


def build_kwargs(name: str) -> dict[str, Any]:
    """The constructor arguments the DEFAULT weights imply: GoogLeNet and Inception-v3 with
    pretrained weights transform their input (torchvision/models/googlenet.py, inception.py),
    ViT-H/14's are for a larger image."""
    if name in ("googlenet", "inception_v3"):
        return {"transform_input": True, "init_weights": False}
    if name == "vit_h_14":  # its DEFAULT weights are for 518 × 518 (torchvision/models/vision_transformer.py)
        return {"image_size": 518}
    return {}


def facts_one(name: str, cache: Path) -> dict[str, Any]:
    """The figures an export's status keeps beside the file (run in a process of its own, for
    exports cached before they were kept): folded BatchNorm channels and constant-only MACs."""
    import torch

    models = _torchvision()
    try:
        with torch.device("meta"):  # only the structure is needed: no weights allocated
            model = models.get_model(name, **build_kwargs(name)).eval()
    except NotImplementedError:  # a factory that reads values while it builds (RegNet)
        model = models.get_model(name, **build_kwargs(name)).eval()
    return _facts(model, torch, cache / name / f"{name}.onnx")


def _facts(model: Any, torch: Any, path: Path) -> dict[str, Any]:
    """Parameters the exporter's BatchNorm folding removes, and constant-only MACs.

    Folding a BatchNorm into the convolution before it drops its weight and bias (2·C) and gives
    the convolution a bias (C) if it had none: C or 2·C fewer parameters. The BatchNorms left in
    the file (DenseNet's, after a concatenation) are not folded; in torchvision these all follow
    convolutions without bias.
    """
    # the auxiliary heads of Inception-v3 and GoogLeNet run only in training: their BatchNorms
    # are not in the export
    heads = [getattr(model, name, None) for name in ("AuxLogits", "aux1", "aux2")]
    unused = {m for head in heads if head is not None for m in head.modules()}
    removed, conv = 0, None
    for m in model.modules():
        if isinstance(m, torch.nn.Conv2d):
            conv = m
        elif isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and m not in unused:
            removed += m.num_features * (2 if conv is not None and conv.bias is not None else 1)
    return {"folded_bn": removed - _bn_nodes(path), "constant_macs": _constant_macs(model, torch)}


def export_one(name: str, cache: Path) -> dict[str, Any]:
    """Export one model (run in a process of its own) and return its status."""
    import torch

    models = _torchvision()
    size = published(name)["size"]
    folder = cache / name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.onnx"
    torch.manual_seed(0)
    model = models.get_model(name, **build_kwargs(name)).eval()
    x = torch.zeros(1, 3, size, size)
    with torch.no_grad():
        shape = list(model(x).shape)
    start = time.time()
    torch.onnx.export(model, (x,), str(path), opset_version=OPSET, dynamo=False)
    total = sum(f.stat().st_size for f in folder.iterdir() if f.name != "status.json")
    return {
        **_facts(model, torch, path),
        "name": name,
        "status": "exported",
        "file": str(path),
        "bytes": total,
        "seconds": round(time.time() - start, 1),
        "output_shape": shape,
        "input_shape": [1, 3, size, size],
    }


def _bn_nodes(path: Path) -> int:
    """Channels of the BatchNormalization nodes left in an export: the exporter's eval-mode
    constant folding merges the others into the convolution before them."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    dims = {init.name: list(init.dims) for init in model.graph.initializer}
    for node in model.graph.node:  # the exporter shares equal tensors through Identity nodes
        if node.op_type == "Identity" and node.input[0] in dims:
            dims[node.output[0]] = dims[node.input[0]]
    return sum(dims[n.input[1]][0] for n in model.graph.node if n.op_type == "BatchNormalization")


def _constant_macs(model: Any, torch: Any) -> int:
    """Multiply-adds computed from constants only, which the export folds away and ``_ops``
    counts: Swin V2's continuous position bias MLP (cpb_mlp), run on its coordinate table."""
    macs = 0
    for module in model.modules():
        table = getattr(module, "relative_coords_table", None)
        mlp = getattr(module, "cpb_mlp", None)
        if table is None or mlp is None:
            continue
        rows = table.numel() // table.shape[-1]
        macs += sum(rows * m.in_features * m.out_features for m in mlp if isinstance(m, torch.nn.Linear))
    return macs


def ensure_export(name: str, cache: Path, timeout: float) -> dict[str, Any]:
    """The cached export status of a model, exporting it first when there is none."""
    status_file = cache / name / "status.json"
    if status_file.exists():
        status = dict(json.loads(status_file.read_text()))
        if status["status"] == "exported" and "folded_bn" not in status:
            cmd = [sys.executable, __file__, "--facts-one", name, "--cache", str(cache)]
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True)
            status.update(json.loads(done.stdout.strip().splitlines()[-1]))
            status_file.write_text(json.dumps(status, indent=1))
        return status
    (cache / name).mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, __file__, "--export-one", name, "--cache", str(cache)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode == 0:
            status = dict(json.loads(done.stdout.strip().splitlines()[-1]))
        else:
            lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
            status = {"name": name, "status": "export failed", "reason": (lines or ["?"])[-1][:300]}
    except subprocess.TimeoutExpired:
        status = {"name": name, "status": "export failed", "reason": f"export took over {timeout:.0f} s"}
    if status.get("bytes", 0) > EXPORT_LIMIT:
        status = {
            "name": name,
            "status": "export skipped",
            "reason": f"{status['bytes']:,} bytes, over 5 GiB",
        }
        for f in (cache / name).iterdir():
            f.unlink()
    status_file.write_text(json.dumps(status, indent=1))
    return status


def read_one(status: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Read one export with the cnncalc command: its totals and output shape, or its refusal."""
    cmd = [sys.executable, "-m", "cnncalc", "shape", status["file"], "--format", "json"]
    start = time.time()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"read": "timeout", "reason": f"reading took over {timeout:.0f} s"}
    seconds = round(time.time() - start, 1)
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        reason = lines[0] if len(lines) == 1 else " / ".join(lines[-2:])
        return {"read": "refused", "exit": done.returncode, "reason": reason, "seconds": seconds}
    report = json.loads(done.stdout)
    return {
        "read": "read",
        "params": report["totals"]["params"],
        "macs": report["totals"]["macs"],
        "output_shape": report["output_shape"],
        "seconds": seconds,
    }


# Known differences from the published parameter count, with their cause.
PARAM_NOTES = {
    "inception_v3": (
        3_326_696,
        "the auxiliary classifier (AuxLogits) runs only in training, so the eval-mode export has no such "
        "nodes",
    ),
}


def verdict(name: str, pub: dict[str, Any], status: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    """One row: how the read figures compare with the published ones."""
    row: dict[str, Any] = {"name": name, **pub, **status, **result}
    if result.get("read") != "read":
        return row
    gmacs = (result["macs"] + status.get("constant_macs", 0)) / 1e9
    row["macs_ok"] = f"{gmacs:.3f}" == f"{pub['ops']:.3f}"
    missing, _ = PARAM_NOTES.get(name, (0, ""))
    row["params_ok"] = result["params"] + missing + status.get("folded_bn", 0) == pub["num_params"]
    row["shape_ok"] = result["output_shape"] == status.get("output_shape")
    return row


def _mark(ok: bool) -> str:
    return "=" if ok else "**≠**"


def table(rows: list[dict[str, Any]], command: str) -> str:
    """docs/coverage/onnx.md."""
    read = [r for r in rows if r.get("read") == "read"]
    exact = [r for r in read if r["macs_ok"] and r["params_ok"] and r["shape_ok"]]
    exported = [r for r in rows if r.get("status") == "exported"]
    lines = [
        "# ONNX coverage: torchvision's classification models",
        "",
        f"Generated by `{command}`; do not edit by hand.",
        "",
        f"Every torchvision classification model ({len(rows)}), built with random weights in the "
        f"configuration of its DEFAULT weights, exported with "
        f"`torch.onnx.export(model, x, path, opset_version={OPSET}, dynamo=False)` at the DEFAULT weights' "
        "crop size, and read with `cnncalc shape FILE --format json`. Published figures are "
        '`get_model_weights(name).DEFAULT.meta["num_params"]` and `["_ops"]` (GFLOPS, which '
        "torchvision counts as multiply-adds); MACs compare to three decimals; the output shape "
        "is the torch model's.",
        "",
        f"**{len(read)} of {len(rows)} read** ({len(exported)} exported); {len(exact)} with parameters, "
        "MACs and output shape as published.",
        "",
        "| model | input | result | params (cnncalc / published) | GMACs (cnncalc / published) | output |",
        "|---|---|---|---|---|---|",
    ]
    notes: list[str] = []
    for r in rows:
        size = f"{r['size']}²"
        if r.get("status") != "exported":
            lines.append(f"| {r['name']} | {size} | {r['status']}: {_cell(r.get('reason', ''))} | | | |")
            continue
        if r.get("read") != "read":
            lines.append(f"| {r['name']} | {size} | {r.get('read')}: {_cell(r.get('reason', ''))} | | | |")
            continue
        params = f"{r['params']:,} {_mark(r['params_ok'])} {r['num_params']:,}"
        if r.get("folded_bn"):
            params += f" − {r['folded_bn']:,}²"
        if r["name"] in PARAM_NOTES:
            missing, why = PARAM_NOTES[r["name"]]
            params += f" − {missing:,}¹"
            notes.append(f"¹ {r['name']}: {why}.")
        macs = f"{r['macs'] / 1e9:.3f}"
        if r.get("constant_macs"):
            macs += f" + {r['constant_macs'] / 1e9:.3f}³"
        macs += f" {_mark(r['macs_ok'])} {r['ops']:.3f}"
        shape = "(" + ", ".join(str(d) for d in r["output_shape"]) + ")"
        lines.append(f"| {r['name']} | {size} | read | {params} | {macs} | {shape} {_mark(r['shape_ok'])} |")
    notes += [
        "² parameters the exporter's eval-mode constant folding removes by merging each BatchNorm into the "
        "convolution before it: its weight and bias (2·C) become the convolution's bias (C; VGG's "
        "convolutions have one already, so 2·C); counted from the torch model's BatchNorm layers less the "
        "BatchNormalization nodes left in the file.",
        "³ multiply-adds computed from constants only, which the export folds into a stored tensor and "
        "`_ops` counts: Swin V2's continuous position bias MLP (`cpb_mlp`) run on its coordinate table, "
        "rows × in_features × out_features for each of its Linear layers, from the torch model.",
        "Parameters count every tensor the file stores and the graph adds, multiplies or concatenates "
        "(LearnedAdd, LearnedMul, LearnedConcat): where the exporter computed such a tensor from parameters "
        "and buffers (Swin's relative position bias gathered per block, its shifted-window masks, MaxViT's "
        "relative position bias), the stored tensor's size is counted, not the parameters it came from, and "
        "the count differs from the published one.",
    ]
    lines += ["", *notes]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    """A message as a table cell (pipes escaped, paths shortened to the file name)."""
    text = text.replace("|", "\\|")
    for root in ("/work/cache/onnx/",):
        text = text.replace(root, "")
    return f"`{text}`" if text else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path(os.environ.get("ONNX_CACHE", "/work/cache/onnx")))
    parser.add_argument("--only", nargs="*", help="these models only (the table is not written)")
    parser.add_argument("--export-only", action="store_true", help="export, do not read")
    parser.add_argument("--export-timeout", type=float, default=3600)
    parser.add_argument("--read-timeout", type=float, default=900)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "coverage" / "onnx.md")
    parser.add_argument("--export-one", help=argparse.SUPPRESS)
    parser.add_argument("--facts-one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_one:
        print(json.dumps(export_one(args.export_one, args.cache)))
        return
    if args.facts_one:
        print(json.dumps(facts_one(args.facts_one, args.cache)))
        return
    names = args.only or model_names()
    rows = []
    # the small models first, so that a long sweep reports early
    for name in sorted(names, key=lambda n: published(n)["num_params"]):
        status = ensure_export(name, args.cache, args.export_timeout)
        pub = published(name)
        result: dict[str, Any] = {}
        if status["status"] == "exported" and not args.export_only:
            result = read_one(status, args.read_timeout)
        row = verdict(name, pub, status, result)
        rows.append(row)
        brief = {k: row.get(k) for k in ("status", "read", "params_ok", "macs_ok", "shape_ok", "reason")}
        print(name, json.dumps({k: v for k, v in brief.items() if v is not None}), flush=True)
    if args.only or args.export_only:
        return
    rows.sort(key=lambda r: str(r["name"]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table(rows, "nice -n 19 python scripts/onnx_coverage.py"))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
