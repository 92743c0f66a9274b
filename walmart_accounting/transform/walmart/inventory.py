"""Multi-node inventory elements -> InventorySnapshot rows (one per SKU and ship node), with rejects."""

from __future__ import annotations

from datetime import date

import pandas as pd

from walmart_accounting.schemas.walmart import InventorySnapshot
from walmart_accounting.transform.validation import Validated, split_valid
from walmart_accounting.transform.walmart.common import (
    _Bad,
    _count,
    _empty,
    _items,
    _keep_last,
    _obj,
    _record_key,
    _reject,
    _rejects,
    _text,
)

INVENTORY_COLUMNS = list(InventorySnapshot.to_schema().columns)


def _quantity(node: dict, name: str, field: str, required: bool) -> int:
    value = node.get(name)
    if value is None:
        if required:
            raise _Bad(f"{field}.{name} is missing")
        return 0
    if isinstance(value, dict):  # {"unit": "EACH", "amount": 10}
        return _count(value.get("amount"), f"{field}.{name}.amount")
    return _count(value, f"{field}.{name}")  # the WFS/OOS shape sends a bare number


def inventory_frame(snapshot_date: date, inventories: list[dict], *,
                    ship_node_types: dict[str, str] | None = None) -> Validated:
    """Multi-node inventory elements ({sku, nodes:[{shipNode, availToSellQty, reservedQty, inputQty}]})
    -> one InventorySnapshot row per SKU and ship node. The inventory API does not say a node's type;
    pass `ship_node_types` (node -> SellerFulfilled/WFSFulfilled/...) to fill it, else it stays null."""
    node_types = ship_node_types or {}
    rows: list[dict] = []
    rejects: list[dict] = []
    for position, element in enumerate(inventories or []):
        key = _record_key(element, "sku", "inventories", position)
        try:
            element = _obj(element, "inventory")
            sku = _text(element.get("sku"), "sku")
            nodes = _items(element.get("nodes"), None, "nodes")
            if not nodes:
                raise _Bad("nodes is missing or empty")
        except _Bad as exc:
            rejects.append(_reject(key, str(exc), element))
            continue
        for i, node in enumerate(nodes):
            try:
                node = _obj(node, f"nodes[{i}]")
                ship_node = _text(node.get("shipNode"), f"nodes[{i}].shipNode")
                rows.append({
                    "sku": sku,
                    "ship_node": ship_node,
                    "ship_node_type": node_types.get(ship_node),
                    "available_quantity": _quantity(node, "availToSellQty", f"node {ship_node}", required=True),
                    "reserved_quantity": _quantity(node, "reservedQty", f"node {ship_node}", required=False),
                    "_position": position,
                })
            except _Bad as exc:
                rejects.append(_reject(f"{sku}:{node.get('shipNode') if isinstance(node, dict) else i}", str(exc),
                                       {"sku": sku, "node": node}))
    if rows:
        frame = pd.DataFrame(rows)
        frame["_pair"] = frame["sku"] + "\x00" + frame["ship_node"]
        frame = _keep_last(frame, "_pair").reset_index(drop=True)
        frame = frame.astype({"available_quantity": "int64", "reserved_quantity": "int64"})
    else:
        frame = _empty(INVENTORY_COLUMNS).astype({"available_quantity": "int64", "reserved_quantity": "int64"})
    frame["snapshot_date"] = pd.Series(pd.Timestamp(snapshot_date), index=frame.index, dtype="datetime64[ns]")
    checked = split_valid(frame[INVENTORY_COLUMNS], InventorySnapshot, ["sku", "ship_node"])
    return Validated(checked.valid, _rejects(rejects, checked.rejects))
