"""``python -m eigenlake.cli``: the ``eigenlake`` command."""

import sys

from . import main

sys.exit(main())
