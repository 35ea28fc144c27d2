"""Sans-IO RESP2/RESP3: bytes in, commands or replies out; reply values in, bytes out.

Nothing here touches a socket, the event loop or the engine (see DESIGN.md, "Layers"):

* `RequestParser` (server side): request bytes -> argv lists, with Redis's limits and error texts.
* `Reader` / `make_reader` (client side, AOF replay): reply bytes -> Python values, hiredis API.
* `encode` / `encode_into` (server side): reply values (kvstore.replies) -> RESP2 or RESP3 bytes.
* `pack_command` (client side): arguments -> one RESP command.
"""

from kvstore.protocol.encoder import encode, encode_into, pack_command
from kvstore.protocol.reader import HIREDIS_AVAILABLE, READER_IMPL, Reader, make_reader
from kvstore.protocol.request import PARSERS, RequestParser, split_inline

__all__ = [
    "HIREDIS_AVAILABLE",
    "PARSERS",
    "READER_IMPL",
    "Reader",
    "RequestParser",
    "encode",
    "encode_into",
    "make_reader",
    "pack_command",
    "split_inline",
]
