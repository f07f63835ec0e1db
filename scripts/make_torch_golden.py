"""Regenerate tests/data/torch_golden.jsonl from real PyTorch (needs torch installed)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from conformance.generate import TYPES, generate_cases  # noqa: E402
from conformance.oracle import run_torch, torch_version  # noqa: E402

#: Seed of the committed golden file; tests/test_conformance.py's live seed differs.
GOLDEN_SEED = 1729
GOLDEN_N = 6000
GOLDEN_PATH = ROOT / "tests" / "data" / "torch_golden.jsonl"


def _dump(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(", ", ": "))


def summarise(rows: list[dict[str, Any]]) -> str:
    """Per-type table of total / valid / invalid counts plus overall totals."""
    total: Counter[str] = Counter()
    valid: Counter[str] = Counter()
    for row in rows:
        name = row["case"]["type"]
        total[name] += 1
        valid[name] += bool(row["expect"]["ok"])
    lines = [f"{'type':<22} {'total':>5} {'valid':>5} {'invalid':>7}"]
    for name in TYPES:
        t, v = total[name], valid[name]
        flag = "" if (t >= 40 and 0 < v < t) else "   <-- check"
        lines.append(f"{name:<22} {t:>5} {v:>5} {t - v:>7}{flag}")
    n = sum(total.values())
    nv = sum(valid.values())
    lines.append(f"{'ALL':<22} {n:>5} {nv:>5} {n - nv:>7}   invalid share {100 * (n - nv) / max(n, 1):.1f}%")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=GOLDEN_SEED)
    parser.add_argument("-n", type=int, default=GOLDEN_N)
    parser.add_argument("--out", type=Path, default=GOLDEN_PATH)
    opts = parser.parse_args(argv)

    start = time.perf_counter()
    cases = generate_cases(opts.seed, opts.n)
    rows = [{"case": case, "expect": run_torch(case)} for case in cases]
    header = {"torch_version": torch_version(), "seed": opts.seed, "n": opts.n}
    opts.out.parent.mkdir(parents=True, exist_ok=True)
    with opts.out.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(_dump(header) + "\n")
        for row in rows:
            fh.write(_dump(row) + "\n")
    print(summarise(rows))
    print(f"wrote {len(rows)} cases to {opts.out} in {time.perf_counter() - start:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
