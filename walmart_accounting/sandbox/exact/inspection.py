"""Seeding and inspection without HTTP, for tests and demos: create, records, counts, stock, orders, trial balance."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from walmart_accounting.domain.jsonmoney import dumps, loads
from walmart_accounting.sandbox.exact.coerce import coerce_body
from walmart_accounting.sandbox.exact.sets import SETS


class InspectionMixin:
    """Direct access to what :class:`ExactState` holds, under its lock and without quotas."""

    # ---- seeding and inspection ------------------------------------------------------------------
    def create(self, resource: str, body: dict, division: int | None = None) -> dict:
        """Create a record as a POST would (same validation, webhooks included) without HTTP or quota."""
        path = self._resolve(resource)
        es = SETS[path]
        if "POST" not in es.methods:
            raise ValueError(f"{path} cannot be created")
        division = division or self.division
        with self.lock:
            rec, events = self._create(es, self.divisions[division], coerce_body(es, loads(dumps(body)), "POST"))
            stored = dict(rec)
        for topic, action, event_es, event_key in events:
            self._emit(division, topic, action, event_key,
                       f"{self.api_root}/{division}/{event_es.path}(guid'{event_key}')")
        return stored

    def _resolve(self, resource: str) -> str:
        if resource in SETS:
            return resource
        matches = [p for p in SETS if p.rsplit("/", 1)[1].lower() == resource.lower()]
        if len(matches) != 1:
            raise KeyError(f"unknown Exact resource {resource!r}")
        return matches[0]

    def records(self, resource: str, division: int | None = None) -> list[dict]:
        """Copies of the stored records of an entity set (e.g. 'SalesEntries'); headers carry their lines."""
        path = self._resolve(resource)
        es = SETS[path]
        with self.lock:
            div = self.div(division)
            out = []
            for rec in div.table(path).values():
                row = dict(rec)
                for nav, (child_path, fk) in es.nav.items():
                    row[nav] = [dict(r) for r in div.children(child_path, fk, rec[es.key])]
                out.append(row)
            return out

    @property
    def accounts(self) -> list[dict]:
        return self.records("crm/Accounts")

    @property
    def sales_entries(self) -> list[dict]:
        return self.records("salesentry/SalesEntries")

    @property
    def purchase_entries(self) -> list[dict]:
        return self.records("purchaseentry/PurchaseEntries")

    @property
    def sales_invoices(self) -> list[dict]:
        return self.records("salesinvoice/SalesInvoices")

    @property
    def bank_entries(self) -> list[dict]:
        return self.records("financialtransaction/BankEntries")

    @property
    def stock_counts(self) -> list[dict]:
        return self.records("inventory/StockCounts")

    @property
    def items(self) -> list[dict]:
        return self.records("logistics/Items")

    @property
    def warehouses(self) -> list[dict]:
        return self.records("inventory/Warehouses")

    @property
    def sales_orders(self) -> list[dict]:
        return self.records("salesorder/SalesOrders")

    @property
    def goods_deliveries(self) -> list[dict]:
        return self.records("salesorder/GoodsDeliveries")

    @property
    def webhook_subscriptions(self) -> list[dict]:
        return self.records("webhooks/WebhookSubscriptions")

    def count_where(self, resource: str, **values: Any) -> int:
        return sum(1 for rec in self.records(resource) if all(rec.get(k) == v for k, v in values.items()))

    def count_by_your_ref(self, resource: str, your_ref: str) -> int:
        """How many documents carry this YourRef. BankEntries have no YourRef: their lines' Description counts."""
        path = self._resolve(resource)
        if "YourRef" in SETS[path].fields:
            return self.count_where(path, YourRef=your_ref)
        nav = next(iter(SETS[path].nav), None)
        return sum(1 for rec in self.records(path) if nav and any(ln.get("Description") == your_ref for ln in rec[nav]))

    def gl_code(self, guid: str, division: int | None = None) -> str:
        with self.lock:
            return self.div(division).table("financial/GLAccounts")[guid]["Code"]

    def gl_id(self, code: str, division: int | None = None) -> str:
        with self.lock:
            return self.div(division).find("financial/GLAccounts", "Code", code)["ID"]

    def stock(self, item_code: str, division: int | None = None, warehouse: str | None = None) -> Decimal:
        """The item's stock: in all warehouses (its Stock), or in one warehouse named by code or ID."""
        with self.lock:
            div = self.div(division)
            item = div.find("logistics/Items", "Code", item_code)
            if item is None:
                return Decimal("0")
            if warehouse is None:
                return item["Stock"]
            return self._stock_of(div, item["ID"], self._warehouse_by_ref(div, warehouse)["ID"])

    def set_stock(self, item_code: str, quantity, warehouse: str | None = None,
                  division: int | None = None) -> Decimal:
        """Set an item's stock in a warehouse (code or ID; the main warehouse by default), as a processed count
        would, without a count and without webhooks; returns the item's total Stock."""
        with self.lock:
            div = self.div(division)
            item = div.find("logistics/Items", "Code", item_code)
            if item is None:
                raise KeyError(f"no item {item_code!r}")
            if not item["IsStockItem"]:
                raise ValueError(f"item {item_code!r} is not a stock item")
            wh = self._warehouse_by_ref(div, warehouse) if warehouse is not None else self._main_warehouse(div)
            self._set_stock(div, item, Decimal(str(quantity)), wh["ID"])
            return item["Stock"]

    def add_warehouse(self, code: str, description: str | None = None, division: int | None = None) -> dict:
        """Create a (non-main) warehouse as a POST to inventory/Warehouses would."""
        return self.create("inventory/Warehouses", {"Code": code, "Description": description or f"Warehouse {code}"},
                           division)

    def _warehouse_by_ref(self, div, ref: str) -> dict:
        table = div.table("inventory/Warehouses")
        found = table.get(ref) or div.find("inventory/Warehouses", "Code", ref)
        if found is None:
            raise KeyError(f"no warehouse {ref!r}")
        return found

    def cancel_sales_order(self, order_id: str, division: int | None = None) -> dict:
        """Cancel a sales order (Status 45), as a user does in Exact; the API cannot set Status (picqer#462)."""
        with self.lock:
            div = self.div(division)
            order = div.table("salesorder/SalesOrders")[order_id]
            order["Status"] = 45
            self._recalculate_order(div, order)
            return dict(order)

    def invoice_sales_order(self, order_id: str, division: int | None = None) -> dict:
        """Invoice what is delivered of a sales order (QuantityInvoiced = QuantityDelivered), standing in for
        salesinvoice/InvoiceSalesOrders with InvoiceMode 0 ("by quantity delivered"); no invoice is booked."""
        with self.lock:
            div = self.div(division)
            order = div.table("salesorder/SalesOrders")[order_id]
            for line in div.children("salesorder/SalesOrderLines", "OrderID", order_id):
                line["QuantityInvoiced"] = line["QuantityDelivered"]
            self._recalculate_order(div, order)
            return dict(order)

    def trial_balance(self, division: int | None = None) -> dict[str, Decimal]:
        """G/L balances in the division currency by account code, debit positive (open entries count)."""
        with self.lock:
            div = self.div(division)
            gls = div.table("financial/GLAccounts")

            def by_type(gl_type: int) -> str:
                return next(r["Code"] for r in gls.values() if r["Type"] == gl_type)

            vat_gl = {r["Code"]: (r["GLToPayCode"], r["GLToClaimCode"]) for r in div.table("vat/VATCodes").values()}
            out: dict[str, Decimal] = defaultdict(Decimal)

            def post(path: str, control: str, sign: int, nav: str) -> None:
                for e in div.table(path).values():
                    if path == "salesinvoice/SalesInvoices" and e["Status"] != 50:
                        continue
                    fk = SETS[path].key
                    out[control] += sign * e["AmountDC"]
                    for ln in div.children(SETS[path].nav[nav][0], fk, e[fk]):
                        out[ln["GLAccountCode"]] -= sign * ln["AmountDC"]
                        if ln["VATAmountDC"]:
                            pay, claim = vat_gl.get(ln["VATCode"], (None, None))
                            out[(pay if sign > 0 else claim) or "1500"] -= sign * ln["VATAmountDC"]

            post("salesentry/SalesEntries", by_type(20), 1, "SalesEntryLines")
            post("salesinvoice/SalesInvoices", by_type(20), 1, "SalesInvoiceLines")
            post("purchaseentry/PurchaseEntries", by_type(22), -1, "PurchaseEntryLines")
            for e in div.table("financialtransaction/BankEntries").values():
                journal = div.find("financial/Journals", "Code", e["JournalCode"])
                for ln in div.children("financialtransaction/BankEntryLines", "EntryID", e["EntryID"]):
                    out[journal["GLAccountCode"]] += ln["AmountDC"]
                    out[ln["GLAccountCode"]] -= ln["AmountDC"]
            return {code: amount for code, amount in out.items()}

    def gl_balance(self, code: str, division: int | None = None) -> Decimal:
        return self.trial_balance(division).get(code, Decimal("0"))
