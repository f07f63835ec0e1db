"""Names are shown as written: never as rich markup or emoji codes, bounded in length."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cnncalc.cli import app
from cnncalc.errors import escape


def test_a_long_name_is_shown_by_its_ends() -> None:
    # 10,000 characters: the first and last 480 are kept, 10,000 − 960 = 9,040 left out
    assert escape("n" * 10_000) == "n" * 480 + "…(9,040 characters)…" + "n" * 480
    assert escape("n" * 1_000) == "n" * 1_000  # up to the limit, whole


def test_markup_and_emoji_codes_in_names_are_text(tmp_path: Path) -> None:
    path = tmp_path / "net.yaml"
    path.write_text(
        'input: [1, 2, 4, 4]\nlayers:\n  - {type: ReLU, name: "[red]x[/red] :smile:"}\n', encoding="utf-8"
    )
    runner = CliRunner()
    narrow = runner.invoke(app, ["shape", str(path), "--width", "40"])  # stacked: one cell a line
    assert narrow.exit_code == 0
    lines = narrow.stdout.splitlines()
    assert lines[2] == "0 [red]x[/red] :smile: (ReLU)"
    wide = runner.invoke(app, ["shape", str(path), "--width", "100"])  # the name fits
    assert wide.exit_code == 0
    assert "[red]x[/red] :smile: (ReLU)" in wide.stdout


def test_control_characters_in_names_are_escaped_in_the_memory_views(tmp_path: Path) -> None:
    path = tmp_path / "net.yaml"
    path.write_text('input: [1, 2, 4, 4]\nlayers:\n  - {type: ReLU, name: "a\\e[2Jb"}\n', encoding="utf-8")
    runner = CliRunner()
    for fmt in ("table", "csv", "markdown"):
        result = runner.invoke(app, ["memory", str(path), "-f", fmt, "--width", "100"])
        assert result.exit_code == 0, fmt
        assert "\x1b" not in result.stdout, fmt
        assert "a\\x1b[2Jb" in result.stdout, fmt
