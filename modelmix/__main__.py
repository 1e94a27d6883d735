import sys

from modelmix.cli import main

sys.exit(main())
