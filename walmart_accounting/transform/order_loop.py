"""The order loop's pure part: seller-fulfilled Walmart orders still to ship become sales orders for the ledger's warehouse."""

from __future__ import annotations

import pandas as pd

from walmart_accounting.domain.config import MappingConfig
from walmart_accounting.domain.documents import DocumentKind, LineCategory, walmart_line_order
from walmart_accounting.domain.keys import sales_order_key
from walmart_accounting.transform.documents.common import DocumentResult, _assemble, _contact_columns, _problems
from walmart_accounting.transform.stock import ledger_item_code

OPEN_STATUSES = ("Created", "Acknowledged")  # lines the seller has still to ship


def line_order(line_numbers: pd.Series) -> pd.Series:
    """The order of a purchase order's lines (numerically where they are numbers): Exact's line k is the k-th."""
    return line_numbers.map(walmart_line_order)


def sales_orders(lines: pd.DataFrame, config: MappingConfig) -> DocumentResult:
    """One sales order per seller-fulfilled purchase order with a line still to ship, with every line as ordered.

    The document is the order as placed (all lines, ordered quantities, line totals), so it does not change as
    lines ship or as the order is read again: a re-run finds it posted. An order already shipped when first
    read was fulfilled without the loop and gets none; a SKU without a ledger item refuses its order.
    """
    ledger = "exact"
    # Walmart's default ship node type is SellerFulfilled, and many orders carry no shipNode at all.
    own = lines[lines["ship_node_type"].fillna("SellerFulfilled") == "SellerFulfilled"]
    open_orders = own.loc[own["status"].isin(OPEN_STATUSES), "purchase_order_id"].unique()
    chosen = own[own["purchase_order_id"].isin(open_orders)].copy()
    if chosen.empty:
        return _assemble(pd.DataFrame(), [], None, ledger)
    ledger_cfg = config.ledger(ledger)
    items = ledger_cfg.skus.items
    chosen["item_code"] = [ledger_item_code(s, items, config) for s in chosen["sku"]]
    chosen["document_key"] = [sales_order_key(po) for po in chosen["purchase_order_id"]]
    missing = chosen[chosen["item_code"].isna()]
    problems = [_problems(missing["document_key"], [f"SKU {s} has no Exact item (skus.items item_code, or "
                                                    "stock.item_code_is_sku)" for s in missing["sku"]])]
    warehouses = config.stock.warehouses
    chosen["warehouse"] = [warehouses.get(n, config.order_loop.warehouse) if isinstance(n, str) else
                           config.order_loop.warehouse for n in chosen["ship_node"]]
    frame = pd.DataFrame({
        "document_key": chosen["document_key"], "document_kind": DocumentKind.SALES_ORDER.value,
        "document_date": chosen["order_date"].dt.tz_convert(config.seller.timezone).dt.tz_localize(None).dt.normalize(),
        "currency": chosen["currency"], **_contact_columns(chosen, config), "source_ids": chosen["purchase_order_id"],
        "category": LineCategory.PRODUCT.value,
        "description": [f"{s} (Walmart line {n})" for s, n in zip(chosen["sku"], chosen["line_number"], strict=True)],
        "sku": chosen["sku"], "item_code": chosen["item_code"], "quantity": chosen["quantity"],
        "account": ledger_cfg.accounts.sales, "counter_account": chosen["warehouse"],  # a sales order line's warehouse
        "tax_code": ledger_cfg.tax_codes.no_tax, "amount_cents": chosen["product_cents"], "tax_cents": 0,
        "_o1": line_order(chosen["line_number"]),
    })
    return _assemble(frame, problems, None, ledger)
