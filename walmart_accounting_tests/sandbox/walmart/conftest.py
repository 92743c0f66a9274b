"""Fixtures of the Walmart emulator tests: one seller and one HTTP server for the package, a fresh emulator per test."""

from __future__ import annotations

from datetime import timedelta

import pytest

from walmart_accounting.sandbox.seller import SyntheticSeller
from walmart_accounting.sandbox.server import ThreadedServer
from walmart_accounting_tests.sandbox.walmart.support import Swap, _start


@pytest.fixture(scope="package")
def seller() -> SyntheticSeller:
    # Enough days for more than 1,000 purchase orders, so full paging takes several pages of 200.
    for days in (60, 90, 120):
        seller = SyntheticSeller(seed=7, days=days)
        if len(seller.orders) > 1000:
            return seller
    return seller


@pytest.fixture(scope="package")
def emulator_server():
    swap = Swap()
    with ThreadedServer(swap) as server:
        server.swap = swap
        yield server


@pytest.fixture
def wm(seller, emulator_server):
    # The sandbox clock four days after the seller's snapshot, whatever the wall clock says.
    walmart = _start(emulator_server, seller, seller.as_of + timedelta(days=4))
    yield walmart
    assert walmart.state.wait_for_deliveries(15)
