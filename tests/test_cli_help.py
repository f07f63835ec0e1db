"""Every registered command has help text and an example, and ``cnncalc <command> --help`` works."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from cnncalc.cli import app

COMMANDS = typer.main.get_command(app).commands  # type: ignore[attr-defined]


def test_the_commands_are_found() -> None:
    assert sorted(COMMANDS) == [
        "check",
        "convert",
        "dense",
        "equiv",
        "layers",
        "memory",
        "rf",
        "schema",
        "shape",
        "sizes",
        "solve",
    ]


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help_with_an_example(runner: CliRunner, command: str) -> None:
    registered = COMMANDS[command]
    assert registered.help and registered.help.strip()
    assert registered.epilog and registered.epilog.startswith("Example")
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    shown = " ".join(result.stdout.split())  # help is wrapped to the terminal's width
    assert " ".join(registered.help.split()) in shown
    assert "Example" in shown
    assert "cnncalc " + command in shown
