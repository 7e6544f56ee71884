"""``python -m kiket_sdk._cli``: the same as the ``kiket-sdk`` console script."""

from __future__ import annotations

import sys

from kiket_sdk._cli._main import main

sys.exit(main())
