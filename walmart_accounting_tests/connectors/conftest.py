"""A fresh sandbox (all three emulators on one real HTTP server) per test, and clients that share its clock."""

import pytest

from walmart_accounting.connectors.tokens import MemoryTokenStore
from walmart_accounting.sandbox.server import SandboxOptions, SandboxServer


@pytest.fixture
def sandbox():
    server = SandboxServer(SandboxOptions(seed=11))
    with server:
        yield server


@pytest.fixture
def token_store():
    return MemoryTokenStore()
