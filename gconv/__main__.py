"""``python -m gconv``: the same as the ``gconv`` command."""

import sys

from gconv.cli import main

sys.exit(main())
