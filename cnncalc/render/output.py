"""Where rendered output goes: standard output, a file replaced atomically, or a terminal
drawn by rich (in colour, at its width)."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from cnncalc.errors import Position, SourceError

if TYPE_CHECKING:
    from cnncalc.render import Rendered

# width of tables written to --output when --width is not given
FILE_WIDTH = 100


def write(text: str, output: Path | None) -> None:
    """Write to stdout, or to ``output`` through a temporary file renamed into place."""
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    folder = output.parent if str(output.parent) else Path(".")
    if not folder.is_dir():
        raise SourceError(f"cannot write: directory {str(folder)!r} does not exist", Position(str(output)))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{output.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, output)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def emit(rendered: Rendered, output: Path | None, width: int | None = None, color: bool = True) -> None:
    """Text as it is; rich renderables drawn for the terminal, or as plain text (no colour,
    no trailing blanks) to ``output`` and to pipes (``COLUMNS`` wide, else 80)."""
    if isinstance(rendered, str):
        write(rendered, output)
        return
    from cnncalc.render.table import to_text

    if output is not None:
        write(to_text(rendered, width or FILE_WIDTH, color=False), output)
        return
    if not sys.stdout.isatty():
        env_width = os.environ.get("COLUMNS", "")
        fallback = int(env_width) if env_width.isdigit() else 80
        write(to_text(rendered, width or fallback, color=False), None)
        return
    from rich.console import Console

    console = Console(width=width, no_color=not color or bool(os.environ.get("NO_COLOR")), highlight=False)
    for item in rendered:
        console.print(item)
