"""torchinfo's memory estimate of a network file, beside ``cnncalc memory``'s.

torchinfo (``pip install torchinfo``) runs the model once and reports "Forward/backward pass
size" (twice the summed output sizes of the layers it lists) and "Estimated Total Size" (that,
the parameters and the input); cnncalc counts the tensors autograd keeps, gradients and
optimizer state.

    python scripts/memory_vs_torchinfo.py examples/resnet50.yaml --batch 32 --optimizer adam
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
warnings.filterwarnings("ignore")

import torch  # noqa: E402
from torchinfo import summary  # noqa: E402

import cnncalc  # noqa: E402
from cnncalc.engine.memory import memory  # noqa: E402
from cnncalc.render.numbers import size  # noqa: E402
from tests.torch_build import to_torch  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--optimizer", default="adam")
    args = parser.parse_args()

    network = cnncalc.load(args.source)
    report = memory(network, batch=args.batch, optimizer=args.optimizer)
    shape = (args.batch, *network.input_shape[1:])
    stats = summary(to_torch(network, torch), input_size=shape, verbose=0, device="cpu")
    # torchinfo's own sums (model_statistics.py): what its summary prints, in bytes
    forward_backward = stats.total_output_bytes
    total = stats.total_input + stats.total_output_bytes + stats.total_param_bytes

    t = report.totals
    print(f"{args.source} · batch {args.batch} · {args.optimizer}")
    rows = [
        ("torchinfo Forward/backward pass size", forward_backward),
        ("torchinfo Estimated Total Size", total),
        ("cnncalc saved", t.saved_bytes or 0),
        ("cnncalc peak (estimate)", t.peak_bytes or 0),
    ]
    for label, value in rows:
        print(f"{label:38} {value:>16,}   {size(value):>10}")


if __name__ == "__main__":
    main()
