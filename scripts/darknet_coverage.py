"""Read every Darknet ``.cfg`` under a directory with cnncalc: writes docs/coverage/darknet.md, the
table of what reads (with Darknet's "Total BFLOPS" as cnncalc prints it, against the published
figure where there is one) and what is refused, with the refusal as the user sees it.

    python scripts/darknet_coverage.py /work/cache/darknet [--out docs/coverage/darknet.md]

Each file's first line names where it came from (``# source: owner/repo path @ commit``). Files
are deduplicated by content, the source line aside: a cfg published in several repositories is
read once, under the first source in sorted order, and its other copies are listed beside it.
Each is read by ``cnncalc shape FILE --darknet`` in a process of its own, so a refusal is the
one-line message and exit status a user sees.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Published totals: (figure as published, the input side it is published for or None for the cfg's
# own, where it is published). AlexeyAB/darknet's README rounds to one decimal; the printouts are
# Darknet's own "Total BFLOPS %5.3f" lines, the ones tests/test_darknet.py holds.
README = "AlexeyAB/darknet README"
PUBLISHED: dict[str, tuple[str, int | None, str]] = {
    "yolov3-tiny.cfg": ("5.571", None, "Darknet's printout (tests/test_darknet.py)"),
    "yolov3.cfg": ("65.879", None, "Darknet's printout (tests/test_darknet.py)"),
    "yolov4-tiny.cfg": ("6.910", None, "Darknet's printout (tests/test_darknet.py)"),
    "yolov4.cfg": ("128.459", None, "Darknet's printout (tests/test_darknet.py)"),
    "yolov3-spp.cfg": ("141.5", None, README),
    "enet-coco.cfg": ("3.7", None, README),
    "yolov3-tiny-prn.cfg": ("3.5", None, README),
    # the cfg declares 416×416; the README's figure is the total at 512×512
    "csresnext50-panet-spp.cfg": ("71.3", 512, README + ", at 512×512"),
    "csresnext50-panet-spp-original-optimal.cfg": ("100.5", None, README),
}


# Why a total differs from the published one, where the difference is understood.
DIFFERENCES = {
    "csresnext50-panet-spp-original-optimal.cfg": (
        "its convolutions alone give 100.532, the README's 100.5; Darknet's total adds its max-pool "
        "and shortcut BFLOPs (src/maxpool_layer.c, src/shortcut_layer.c), 100.606 in all"
    ),
}


@dataclass
class Cfg:
    path: Path
    source: str
    copies: list[str] = field(default_factory=list)
    result: str = ""
    total: str = ""
    published: str = ""


def source_of(path: Path) -> str:
    first = path.read_text(encoding="utf-8", errors="replace").split("\n", 1)[0]
    return first.removeprefix("# source:").strip() if first.startswith("# source:") else str(path)


def body_of(path: Path) -> bytes:
    """The file without its source line, for deduplication."""
    data = path.read_bytes()
    return data.split(b"\n", 1)[1] if data.startswith(b"# source:") and b"\n" in data else data


def distinct(directory: Path) -> list[Cfg]:
    """One entry per distinct content, in the order of the sorted paths."""
    seen: dict[str, Cfg] = {}
    for path in sorted(directory.rglob("*.cfg")):
        digest = hashlib.sha256(body_of(path)).hexdigest()
        if digest in seen:
            seen[digest].copies.append(source_of(path))
        else:
            seen[digest] = Cfg(path, source_of(path))
    return list(seen.values())


def read(cfg: Cfg, timeout: float) -> None:
    """Read one cfg with the cnncalc command; its total, or its refusal (the message's last
    line), and the published figure beside it."""
    figure, size, where = PUBLISHED.get(cfg.path.name, ("", None, ""))
    cmd = [sys.executable, "-m", "cnncalc", "shape", str(cfg.path), "--darknet"]
    if size is not None:
        cmd += ["--input", f"1,3,{size},{size}"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False, cwd=ROOT)
    except subprocess.TimeoutExpired:
        cfg.result = f"timeout: reading took over {timeout:.0f} s"
        return
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        message = lines[-1] if lines else f"exit {done.returncode}"
        several = ", several lines" if len(lines) > 1 else ""
        cfg.result = f"refused (exit {done.returncode}{several}): {message}"
        return
    last = done.stdout.strip().splitlines()[-1]
    cfg.result = "read"
    cfg.total = last.removeprefix("Total BFLOPS ").strip()
    if figure:
        decimals = len(figure.split(".")[1]) if "." in figure else 0
        mine = f"{float(cfg.total):.{decimals}f}"
        cfg.published = f"{figure} ({where}) {'=' if mine == figure else '**≠**'}"


def _cell(text: str, directory: Path) -> str:
    text = text.replace(str(directory) + "/", "").replace("|", "\\|")
    return f"`{text}`" if text else ""


def table(cfgs: list[Cfg], directory: Path, command: str) -> str:
    read_ = [c for c in cfgs if c.result == "read"]
    compared = [c for c in cfgs if c.published]
    exact = [c for c in compared if c.published.endswith("=")]
    lines = [
        "# Darknet coverage: the cfgs of Darknet's repositories",
        "",
        f"Generated by `{command}`; do not edit by hand.",
        "",
        "Every distinct `.cfg` network file gathered from the repositories named in each row "
        "(copies of the same content are read once and listed beside it), read with "
        '`cnncalc shape FILE --darknet`: the result is `read` with Darknet\'s "Total BFLOPS" as cnncalc '
        "prints it (Darknet's convention: 2 × multiply-adds of each convolution, plus its own "
        "figures for max-pooling and shortcuts), or the refusal exactly as the command prints it.",
        "",
        f"**{len(read_)} of {len(cfgs)} read**; {len(exact)} of {len(compared)} published totals "
        "come out as published.",
        "",
        "| cfg | source | result | Total BFLOPS | published |",
        "|---|---|---|---|---|",
    ]
    notes = []
    for c in cfgs:
        source = c.source + "".join(f"; also {copy}" for copy in c.copies)
        result = "read" if c.result == "read" else _cell(c.result, directory)
        published = c.published
        if c.published.endswith("≠**") and c.path.name in DIFFERENCES:
            notes.append(f"{len(notes) + 1}. {c.path.name}: {DIFFERENCES[c.path.name]}.")
            published += f" ({len(notes)})"
        lines.append(f"| {c.path.name} | {_cell(source, directory)} | {result} | {c.total} | {published} |")
    if notes:
        lines += ["", *notes]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path, help="a directory of .cfg files (searched recursively)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "coverage" / "darknet.md")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds for one file")
    args = parser.parse_args()
    cfgs = distinct(args.directory)
    for n, cfg in enumerate(cfgs, 1):
        read(cfg, args.timeout)
        print(f"{n}/{len(cfgs)} {cfg.path.name}: {cfg.result} {cfg.total}", file=sys.stderr)
    args.out.write_text(table(cfgs, args.directory, f"python scripts/darknet_coverage.py {args.directory}"))


if __name__ == "__main__":
    main()
