"""Sweep the PyTorch reader over real model zoos and write the coverage tables.

    python scripts/torch_coverage.py torchvision       # docs/coverage/torchvision.md
    nice -n 19 python scripts/torch_coverage.py timm --timeout 120   # docs/coverage/timm.md

Every classification model of torchvision (``torchvision.models.list_models(module=
torchvision.models)``) and every architecture of timm (``timm.list_models()``) is built on the
meta device and read through ``--from-torch``'s code path. torchvision's figures are checked
against its published ``num_params`` and ``_ops`` (GFLOPS there are multiply-adds, to three
decimals); timm's against the live module (its parameters, its output shape on the meta
device). Results go to ``docs/coverage/<zoo>.jsonl`` as they come (a long sweep can be resumed
with ``--resume``) and the Markdown table is written from them: regenerated, never hand-edited.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
import types
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "coverage"


class Timeout(Exception):  # noqa: N818 - raised by the alarm, named for what happened
    pass


def _stub_torchvision() -> None:
    """torchvision's compiled operators do not load against this torch build; its models are
    pure Python and import once this module of registrations is stubbed."""
    sys.modules.setdefault(
        "torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations")
    )


def _torchvision_models() -> list[str]:
    import torchvision

    return sorted(torchvision.models.list_models(module=torchvision.models))


def _timm_models() -> list[str]:
    import timm

    return sorted(timm.list_models())


def _spec(zoo: str, name: str) -> str:
    if zoo == "torchvision":
        # the models as torchvision builds them for its published weights: GoogLeNet without
        # its aux heads (googlenet.py drops aux1 and aux2), ViT-H/14 at 518 (its min_size), no
        # initialisation warnings
        extra = ", aux_logits=False" if name == "googlenet" else ""
        extra += ", init_weights=False" if name in ("googlenet", "inception_v3") else ""
        extra += ", image_size=518" if name == "vit_h_14" else ""  # its SWAG weights' size
        return f"torchvision.models:get_model({name!r}{extra})"
    return f"timm:create_model({name!r})"


def _input_shape(zoo: str, name: str, model: Any) -> tuple[int, ...]:
    if zoo == "torchvision":
        # the size torchvision's published figures are at: its weights' evaluation crop
        import torchvision

        transforms = torchvision.models.get_model_weights(name).DEFAULT.transforms
        crop = int(getattr(transforms, "keywords", {}).get("crop_size", 224))
        return (1, 3, crop, crop)
    size = tuple((getattr(model, "pretrained_cfg", None) or {}).get("input_size", (3, 224, 224)))
    return (1, *size)


def _one(zoo: str, name: str) -> dict[str, Any]:
    """Read one model; its figures beside the reference ones."""
    import torch

    from cnncalc import analyze
    from cnncalc.errors import CnncalcError, Position
    from cnncalc.readers.torch import network_of
    from cnncalc.readers.torch.spec import build_model, parse_spec

    spec = _spec(zoo, name)
    where = Position(f"<torch {spec}>")
    row: dict[str, Any] = {"name": name}
    try:
        model, meta = build_model(parse_spec(spec, where), torch, where)
    except CnncalcError as exc:
        return {**row, "status": "not built", "reason": exc.message}
    shape = _input_shape(zoo, name, model)
    row["input"] = list(shape)
    row["live_params"] = sum(p.numel() for p in model.parameters())
    try:
        with torch.no_grad():
            y = model(torch.empty(shape, device="meta" if meta else "cpu"))
        row["live_output"] = list(y.shape) if hasattr(y, "shape") else None
    except Exception as exc:  # the reference run failing is reported, not fatal
        row["live_output"] = f"{type(exc).__name__}"
    if zoo == "torchvision":
        import torchvision

        weights = torchvision.models.get_model_weights(name).DEFAULT.meta
        row["published_params"] = weights.get("num_params")
        row["published_gmacs"] = weights.get("_ops")
    start = time.perf_counter()
    try:
        report = analyze(network_of(model, shape, name=name, label=where.file, meta=meta))
    except CnncalcError as exc:
        return {**row, "status": "refused", "reason": str(exc).removeprefix(f"{where.file}:")}
    row["seconds"] = round(time.perf_counter() - start, 1)
    row["status"] = "read"
    row["params"] = report.totals.params
    row["unused_params"] = report.totals.unused_params or 0
    row["macs"] = report.totals.macs
    row["output"] = list(report.output_shape)
    return row


def _checks(row: dict[str, Any]) -> str:
    """What agrees and what does not, for a model read."""
    problems = []
    total = row["params"] + row["unused_params"]
    want = row.get("published_params") or row["live_params"]
    if total != want:
        problems.append(f"params {total:,} ≠ {want:,}")
    gmacs = row.get("published_gmacs")
    if gmacs is not None and round(row["macs"] / 1e9, 3) != round(gmacs, 3):
        problems.append(f"GMACs {row['macs'] / 1e9:.3f} ≠ {gmacs:.3f}")
    if isinstance(row.get("live_output"), list) and row["live_output"] != row["output"]:
        problems.append(f"output {row['output']} ≠ {row['live_output']}")
    return "; ".join(problems) or "all equal"


def _markdown(zoo: str, rows: list[dict[str, Any]], total: int) -> str:
    read = [r for r in rows if r["status"] == "read"]
    exact = [r for r in read if _checks(r) == "all equal"]
    reference = "published `num_params` and `_ops`" if zoo == "torchvision" else "the live module"
    lines = [
        f"# {zoo} through `--from-torch`",
        "",
        "Written by `scripts/torch_coverage.py` (regenerated, never hand-edited). Models built on the",
        f"meta device; figures compared with {reference}; parameters = reported + not called by",
        "forward; MACs in G (torchvision's GFLOPS column counts multiply-adds).",
        "",
        f"**{len(read)} of {total} read** ({len(exact)} with every figure equal); {len(rows)} swept.",
        "",
        "| model | status | input | params (+ unused) | reference params | GMACs | published | output "
        "| check |",
        "|---|---|---|---:|---:|---:|---:|---|---|",
    ]
    for r in rows:
        if r["status"] != "read":
            reason = str(r.get("reason", "")).replace("|", "\\|")
            lines.append(f"| {r['name']} | {r['status']} | {r.get('input', '')} | | | | | | {reason} |")
            continue
        unused = f" (+ {r['unused_params']:,})" if r["unused_params"] else ""
        want = r.get("published_params") or r["live_params"]
        published = f"{r['published_gmacs']:.3f}" if r.get("published_gmacs") is not None else ""
        lines.append(
            f"| {r['name']} | read | {r['input']} | {r['params']:,}{unused} | {want:,} | "
            f"{r['macs'] / 1e9:.3f} | {published} | {r['output']} | {_checks(r)} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("zoo", choices=["torchvision", "timm"])
    parser.add_argument("--timeout", type=int, default=120, help="seconds per model")
    parser.add_argument("--resume", action="store_true", help="keep the results already in the .jsonl")
    parser.add_argument("--only", nargs="*", help="these models only")
    parser.add_argument("--table-only", action="store_true", help="write the table from the .jsonl")
    parser.add_argument("--redo", action="store_true", help="with --resume: sweep the models not read again")
    parser.add_argument(
        "--shuffle",
        type=int,
        metavar="SEED",
        help="sweep in a seeded random order (a cut-off sweep is a sample)",
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    _stub_torchvision()
    names = args.only or (_torchvision_models() if args.zoo == "torchvision" else _timm_models())
    if args.table_only:
        names = []
    if args.shuffle is not None:
        import random

        random.Random(args.shuffle).shuffle(names)
    OUT.mkdir(parents=True, exist_ok=True)
    results = OUT / f"{args.zoo}.jsonl"
    done: dict[str, dict[str, Any]] = {}
    if (args.resume or args.table_only) and results.exists():
        for line in results.read_text().splitlines():
            row = json.loads(line)
            if not (args.redo and row["status"] != "read" and row["name"] in names):
                done[row["name"]] = row
    if not args.table_only:
        with results.open("a" if args.resume else "w") as out:

            def alarm(signum: int, frame: Any) -> None:
                raise Timeout

            signal.signal(signal.SIGALRM, alarm)
            for name in names:
                if name in done:
                    continue
                signal.alarm(args.timeout)
                try:
                    row = _one(args.zoo, name)
                except Timeout:
                    row = {"name": name, "status": "refused", "reason": f"over {args.timeout} s"}
                except Exception as exc:  # a crash in the sweep is a finding, recorded
                    row = {"name": name, "status": "crashed", "reason": f"{type(exc).__name__}: {exc}"[:300]}
                finally:
                    signal.alarm(0)
                done[name] = row
                out.write(json.dumps(row) + "\n")
                out.flush()
                print(name, row["status"], row.get("reason", "")[:120], flush=True)
    total = len(_torchvision_models() if args.zoo == "torchvision" else _timm_models())
    rows = [done[n] for n in sorted(done)]
    (OUT / f"{args.zoo}.md").write_text(_markdown(args.zoo, rows, total))


if __name__ == "__main__":
    main()
