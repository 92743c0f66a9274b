"""What the receiver tests share: one HTTP server per module whose app each test swaps in, a store, a clock."""

from __future__ import annotations

import time

import pytest

from walmart_accounting.sandbox.server import ThreadedServer
from walmart_accounting.store.store import Store
from walmart_accounting.webhooks.app import build_app
from walmart_accounting.webhooks.settings import WebhookSettings


class Swap:
    """An ASGI app forwarding to the app a test puts in it, so a module starts one uvicorn server."""

    def __init__(self):
        self.app = None

    async def __call__(self, scope, receive, send):
        await self.app(scope, receive, send)


class Clock:
    """Wall time plus an offset the test moves, shared by the receiver under test."""

    def __init__(self):
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset


class Receiver:
    """The receiver under test: its URL, store and clock."""

    def __init__(self, url: str, store: Store, clock: Clock):
        self.url, self.store, self.clock = url, store, clock

    def inbox(self, source: str | None = None) -> list[tuple[str, str, str]]:
        return [(e.source, e.event_id, e.event_type) for e in self.store.pending_webhooks(source)]


@pytest.fixture(scope="module")
def http_server():
    swap = Swap()
    with ThreadedServer(swap) as server:
        server.swap = swap
        yield server


@pytest.fixture
def store(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 'store.sqlite'}", migrate=True)
    yield store
    store.dispose()


@pytest.fixture
def start_receiver(http_server, store):
    """start_receiver(**settings) -> Receiver: the receiver app with these settings behind the module's server."""

    def start(**settings) -> Receiver:
        clock = Clock()
        http_server.swap.app = build_app(WebhookSettings(**settings), store, clock=clock.now)
        return Receiver(http_server.url, store, clock)

    return start
