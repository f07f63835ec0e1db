"""Where networks come from: files, standard input, or inline call-form layers."""

from __future__ import annotations

import os

from cnncalc.errors import Position, SpecError
from cnncalc.graph import Network
from cnncalc.readers import FILE_SUFFIXES, Read, ReadOptions, read


def looks_like_file(arg: str) -> bool:
    """A SOURCE argument names a file if it exists, is ``-``, has a file suffix or a path separator."""
    return (
        arg == "-"
        or os.path.exists(arg)
        or arg.lower().endswith(FILE_SUFFIXES)
        or ("/" in arg and "(" not in arg)
    )


def load_reads(sources: list[str], options: ReadOptions) -> list[Read]:
    """What SOURCE arguments hold: every file is a network; inline layers make one network."""
    from cnncalc.spec.network import network_from_calls

    if sources and all(s.startswith("torch:") for s in sources):  # --from-torch SPEC
        return [read(s, options, format="torch") for s in sources]
    files = [s for s in sources if looks_like_file(s)]
    inline = [s for s in sources if not looks_like_file(s)]
    if files and inline:
        raise SpecError(
            f"give either network files or inline layers, not both ({files[0]!r} and {inline[0]!r})",
            Position(f"<arg {sources.index(inline[0]) + 1}>"),
        )
    if inline:
        # numbered by position in one pass (list.index per argument is quadratic)
        names = [f"<arg {i + 1}>" for i, s in enumerate(sources) if not looks_like_file(s)]
        return [Read(network_from_calls(inline, options.input_shape, names, options.limits))]
    return [read(f, options) for f in files]


def load_sources(sources: list[str], options: ReadOptions) -> list[Network]:
    """The networks of SOURCE arguments (see :func:`load_reads`)."""
    return [r.network for r in load_reads(sources, options)]


def load_one(arg: str, options: ReadOptions, label: str) -> Read:
    """One network from one argument: a file, ``-``, or inline layers separated by ``;``."""
    from cnncalc.spec.network import network_from_calls

    if looks_like_file(arg):
        return read(arg, options)
    return Read(network_from_calls([arg], options.input_shape, [label], options.limits))
