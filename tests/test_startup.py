"""Start-up stays light: what each path imports, checked in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import EXAMPLES


def _modules_after(code: str) -> set[str]:
    probe = code + "\nimport sys\nprint('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_import_cnncalc_is_light() -> None:
    loaded = _modules_after("import cnncalc")
    assert not {"rich", "pydantic", "yaml", "typer", "torch"} & loaded


def test_json_output_never_imports_rich_or_torch() -> None:
    code = (
        "import sys\nfrom cnncalc.cli import app\n"
        f"sys.argv = ['cnncalc', 'shape', {str(EXAMPLES / 'vgg16.yaml')!r}, '--format', 'json']\n"
        "try:\n    app()\nexcept SystemExit:\n    pass"
    )
    loaded = _modules_after(code)
    assert "rich" not in loaded
    assert "torch" not in loaded
