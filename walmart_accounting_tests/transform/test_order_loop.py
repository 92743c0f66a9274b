"""Sales orders of the order loop: which orders get one, what it holds, and why it never changes once built."""

import pandas as pd

from walmart_accounting.domain.config import load_default_config, parse_config
from walmart_accounting.transform.order_loop import line_order, sales_orders
from walmart_accounting_tests.transform.documents.builders import order_line


def _config(items=None, warehouses=None):
    data = load_default_config().model_dump(mode="json")
    data["order_loop"] = {"enabled": True, "warehouse": "1"}
    data["stock"] = {"item_code_is_sku": items is None, "warehouses": warehouses or {}}
    data["ledgers"]["exact"]["skus"]["items"] = {s: {"item_code": c} for s, c in (items or {}).items()}
    return parse_config(data)


def _lines(*rows):
    return pd.DataFrame([order_line(**row) for row in rows])


def test_an_open_seller_fulfilled_order_gets_one_sales_order_with_every_line_as_ordered():
    lines = _lines(dict(po="1001", line="2", sku="MUG-1", quantity=2, status="Acknowledged", shipped_quantity=0,
                        product_cents=2000, ship_node="7001"),
                   dict(po="1001", line="10", sku="TEE-1", quantity=1, status="Shipped", product_cents=1500),
                   dict(po="1001", line="1", sku="CAP-1", quantity=1, status="Cancelled", shipped_quantity=0,
                        cancelled_quantity=1, product_cents=900))
    result = sales_orders(lines, _config(warehouses={"7001": "3"}))
    assert result.rejects.empty
    frame = result.documents
    assert frame["document_key"].unique().tolist() == ["WM-SO-1001"]
    assert frame["document_kind"].unique().tolist() == ["sales_order"]
    # lines in the order's line order (1, 2, 10: numerically), each with its ordered quantity and line total
    assert frame[["sku", "item_code", "quantity", "amount_cents"]].values.tolist() == [
        ["CAP-1", "CAP-1", 1, 900], ["MUG-1", "MUG-1", 2, 2000], ["TEE-1", "TEE-1", 1, 1500]]
    assert frame["description"].tolist()[1] == "MUG-1 (Walmart line 2)"
    assert set(frame["counter_account"]) == {"3", "1"}  # its node's warehouse; lines without a node: the default


def test_the_same_order_read_again_after_a_line_shipped_gives_the_same_document():
    placed = dict(po="1002", sku="MUG-1", quantity=2, status="Acknowledged", shipped_quantity=0)
    before = sales_orders(_lines(placed, dict(po="1002", line="2", sku="TEE-1", status="Acknowledged",
                                              shipped_quantity=0)), _config()).documents
    after = sales_orders(_lines(placed, dict(po="1002", line="2", sku="TEE-1", status="Shipped")), _config()).documents
    assert before.equals(after)


def test_shipped_wfs_and_unmapped_orders_get_none_or_are_refused():
    lines = _lines(dict(po="2001", status="Shipped"),  # already shipped when read: fulfilled without the loop
                   dict(po="2002", status="Created", shipped_quantity=0, ship_node_type="WFSFulfilled"),
                   dict(po="2003", status="Created", shipped_quantity=0, sku="NO-ITEM"))
    result = sales_orders(lines, _config(items={"WM-SKU-0001": "I-1"}))
    assert result.documents.empty
    assert result.rejects["record_key"].tolist() == ["WM-SO-2003"]
    assert "NO-ITEM has no Exact item" in result.rejects["reason"].iloc[0]


def test_line_order_is_numeric_where_it_can_be():
    numbers = pd.Series(["10", "2", "A", "1"])
    assert numbers.iloc[line_order(numbers).sort_values().index].tolist() == ["1", "2", "10", "A"]
