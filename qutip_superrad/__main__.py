"""``python -m qutip_superrad``: the command line interface (see :mod:`qutip_superrad.cli`)."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
