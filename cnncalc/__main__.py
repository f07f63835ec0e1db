"""``python -m cnncalc``: the same command line as the ``cnncalc`` script."""

from cnncalc.cli import main

main()
