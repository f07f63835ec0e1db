"""The network file: cnncalc's own YAML (or JSON) format, read by :mod:`cnncalc.spec`."""

from __future__ import annotations

from cnncalc.readers import Read, ReadOptions, Source


def read(source: Source, options: ReadOptions) -> Read:
    """The network a cnncalc YAML file describes (``input:`` overridden by the options')."""
    from cnncalc.spec.network import load_text

    network = load_text(source.text(), source.label, options.input_shape, options.limits)
    return Read(network)
