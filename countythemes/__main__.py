"""``python -m countythemes``: the ``countythemes`` command."""
import sys

from .cli import main

sys.exit(main())
