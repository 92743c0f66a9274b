"""Fixtures of the seller tests: the default seller and the packaged mapping, built once for the package."""

from __future__ import annotations

import pytest

from walmart_accounting.domain.config import load_default_config
from walmart_accounting.sandbox.seller import SyntheticSeller


@pytest.fixture(scope="package")
def seller() -> SyntheticSeller:
    return SyntheticSeller()


@pytest.fixture(scope="package")
def config():
    return load_default_config()
