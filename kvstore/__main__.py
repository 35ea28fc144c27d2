"""`python -m kvstore [options]`: run the standalone server (same options as kvstore-server)."""

import sys

from .server.main import main

sys.exit(main())
