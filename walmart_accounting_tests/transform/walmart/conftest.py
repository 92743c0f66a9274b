"""The synthetic seller and its ingested frames, built once for the whole test package."""

from __future__ import annotations

import pytest

from walmart_accounting.sandbox.seller import SyntheticSeller
from walmart_accounting.transform.walmart import order_frames, return_frame


@pytest.fixture(scope="package")
def seller() -> SyntheticSeller:
    return SyntheticSeller(seed=7)


@pytest.fixture(scope="package")
def seller_frames(seller):
    lines, refunds = order_frames(seller.orders)
    returns = return_frame(seller.returns)
    return lines, refunds, returns
