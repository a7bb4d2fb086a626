"""``python -m benchmarks``: run every benchmark and print one table (see README.md)."""

import sys

from benchmarks.run_all import main

sys.exit(main())
