"""Documentation kept true: the layer reference, the JSON Schema, the examples gallery."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import cnncalc
from cnncalc.cli import app
from cnncalc.render.numbers import thousands
from tests.conftest import EXAMPLES, ROOT

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
