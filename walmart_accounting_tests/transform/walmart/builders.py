"""Official Walmart examples, builders of malformed raw records, and the checks every ingestion test shares."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pandas as pd

EXAMPLES = Path(__file__).resolve().parents[3] / "specs" / "walmart" / "examples"
UTC = "UTC"


def example(name: str):
    return json.loads((EXAMPLES / name).read_text(), parse_float=Decimal)


def ms(value: int) -> pd.Timestamp:
    return pd.Timestamp(value, unit="ms", tz=UTC)


def assert_money_exact(frame: pd.DataFrame) -> None:
    money = [c for c in frame.columns if c.endswith("_cents")]
    assert money, "no money columns"
    for column in money:
        assert frame[column].dtype == "int64", f"{column} is {frame[column].dtype}"


def by(frame: pd.DataFrame, **where) -> pd.Series:
    rows = frame
    for column, value in where.items():
        rows = rows[rows[column] == value]
    assert len(rows) == 1, f"{where}: {len(rows)} rows"
    return rows.iloc[0]


def reasons(rejects: pd.DataFrame) -> dict[str, str]:
    return dict(zip(rejects["record_key"], rejects["reason"], strict=True))


# --- minimal records for malformed-data tests ------------------------------------------------------


def make_order(po: str = "1000000000001", *, email: str = "ABC@relay.walmart.com", qty: str = "1",
               statuses: list[tuple[str, str]] | None = None, amount=Decimal("10.00"), tax=Decimal("0.80"),
               line_number: str = "1", extra_charges: list[dict] | None = None) -> dict:
    statuses = statuses or [("Shipped", qty)]
    entries = []
    for status, amount_ in statuses:
        entry = {"status": status, "statusQuantity": {"unitOfMeasurement": "EACH", "amount": amount_}}
        if status in ("Shipped", "Delivered"):
            entry["trackingInfo"] = {"shipDateTime": 1700000500000, "carrierName": {"carrier": "UPS"}}
        entries.append(entry)
    charges = [{"chargeType": "PRODUCT", "chargeName": "ItemPrice",
                "chargeAmount": {"currency": "USD", "amount": amount},
                "tax": {"taxName": "Tax1", "taxAmount": {"currency": "USD", "amount": tax}}}]
    return {
        "purchaseOrderId": po,
        "customerOrderId": "2000000000001",
        "customerEmailId": email,
        "orderDate": 1700000000000,
        "shippingInfo": {"postalAddress": {"name": "Jane Doe", "state": "TX", "postalCode": "78701"}},
        "orderLines": {"orderLine": [{
            "lineNumber": line_number,
            "item": {"productName": "Thing", "sku": "SKU-1"},
            "charges": {"charge": charges + (extra_charges or [])},
            "orderLineQuantity": {"unitOfMeasurement": "EACH", "amount": qty},
            "statusDate": 1700000600000,
            "orderLineStatuses": {"orderLineStatus": entries},
        }]},
        "shipNode": {"type": "SellerFulfilled"},
    }


def make_return(return_id: str = "900000000000000001", **line_overrides) -> dict:
    line = {
        "returnOrderLineNumber": 1,
        "purchaseOrderId": "1000000000001",
        "purchaseOrderLineNumber": 1,
        "item": {"sku": "SKU-1"},
        "charges": [{"chargeCategory": "PRODUCT", "chargeName": "ItemPrice",
                     "chargePerUnit": {"currencyAmount": Decimal("10.00"), "currencyUnit": "USD"},
                     "tax": [{"taxName": "Tax1",
                              "taxPerUnit": {"currencyAmount": Decimal("0.80"), "currencyUnit": "USD"}}]}],
        "quantity": {"unitOfMeasure": "EACH", "measurementValue": 2},
        "currentRefundStatus": "REFUND_COMPLETED",
    }
    line.update(line_overrides)
    return {
        "returnOrderId": return_id,
        "customerEmailId": "abc@relay.walmart.com",
        "customerName": {"firstName": "Jane", "lastName": "Doe"},
        "customerOrderId": "2000000000001",
        "returnOrderDate": "2023-11-15T10:00:00.000+0000",
        "returnOrderLines": [line],
    }


RECON_COLUMNS = ["Period Start Date", "Period End Date", "Total Payable", "Currency", "Transaction Key",
                 "Transaction Posted Timestamp", "Transaction Type", "Transaction Description", "Purchase Order #",
                 "Purchase Order line #", "Amount", "Amount Type", "Ship Qty", "Partner Item Id"]


def recon_row(**values: str) -> dict[str, str]:
    row = dict.fromkeys(RECON_COLUMNS, "")
    row.update(values)
    return row


def small_report() -> list[dict[str, str]]:
    return [
        recon_row(**{"Period Start Date": "11/01/2023", "Period End Date": "11/14/2023", "Total Payable": "8.50",
                     "Currency": "USD", "Transaction Posted Timestamp": "11/15/2023",
                     "Transaction Type": "PaymentSummary"}),
        recon_row(**{"Period Start Date": '""', "Period End Date": '""', "Currency": "USD", "Transaction Key": "K1",
                     "Transaction Posted Timestamp": "11/02/2023", "Transaction Type": "Sale",
                     "Purchase Order #": "1000000000001", "Purchase Order line #": "1", "Amount": "10.00",
                     "Amount Type": "Product Price", "Ship Qty": "1"}),
        recon_row(**{"Currency": "USD", "Transaction Key": "K1", "Transaction Posted Timestamp": "11/02/2023",
                     "Transaction Type": "Sale", "Purchase Order #": "1000000000001", "Purchase Order line #": "1",
                     "Amount": "-1.50", "Amount Type": "Commission on Product"}),
    ]
