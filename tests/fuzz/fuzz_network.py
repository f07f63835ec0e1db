"""Coverage-guided fuzzing of the whole pipeline with atheris (optional; not part of CI).

Each input is read as a network file and, when valid, analysed, rendered as JSON and as a
table, and one unit's receptive field is traced. The only acceptable failure is a CnncalcError
(the user's mistake, reported with a position); anything else is a finding and stops the run.

    pip install atheris
    python tests/fuzz/fuzz_network.py -atheris_runs=200000 tests/fuzz/corpus
(scripts/fuzz.sh builds the seed corpus from examples/ and tests/bad_inputs/ and runs this.)
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from cnncalc.engine.analyze import analyze, unit_region
    from cnncalc.errors import CnncalcError
    from cnncalc.render import jsonout
    from cnncalc.render.table import shape_tables, to_text
    from cnncalc.spec.network import load_text


def check(data: bytes) -> None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return  # the file reader refuses these before parsing (tests/test_bad_inputs.py)
    try:
        network = load_text(text, "<fuzz>")
        report = analyze(network)
        jsonout.render([report])
        to_text(shape_tables([report]), 100, color=False)
        if report.receptive_field is not None and not report.receptive_field.whole:
            unit_region(network, None)
    except CnncalcError as exc:
        assert exc.position is not None, f"error without a position: {exc}"


def main() -> None:
    atheris.Setup(sys.argv, check)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
