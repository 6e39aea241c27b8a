"""`python -m zetalab.zeros`: see zetalab.zeros.cli."""

import sys

from zetalab.zeros.cli import main

sys.exit(main())
