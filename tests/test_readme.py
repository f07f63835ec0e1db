"""Every ``console`` block of the README shows the real output of its command.

A block starts with ``$ cnncalc ...``; the rest is what the command prints at 80 columns without
colour. ``pytest tests/test_readme.py --update-golden`` rewrites the blocks from the current code.
"""

from __future__ import annotations

import doctest
import re
import shlex

import pytest
from typer.testing import CliRunner

from cnncalc.cli import app
from tests.conftest import ROOT

README = ROOT / "README.md"
BLOCK = re.compile(r"```console\n\$ (?P<command>cnncalc [^\n]*)\n(?P<output>.*?)```", re.S)


def _run(command: str) -> str:
    argv = shlex.split(command)[1:]
    runner = CliRunner(env={"COLUMNS": "80", "NO_COLOR": "1"})
    result = runner.invoke(app, argv, catch_exceptions=False)
    return result.output


def test_readme_outputs_are_real(update_golden: bool) -> None:
    text = README.read_text(encoding="utf-8")
    blocks = list(BLOCK.finditer(text))
    assert len(blocks) >= 4
    if update_golden:
        new = BLOCK.sub(lambda m: f"```console\n$ {m['command']}\n{_run(m['command'])}```", text)
        README.write_text(new, encoding="utf-8")
        return
    for match in blocks:
        assert match["output"] == _run(match["command"]), match["command"]


PYTHON = re.compile(r"```python\n(?P<code>.*?)```", re.S)


def test_readme_python_examples(monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's Python session runs as shown (doctest)."""
    monkeypatch.chdir(ROOT)
    blocks = [m["code"] for m in PYTHON.finditer(README.read_text(encoding="utf-8"))]
    assert blocks
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for i, code in enumerate(blocks):
        test = parser.get_doctest(code, {}, f"README python block {i}", str(README), 0)
        runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
