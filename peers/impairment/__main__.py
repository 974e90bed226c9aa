"""`python -m peers.impairment --help`."""

import sys

from peers.impairment.cli import main

sys.exit(main())
