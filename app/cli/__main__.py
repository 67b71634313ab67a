"""`python -m app.cli`: the `newsrag` command."""

import sys

from app.cli.main import main

sys.exit(main())
