"""Run fvcore, thop, ptflops and Ultralytics' FLOPs counting on real models and compare each with
cnncalc's ``--count`` under that tool's convention; write docs/coverage/count.md.

    python scripts/count_vs_tools.py            # the examples, six torchvision models, YOLOv8n
    python scripts/count_vs_tools.py --zoo      # every torchvision classification model
    python scripts/count_vs_tools.py --zoo --resume   # continue: skip the models already run

Rows go to docs/coverage/count.jsonl as each model finishes; the Markdown table is written from
all of them.

The shipped examples (examples/*.yaml) run as their PyTorch twins (tests/torch_build.py: every
layer a torch.nn module, Add as ``a + b``); torchvision's models are built on the CPU (the tools
need real tensors) and read through ``--from-torch``'s code path at the size of their published
figures; YOLOv8n is Ultralytics' own DetectionModel against cnncalc's Ultralytics reader.
"ultralytics" is twice thop's count of the model with BatchNorm folded (torch.fx's ``fuse``, or
Ultralytics' ``fuse()`` for YOLO, whose figure is also ``get_flops`` itself). Darknet does not
install here: its convention is checked against its published printouts in tests/test_count.py.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from tests.count_tools import (  # noqa: E402 - after the path is set
    fused,
    fvcore_count,
    ptflops_count,
    stub_torchvision,
    thop_count,
    ultralytics_flops,
    ultralytics_get_flops,
)

TOOLS = ("fvcore", "thop", "ptflops", "ultralytics")
SAMPLE = ("resnet50", "mobilenet_v2", "densenet121", "efficientnet_b0", "vit_b_16", "convnext_tiny")
OUT = ROOT / "docs" / "coverage" / "count.md"
ROWS = ROOT / "docs" / "coverage" / "count.jsonl"


class Timeout(Exception):  # noqa: N818 - raised by the alarm, named for what happened
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise Timeout


def _tool(tool: str, model: Any, x: Any, torch: Any) -> int:
    if tool == "fvcore":
        return fvcore_count(model, x)
    if tool == "thop":
        return thop_count(model, x)
    if tool == "ptflops":
        return ptflops_count(model, x)
    return 2 * thop_count(fused(model, torch), x)


def _compare(label: str, model: Any, network: Any, x: Any, torch: Any, timeout: int) -> list[dict[str, Any]]:
    """Each tool on ``model`` against cnncalc's convention of it on ``network``."""
    from cnncalc.count import report_under

    rows = []
    for tool in TOOLS:
        row: dict[str, Any] = {"model": label, "input": list(x.shape), "tool": tool}
        report = report_under(network, tool)
        assert report.count is not None
        row["ours"], row["unknown"] = report.totals.macs, len(report.count.unknown)
        signal.alarm(timeout)
        start = time.perf_counter()
        try:
            row["theirs"] = _tool(tool, model, x, torch)
        except Timeout:
            row["failed"] = f"over {timeout} s"
        except Exception as exc:  # a tool failing on a model is reported, not fatal
            row["failed"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:80] if str(exc) else ''}"
        finally:
            signal.alarm(0)
        row["seconds"] = round(time.perf_counter() - start, 1)
        rows.append(row)
        print(label, tool, row.get("theirs", row.get("failed")), row["ours"], flush=True)
    return rows


def examples(torch: Any, timeout: int, skip: set[str]) -> list[dict[str, Any]]:
    import cnncalc
    from tests.torch_build import to_torch

    rows = []
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        if f"examples/{path.name}" in skip:
            continue
        network = cnncalc.load(str(path))
        model = to_torch(network, torch).eval()
        x = torch.zeros(network.input_shape)
        rows += _compare(f"examples/{path.name}", model, network, x, torch, timeout)
    return rows


def torchvision_models(
    names: list[str], torch: Any, timeout: int, skip: set[str], done: Any = None
) -> list[dict[str, Any]]:
    import torchvision
    from torch_coverage import _input_shape, _spec

    import cnncalc
    from cnncalc.errors import CnncalcError, Position
    from cnncalc.readers.torch.spec import parse_spec

    rows = []
    for name in names:
        if name in skip:
            continue
        spec = parse_spec(_spec("torchvision", name), Position("<torch>"))
        model = torchvision.models.get_model(name, **dict(spec.kwargs)).eval()
        shape = _input_shape("torchvision", name, model)
        try:
            network = cnncalc.from_torch(model, shape)
        except CnncalcError as exc:
            refused = [
                {"model": name, "input": list(shape), "tool": "-", "failed": f"not read: {exc.message}"}
            ]
            rows += refused
            if done is not None:
                done(refused)
            continue
        found = _compare(name, model, network, torch.zeros(shape), torch, timeout)
        rows += found
        if done is not None:
            done(found)
    return rows


def yolov8n(torch: Any, skip: set[str]) -> list[dict[str, Any]]:
    """YOLOv8n at 640: Ultralytics' model, and what its ``model.fuse()`` prints."""
    if "YOLOv8n (Ultralytics)" in skip:
        return []
    import copy

    from ultralytics.nn import tasks
    from ultralytics.utils import YAML

    from cnncalc.count import report_under
    from cnncalc.readers import ReadOptions, read

    path = ROOT / "tests" / "data" / "ultralytics" / "yolov8.yaml"
    d = YAML.load(str(path))
    d["scale"] = "n"
    with contextlib.redirect_stdout(io.StringIO()):
        model = tasks.DetectionModel(d, verbose=False).eval()
    network = read(str(path), ReadOptions(scale="n")).network
    x = torch.zeros(1, 3, 640, 640)
    rows = []
    for tool in TOOLS:
        report = report_under(network, tool)
        assert report.count is not None
        row: dict[str, Any] = {"model": "YOLOv8n (Ultralytics)", "input": [1, 3, 640, 640], "tool": tool}
        row["ours"], row["unknown"] = report.totals.macs, len(report.count.unknown)
        if tool == "ultralytics":
            with contextlib.redirect_stdout(io.StringIO()):
                fused_model = copy.deepcopy(model).fuse(verbose=False)
            row["theirs"] = ultralytics_flops(fused_model, x)
            row["note"] = f"get_flops {ultralytics_get_flops(fused_model, 640)} G"
        else:
            row["theirs"] = {"fvcore": fvcore_count, "thop": thop_count, "ptflops": ptflops_count}[tool](
                copy.deepcopy(model), x
            )
        rows.append(row)
        print(row["model"], tool, row["theirs"], row["ours"], flush=True)
    return rows


def _status(row: dict[str, Any]) -> str:
    if "failed" in row:
        return f"tool failed ({row['failed']})" if row["tool"] != "-" else row["failed"]
    if row["unknown"]:
        return f"{row['unknown']} layers unknown"
    return "exact" if row["theirs"] == row["ours"] else f"differs by {row['ours'] - row['theirs']:+,}"


def markdown(rows: list[dict[str, Any]], command: str) -> str:
    compared = [r for r in rows if "theirs" in r]
    exact = sum(1 for r in compared if _status(r) == "exact")
    models = len({r["model"] for r in rows})
    refused = len({r["model"] for r in rows if r["tool"] == "-"})
    lines = [
        "# `--count` against the tools themselves",
        "",
        f"Written by `{command}` (regenerated, never hand-edited). Each tool run live on the model;",
        "cnncalc's `--count TOOL` on the same model as cnncalc reads it (the examples' PyTorch twins,",
        "torchvision's models through `--from-torch`, YOLOv8n through the Ultralytics reader). MACs,",
        "except ultralytics: FLOPs, twice thop's count of the model with BatchNorm folded.",
        "",
        f"**{exact} of {len(compared)} figures exact** over {models - refused} models read"
        f" ({refused} more not read by cnncalc: the reason in their row).",
        "",
        "| model | input | tool | tool's figure | cnncalc --count | check |",
        "|---|---|---|---:|---:|---|",
    ]
    for r in rows:
        theirs = f"{r['theirs']:,}" if "theirs" in r else "-"
        ours = f"{r['ours']:,}" if "ours" in r else "-"
        status = _status(r) + (f"; {r['note']}" if r.get("note") else "")
        shape = "×".join(str(d) for d in r["input"])
        lines.append(f"| {r['model']} | {shape} | {r['tool']} | {theirs} | {ours} | {status} |")
    return "\n".join(lines) + "\n"


def _ordered(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The examples, then YOLOv8n, then torchvision's models by name; tools in TOOLS order."""

    def key(r: dict[str, Any]) -> tuple[int, str, int]:
        group = 0 if r["model"].startswith("examples/") else 1 if r["model"].startswith("YOLO") else 2
        return group, r["model"], TOOLS.index(r["tool"]) if r["tool"] in TOOLS else -1

    return sorted(rows, key=key)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--zoo", action="store_true", help="every torchvision classification model")
    parser.add_argument("--models", help="torchvision models to run, comma-separated")
    parser.add_argument("--timeout", type=int, default=300, help="seconds per tool and model")
    parser.add_argument(
        "--resume", action="store_true", help="keep the rows of count.jsonl, skip their models"
    )
    parser.add_argument(
        "--shard", default="0/1", help="I/N: every N-th model from the I-th (parallel sweeps)"
    )
    args = parser.parse_args()
    stub_torchvision()
    signal.signal(signal.SIGALRM, _alarm)
    import torch
    import torchvision

    torch.set_grad_enabled(True)
    if args.zoo:
        # cheapest first (torchvision's published GFLOPS), so a sweep stopped early has the most
        everything = torchvision.models.list_models(module=torchvision.models)
        names = sorted(everything, key=lambda n: torchvision.models.get_model_weights(n).DEFAULT.meta["_ops"])
    else:
        names = args.models.split(",") if args.models else list(SAMPLE)
    index, count = (int(part) for part in args.shard.split("/"))
    names = names[index::count]
    command = "python scripts/count_vs_tools.py" + (" --zoo" if args.zoo else "")
    kept = (
        [json.loads(line) for line in ROWS.read_text().splitlines()] if args.resume and ROWS.exists() else []
    )
    if not args.resume:
        ROWS.write_text("")
    skip = {r["model"] for r in kept}

    def done(found: list[dict[str, Any]]) -> None:
        with ROWS.open("a") as out:
            out.writelines(json.dumps(r) + "\n" for r in found)
        # every row so far, those of a sweep running beside this one (--shard) included
        everything = [json.loads(line) for line in ROWS.read_text().splitlines()]
        OUT.write_text(markdown(_ordered(everything), command))

    done(examples(torch, args.timeout, skip))
    done(yolov8n(torch, skip))
    torchvision_models(names, torch, args.timeout, skip, done)
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
