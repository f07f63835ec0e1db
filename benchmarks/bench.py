"""Time cnncalc as whole processes: the VGG-16 table and JSON, and generated stacks of 1k, 10k
and 100k layers, beside the import floor (what any typer + rich + pydantic + PyYAML program pays
before doing anything) measured in the same run. Prints the median wall time, its ratio to the
floor's median, the median CPU time (user + system) and its ratio, and the peak memory (max RSS)
of each command. The targets (``--check``) are on the wall-time ratio.

    python benchmarks/bench.py            # 7 rounds, each command once per round (the 100k
                                          # stack in the first 3)
    python benchmarks/bench.py --runs 15
    python benchmarks/bench.py --check    # exit 1 when a target of TARGETS is missed
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _cnncalc() -> list[str]:
    exe = shutil.which("cnncalc")
    return [exe] if exe else [sys.executable, "-m", "cnncalc"]


def run_once(argv: list[str]) -> tuple[float, int, float]:
    """Wall seconds, peak RSS (KiB) and CPU seconds (user + system) of one run, measured with
    wait4 on the child alone."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(argv)}")
    return elapsed, usage.ru_maxrss, usage.ru_utime + usage.ru_stime


def stack(path: Path, layers: int) -> Path:
    """A chain of `layers` layers: Conv2d(8, 8, 3, padding=1) and ReLU in turn on 1×8×16×16."""
    lines = [f"# {layers} generated layers", f"name: stack-{layers}", "input: [1, 8, 16, 16]", "layers:"]
    lines += ["  - Conv2d(8, 8, 3, padding=1)" if i % 2 == 0 else "  - ReLU" for i in range(layers)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# The unavoidable imports of a program built on cnncalc's runtime dependencies, with one pydantic
# model and one typer app: the anchor every command is measured against.
FLOOR = (
    "import typer, rich.table, rich.console, pydantic, yaml\n"
    "class M(pydantic.BaseModel):\n    x: int = 1\n"
    "M(x=2)\n"
    "app = typer.Typer()\n"
    "@app.command()\ndef main(n: int = 1) -> None:\n    pass\n"
    "app(['--n', '2'], standalone_mode=False)\n"
)


# Issue 10's targets: the largest ratio to the floor's median, and the largest peak memory (MiB).
TARGETS = {
    "vgg16 table": (1.25, 60.0),
    "vgg16 json": (1.15, None),
    "100,000 layers json": (10.0, None),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    # as after `pip install .`, which byte-compiles: time the program, not Python's compiler
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "cnncalc")], check=True)
    exe = _cnncalc()
    with tempfile.TemporaryDirectory() as tmp:
        cases = [
            ("import floor", [sys.executable, "-c", FLOOR], args.runs),
            ("vgg16 table", [*exe, "shape", "examples/vgg16.yaml", "--width", "100"], args.runs),
            ("vgg16 json", [*exe, "shape", "examples/vgg16.yaml", "--format", "json"], args.runs),
        ]
        for n in (1_000, 10_000, 100_000):
            path = stack(Path(tmp) / f"stack_{n}.yaml", n)
            runs = args.runs if n < 100_000 else max(1, args.runs // 2)
            cases.append((f"{n:,} layers json", [*exe, "shape", str(path), "--format", "json"], runs))
        print(
            f"{'command':<22}{'median':>10}{'min':>10}{'× floor':>10}{'CPU':>10}{'× floor':>10}"
            f"{'max RSS':>12}   runs"
        )
        floor = cpu_floor = 0.0
        missed = []
        for _, argv, _ in cases:
            run_once(argv)  # warm the file cache and .pyc files
        # Round-robin: each round runs every command once, so that a burst of load on a shared
        # machine falls on all of them alike instead of on whichever was running.
        results: dict[str, list[tuple[float, int, float]]] = {label: [] for label, _, _ in cases}
        for round_ in range(args.runs):
            for label, argv, runs in cases:
                if round_ < runs:
                    results[label].append(run_once(argv))
        for label, _, runs in cases:
            times = [t for t, _, _ in results[label]]
            rss = max(r for _, r, _ in results[label])
            median = statistics.median(times)
            cpu = statistics.median(c for _, _, c in results[label])
            floor = floor or median
            cpu_floor = cpu_floor or cpu
            print(
                f"{label:<22}{median * 1000:>8.0f} ms{min(times) * 1000:>7.0f} ms{median / floor:>9.2f}×"
                f"{cpu * 1000:>7.0f} ms{cpu / cpu_floor:>9.2f}×{rss / 1024:>9.1f} MiB   {runs}"
            )
            ratio_target, rss_target = TARGETS.get(label, (None, None))
            if ratio_target is not None and median / floor > ratio_target:
                missed.append(f"{label}: {median / floor:.2f}× the floor > {ratio_target}×")
            if rss_target is not None and rss / 1024 > rss_target:
                missed.append(f"{label}: {rss / 1024:.1f} MiB > {rss_target} MiB")
    if args.check:
        print("\n".join(f"missed: {m}" for m in missed) or "every target met")
        sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
