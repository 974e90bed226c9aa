"""`python -m probes.impairment --help`."""

import sys

from probes.impairment.cli import main

sys.exit(main())
