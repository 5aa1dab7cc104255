"""`python -m aks_runbook.cli`: the same as `aks-runbook`."""

import sys

from aks_runbook.cli import main

sys.exit(main())
