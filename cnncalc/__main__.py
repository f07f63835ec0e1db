"""``python -m cnncalc``: the same command line as the ``cnncalc`` script."""

import sys

try:
    from cnncalc.cli import main
except KeyboardInterrupt:  # Ctrl-C while starting: the same one line as later
    sys.stderr.write("cnncalc: interrupted\n")
    sys.exit(130)

main()
