"""The cron's half of maxmemory-clients (`client_eviction.check_all`), on stand-in clients: a
client it evicts is closing until the loop delivers its connection_lost, and a cron tick in
between must neither evict it again (evicted_clients counts each client once) nor count the
memory it is about to free against the others. The black-box tests in test_blackbox.py drive
the same code through real connections."""

from __future__ import annotations

from types import SimpleNamespace

from kvstore.server import client_eviction


class Transport:
    def __init__(self) -> None:
        self.closing = False

    def get_write_buffer_size(self) -> int:
        return 0

    def is_closing(self) -> bool:
        return self.closing


class Client:
    """What client_eviction reads of a connection; `kill` closes the transport as
    Client.kill does, and the server forgets the client only at connection_lost."""

    def __init__(self, held: int) -> None:
        self.transport = Transport()
        self.parser = SimpleNamespace(held=lambda: held)
        self.watched = self.subs = self.psubs = self.ssubs = ()
        self.no_evict = self.is_master = False
        self.replica = None

    def queued_bytes(self) -> int:
        return 0

    def info_line(self) -> str:
        return "id=?"

    def kill(self) -> None:
        self.transport.closing = True


def make_server(*clients: Client, cap: int):
    return SimpleNamespace(config={"maxmemory-clients": cap}, stats=SimpleNamespace(evicted_clients=0),
                           clients=dict(enumerate(clients)),
                           log=SimpleNamespace(verbose=lambda *args: None))


def test_a_closing_client_is_neither_evicted_again_nor_counted():
    big, mid, small = Client(3_000), Client(1_500), Client(1_000)
    server = make_server(big, mid, small, cap=4_000)
    client_eviction.check_all(server)  # 5,500 > 4,000: the biggest goes, the rest fit
    assert server.stats.evicted_clients == 1 and big.transport.closing
    assert not mid.transport.closing and not small.transport.closing
    # The next tick comes before big's connection_lost: big is still listed.
    client_eviction.check_all(server)
    assert server.stats.evicted_clients == 1
    assert not mid.transport.closing and not small.transport.closing
    # A client that grows is evicted as usual.
    server.clients[3] = Client(2_000)
    client_eviction.check_all(server)
    assert server.stats.evicted_clients == 2 and server.clients[3].transport.closing
