"""Settlements: biweekly payment cycles as v1 reconciliation report rows: sales, refunds, fees, the reserve."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from walmart_accounting.sandbox.seller.catalog import _Product
from walmart_accounting.sandbox.seller.helpers import CURRENCY, UTC, _amount, _mdy, _pct_of
from walmart_accounting.sandbox.seller.inventory import _NODE_WFS
from walmart_accounting.sandbox.seller.orders import DISCOUNT_CHARGE_NAME
from walmart_accounting.sandbox.seller.records import _PO, _Line
from walmart_accounting.sandbox.seller.returns import _RETURN_REASONS

# Reconciliation report v1 columns, in file order (FACTS.md section 4).
RECON_V1_COLUMNS: tuple[str, ...] = (
    "Period Start Date", "Period End Date", "Total Payable", "Currency", "Transaction Key",
    "Transaction Posted Timestamp", "Transaction Type", "Transaction Description", "Customer Order #",
    "Customer Order line #", "Purchase Order #", "Purchase Order line #", "Amount", "Amount Type",
    "Ship Qty", "Commission Rate", "Transaction Reason Description", "Partner Item Id", "Partner GTIN",
    "Partner Item Name", "Product Tax Code", "Ship to State", "Ship to City", "Ship to Zipcode",
    "Contract Category", "Product Type", "Commission Rule", "Shipping Method", "Fulfillment Type",
    "Fulfillment Details", "Original Commission", "Commission Incentive Program", "Commission Saving",
    "Customer Promo Type", "Campaign Id",
)

# The settlement vocabulary this seller emits. Product/commission/fee names are observed in real
# reports; the shipping amount types are not confirmed anywhere (FACTS.md: "not found").
PRODUCT_PRICE = "Product Price"
PRODUCT_TAX = "Product tax"
PRODUCT_TAX_WITHHELD = "Product tax withheld"
SHIPPING_PRICE = "Shipping Price"
SHIPPING_TAX = "Shipping tax"
SHIPPING_TAX_WITHHELD = "Shipping tax withheld"
COMMISSION_ON_PRODUCT = "Commission on Product"
COMMISSION_ON_SHIPPING = "Commission on Shipping"
SELLER_FULFILLED = "Seller Fulfilled"
WFS_FULFILLED = "WFS Fulfilled"


@dataclass(frozen=True)
class Settlement:
    """One closed biweekly payment cycle and its v1 reconciliation report rows."""

    report_date: str
    period_start: date
    period_end: date
    payable_id: str
    total_payable_cents: int
    rows: list[dict[str, str]]


@dataclass
class _Txn:
    """One settlement transaction: rows sharing a Transaction Key."""

    posted: date
    sort_key: tuple
    rows: list[dict[str, str]]


class SettlementsMixin:
    """The settlement transactions and reports; mixed into SyntheticSeller (synthetic.py)."""

    @staticmethod
    def _wfs_fee(product: _Product) -> int:
        oz = product.weight_oz
        if oz <= 16:
            return 345
        if oz <= 32:
            return 495
        if oz <= 48:
            return 545
        if oz <= 64:
            return 575
        return 575 + 40 * math.ceil((oz - 64) / 16)

    # -- settlements ----------------------------------------------------------------------------

    def _periods(self) -> list[tuple[date, date]]:
        # Walmart's cycles close on alternate Fridays; the first one gives the seller a week of sales.
        first = self.start + timedelta(days=6)
        first_end = first + timedelta(days=(4 - first.weekday()) % 7)
        periods = []
        end = first_end
        while end < self.end:  # closed (and reported) by the snapshot
            periods.append((end - timedelta(days=13), end))
            end += timedelta(days=14)
        return periods

    def _line_columns(self, po: _PO, line: _Line, qty: int) -> dict[str, str]:
        product = line.product
        return {
            "Customer Order #": po.customer_order_id,
            "Customer Order line #": str(line.number),
            "Purchase Order #": po.po_id,
            "Purchase Order line #": str(line.number),
            "Ship Qty": str(qty),
            "Commission Rate": str(product.commission_pct),
            "Partner Item Id": product.spec.sku,
            "Partner GTIN": product.spec.gtin,
            "Partner Item Name": product.spec.name,
            "Product Tax Code": product.spec.product_tax_code,
            "Ship to State": po.address["state"],
            "Ship to City": po.address["city"],
            "Ship to Zipcode": po.address["postalCode"],
            "Contract Category": product.category,
            "Product Type": product.product_type,
            "Commission Rule": "Category Referral Fee",
            "Shipping Method": po.method_code,
            "Fulfillment Type": WFS_FULFILLED if po.wfs else SELLER_FULFILLED,
        }

    def _money_rows(self, base: dict[str, str], entries: list[tuple[str, int, dict[str, str]]]) -> list[dict[str, str]]:
        rows = []
        for amount_type, cents, extra in entries:
            if cents == 0:
                continue
            row = dict.fromkeys(RECON_V1_COLUMNS, "")
            row.update(base)
            row.update({"Currency": CURRENCY, "Amount": _amount(cents), "Amount Type": amount_type})
            row.update(extra)
            rows.append(row)
        return rows

    def _sale_txn(self, po: _PO, line: _Line) -> _Txn:
        facilitator = po.state.code in self.facilitator_states
        pct = line.product.commission_pct
        product_net = line.qty * (line.unit_price - line.unit_discount)
        tax = line.qty * (line.unit_tax - line.unit_discount_tax)
        ship, ship_tax = line.qty * line.unit_ship, line.qty * line.unit_ship_tax
        commission, ship_commission = _pct_of(product_net, pct), _pct_of(ship, pct)
        base = self._line_columns(po, line, line.qty)
        base.update({"Transaction Posted Timestamp": _mdy(po.ship_at.date()), "Transaction Type": "Sale",
                     "Transaction Description": "Purchase"})
        commission_cols = {"Original Commission": _amount(-commission), "Commission Saving": "0.00"}
        entries = [
            (PRODUCT_PRICE, line.qty * line.unit_price, {}),
            (PRODUCT_PRICE, -line.qty * line.unit_discount, {"Customer Promo Type": DISCOUNT_CHARGE_NAME}),
            (PRODUCT_TAX, tax, {}),
            (PRODUCT_TAX_WITHHELD, -tax if facilitator else 0, {}),
            (SHIPPING_PRICE, ship, {}),
            (SHIPPING_TAX, ship_tax, {}),
            (SHIPPING_TAX_WITHHELD, -ship_tax if facilitator else 0, {}),
            (COMMISSION_ON_PRODUCT, -commission, commission_cols),
            (COMMISSION_ON_SHIPPING, -ship_commission,
             {"Original Commission": _amount(-ship_commission), "Commission Saving": "0.00"}),
        ]
        return _Txn(po.ship_at.date(), (po.ship_at, po.po_id, line.number, 0), self._money_rows(base, entries))

    def _refund_txn(self, po: _PO, line: _Line) -> _Txn:
        refund = line.refund
        facilitator = po.state.code in self.facilitator_states
        pct = line.product.commission_pct
        when = refund.refunded_at
        base = self._line_columns(po, line, refund.qty)
        base.update({"Transaction Posted Timestamp": _mdy(when.date()), "Transaction Type": "Refund",
                     "Transaction Description": "Return Refund" if line.return_id is not None else "Refund",
                     "Transaction Reason Description": refund.refund_reason})
        commission, ship_commission = _pct_of(refund.product_net, pct), _pct_of(refund.shipping, pct)
        entries = [
            (PRODUCT_PRICE, -refund.product_gross, {}),
            (PRODUCT_PRICE, refund.discount, {"Customer Promo Type": DISCOUNT_CHARGE_NAME}),
            (PRODUCT_TAX, -refund.product_tax, {}),
            (PRODUCT_TAX_WITHHELD, refund.product_tax if facilitator else 0, {}),
            (SHIPPING_PRICE, -refund.shipping, {}),
            (SHIPPING_TAX, -refund.shipping_tax, {}),
            (SHIPPING_TAX_WITHHELD, refund.shipping_tax if facilitator else 0, {}),
            (COMMISSION_ON_PRODUCT, commission,
             {"Original Commission": _amount(commission), "Commission Saving": "0.00"}),
            (COMMISSION_ON_SHIPPING, ship_commission,
             {"Original Commission": _amount(ship_commission), "Commission Saving": "0.00"}),
        ]
        return _Txn(when.date(), (when, po.po_id, line.number, 1), self._money_rows(base, entries))

    def _fee_txn(self, posted: date, order: tuple, txn_type: str, description: str, amount_type: str, cents: int,
                 **columns: str) -> _Txn:
        base = {"Transaction Posted Timestamp": _mdy(posted), "Transaction Type": txn_type,
                "Transaction Description": description}
        base.update(columns)
        return _Txn(posted, order, self._money_rows(base, [(amount_type, cents, {})]))

    def _transactions(self) -> list[_Txn]:
        rng = random.Random(f"{self.seed}-settlement-fees")
        txns: list[_Txn] = []
        for po in self._pos:
            shipped = po.ship_at is not None and po.ship_at <= self.as_of
            for line in po.lines:
                if shipped and line.allocated and not line.cancelled_by(self.as_of):
                    txns.append(self._sale_txn(po, line))
                    if po.wfs:
                        cols = self._line_columns(po, line, line.qty)
                        cols = {k: v for k, v in cols.items() if k not in ("Commission Rate", "Commission Rule")}
                        txns.append(self._fee_txn(po.ship_at.date(), (po.ship_at, po.po_id, line.number, 2),
                                                  "Adjustment", "WFS Fulfillment Fee", "WFS Fee/Reimbursement",
                                                  -self._wfs_fee(line.product) * line.qty, **cols))
                refund = line.refund
                if refund is not None and refund.refunded_at is not None:
                    txns.append(self._refund_txn(po, line))
                    if po.wfs and line.return_id is not None and refund.reason_code not in {r[0] for r in _RETURN_REASONS if r[3]}:
                        cols = self._line_columns(po, line, refund.qty)
                        cols = {k: v for k, v in cols.items() if k not in ("Commission Rate", "Commission Rule")}
                        fee = 350 if line.product.weight_oz <= 16 else 525 if line.product.weight_oz <= 64 else 790
                        txns.append(self._fee_txn(refund.refunded_at.date(),
                                                  (refund.refunded_at, po.po_id, line.number, 3), "Adjustment",
                                                  "WFS Return Shipping Fee", "WFS Fee/Reimbursement", -fee * refund.qty,
                                                  **cols))
            if shipped and po.label_fee:
                txns.append(self._fee_txn(
                    po.ship_at.date(), (po.ship_at, po.po_id, 99, 4), "Adjustment",
                    "Walmart Shipping Label Service Charge", "Fee/Reimbursement", -po.label_fee,
                    **{"Customer Order #": po.customer_order_id, "Purchase Order #": po.po_id,
                       "Ship to State": po.address["state"], "Ship to City": po.address["city"],
                       "Ship to Zipcode": po.address["postalCode"], "Shipping Method": po.method_code,
                       "Fulfillment Type": SELLER_FULFILLED},
                ))
        for sent, sku, _node, qty, fee in self._inbound:
            product = self._by_sku[sku]
            moment = datetime.combine(sent, time(12), UTC)
            if moment <= self.as_of:
                txns.append(self._fee_txn(sent, (moment, "", 0, 5), "Service Fee", "WFS Inbound Transportation Fee",
                                          "WFS Inventory Fee/Reimbursement", -fee,
                                          **{"Partner Item Id": sku, "Partner GTIN": product.spec.gtin,
                                             "Partner Item Name": product.spec.name, "Ship Qty": str(qty),
                                             "Fulfillment Type": WFS_FULFILLED}))
        for index, (_start, end) in enumerate(self._periods()):
            late = datetime.combine(end, time(20), UTC)
            storage = 0
            for (sku, node), qty in sorted(self._initial.items()):
                if node == _NODE_WFS:
                    # $0.75 per cubic foot per month, for half a month.
                    storage += qty * self._by_sku[sku].cuft_x100 * 75 // 200 // 100
            txns.append(self._fee_txn(end, (late, "", 0, 6), "Service Fee", "WFS Storage Fee",
                                      "WFS Inventory Fee/Reimbursement", -max(storage, 100),
                                      **{"Fulfillment Type": WFS_FULFILLED}))
            for campaign in self._campaigns:
                txns.append(self._fee_txn(end, (late, campaign, 0, 7), "Service Fee", "Walmart Product Advertising",
                                          "SEM Marketing Fee", -rng.randrange(8000, 26000),
                                          **{"Campaign Id": campaign}))
            if index == 0:
                product = self._products[rng.randrange(len(self._products))]
                txns.append(self._fee_txn(end, (late, "", 0, 8), "Service Fee", "Review Accelerator",
                                          "Review Accelerator Fee", -500 * rng.randrange(2, 6),
                                          **{"Partner Item Id": product.spec.sku, "Partner GTIN": product.spec.gtin,
                                             "Partner Item Name": product.spec.name}))
            if rng.random() < 0.5:
                wfs_products = [p for p in self._products if p.wfs]
                product = wfs_products[rng.randrange(len(wfs_products))]
                units = rng.randrange(1, 4)
                txns.append(self._fee_txn(end, (late, "", 0, 9), "Adjustment", "WFS LostInventory",
                                          "WFS Fee/Reimbursement", units * product.spec.cost_cents,
                                          **{"Partner Item Id": product.spec.sku, "Partner GTIN": product.spec.gtin,
                                             "Partner Item Name": product.spec.name, "Ship Qty": str(units),
                                             "Fulfillment Type": WFS_FULFILLED}))
        return txns

    def _build_settlements(self) -> list[Settlement]:
        periods = self._periods()
        if not periods:
            return []
        txns = self._transactions()
        settlements = []
        reserve = 0
        for index, (start, end) in enumerate(periods):
            chosen = sorted((t for t in txns if start <= t.posted <= end and t.rows), key=lambda t: t.sort_key)
            late = datetime.combine(end, time(23), UTC)
            if index == 0:
                sales = sum(
                    int(Decimal(r["Amount"]) * 100) for t in chosen for r in t.rows
                    if r["Transaction Type"] == "Sale" and r["Amount Type"] == PRODUCT_PRICE
                )
                # Walmart holds back a reserve against future refunds in a new seller's first cycle.
                reserve = max(5000, sales * 3 // 100 // 100 * 100)
                chosen.append(self._fee_txn(end, (late, "", 0, 10), "Reserve", "Funds withheld to cover future refunds",
                                            "", -reserve))
            elif index == 1:
                chosen.append(self._fee_txn(end, (late, "", 0, 10), "Release Reserve", "Reserve credited back",
                                            "", reserve))
            detail = []
            for number, txn in enumerate(chosen, start=1):
                key = f"{end:%Y_%m_%d}_{number}"
                for row in txn.rows:
                    row["Transaction Key"] = key
                    detail.append(row)
            total = sum(int(Decimal(r["Amount"]).scaleb(2)) for r in detail)
            report_day = end + timedelta(days=1)
            summary = dict.fromkeys(RECON_V1_COLUMNS, "")
            summary.update({
                "Period Start Date": _mdy(start),
                "Period End Date": _mdy(end),
                "Total Payable": _amount(total),
                "Currency": CURRENCY,
                "Transaction Posted Timestamp": _mdy(report_day),
                "Transaction Type": "PaymentSummary",
                "Transaction Description": "Deposited in Payoneer account",
            })
            report_date = report_day.strftime("%m%d%Y")
            settlements.append(Settlement(report_date, start, end, report_date, total, [summary] + detail))
        return settlements
