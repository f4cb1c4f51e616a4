"""`python -m easyllm.serve [options]`: the same as `easyllm serve [options]`."""

from __future__ import annotations

import sys

from easyllm.serve.cli import main

if __name__ == "__main__":
    sys.exit(main())
