import sys

from consultation.counting.cli import main

sys.exit(main())
