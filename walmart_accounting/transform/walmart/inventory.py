"""Walmart's stock (multi-node and WFS inventory) -> InventorySnapshot rows, one per SKU and ship node, with rejects."""

from __future__ import annotations

from datetime import datetime

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


SELLER_FULFILLED, WFS_FULFILLED = "SellerFulfilled", "WFSFulfilled"
WFS_NODE = "WFS"  # Walmart's fulfilment centres: one pool of stock, which the WFS inventory API does not split by node
_INTEGERS = {"available_quantity": "int64", "reserved_quantity": "int64", "on_hand_quantity": "int64",
             "input_quantity": "Int64"}


def inventory_frame(snapshot_at: datetime, inventories: list[dict], wfs_inventory: list[dict] | None = None) -> Validated:
    """Walmart's stock when read -> one InventorySnapshot row per SKU and ship node, with rejects.

    `inventories` are the multi-node elements of the seller's own nodes ({sku, nodes:[{shipNode, inputQty,
    availToSellQty, reservedQty}]}); `wfs_inventory` the WFS elements ({sku, shipNodes:[{onHandQty,
    availToSellQty}]}), one pool under the node "WFS". On hand is available plus reserved: the units an open
    order holds are still on the shelf until they ship.
    """
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
                where = f"node {ship_node}"
                available = _quantity(node, "availToSellQty", where, required=True)
                reserved = _quantity(node, "reservedQty", where, required=False)
                entered = _quantity(node, "inputQty", where, required=False) if node.get("inputQty") is not None else None
                rows.append({"sku": sku, "ship_node": ship_node, "ship_node_type": SELLER_FULFILLED,
                             "input_quantity": entered, "available_quantity": available, "reserved_quantity": reserved,
                             "on_hand_quantity": available + reserved, "_position": position})
            except _Bad as exc:
                rejects.append(_reject(f"{sku}:{node.get('shipNode') if isinstance(node, dict) else i}", str(exc),
                                       {"sku": sku, "node": node}))
    offset = len(inventories or [])
    for position, element in enumerate(wfs_inventory or [], start=offset):
        key = _record_key(element, "sku", "wfs_inventory", position - offset)
        try:
            element = _obj(element, "WFS inventory")
            sku = _text(element.get("sku"), "sku")
            pools = _items(element.get("shipNodes"), None, "shipNodes")
            on_hand = sum(_quantity(p, "onHandQty", "WFS", required=True) for p in pools)
            available = sum(_quantity(p, "availToSellQty", "WFS", required=True) for p in pools)
            if available > on_hand:
                raise _Bad(f"WFS availToSellQty {available} is more than onHandQty {on_hand}")
        except _Bad as exc:
            rejects.append(_reject(f"{key}:{WFS_NODE}", str(exc), element))
            continue
        rows.append({"sku": sku, "ship_node": WFS_NODE, "ship_node_type": WFS_FULFILLED, "input_quantity": None,
                     "available_quantity": available, "reserved_quantity": on_hand - available,
                     "on_hand_quantity": on_hand, "_position": position})
    if rows:
        frame = pd.DataFrame(rows)
        frame["_pair"] = frame["sku"] + "\x00" + frame["ship_node"]
        frame = _keep_last(frame, "_pair").reset_index(drop=True)
    else:
        frame = _empty(INVENTORY_COLUMNS)
    frame = frame.astype(_INTEGERS)
    stamp = pd.Timestamp(snapshot_at).tz_convert("UTC").tz_localize(None) if pd.Timestamp(snapshot_at).tzinfo \
        else pd.Timestamp(snapshot_at)
    frame["snapshot_at"] = pd.Series(stamp, index=frame.index, dtype="datetime64[ns]")
    checked = split_valid(frame[INVENTORY_COLUMNS], InventorySnapshot, ["sku", "ship_node"])
    return Validated(checked.valid, _rejects(rejects, checked.rejects))
