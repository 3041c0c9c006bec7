"""``python -m chainrule``: the same command line as the ``chainrule`` console script."""

import sys

from .tools.cli import main

sys.exit(main())
