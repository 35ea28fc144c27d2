"""kvstore's Python client: one redis-py-shaped API over three transports.

    from clients import Client, AsyncClient
    c = Client.from_url("redis://localhost:6379/0")    # or kvstore://, unix:///path?db=0
    m = Client.from_url("memory://")                   # in-process store, no sockets
    c.set("k", "v"); c.get("k")                        # the methods of kvstore.methods

The methods are written once (kvstore.methods) and shared with the embedded store; this package
adds the transports: sockets (connection.py, aconnection.py), pools with retries (pool.py), the
in-process store (memory.py), pipelines and transactions (pipeline.py), pub/sub (pubsub.py),
and the asyncio forms of the methods that need a reply at once (amethods.py).
Replies are parsed by kvstore.protocol's reader (hiredis when installed) and commands packed by
kvstore.protocol.pack_command: one codec for the server and the clients.
"""

from kvstore.errors import (
    AuthenticationError, AuthorizationError, BusyKeyError, BusyLoadingError, ConnectionError,
    DataError,
    ExecAbortError, KvstoreError, LockError, LockNotOwnedError, NoPermissionError, ResponseError,
    TimeoutError, WrongTypeError,
)

from .aclient import AsyncClient
from .client import Client
from .pipeline import AsyncPipeline, Pipeline, WatchError
from .pool import AsyncConnectionPool, ConnectionPool, Retry
from .pubsub import (
    AsyncPubSub, PubSub, PubSubError, PubSubWorkerThread, Subscription,
)

from_url = Client.from_url  # redis.from_url's counterpart: clients.from_url("memory://")

__all__ = [
    "AsyncClient", "AsyncConnectionPool", "AsyncPipeline", "AsyncPubSub", "AuthenticationError",
    "AuthorizationError", "BusyKeyError", "BusyLoadingError", "Client", "ConnectionError", "ConnectionPool",
    "DataError", "ExecAbortError", "KvstoreError", "LockError", "LockNotOwnedError",
    "NoPermissionError", "Pipeline",
    "PubSub", "PubSubError", "PubSubWorkerThread", "ResponseError", "Retry", "Subscription",
    "TimeoutError", "WatchError",
    "WrongTypeError",
    "from_url",
]
