"""Where rendered output goes: standard output, a file replaced atomically, or a terminal
drawn by rich (in colour, at its width)."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from cnncalc.errors import Position, SourceError

if TYPE_CHECKING:
    from cnncalc.render import Rendered

# width of tables written to a file (--output) or a pipe when neither --width nor COLUMNS says
PLAIN_WIDTH = 80


def plain_width() -> int:
    """The width of a table that is not drawn on a terminal: ``COLUMNS``, else 80 — the same
    for ``-o FILE`` and ``> FILE``, so both write the same bytes."""
    env_width = os.environ.get("COLUMNS", "")
    return int(env_width) if env_width.isdigit() and int(env_width) > 0 else PLAIN_WIDTH


def write(text: str, output: Path | None, *, exclusive: bool = False, force: bool = False) -> None:
    """Write to stdout (``None`` or ``-``), or to ``output`` atomically (see :func:`write_file`)."""
    if output is None or str(output) == "-":
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except BrokenPipeError:
            raise
        except (OSError, ValueError) as exc:
            # stdout on a full device, or closed: one line, not a traceback at exit
            _quiet_stdout()
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "closed"
            raise SourceError(f"cannot write to standard output: {reason}", Position("<stdout>")) from None
        return
    write_file(output, text.encode("utf-8"), exclusive=exclusive, force=force)


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's flush at exit cannot fail again."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def check_target(output: Path, *, exclusive: bool = False, force: bool = False) -> None:
    """Refuse a target that writing would harm: an empty name, a directory, a device or FIFO
    (a rename would replace it by a regular file), a symbolic link (unless ``force``: the link
    itself is then replaced, never what it points to), a missing folder, or, when
    ``exclusive`` and not ``force``, an existing file."""
    where = Position(str(output) or "<option --output>")
    if not str(output):
        raise SourceError("the file name to write is empty", where)
    try:
        st = os.lstat(output)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise SourceError(f"cannot write: {exc.strerror}", where) from None
    if st is not None:
        if stat.S_ISLNK(st.st_mode):
            if not force:
                raise SourceError("is a symbolic link: not written through it (remove it first)", where)
        elif stat.S_ISDIR(st.st_mode):
            raise SourceError("cannot write: is a directory", where)
        elif not stat.S_ISREG(st.st_mode):
            raise SourceError("cannot write: not a regular file (a device, FIFO or socket)", where)
        elif exclusive and not force:
            raise SourceError("exists already; add --force to overwrite it", where)
    folder = output.parent if str(output.parent) else Path(".")
    if not folder.is_dir():
        raise SourceError(f"cannot write: directory {str(folder)!r} does not exist", where)


def write_file(
    output: Path, data: bytes | Callable[[BinaryIO], None], *, exclusive: bool = False, force: bool = False
) -> None:
    """Write ``data`` (bytes, or a function writing to a binary file) to ``output``: a temporary
    file with a short name in the target's folder, fsync, then a rename into place (with
    ``exclusive``, a hard link that fails if the target appeared meanwhile: of parallel
    writers exactly one wins; ``force`` lifts that and lets a symbolic link be replaced). The
    file gets the mode of the file it replaces, else the umask's. SIGTERM, SIGHUP and Ctrl-C
    during the write remove the temporary file."""
    check_target(output, exclusive=exclusive, force=force)
    where = Position(str(output))
    folder = output.parent if str(output.parent) else Path(".")
    try:
        st = os.lstat(output)
        old_mode = stat.S_IMODE(st.st_mode) if stat.S_ISREG(st.st_mode) else None
    except OSError:
        old_mode = None
    with _signals_raise():
        tmp = ""
        try:
            for _ in range(100):
                tmp = os.path.join(folder, f".cnncalc-{secrets.token_hex(4)}.tmp")
                try:
                    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o666)
                    break
                except FileExistsError:
                    continue
            else:  # pragma: no cover - 100 random names taken
                raise SourceError("cannot create a temporary file", where)
            with os.fdopen(fd, "wb") as handle:
                if old_mode is not None:
                    os.fchmod(handle.fileno(), old_mode)
                if callable(data):
                    data(handle)
                else:
                    handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            if force or not exclusive:
                check_target(output, force=force)
                os.replace(tmp, output)
            else:
                try:
                    os.link(tmp, output)  # atomic, and refuses an existing target
                    os.unlink(tmp)
                except (PermissionError, NotImplementedError):
                    # a file system without hard links (FAT, some network mounts): the check
                    # just before the rename is the best there is
                    check_target(output, exclusive=True)
                    os.replace(tmp, output)
            tmp = ""
        except FileExistsError:
            raise SourceError("exists already; add --force to overwrite it", where) from None
        except OSError as exc:
            raise SourceError(f"cannot write: {exc.strerror or exc}", where) from None
        finally:
            if tmp:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class Interrupted(BaseException):
    """A terminating signal during a write: unwinds so the temporary file is removed."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def _signals_raise() -> Iterator[None]:
    """While writing, SIGTERM and SIGHUP unwind like Ctrl-C does (their default would end the
    process at once and leave the temporary file)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise Interrupted(signum)

    saved = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, previous in saved.items():
            signal.signal(s, previous)


def emit(rendered: Rendered, output: Path | None, width: int | None = None, color: bool = True) -> None:
    """Text as it is; rich renderables drawn for the terminal, or as plain text (no colour,
    no trailing blanks) to ``output`` and to pipes (both :func:`plain_width` wide)."""
    if isinstance(rendered, str):
        write(rendered, output)
        return
    from cnncalc.render.table import to_text

    if output is not None or not sys.stdout.isatty():
        write(to_text(rendered, width or plain_width(), color=False), output)
        return
    from rich.console import Console

    console = Console(
        width=width,
        no_color=not color or bool(os.environ.get("NO_COLOR")),
        highlight=False,
        markup=False,  # names are what the user wrote, never rich markup or emoji codes
        emoji=False,
    )
    for item in rendered:
        console.print(item)
