"""Shared test helpers: the CLI runner, paths, and the --update-golden switch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden", action="store_true", help="rewrite golden files from the current output"
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="session")
def torchvision() -> Any:
    """torchvision's models, importable on this torch build: its compiled operators do not load,
    so the module registering their fake kernels is stubbed before the import (the models are
    pure Python and never call those operators)."""
    import sys
    import types

    pytest.importorskip("torch")
    name = "torchvision._meta_registrations"
    sys.modules.setdefault(name, types.ModuleType(name))
    return pytest.importorskip("torchvision")
