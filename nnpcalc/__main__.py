"""`python -m nnpcalc ...` is `nnpcalc ...`."""

import sys

from nnpcalc.cli import main

sys.exit(main())
