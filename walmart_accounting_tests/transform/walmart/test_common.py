"""Customer keys, empty inputs, and the package exporting what its callers import."""

from __future__ import annotations

import hashlib
from datetime import datetime

from walmart_accounting.schemas.walmart import InventorySnapshot, OrderLine, OrderRefund, ReturnLine, SettlementRow
from walmart_accounting.transform import walmart
from walmart_accounting.transform.validation import REJECT_COLUMNS
from walmart_accounting.transform.walmart import (
    customer_key,
    inventory_frame,
    order_frames,
    return_frame,
    settlement_frame,
)
from walmart_accounting_tests.transform.walmart.builders import assert_money_exact, example


def test_customer_key_is_stable_across_orders_of_one_customer():
    orders = example("orders_get_all_orders_response.json")["list"]["elements"]["order"]
    valid = order_frames(orders)[0].valid
    email = "630083BD274E4FB2968D3166C8336151@relay.walmart.com"
    same = valid[valid["customer_email"] == email]
    assert len(same) == 4 and same["customer_key"].nunique() == 1
    assert same["customer_key"].iloc[0] == "WMC-" + hashlib.sha256(email.lower().encode()).hexdigest()[:16]
    assert valid["customer_key"].nunique() == valid["customer_email"].nunique()
    assert customer_key(email.lower()) == customer_key(f"  {email}  ")


def test_seller_customer_keys_are_stable(seller_frames):
    lines, _, returns = seller_frames
    valid = lines.valid
    per_email = valid.groupby("customer_email")["customer_key"].nunique()
    assert (per_email == 1).all() and valid["customer_key"].nunique() == len(per_email)
    assert valid["customer_email"].duplicated().any()  # repeat customers exist
    keys = valid.drop_duplicates("purchase_order_id").set_index("purchase_order_id")["customer_key"]
    assert (returns.valid["customer_key"] == returns.valid["purchase_order_id"].map(keys)).all()


def test_empty_inputs_give_empty_frames_with_schema_columns_and_int_money():
    lines, refunds = order_frames([])
    cases = [
        (lines.valid, OrderLine), (refunds.valid, OrderRefund), (return_frame([]).valid, ReturnLine),
        (settlement_frame("11152023", []).valid, SettlementRow),
        (inventory_frame(datetime(2026, 1, 5, 14), []).valid, InventorySnapshot),
    ]
    for frame, model in cases:
        assert frame.empty
        assert list(frame.columns) == list(model.to_schema().columns), model.__name__
        if model is not InventorySnapshot:
            assert_money_exact(frame)
    assert str(lines.valid["order_date"].dtype) == "datetime64[ns, UTC]"
    assert list(lines.rejects.columns) == REJECT_COLUMNS


def test_the_package_exports_what_callers_use():
    """`from walmart_accounting.transform.walmart import ...` (and `transform import walmart`) keep working."""
    for name in walmart.__all__:
        assert getattr(walmart, name) is not None, name
    assert {"order_frames", "return_frame", "return_order_map", "settlement_frame", "inventory_frame",
            "customer_key"} <= set(walmart.__all__)
