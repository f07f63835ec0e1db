"""Run fvcore, thop, ptflops and Ultralytics' FLOPs counting on real models and compare each with
cnncalc's ``--count`` under that tool's convention; write docs/coverage/count.md.

    python scripts/count_vs_tools.py            # the examples, six torchvision models, YOLOv8n
    python scripts/count_vs_tools.py --zoo      # every torchvision classification model

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


def examples(torch: Any, timeout: int) -> list[dict[str, Any]]:
    import cnncalc
    from tests.torch_build import to_torch

    rows = []
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        network = cnncalc.load(str(path))
        model = to_torch(network, torch).eval()
        x = torch.zeros(network.input_shape)
        rows += _compare(f"examples/{path.name}", model, network, x, torch, timeout)
    return rows


def torchvision_models(names: list[str], torch: Any, timeout: int, done: Any = None) -> list[dict[str, Any]]:
    import torchvision
    from torch_coverage import _input_shape, _spec

    import cnncalc
    from cnncalc.errors import CnncalcError, Position
    from cnncalc.readers.torch.spec import parse_spec

    rows = []
    for name in names:
        spec = parse_spec(_spec("torchvision", name), Position("<torch>"))
        model = torchvision.models.get_model(name, **dict(spec.kwargs)).eval()
        shape = _input_shape("torchvision", name, model)
        try:
            network = cnncalc.from_torch(model, shape)
        except CnncalcError as exc:
            rows.append(
                {"model": name, "input": list(shape), "tool": "-", "failed": f"not read: {exc.message}"}
            )
            continue
        rows += _compare(name, model, network, torch.zeros(shape), torch, timeout)
        if done is not None:
            done(rows)
    return rows


def yolov8n(torch: Any) -> list[dict[str, Any]]:
    """YOLOv8n at 640: Ultralytics' model, and what its ``model.fuse()`` prints."""
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
    lines = [
        "# `--count` against the tools themselves",
        "",
        f"Written by `{command}` (regenerated, never hand-edited). Each tool run live on the model;",
        "cnncalc's `--count TOOL` on the same model as cnncalc reads it (the examples' PyTorch twins,",
        "torchvision's models through `--from-torch`, YOLOv8n through the Ultralytics reader). MACs,",
        "except ultralytics: FLOPs, twice thop's count of the model with BatchNorm folded.",
        "",
        f"**{exact} of {len(compared)} figures exact** over {models} models.",
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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--zoo", action="store_true", help="every torchvision classification model")
    parser.add_argument("--models", help="torchvision models to run, comma-separated")
    parser.add_argument("--timeout", type=int, default=300, help="seconds per tool and model")
    args = parser.parse_args()
    stub_torchvision()
    signal.signal(signal.SIGALRM, _alarm)
    import torch
    import torchvision

    torch.set_grad_enabled(True)
    if args.zoo:
        names = sorted(torchvision.models.list_models(module=torchvision.models))
    else:
        names = args.models.split(",") if args.models else list(SAMPLE)
    command = "python scripts/count_vs_tools.py" + (" --zoo" if args.zoo else "")
    first = examples(torch, args.timeout) + yolov8n(torch)
    rows = first + torchvision_models(
        names, torch, args.timeout, lambda so_far: OUT.write_text(markdown(first + so_far, command))
    )
    OUT.write_text(markdown(rows, command))
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
