"""``python -m collector.client``: the reference client's documented command line.

The client itself is one stdlib-only file, ``installdata/installtest/client.py``: copy that
file to vendor it (docs/client.md). This module keeps the documented command and
``from collector.client import submit`` working for scripts that use the installed package.
"""

from __future__ import annotations

import sys

from installdata.installtest.client import *  # noqa: F403  (its __all__: the public names)
from installdata.installtest.client import main

if __name__ == "__main__":
    sys.exit(main())
