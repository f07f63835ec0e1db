"""One real PyTorch CPU training step of a network file, measured against ``cnncalc memory``.

Builds the network as torch.nn modules (``tests/torch_build.py``), runs forward, backward and
one optimizer step on random data, and prints the process's peak RSS growth over the step, the
bytes of the tensors autograd saved (``torch.autograd.graph.saved_tensors_hooks``, storages
counted once, parameters and buffers excluded) and the optimizer's state after the step, beside
cnncalc's figures for the same options.

    python scripts/memory_vs_torch.py examples/resnet50.yaml --batch 32 --optimizer adam
"""

from __future__ import annotations

import argparse
import resource
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

import cnncalc
from cnncalc.engine.memory import memory
from cnncalc.render.numbers import size
from tests.torch_build import to_torch

OPTIMIZERS: dict[str, Any] = {
    "sgd": lambda p: torch.optim.SGD(p, lr=0.01),
    "momentum": lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9),
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
}


def peak_rss() -> int:
    """The process's peak resident set size so far, in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="adam")
    args = parser.parse_args()

    torch.manual_seed(0)
    network = cnncalc.load(args.source)
    report = memory(network, batch=args.batch, optimizer=args.optimizer)
    shape = (args.batch, *network.input_shape[1:])

    before = peak_rss()
    model = to_torch(network, torch).train()
    optimizer = OPTIMIZERS[args.optimizer](model.parameters())
    x = torch.randn(shape)
    owned = {p.untyped_storage().data_ptr() for p in model.parameters()}
    owned |= {b.untyped_storage().data_ptr() for b in model.buffers()}
    saved: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        if storage.data_ptr() not in owned:
            saved[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = model(x)
    out.float().sum().backward()
    optimizer.step()
    growth = peak_rss() - before
    state = sum(
        v.untyped_storage().nbytes()
        for s in optimizer.state.values()
        for v in s.values()
        if isinstance(v, torch.Tensor)
    )

    t = report.totals
    print(
        f"{args.source} · batch {args.batch} · {args.optimizer} · torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads"
    )
    rows = [
        ("saved tensors", t.saved_bytes, sum(saved.values())),
        ("optimizer state", t.optimizer_bytes, state),
        ("peak (cnncalc estimate) / RSS growth", t.peak_bytes, growth),
    ]
    print(f"{'':38} {'cnncalc':>16} {'PyTorch':>16}")
    for label, ours, theirs in rows:
        print(f"{label:38} {ours:>16,} {theirs:>16,}   {size(ours or 0):>10} {size(theirs):>10}")
    if t.peak_bytes:
        print(f"RSS growth / cnncalc peak: {growth / t.peak_bytes:.2f}")


if __name__ == "__main__":
    main()
