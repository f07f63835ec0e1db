"""RegNetY-128GF (644,812,894 parameters) read by cnncalc's PyTorch reader, and the same summary
with torchinfo, for the time and memory side by side (needs torch, torchvision and torchinfo).

    /usr/bin/time -v python benchmarks/regnet_y_128gf.py cnncalc
    /usr/bin/time -v python benchmarks/regnet_y_128gf.py torchinfo        # the model on the CPU
    /usr/bin/time -v python benchmarks/regnet_y_128gf.py torchinfo-meta   # fails: the factory computes
                                                                         # widths with tensors on meta

cnncalc builds the model as ``--from-torch "torchvision.models:regnet_y_128gf()"`` does (weights
on the meta device) and prints its totals; torchinfo builds it as a user would and runs its
``summary`` at 1×3×224×224.

Measured on 2 December 2026 (torch 2.13.0 CPU, torchvision 0.28.0, torchinfo 1.8.0, two shared
cores): cnncalc 7.8 s and 389 MiB peak on a quiet machine, 18.9 s and 390 MiB with two other
model sweeps running; torchinfo in that same load 95.5 s and 2.98 GiB (it allocates the weights
and runs the forward). Both count 644,812,894 parameters; torchinfo's 127,518,311,422
mult-adds include its per-element additions, cnncalc's 127,517,815,680 are torchvision's
published 127.518 GFLOPS.
"""

from __future__ import annotations

import sys
import time
import types
import warnings

warnings.filterwarnings("ignore")
# torchvision's compiled operators do not load against this torch build; its models are pure Python
sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))


def with_cnncalc() -> None:
    from cnncalc import analyze
    from cnncalc.readers import ReadOptions, read

    read_ = read("torch:torchvision.models:regnet_y_128gf()", ReadOptions((1, 3, 224, 224)), format="torch")
    totals = analyze(read_.network).totals
    print(f"cnncalc: {totals.params:,} params, {totals.macs:,} MACs")


def with_torchinfo(device: str) -> None:
    import torch
    import torchvision
    from torchinfo import summary

    with torch.device(device):
        model = torchvision.models.regnet_y_128gf()
    stats = summary(model, (1, 3, 224, 224), device=device, verbose=0)
    print(f"torchinfo: {stats.total_params:,} params, {stats.total_mult_adds:,} mult-adds")


if __name__ == "__main__":
    start = time.perf_counter()
    which = sys.argv[1] if len(sys.argv) > 1 else "cnncalc"
    if which == "cnncalc":
        with_cnncalc()
    else:
        with_torchinfo("meta" if which == "torchinfo-meta" else "cpu")
    print(f"{time.perf_counter() - start:.1f} s", file=sys.stderr)
