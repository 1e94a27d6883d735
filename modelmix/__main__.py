"""`python -m modelmix`: the command line (cli.main), as the `modelmix` script runs it."""

import sys

from cli.main import main

sys.exit(main())
