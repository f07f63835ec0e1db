"""Sources that are not network files get a message saying what to do instead."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cnncalc.cli import app

NET = """import torch.nn as nn


class Net(nn.Sequential):
    def __init__(self, width: int = 8) -> None:
        super().__init__(nn.Conv2d(3, width, 3), nn.ReLU())
"""


def test_a_python_file_is_sent_to_from_torch(tmp_path: Path) -> None:
    path = tmp_path / "net.py"
    path.write_text(NET, encoding="utf-8")
    result = CliRunner().invoke(app, ["shape", str(path)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"{path}:1:1: a Python file: read the module it defines with --from-torch '{path}:Net(...)' "
        "(naming its class or factory) and --input; that runs the file\n"
    )


def test_from_torch_reads_a_python_file(tmp_path: Path) -> None:
    """Conv2d(3, 4, 3) on 1×3×8×8: 4·3·3·3 + 4 = 112 parameters, output 6×6, 4·6·6·27 = 3,888 MACs."""
    pytest.importorskip("torch")
    path = tmp_path / "net.py"
    path.write_text(NET, encoding="utf-8")
    spec = f"{path}:Net(width=4)"
    result = CliRunner().invoke(app, ["shape", "--from-torch", spec, "-i", "1,3,8,8", "-f", "csv"])
    assert result.exit_code == 0, result.stderr
    total = result.stdout.splitlines()[-1].split(",")
    assert total[5:9] == ["1x4x6x6", "112", "112", "3888"]
    missing = CliRunner().invoke(app, ["shape", "--from-torch", f"{tmp_path}/none.py:Net", "-i", "1,3,8,8"])
    assert missing.exit_code == 2
    assert "no Python file" in missing.stderr and "Traceback" not in missing.stderr
