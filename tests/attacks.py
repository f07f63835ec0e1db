"""Generators of hostile inputs for tests/test_attacks.py: each case is a command line, the files
it needs (written at test time, large ones included) and the files it must leave unharmed."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# every case runs in a subprocess bounded in CPU time and address space; the wall-clock bound
# only catches a process that waits forever
TIMEOUT = 5.0
WALL = 60.0
MEMORY = 500 * 2**20
# numpy's OpenBLAS reserves its buffers up front: the ONNX, torch and plot cases get 1 GiB of
# address space; what every case may really use, its peak resident memory, is RESIDENT
NUMPY_MEMORY = 2**30
RESIDENT = 500 * 2**20

Files = dict[str, bytes | Callable[[Path], None]]


@dataclass
class Case:
    """One attack: ``args`` after ``cnncalc``, run in a fresh folder holding ``files``;
    ``protected`` files must keep their bytes and mode; ``signal_after`` sends a signal mid-run."""

    name: str
    args: list[str]
    files: Files = field(default_factory=dict)
    stdin: bytes = b""
    protected: tuple[str, ...] = ()
    signal_after: tuple[int, float] | None = None
    stdout_file: str | None = None
    close_stdout: bool = False
    exits: tuple[int, ...] = (0, 2)
    check: Callable[[Path], str | None] | None = None
    memory: int = 0  # the address-space bound, when not MEMORY


@dataclass
class Outcome:
    name: str
    code: int | None
    seconds: float
    stderr: str
    problems: list[str]


def _limiter(memory: int, close_stdout: bool) -> Callable[[], None]:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        # CPU time, not wall time, is the bound: it does not depend on what else the machine runs
        resource.setrlimit(resource.RLIMIT_CPU, (int(TIMEOUT), int(TIMEOUT) + 1))
        if close_stdout:
            os.close(1)

    return limit


def run_case(case: Case, folder: Path) -> Outcome:
    """Run ``case`` in ``folder`` and say what went wrong: a timeout, an exit other than 0 or 2,
    a traceback, a harmed file."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in case.files.items():
        path = folder / name
        if callable(content):
            content(path)
        else:
            path.write_bytes(content)
    before = {p: _snapshot(folder / p) for p in case.protected}
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", COLUMNS="100")
    env.pop("PYTHONWARNINGS", None)
    stdout: int | object = subprocess.PIPE
    handle = None
    if case.stdout_file is not None:
        handle = open(case.stdout_file, "wb")  # noqa: SIM115 - closed below
        stdout = handle
    start = time.monotonic()
    problems: list[str] = []
    proc = subprocess.Popen(
        [sys.executable, "-m", "cnncalc", *case.args],
        cwd=folder,
        stdin=subprocess.PIPE,
        stdout=stdout,  # type: ignore[arg-type]
        stderr=subprocess.PIPE,
        env=env,
        # the functions only call setrlimit and close, which are safe between fork and exec
        preexec_fn=_limiter(case.memory or MEMORY, case.close_stdout),  # noqa: PLW1509
        pass_fds=(),
        start_new_session=True,
    )
    try:
        code, err, rss = _reap(proc, case.stdin, case.signal_after)
    finally:
        if handle is not None:
            handle.close()
    if code is None:
        problems.append(f"did not end within {WALL} s")
    if rss > RESIDENT:
        problems.append(f"used {rss / 2**20:.0f} MiB of memory, more than {RESIDENT // 2**20} MiB")
    seconds = time.monotonic() - start
    text = err.decode("utf-8", "replace")
    allowed = case.exits + (
        (130, -signal.SIGINT, -signal.SIGTERM, 143, 129, -signal.SIGHUP) if case.signal_after else ()
    )
    if code == -signal.SIGXCPU:
        problems.append(f"used more than {TIMEOUT} s of CPU")
    elif code is not None and code not in allowed:
        problems.append(f"exit {code}")
    if "Traceback" in text or "MemoryError" in text:
        problems.append("traceback on stderr")
    if code == 2 and len(text.strip().splitlines()) != 1:
        problems.append(f"{len(text.strip().splitlines())} lines on stderr")
    for p, snap in before.items():
        if _snapshot(folder / p) != snap:
            problems.append(f"{p} was harmed")
    if case.check is not None:
        problem = case.check(folder)
        if problem:
            problems.append(problem)
    leftovers = [p.name for p in folder.iterdir() if p.name.endswith(".tmp") or ".cnncalc-" in p.name]
    if leftovers:
        problems.append(f"temporary files left: {leftovers}")
    return Outcome(case.name, code, seconds, text[-400:], problems)


def _reap(
    proc: subprocess.Popen[bytes], stdin: bytes, signal_after: tuple[int, float] | None
) -> tuple[int | None, bytes, int]:
    """Feed ``stdin``, drain the pipes, send ``signal_after``'s signal if the process still runs
    after its delay, and reap it: the exit code (None when it outlived the wall-clock bound),
    stderr, and its peak resident memory in bytes.

    The peak is the kernel's high-water mark (``VmHWM`` in ``/proc/PID/status``) of the process
    once it runs cnncalc, read every 5 ms until it ends: rusage's ``ru_maxrss`` would also count
    the test process it was forked from, before ``exec``."""
    out: dict[str, bytes] = {}

    def drain(name: str, stream: Any) -> None:
        with stream:
            out[name] = stream.read()

    def feed() -> None:
        assert proc.stdin is not None
        with contextlib.suppress(OSError):
            proc.stdin.write(stdin)
        with contextlib.suppress(OSError):
            proc.stdin.close()

    threads = [threading.Thread(target=feed, daemon=True)]
    threads += [
        threading.Thread(target=drain, args=(name, getattr(proc, name)), daemon=True)
        for name in ("stdout", "stderr")
        if getattr(proc, name) is not None
    ]
    for thread in threads:
        thread.start()
    start = time.monotonic()
    signalled = signal_after is None
    code: int | None = None
    peak = 0
    while True:
        peak = max(peak, _high_water(proc.pid))
        pid, status, _ = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            code = os.waitstatus_to_exitcode(status)
            break
        elapsed = time.monotonic() - start
        if not signalled and signal_after is not None and elapsed >= signal_after[1]:
            proc.send_signal(signal_after[0])
            signalled = True
        if elapsed > WALL:
            os.killpg(proc.pid, signal.SIGKILL)
            os.wait4(proc.pid, 0)
            break
        time.sleep(0.005)
    proc.returncode = code if code is not None else -signal.SIGKILL
    for thread in threads:
        thread.join(5)
    return code, out.get("stderr", b""), peak


def _high_water(pid: int) -> int:
    """The peak resident bytes of ``pid`` once it has become ``python -m cnncalc`` (0 before)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            if b"-m\x00cnncalc" not in handle.read():
                return 0
        with open(f"/proc/{pid}/status", "rb") as handle:
            for line in handle:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) * 1024  # kB
    except (OSError, ValueError):
        pass
    return 0


def _snapshot(path: Path) -> tuple[bytes | None, int | None, bool]:
    if path.is_symlink():
        return (os.readlink(path).encode(), None, True)
    if not path.exists():
        return (None, None, False)
    st = path.stat()
    data = path.read_bytes() if path.is_file() else b""
    return (data, st.st_mode, False)


# --- generators -----------------------------------------------------------------------------

HEAD = "name: n\ninput: [1, 3, 8, 8]\n"


def yaml(text: str) -> dict[str, bytes | Callable[[Path], None]]:
    return {"net.yaml": text.encode()}


def _alias_chain(depth: int) -> str:
    lines = [HEAD, "defs:\n", "  - &a0 [ReLU]\n"]
    lines += [f"  - &a{i} [*a{i - 1}]\n" for i in range(1, depth)]
    lines.append(f"layers: *a{depth - 1}\n")
    return "".join(lines)


def _bomb(levels: int, where: str) -> str:
    """Ten aliases per level, ``levels`` deep: 10**levels items from a few hundred bytes."""
    lists = ["&b0 [ReLU, ReLU, ReLU, ReLU, ReLU, ReLU, ReLU, ReLU, ReLU, ReLU]"]
    lists += [f"&b{i} [{', '.join([f'*b{i - 1}'] * 10)}]" for i in range(1, levels)]
    blocks = ["&s0 {type: Sequential, layers: [ReLU, ReLU, ReLU, ReLU, ReLU, ReLU, ReLU, ReLU, ReLU, ReLU]}"]
    blocks += [
        f"&s{i} {{type: Sequential, layers: [{', '.join([f'*s{i - 1}'] * 10)}]}}" for i in range(1, levels)
    ]
    if where == "argument":
        return HEAD + f"layers:\n  - {{type: ReLU, inplace: [{', '.join(lists)}]}}\n"
    if where == "flow":
        keys = ", ".join(f"k{i}: {text}" for i, text in enumerate(lists))
        return HEAD + f"layers:\n  - {{type: ReLU, inplace: {{{keys}}}}}\n"
    if where == "input":  # anchors under input:, used by the layers (the input given by -i)
        return f"name: n\ninput: [{', '.join(blocks)}]\nlayers: [*s{levels - 1}]\n"
    return HEAD + f"layers: [{', '.join(blocks)}]\n"


def _write_big(text_of: Callable[[], str]) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.write_text(text_of())

    return write


def _cfg(sections: int) -> str:
    head = "[net]\nwidth=8\nheight=8\nchannels=3\n"
    return head + "[maxpool]\nsize=1\nstride=1\n" * sections


def yaml_cases() -> list[Case]:
    return [
        Case(
            "self-referencing anchor",
            ["shape", "net.yaml"],
            yaml(HEAD + "layers:\n  - &s {type: Sequential, layers: [ReLU, *s]}\n"),
        ),
        Case("self-referencing list", ["shape", "net.yaml"], yaml(HEAD + "layers: &s [ReLU, *s]\n")),
        Case("alias chain 400 deep", ["shape", "net.yaml"], yaml(_alias_chain(400))),
        Case("alias chain 60 deep", ["shape", "net.yaml"], yaml(_alias_chain(60))),
        Case("alias bomb in layers", ["shape", "net.yaml"], yaml(_bomb(9, "layers"))),
        Case("alias bomb as argument", ["shape", "net.yaml"], yaml(_bomb(9, "argument"))),
        Case("alias bomb in flow", ["shape", "net.yaml"], yaml(_bomb(9, "flow"))),
        Case("anchors under input", ["shape", "-i", "1,3,8,8", "net.yaml"], yaml(_bomb(18, "input"))),
        Case("anchors under input small", ["check", "-i", "1,3,8,8", "net.yaml"], yaml(_bomb(3, "input"))),
        Case(
            "repeat 1000000",
            ["shape", "net.yaml"],
            yaml(HEAD + "layers:\n  - {type: Sequential, repeat: 1000000, layers: [ReLU]}\n"),
        ),
        Case(
            "repeat 10**12",
            ["shape", "net.yaml"],
            yaml(HEAD + "layers:\n  - {type: Sequential, repeat: 1000000000000, layers: [ReLU]}\n"),
        ),
        Case(
            "7 MB flow list max 100000",
            ["--max-layers", "100000", "shape", "net.yaml"],
            {"net.yaml": _write_big(lambda: HEAD + "layers: [" + ", ".join(["ReLU"] * 1_200_000) + "]\n")},
        ),
        Case(
            "repeat 1000000 max 100000",
            ["--max-layers", "100000", "shape", "net.yaml"],
            yaml(HEAD + "layers:\n  - {type: Sequential, repeat: 1000000, layers: [ReLU]}\n"),
        ),
        Case(
            "7 MB flow list",
            ["shape", "net.yaml"],
            {"net.yaml": _write_big(lambda: HEAD + "layers: [" + ", ".join(["ReLU"] * 1_200_000) + "]\n")},
        ),
        Case("deep flow", ["shape", "net.yaml"], yaml(HEAD + "layers: " + "[" * 5000)),
        Case(
            "deep block",
            ["shape", "net.yaml"],
            yaml(
                HEAD
                + "layers:\n"
                + "".join("  " * i + "- type: Sequential\n" + "  " * i + "  layers:\n" for i in range(300))
            ),
        ),
        Case(
            "int 5000 digits",
            ["shape", "net.yaml"],
            yaml(HEAD.replace("8, 8]", "8, " + "9" * 5000 + "]") + "layers: [ReLU]\n"),
        ),
        Case(
            "hex 5000 digits",
            ["shape", "net.yaml"],
            yaml(HEAD + "layers: [{type: Linear, in_features: 0x" + "f" * 5000 + ", out_features: 2}]\n"),
        ),
        Case(
            "dimension 10**200",
            ["shape", "net.yaml", "-f", "json"],
            yaml(
                "name: n\ninput: [1, 3, 1"
                + "0" * 200
                + ", 8]\nlayers: [Conv2d(3, 3, 3), Upsample(scale_factor=2.5)]\n"
            ),
        ),
        Case(
            "scale .inf",
            ["shape", "net.yaml"],
            yaml(HEAD + "layers: [{type: Upsample, scale_factor: .inf}]\n"),
        ),
        Case(
            "scale .nan",
            ["shape", "net.yaml"],
            yaml(HEAD + "layers: [{type: Upsample, scale_factor: .nan}]\n"),
        ),
        Case("dropout .nan", ["shape", "net.yaml"], yaml(HEAD + "layers: [{type: Dropout, p: .nan}]\n")),
        Case(
            "kernel .inf",
            ["shape", "net.yaml"],
            yaml(HEAD + "layers: [{type: Conv2d, in_channels: 3, out_channels: 3, kernel_size: .inf}]\n"),
        ),
        Case(
            "int tag on word",
            ["shape", "net.yaml"],
            yaml(HEAD + "layers: [{type: Linear, in_features: !!int 'eight', out_features: 2}]\n"),
        ),
        Case(
            "float tag on word",
            ["shape", "net.yaml"],
            yaml(HEAD + "layers: [{type: Dropout, p: !!float x}]\n"),
        ),
        Case(
            "bool tag on word",
            ["shape", "net.yaml"],
            yaml(HEAD + "layers: [{type: ReLU, inplace: !!bool maybe}]\n"),
        ),
        Case(
            "null tag on word",
            ["shape", "net.yaml"],
            yaml(HEAD + "layers: [{type: ReLU, inplace: !!null x}]\n"),
        ),
        Case("dtype list", ["shape", "net.yaml"], yaml(HEAD + "dtype: [a]\nlayers: [ReLU]\n")),
        Case("input inf", ["shape", "net.yaml"], yaml("name: n\ninput: [1, .inf]\nlayers: [ReLU]\n")),
        Case(
            "control chars in names",
            ["shape", "net.yaml"],
            yaml(
                HEAD
                + 'layers:\n  - {type: ReLU, name: "a\\e[2Jb\\nc\\rd"}\n  - {type: ReLU, name: "x\\ty"}\n'
            ),
        ),
        Case(
            "control chars in names csv",
            ["shape", "net.yaml", "-f", "csv"],
            yaml(HEAD + 'layers:\n  - {type: ReLU, name: "a\\e[2Jb\\nc\\rd"}\n'),
        ),
        Case(
            "control chars in names md",
            ["shape", "net.yaml", "-f", "markdown"],
            yaml(HEAD + 'layers:\n  - {type: ReLU, name: "a\\e[2Jb\\nc|d"}\n'),
        ),
        Case(
            "control chars in error",
            ["shape", "net.yaml"],
            yaml(HEAD + 'layers:\n  - {type: ReLU, name: "a\\e[2J"}\n  - {type: ReLU, name: "a\\e[2J"}\n'),
        ),
        Case("unknown type with escape", ["shape", "net.yaml"], yaml(HEAD + 'layers: ["\\e[2JFoo"]\n')),
    ]


def callform_cases() -> list[Case]:
    return [
        Case("60000 unary minus", ["shape", "-i", "1,3,8,8", "Linear(" + "-" * 60000 + "1, 2)"]),
        Case("60000 additions", ["shape", "-i", "1,3,8,8", "Linear(" + "+".join(["1"] * 60000) + ", 2)"]),
        Case("computed huge int", ["shape", "-i", "1,3,8,8", "Linear(10**4000, 2)"]),
        Case("int 5000 digits", ["shape", "-i", "1,3,8,8", "Linear(" + "9" * 5000 + ", 2)"]),
        Case(
            "nested tuples",
            ["shape", "-i", "1,3,8,8", "Conv2d(3, 3, " + "(" * 30000 + "3" + ")" * 30000 + ")"],
        ),
        Case(
            "3 million arguments",
            ["shape", "net.yaml"],
            {"net.yaml": _write_big(lambda: HEAD + 'layers: ["Identity(' + "1," * 3_000_000 + ')"]\n')},
        ),
        Case(
            "deep call in yaml",
            ["shape", "net.yaml"],
            {"net.yaml": _write_big(lambda: HEAD + 'layers: ["Linear(' + "-" * 1_000_000 + '1, 2)"]\n')},
        ),
        Case("10000 inline layers", ["check", "-i", "1,3,8,8", *(["ReLU"] * 10000)]),
        Case("20000 layers by ;", ["check", "-i", "1,3,8,8", "; ".join(["ReLU"] * 20000)]),
        Case("dims 10**200", ["shape", "-i", "1,3,1" + "0" * 200 + ",8", "Conv2d(3, 3, 3)", "-f", "json"]),
        Case("input 2**63", ["shape", "-i", f"1,3,{2**63},8", "Conv2d(3, 3, 3)"]),
        Case("input huge digits", ["shape", "-i", "1,3," + "9" * 5000 + ",8", "ReLU"]),
        Case("unit huge digits", ["rf", "-i", "1,3,8,8", "Conv2d(3,3,3)", "--unit", "9" * 5000 + ",1"]),
        Case("nan scale", ["shape", "-i", "1,3,8,8", "Upsample(scale_factor=float('nan'))"]),
        Case("escape in call", ["shape", "-i", "1,3,8,8", "Re\x1b[2JLU"]),
    ]


def rf_cases() -> list[Case]:
    big = "Conv2d(1, 1, 1000000000000000000)"
    return [
        Case("kernel 10**18 unit", ["rf", "-i", "1,1,8,8", big, "--unit", "0,0"]),
        Case(
            "kernel 10**18 show",
            [
                "rf",
                "-i",
                "1,1,8,8",
                "Conv2d(1,1,3,dilation=1000000000000000000,padding=1000000000000000000)",
                "--unit",
                "0,0",
                "--show",
            ],
        ),
        Case(
            "dilation 10**18",
            [
                "rf",
                "-i",
                "1,1,8,8",
                "Conv2d(1,1,3,dilation=1000000000000000000,padding=1000000000000000000)",
                "--unit",
                "0,0",
            ],
        ),
        Case(
            "two wide kernels",
            [
                "rf",
                "-i",
                "1,1,20000",
                "Conv1d(1,1,19999,padding=9999); Conv1d(1,1,19999,padding=9999)",
                "--unit",
                "5",
            ],
        ),
        Case(
            "two wide kernels show",
            [
                "rf",
                "-i",
                "1,1,20000",
                "Conv1d(1,1,19999,padding=9999); Conv1d(1,1,19999,padding=9999)",
                "--unit",
                "5",
                "--show",
            ],
        ),
        Case(
            "5000x5000 unit table",
            ["rf", "-i", "1,1,5000,5000", "Conv2d(1,1,4999,padding=2499)", "--unit", "0,0"],
        ),
        Case(
            "5000x5000 unit json",
            ["rf", "-i", "1,1,5000,5000", "Conv2d(1,1,4999,padding=2499)", "--unit", "0,0", "-f", "json"],
        ),
        Case(
            "5000x5000 show",
            ["rf", "-i", "1,1,5000,5000", "Conv2d(1,1,4999,padding=2499)", "--unit", "0,0", "--show"],
        ),
        Case(
            "width 10**8",
            ["rf", "-i", "1,1,8,8", "Conv2d(1,1,3)", "--unit", "0,0", "--show", "--width", "100000000"],
        ),
        Case("width 10**8 shape", ["shape", "-i", "1,1,8,8", "Conv2d(1,1,3)", "--width", "100000000"]),
        Case("width negative", ["shape", "-i", "1,1,8,8", "Conv2d(1,1,3)", "--width", "-5"]),
        Case("unit far out", ["rf", "-i", "1,1,8,8", "Conv2d(1,1,3)", "--unit", "100000000000000000000,0"]),
    ]


def darknet_cases() -> list[Case]:
    return [
        Case(
            "200000 sections max 100",
            ["--max-layers", "100", "shape", "net.cfg"],
            {"net.cfg": _write_big(lambda: _cfg(200_000))},
        ),
        Case(
            "cfg huge int",
            ["shape", "net.cfg"],
            {
                "net.cfg": (
                    "[net]\nwidth=8\nheight=8\nchannels=3\n[convolutional]\nfilters="
                    + "9" * 5000
                    + "\nsize=1\nstride=1\nactivation=linear\n"
                ).encode()
            },
        ),
        Case(
            "cfg huge size",
            ["shape", "net.cfg"],
            {
                "net.cfg": (
                    "[net]\nwidth=" + "9" * 300 + "\nheight=8\nchannels=3\n[maxpool]\nsize=2\nstride=2\n"
                ).encode()
            },
        ),
        Case(
            "cfg stride 0",
            ["shape", "net.cfg"],
            {"net.cfg": (b"[net]\nwidth=8\nheight=8\nchannels=3\n[maxpool]\nsize=2\nstride=0\n")},
        ),
        Case(
            "cfg nan",
            ["shape", "net.cfg"],
            {"net.cfg": (b"[net]\nwidth=8\nheight=8\nchannels=3\n[upsample]\nstride=nan\n")},
        ),
        Case(
            "cfg escape name",
            ["shape", "net.cfg"],
            {"net.cfg": (b"[net]\nwidth=8\nheight=8\nchannels=3\n[ma\x1bxpool]\nsize=2\nstride=2\n")},
        ),
    ]


def _onnx(build: Callable[..., object]) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        import onnx

        model = build()
        onnx.save(model, str(path))  # type: ignore[arg-type]

    return write


def _model(
    nodes: list[object], inits: list[object] | None = None, shape: list[object] | None = None, name: str = "x"
) -> object:
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info(name, TensorProto.FLOAT, shape if shape is not None else [1, 1, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    graph = helper.make_graph(nodes, "g", [x], [y], inits or [])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _const(name: str, values: list[int]) -> object:
    import numpy as np
    from onnx import numpy_helper

    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def _onnx_models() -> dict[str, Callable[[], object]]:
    from onnx import TensorProto, helper

    def node(op: str, ins: list[str], outs: list[str], name: str = "", **attrs: object) -> object:
        return helper.make_node(op, ins, outs, name=name, **attrs)

    def maxpool_stride0() -> object:
        return _model([node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], strides=[0, 0])])

    def wrong_attr() -> object:
        return _model([node("MaxPool", ["x"], ["y"], kernel_shape="abc")])

    def wrong_attr_float() -> object:
        return _model([node("MaxPool", ["x"], ["y"], kernel_shape=[2.5, 2.0])])

    def constant_of_shape() -> object:
        return _model(
            [
                node("ConstantOfShape", ["s"], ["c"]),
                node("Shape", ["c"], ["sh"]),
                node("Reshape", ["x", "sh"], ["y"]),
            ],
            [_const("s", [100000, 100000])],
        )

    def tile() -> object:
        return _model(
            [
                node("ConstantOfShape", ["s"], ["c"]),
                node("Tile", ["c", "r"], ["t"]),
                node("Shape", ["t"], ["sh"]),
                node("Add", ["x", "sh"], ["y"]),
            ],
            [_const("s", [1000, 1000]), _const("r", [1000, 1000])],
        )

    def range_() -> object:
        return _model(
            [
                node("Range", ["a", "b", "d"], ["r"]),
                node("Shape", ["r"], ["sh"]),
                node("Add", ["x", "sh"], ["y"]),
            ],
            [
                _const("a", [0])[0] if False else helper.make_tensor("a", TensorProto.INT64, [], [0]),
                helper.make_tensor("b", TensorProto.INT64, [], [4_000_000_000]),
                helper.make_tensor("d", TensorProto.INT64, [], [1]),
            ],
        )

    def unknown_dtype() -> object:
        t = helper.make_tensor("w", TensorProto.FLOAT, [1, 1, 3, 3], [0.0] * 9)
        t.data_type = 99
        return _model([node("Conv", ["x", "w"], ["y"])], [t])

    def dims_without_data() -> object:
        t = helper.make_tensor("w", TensorProto.FLOAT, [1, 1, 3, 3], [0.0] * 9)
        del t.float_data[:]
        return _model([node("Conv", ["x", "w"], ["y"])], [t])

    def huge_dims() -> object:
        t = helper.make_tensor("w", TensorProto.FLOAT, [1, 1, 3, 3], [0.0] * 9)
        t.dims[:] = [2**40, 2**40, 3, 3]
        return _model([node("Conv", ["x", "w"], ["y"])], [t])

    def resize_inf() -> object:
        scales = helper.make_tensor("sc", TensorProto.FLOAT, [4], [1.0, 1.0, float("inf"), 2.0])
        return _model([node("Resize", ["x", "", "sc"], ["y"], mode="nearest")], [scales])

    def resize_nan() -> object:
        scales = helper.make_tensor("sc", TensorProto.FLOAT, [4], [1.0, 1.0, float("nan"), 2.0])
        return _model([node("Resize", ["x", "", "sc"], ["y"], mode="nearest")], [scales])

    def escape_name() -> object:
        return _model([node("Relu", ["x"], ["y"], name="r\x1b[2J\nnext\rrow")])

    def long_name() -> object:
        return _model([node("Relu", ["x"], ["y"], name="n" * 10_000_000)])

    def symbolic_input() -> object:
        return _model([node("Relu", ["x"], ["y"])], shape=["N", 1, 8, 8])

    def million_nodes() -> object:
        nodes = [node("Relu", [f"t{i}" if i else "x"], [f"t{i + 1}"]) for i in range(1_000_000)]
        nodes.append(node("Identity", ["t1000000"], ["y"]))
        return _model(nodes)

    return {
        "maxpool_stride0": maxpool_stride0,
        "wrong_attr": wrong_attr,
        "wrong_attr_float": wrong_attr_float,
        "constant_of_shape": constant_of_shape,
        "tile": tile,
        "range": range_,
        "unknown_dtype": unknown_dtype,
        "dims_without_data": dims_without_data,
        "huge_dims": huge_dims,
        "resize_inf": resize_inf,
        "resize_nan": resize_nan,
        "escape_name": escape_name,
        "long_name": long_name,
        "symbolic_input": symbolic_input,
        "million_nodes": million_nodes,
    }


def _external_symlink(path: Path) -> None:
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    w = numpy_helper.from_array(np.zeros((1, 1, 3, 3), dtype=np.float32), "w")
    w.data_location = onnx.TensorProto.EXTERNAL
    w.ClearField("raw_data")
    entry = w.external_data.add()
    entry.key, entry.value = "location", "weights.bin"
    model = _model([helper.make_node("Conv", ["x", "w"], ["y"])], [w])
    onnx.save(model, str(path))  # type: ignore[arg-type]
    (path.parent / "weights.bin").symlink_to("/etc/passwd")


def onnx_cases() -> list[Case]:
    try:
        import onnx  # noqa: F401
    except ImportError:  # pragma: no cover - onnx is an extra
        return []
    models = _onnx_models()
    cases = [
        Case(f"onnx {name}", ["shape", "m.onnx"], {"m.onnx": _onnx(build)})
        for name, build in models.items()
        if name != "million_nodes"
    ]
    cases.append(
        Case(
            "onnx million nodes max 10",
            ["--max-layers", "10", "shape", "m.onnx"],
            {"m.onnx": _onnx(models["million_nodes"])},
        )
    )
    cases.append(
        Case(
            "onnx input 2**63",
            ["shape", "m.onnx", "-i", f"{2**63},1,8,8"],
            {"m.onnx": _onnx(models["symbolic_input"])},
        )
    )
    cases.append(Case("onnx external symlink", ["shape", "m.onnx"], {"m.onnx": _external_symlink}))
    cases.append(
        Case("onnx escape csv", ["shape", "m.onnx", "-f", "csv"], {"m.onnx": _onnx(models["escape_name"])})
    )
    return cases


def _old(path: Path) -> None:
    path.write_text("old contents\n")
    path.chmod(0o640)


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _symlink_to_victim(path: Path) -> None:
    _old(path.parent / "victim.txt")
    path.symlink_to("victim.txt")


def _readonly_dir(path: Path) -> None:
    path.mkdir()
    path.chmod(0o555)


def _umask_mode(folder: Path) -> str | None:
    mode = (folder / "out.txt").stat().st_mode & 0o777
    return None if mode == 0o640 else f"out.txt has mode {mode:o}, not 640"


def _new_mode(folder: Path) -> str | None:
    mode = (folder / "new.txt").stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return None if mode == 0o666 & ~umask else f"new.txt has mode {mode:o}"


def _whole(folder: Path) -> str | None:
    text = (folder / "out.txt").read_text()
    return (
        None
        if text == "old contents\n" or text.rstrip().endswith("MACs") or "Total" in text
        else "out.txt is partial"
    )


def output_cases() -> list[Case]:
    net = ["-i", "1,3,8,8", "Conv2d(3, 3, 3)"]
    big = ["-i", "1,3,8,8", "; ".join(["ReLU"] * 20000)]
    yaml_src = {"src.yaml": (HEAD + "layers: [ReLU]\n").encode()}
    cases = [
        Case("-o directory", ["shape", *net, "-o", "d"], {"d": lambda p: p.mkdir()}),
        Case("-o empty", ["shape", *net, "-o", ""]),
        Case("-o 245 chars", ["shape", *net, "-o", "a" * 241 + ".txt"], exits=(0,)),
        Case("-o readonly folder", ["shape", *net, "-o", "ro/out.txt"], {"ro": _readonly_dir}),
        Case("-o /dev/full", ["shape", *net, "-o", "/dev/full"]),
        Case("-o missing folder", ["shape", *net, "-o", "nowhere/out.txt"]),
        Case("-o fifo", ["shape", *net, "-o", "fifo"], {"fifo": _fifo}),
        Case(
            "-o symlink",
            ["shape", *net, "-o", "link.txt"],
            {"link.txt": _symlink_to_victim},
            protected=("victim.txt", "link.txt"),
        ),
        Case("-o dash", ["shape", *net, "-o", "-"], exits=(0,)),
        Case(
            "-o keeps mode",
            ["shape", *net, "-o", "out.txt"],
            {"out.txt": _old},
            exits=(0,),
            check=_umask_mode,
        ),
        Case("-o umask mode", ["shape", *net, "-o", "new.txt"], exits=(0,), check=_new_mode),
        Case(
            "--plot symlink",
            ["shape", *net, "--plot", "link.png"],
            {"link.png": _symlink_to_victim},
            protected=("victim.txt", "link.png"),
        ),
        Case("--plot directory", ["shape", *net, "--plot", "d"], {"d": lambda p: p.mkdir()}),
        Case("--plot readonly", ["rf", *net, "--plot", "ro/p.svg"], {"ro": _readonly_dir}),
        Case(
            "convert exists",
            ["convert", "src.yaml", "-o", "out.yaml"],
            {**yaml_src, "out.yaml": _old},
            protected=("out.yaml",),
        ),
        Case(
            "convert symlink",
            ["convert", "src.yaml", "-o", "link.yaml", "--force"],
            {**yaml_src, "link.yaml": _symlink_to_victim},
            protected=("victim.txt",),
        ),
        Case("convert fifo", ["convert", "src.yaml", "-o", "fifo", "--force"], {**yaml_src, "fifo": _fifo}),
        Case("stdout /dev/full", ["shape", *net], stdout_file="/dev/full"),
        Case("stdout closed", ["shape", *net], close_stdout=True),
        Case(
            "SIGTERM during -o",
            ["shape", *big, "-o", "out.txt"],
            {"out.txt": _old},
            signal_after=(signal.SIGTERM, 0.6),
            check=_whole,
        ),
        Case(
            "SIGHUP during -o",
            ["shape", *big, "-o", "out.txt"],
            {"out.txt": _old},
            signal_after=(signal.SIGHUP, 0.6),
            check=_whole,
        ),
        Case(
            "SIGINT during -o",
            ["shape", *big, "-o", "out.txt"],
            {"out.txt": _old},
            signal_after=(signal.SIGINT, 0.6),
            check=_whole,
        ),
        Case(
            "from-torch not a module",
            ["convert", "--from-torch", "builtins:dict", "-i", "1,3,8,8", "-o", "x.yaml"],
        ),
        Case(
            "from-torch missing",
            ["convert", "--from-torch", "no_such_module_xyz:f", "-i", "1,3,8,8", "-o", "x.yaml"],
        ),
    ]
    return cases


def all_cases() -> list[Case]:
    cases = yaml_cases() + callform_cases() + rf_cases() + darknet_cases() + onnx_cases() + output_cases()
    for case in cases:
        if case.name.startswith("onnx") or "plot" in case.name or "torch" in case.name:
            case.memory = NUMPY_MEMORY
    return cases
