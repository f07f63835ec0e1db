"""Fuzzing in the normal suite: whatever comes in, cnncalc ends with exit 0, or exit 2 and one
located line on stderr — never an uncaught exception, never a traceback."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cnncalc.cli import app
from cnncalc.layers import kinds
from tests.conftest import EXAMPLES

LOCATED = re.compile(r"^[^\n]+:\d+:\d+: [^\n]+\n$")
RUNS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KEYS = [
    "input", "layers", "name", "type", "from", "body", "shortcut", "branches", "layers", "repeat",
    "dim", "kernel_size", "stride", "padding", "in_channels", "out_channels", "outputs", "trainable",
]  # fmt: skip
KINDS = [cls.kind for cls in kinds()] + ["Residual", "Concat", "Sequential", "Conv2e", "lazyconv2d"]


def _check(argv: list[str], stdin: str | None = None) -> None:
    result = CliRunner().invoke(app, argv, input=stdin)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"uncaught {result.exception!r} for {argv} / {stdin!r}") from result.exception
    assert result.exit_code in (0, 1, 2), (result.exit_code, argv)
    if result.exit_code == 2 and "json" in argv:
        error = json.loads(result.stderr)["error"]
        assert error["message"] and error["line"] >= 1 and error["column"] >= 1, error
    elif result.exit_code == 2:
        assert LOCATED.match(result.stderr), f"not one located line: {result.stderr!r}"
    assert "Traceback" not in result.stderr


scalars = st.one_of(
    st.integers(-3, 12),
    st.integers(-(10**30), 10**30),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(KINDS + ["same", "valid", "zeros", "reflect", "input", "ReLU", "Conv2d(3, 8, 3)"]),
    st.text(max_size=8),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(KEYS), inner, max_size=4),
    ),
    max_leaves=20,
)


@RUNS
@given(
    layers=st.lists(
        st.one_of(
            st.sampled_from(["ReLU", "Conv2d(3, 8, 3)", "BatchNorm2d", "MaxPool2d(2)", "Flatten"]),
            st.dictionaries(st.sampled_from(KEYS), values, max_size=5).map(
                lambda d: {"type": d.pop("type", "Conv2d"), **d}
            ),
        ),
        max_size=5,
    ),
    shape=st.lists(st.integers(-1, 9), max_size=5),
    extra=st.dictionaries(st.sampled_from(KEYS), values, max_size=2),
)
def test_random_documents(layers: list[Any], shape: list[int], extra: dict[str, Any]) -> None:
    doc = {"input": shape, "layers": layers, **extra}
    _check(["shape", "-", "--format", "json"], yaml.safe_dump(doc))


@RUNS
@given(st.text(alphabet="Conv2dReLUBatchNormPool13_=(),[]'\". ;-+*xy", max_size=40))
def test_random_call_forms(text: str) -> None:
    _check(["shape", "-i", "1,3,8,8", text])


@RUNS
@given(
    kind=st.sampled_from([cls.kind for cls in kinds()]),
    args=st.lists(scalars | st.tuples(st.integers(-2, 5), st.integers(-2, 5)), max_size=4),
    shape=st.lists(st.integers(1, 7), min_size=1, max_size=5),
)
def test_random_layer_arguments(kind: str, args: list[Any], shape: list[int]) -> None:
    call = f"{kind}({', '.join(repr(a) for a in args)})"
    _check(["rf", "-i", ",".join(map(str, shape)), call, "--format", "json"])


EXAMPLE_TEXTS = [p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*.yaml"))]


@RUNS
@given(
    which=st.integers(0, len(EXAMPLE_TEXTS) - 1),
    edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 3), st.text(max_size=3)), max_size=4),
)
def test_mutated_examples(which: int, edits: list[tuple[int, int, str]]) -> None:
    text = EXAMPLE_TEXTS[which]
    for where, cut, insert in edits:
        at = where % (len(text) + 1)
        text = text[:at] + insert + text[at + cut :]
    _check(["shape", "-", "--format", "json"], text)
    _check(["rf", "-", "--format", "json"], text)


CFG_TEXTS = [p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*.cfg"))]


@RUNS
@given(
    which=st.integers(0, len(CFG_TEXTS) - 1),
    edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 3), st.text(max_size=3)), max_size=4),
)
def test_mutated_darknet_files(which: int, edits: list[tuple[int, int, str]]) -> None:
    text = CFG_TEXTS[which]
    for where, cut, insert in edits:
        at = where % (len(text) + 1)
        text = text[:at] + insert + text[at + cut :]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "net.cfg"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        _check(["shape", str(path), "--darknet"])
        _check(["rf", str(path), "--format", "json"])
