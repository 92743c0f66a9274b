"""A deterministic synthetic Walmart seller: the data the Walmart emulator serves and the tests treat as ground truth."""

# Layout: helpers (cents, dates), catalog (SKUs, GTINs), geography (states, tax rates), records (internal
# dataclasses), customers, inventory (ship nodes, stock), orders, returns, settlements; synthetic holds
# SyntheticSeller, which mixes those parts in and runs them in a fixed order, so a seed fixes every byte.
# recorded holds RecordedSeller: a seller's own Walmart data read from a folder, served the same way.

from walmart_accounting.sandbox.seller.catalog import SkuSpec, gtin_check_digit, is_valid_gtin
from walmart_accounting.sandbox.seller.helpers import CURRENCY
from walmart_accounting.sandbox.seller.orders import DISCOUNT_CHARGE_NAME
from walmart_accounting.sandbox.seller.recorded import RecordedDataError, RecordedSeller
from walmart_accounting.sandbox.seller.settlements import (
    COMMISSION_ON_PRODUCT,
    COMMISSION_ON_SHIPPING,
    PRODUCT_PRICE,
    PRODUCT_TAX,
    PRODUCT_TAX_WITHHELD,
    RECON_V1_COLUMNS,
    SELLER_FULFILLED,
    SHIPPING_PRICE,
    SHIPPING_TAX,
    SHIPPING_TAX_WITHHELD,
    WFS_FULFILLED,
    Settlement,
)
from walmart_accounting.sandbox.seller.synthetic import SyntheticSeller

__all__ = [
    "COMMISSION_ON_PRODUCT",
    "COMMISSION_ON_SHIPPING",
    "CURRENCY",
    "DISCOUNT_CHARGE_NAME",
    "PRODUCT_PRICE",
    "PRODUCT_TAX",
    "PRODUCT_TAX_WITHHELD",
    "RECON_V1_COLUMNS",
    "RecordedDataError",
    "RecordedSeller",
    "SELLER_FULFILLED",
    "SHIPPING_PRICE",
    "SHIPPING_TAX",
    "SHIPPING_TAX_WITHHELD",
    "WFS_FULFILLED",
    "Settlement",
    "SkuSpec",
    "SyntheticSeller",
    "gtin_check_digit",
    "is_valid_gtin",
]
