"""``python -m kernlearn``: the kernlearn command line (see :mod:`kernlearn.cli`)."""

import sys

from kernlearn.cli import main

if __name__ == "__main__":
    sys.exit(main())
