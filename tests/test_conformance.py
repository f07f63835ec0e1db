"""PyTorch conformance: cnncalc's single-layer output shapes and parameter counts against torch.nn."""

from __future__ import annotations

import copy
import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

TESTS_DIR = Path(__file__).resolve().parent
if str(TESTS_DIR) not in sys.path:  # pytest's default rootdir insertion does this too
    sys.path.insert(0, str(TESTS_DIR))

from conformance.generate import generate_cases  # noqa: E402

from cnncalc.engine.single import layer_output  # noqa: E402
from cnncalc.errors import CnncalcError  # noqa: E402

GOLDEN_PATH = TESTS_DIR / "data" / "torch_golden.jsonl"
#: Seed of test_live's fresh cases unless CNNCALC_CONFORMANCE_SEED says otherwise; it must
#: differ from the golden file's seed (scripts/make_torch_golden.py) to test something new.
LIVE_SEED = 4242
LIVE_N = 2000
SHOWN = 40


def _call(case: dict[str, Any]) -> str:
    args = [repr(a) for a in case["args"]]
    args += [f"{k}={v!r}" for k, v in case["kwargs"].items()]
    return f"{case['type']}({', '.join(args)}) on input {list(case['input'])}"


def _describe(expect: dict[str, Any]) -> str:
    if expect["ok"]:
        return f"output_shape={expect['output_shape']} params={expect['params']}"
    if expect["params"] is None:
        return "rejected (constructor raises)"
    return f"rejected (forward raises; module has {expect['params']} params)"


def _disagreement(case: dict[str, Any], expect: dict[str, Any]) -> str | None:
    """None when cnncalc agrees with PyTorch's recorded outcome, else what cnncalc did."""
    try:
        shape, params = layer_output(
            case["type"],
            copy.deepcopy(case["args"]),
            copy.deepcopy(case["kwargs"]),
            tuple(case["input"]),
        )
    except CnncalcError as exc:
        return None if not expect["ok"] else f"raised {type(exc).__name__}: {exc}"
    except Exception as exc:  # any other exception is a bug, whatever PyTorch did
        return f"raised non-CnncalcError {type(exc).__name__}: {exc}"
    got = f"output_shape={list(shape)} params={params}"
    if not expect["ok"]:
        return f"accepted: {got}"
    if list(shape) != expect["output_shape"] or params != expect["params"]:
        return got
    return None


def _compare(rows: list[tuple[dict[str, Any], dict[str, Any]]], origin: str) -> None:
    """Run every case, then fail once listing the first SHOWN disagreements and the total."""
    shown: list[str] = []
    total = 0
    for index, (case, expect) in enumerate(rows):
        got = _disagreement(case, expect)
        if got is None:
            continue
        total += 1
        if len(shown) < SHOWN:
            shown.append(
                f"#{index} {_call(case)}\n      expected: {_describe(expect)}\n      got:      {got}"
            )
    if total:
        header = f"{total} of {len(rows)} cases disagree with PyTorch ({origin}); first {len(shown)}:"
        pytest.fail("\n".join([header, *shown]), pytrace=False)


def _read_golden() -> tuple[dict[str, Any], list[tuple[dict[str, Any], dict[str, Any]]]]:
    with GOLDEN_PATH.open(encoding="utf-8") as fh:
        lines = [line for line in fh if line.strip()]
    header: dict[str, Any] = json.loads(lines[0])
    rows = []
    for line in lines[1:]:
        row = json.loads(line)
        rows.append((row["case"], row["expect"]))
    return header, rows


def test_golden() -> None:
    header, rows = _read_golden()
    assert len(rows) == header["n"], f"{GOLDEN_PATH} holds {len(rows)} cases, header says {header['n']}"
    _compare(rows, f"golden file, torch {header['torch_version']}, seed {header['seed']}")


@pytest.mark.torch
def test_live() -> None:
    with warnings.catch_warnings():
        # without NumPy, importing torch warns "Failed to initialize NumPy"; -W error must not trip
        warnings.simplefilter("ignore")
        pytest.importorskip("torch")
        from conformance.oracle import run_torch, torch_version

    seed = int(os.environ.get("CNNCALC_CONFORMANCE_SEED", LIVE_SEED))
    cases = generate_cases(seed, LIVE_N)
    rows = [(case, run_torch(case)) for case in cases]
    _compare(
        rows,
        f"live torch {torch_version()}, seed {seed}: rerun with CNNCALC_CONFORMANCE_SEED={seed}",
    )


VOCAB_N = 2800


def _vocab_disagreement(case: dict[str, Any], expect: dict[str, Any]) -> str | None:
    """None when cnncalc's shape, parameters and MACs agree with PyTorch's, else what it gave."""
    from cnncalc.engine.single import layer_figures

    try:
        shape, params, macs = layer_figures(
            case["type"],
            copy.deepcopy(case["args"]),
            copy.deepcopy(case["kwargs"]),
            [tuple(x) for x in case["inputs"]],
        )
    except CnncalcError as exc:
        return None if not expect["ok"] else f"raised {type(exc).__name__}: {exc}"
    except Exception as exc:  # any other exception is a bug, whatever PyTorch did
        return f"raised non-CnncalcError {type(exc).__name__}: {exc}"
    got = f"output_shape={list(shape)} params={params} macs={macs}"
    if not expect["ok"]:
        return f"accepted: {got}"
    wrong_macs = expect["macs"] is not None and macs != expect["macs"]
    if list(shape) != expect["output_shape"] or params != expect["params"] or wrong_macs:
        return got
    return None


@pytest.mark.torch
def test_vocabulary_live() -> None:
    """The tensor, arithmetic and attention kinds against the PyTorch functions and modules they
    stand for (tests/conformance/vocab.py): shapes, parameters and MACs counted by
    torch.utils.flop_counter."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pytest.importorskip("torch")
        from conformance import vocab

        vocab._torch()  # the torchvision stub, before timm imports torchvision
        pytest.importorskip("timm")

    seed = int(os.environ.get("CNNCALC_CONFORMANCE_SEED", LIVE_SEED))
    cases = vocab.generate_cases(seed, VOCAB_N)
    shown: list[str] = []
    total = 0
    for index, case in enumerate(cases):
        expect = vocab.run_torch(case)
        got = _vocab_disagreement(case, expect)
        if got is None:
            continue
        total += 1
        if len(shown) < SHOWN:
            call = f"{case['type']}(*{case['args']}, **{case['kwargs']}) on inputs {case['inputs']}"
            shown.append(f"#{index} {call}\n      expected: {expect}\n      got:      {got}")
    if total:
        header = f"{total} of {len(cases)} vocabulary cases disagree with PyTorch (seed {seed}):"
        pytest.fail("\n".join([header, *shown]), pytrace=False)
