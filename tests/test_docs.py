"""Documentation kept true: the layer reference, the JSON Schema, the examples gallery.

The committed files are regenerated with ``--update-golden``; independently of how they are
generated, the layer reference is checked against ``torch.nn``'s own signatures, and the JSON
Schema against ``torch.nn``, crafted documents and what the loader accepts.
"""

from __future__ import annotations

import copy
import json
import re
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app
from cnncalc.errors import CnncalcError
from cnncalc.render.numbers import thousands
from cnncalc.spec.build import build_layer
from cnncalc.spec.network import load_text
from tests.conftest import EXAMPLES, ROOT
from tests.torch_nn import NOT_TORCH, constructs, import_torch, inferred, required, signature_line

SCHEMA = ROOT / "schema" / "cnncalc.schema.json"
SCHEMA_LINE = "# yaml-language-server: $schema=../schema/cnncalc.schema.json"


def _between(text: str, tag: str, body: str) -> str:
    pattern = re.compile(rf"(<!-- {tag}:start -->\n).*?(<!-- {tag}:end -->)", re.S)
    return pattern.sub(lambda m: m.group(1) + body + m.group(2), text)


def _check_or_update(path: Path, tag: str, body: str, update: bool) -> None:
    text = path.read_text(encoding="utf-8")
    new = _between(text, tag, body)
    if update:
        path.write_text(new, encoding="utf-8")
    assert new == text, f"{path.name} is stale: run pytest tests/test_docs.py --update-golden"


def test_layer_reference_is_the_catalogue(runner: CliRunner, update_golden: bool) -> None:
    listing = runner.invoke(app, ["layers"]).stdout
    body = "```\n" + listing + "```\n"
    _check_or_update(ROOT / "docs" / "format.md", "layers", body, update_golden)


def test_schema_file_is_current(runner: CliRunner, update_golden: bool) -> None:
    current = runner.invoke(app, ["schema"]).stdout
    if update_golden:
        SCHEMA.write_text(current, encoding="utf-8")
    assert SCHEMA.read_text(encoding="utf-8") == current


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.stem)
def test_examples_validate_against_the_schema(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert SCHEMA_LINE in text.splitlines()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    errors = [e.message for e in validator.iter_errors(yaml.safe_load(text))]
    assert not errors


def test_schema_catches_a_typo() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    doc = {"input": [1, 3, 8, 8], "layers": [{"type": "Conv2d", "out_channels": 3, "kernal_size": 3}]}
    assert list(validator.iter_errors(doc))


def gallery() -> str:
    """The examples table: file, what it teaches (its first comment line), headline figures."""
    rows = ["| example | what it shows | input | parameters | MACs |", "|---|---|---|---:|---:|"]
    for path in sorted([*EXAMPLES.glob("*.yaml"), *EXAMPLES.glob("*.cfg")]):
        lines = path.read_text(encoding="utf-8").splitlines()
        comment = " ".join(
            line.lstrip("# ").rstrip()
            for line in lines[: next(i for i, x in enumerate(lines) if not x.startswith("#"))]
            if "yaml-language-server" not in line
        )
        first = comment.split(". ")[0].split("; try")[0].rstrip(".") + "."
        report = cnncalc.analyze(cnncalc.load(str(path)))
        shape = "×".join(str(d) for d in report.input_shape)
        figures = f"{thousands(report.totals.params)} | {thousands(report.totals.macs)}"
        rows.append(f"| [`{path.name}`]({path.name}) | {first} | {shape} | {figures} |")
    return "\n".join(rows) + "\n"


def test_examples_gallery(update_golden: bool) -> None:
    _check_or_update(EXAMPLES / "README.md", "examples", gallery(), update_golden)


# ---- independent oracles: torch.nn's signatures, crafted documents, the loader ----------------


def _reference_lines() -> list[str]:
    text = (ROOT / "docs" / "format.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- layers:start -->\n```\n(.*?)```\n<!-- layers:end -->", text, re.S)
    assert block is not None
    return block.group(1).splitlines()


@pytest.mark.torch
def test_layer_reference_is_torch_nn_signatures() -> None:
    torch = import_torch()
    lines = _reference_lines()
    listed = [line.split("(", 1)[0] for line in lines]
    assert listed == sorted(set(listed))  # every kind once, by name
    claimed = [kind for kind in listed if kind not in NOT_TORCH]
    assert set(listed) - set(claimed) == set(NOT_TORCH)
    for kind in claimed:
        assert issubclass(getattr(torch.nn, kind), torch.nn.Module), kind
    expected = [NOT_TORCH[kind] if kind in NOT_TORCH else signature_line(torch, kind) for kind in listed]
    assert lines == expected


def _validator() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        jsonschema = pytest.importorskip("jsonschema")
    return jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))


def _plain(value: Any) -> Any:
    """JSON and YAML have lists where PyTorch takes tuples."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _schema_accepts(validator: Any, layer: dict[str, Any]) -> bool:
    doc = {"input": [1, 1, 4, 4], "layers": [{k: _plain(v) for k, v in layer.items()}]}
    return validator.is_valid(doc)  # type: ignore[no-any-return]


def _builds(kind: str, kwargs: dict[str, Any]) -> bool:
    try:
        build_layer(kind, [], [(k, copy.deepcopy(v), None) for k, v in kwargs.items()], None)
    except CnncalcError:
        return False
    return True


@pytest.mark.torch
def test_schema_layer_mappings_agree_with_torch_nn() -> None:
    """For every torch.nn kind the committed schema defines: torch's required arguments pass the
    schema and the loader (the inferred one may be left out); leaving out any other, or adding an
    argument torch.nn refuses, fails the schema, the loader and torch.nn alike."""
    torch = import_torch()
    validator = _validator()
    defined = json.loads(SCHEMA.read_text(encoding="utf-8"))["$defs"]
    kinds = [k for k in defined if k not in ("layer", "Residual", "Sequential", *NOT_TORCH)]
    assert kinds == [line.split("(", 1)[0] for line in _reference_lines() if line.split("(")[0] in kinds]
    disagreements = []
    for kind in kinds:
        needed = required(torch, kind)
        assert constructs(torch, kind, needed), kind
        free = inferred(torch, kind)
        given = {k: v for k, v in needed.items() if k != free}
        for layer in (needed, given):
            if not (_schema_accepts(validator, {"type": kind, **layer}) and _builds(kind, layer)):
                disagreements.append(f"{kind}({layer}) refused")
        for name in given:
            fewer = {k: v for k, v in needed.items() if k != name}
            verdicts = (
                constructs(torch, kind, fewer),
                _schema_accepts(validator, {"type": kind, **fewer}),
                _builds(kind, fewer),
            )
            if verdicts != (False, False, False):
                disagreements.append(f"{kind} without {name}: torch, schema, loader = {verdicts}")
        extra = {**needed, "not_an_argument": 1}
        verdicts = (
            constructs(torch, kind, extra),
            _schema_accepts(validator, {"type": kind, **extra}),
            _builds(kind, extra),
        )
        if len(set(verdicts)) != 1:
            disagreements.append(f"{kind} with an unknown argument: torch, schema, loader = {verdicts}")
    assert not disagreements


GOOD_DOCUMENTS = [
    {"input": [1, 3, 8, 8], "layers": ["Conv2d(3, 4, 3)", "ReLU"]},
    {
        "input": [1, 3, 8, 8],
        "dtype": "float16",
        "layers": [{"type": "conv2d", "out_channels": 4, "kernel_size": 3}],
    },
    {"input": [1, 3, 8, 8], "layers": [{"type": "LazyConv2d", "out_channels": 4, "kernel_size": [3, 1]}]},
    {
        "name": "blocks",
        "input": [1, 4, 8, 8],
        "layers": [
            {"type": "Residual", "name": "res", "body": ["Conv2d(4, 4, 3, padding=1)", "ReLU"]},
            {"type": "Sequential", "layers": ["Conv2d(4, 4, 1)"], "repeat": 2},
            {"type": "Conv2d", "name": "side", "from": "res", "out_channels": 4, "kernel_size": 1},
            {"type": "Add", "from": ["side", "sequential_1"]},
        ],
        "outputs": ["add_1"],
    },
]

BAD_DOCUMENTS = {
    "no input": {"layers": ["ReLU"]},
    "no layers": {"input": [1, 3, 8, 8]},
    "empty layers": {"input": [1, 3, 8, 8], "layers": []},
    "zero in the input shape": {"input": [1, 0, 8, 8], "layers": ["ReLU"]},
    "unknown top-level key": {"input": [1, 3, 8, 8], "layer": ["ReLU"]},
    "unknown dtype": {"input": [1, 3, 8, 8], "dtype": "float23", "layers": ["ReLU"]},
    "unknown layer type": {"input": [1, 3, 8, 8], "layers": [{"type": "Conv2e", "out_channels": 4}]},
    "misspelt argument": {
        "input": [1, 3, 8, 8],
        "layers": [{"type": "Conv2d", "out_channels": 3, "kernal_size": 3}],
    },
    "missing argument": {"input": [1, 3, 8, 8], "layers": [{"type": "Conv2d", "out_channels": 3}]},
    "string for an int": {
        "input": [1, 3, 8, 8],
        "layers": [{"type": "Conv2d", "out_channels": 3, "kernel_size": "3"}],
    },
    "bad block key": {"input": [1, 3, 8, 8], "layers": [{"type": "Residual", "bodies": ["ReLU"]}]},
    "block without layers": {"input": [1, 3, 8, 8], "layers": [{"type": "Sequential"}]},
    "repeat 0": {"input": [1, 3, 8, 8], "layers": [{"type": "Sequential", "layers": ["ReLU"], "repeat": 0}]},
    "empty from": {"input": [1, 3, 8, 8], "layers": [{"type": "ReLU", "from": []}]},
}


@pytest.mark.parametrize("doc", GOOD_DOCUMENTS, ids=range(len(GOOD_DOCUMENTS)))
def test_schema_and_loader_accept(doc: dict[str, Any]) -> None:
    assert not [e.message for e in _validator().iter_errors(doc)]
    cnncalc.analyze(load_text(yaml.safe_dump(doc, sort_keys=False), "<crafted>"))


@pytest.mark.parametrize("doc", list(BAD_DOCUMENTS.values()), ids=list(BAD_DOCUMENTS))
def test_schema_and_loader_refuse(doc: dict[str, Any]) -> None:
    assert not _validator().is_valid(doc)
    with pytest.raises(CnncalcError):
        load_text(yaml.safe_dump(doc, sort_keys=False), "<crafted>")
