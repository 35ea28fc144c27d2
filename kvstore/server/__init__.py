"""The standalone server: asyncio (uvloop) listener, connections, limits, config, shutdown.

`run(config, shutdown_event)` runs a server until shutdown; `main()` is the `kvstore-server`
console script. See server.py for the theory of operation and client.py for the hot path.
"""

from .config import Config
from .server import Server, run

__all__ = ["Config", "Server", "run"]
