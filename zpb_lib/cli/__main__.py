"""``python -m zpb_lib.cli``: the ``zpb`` command, as before the command line became a package."""
import sys

from zpb_lib.cli import main

sys.exit(main())
