"""`python -m easyllm`: the `easyllm` command."""

from __future__ import annotations

import sys

from easyllm.cli import main

if __name__ == "__main__":
    sys.exit(main())
