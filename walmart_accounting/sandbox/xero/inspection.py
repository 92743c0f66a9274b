"""What tests and demos read from the books: counts by reference, rendered records, bank and ledger account balances."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from walmart_accounting.sandbox.xero.values import D0


class InspectionMixin:
    """XeroState's read-only helpers for tests and demos (they take the state lock themselves)."""

    def count_by_reference(self, kind: str, reference: str, include_void: bool = False) -> int:
        """How many live documents carry `reference` (as Reference or as the document number)."""
        kind_key = kind.lower().replace("-", "_").replace(" ", "_")
        with self.lock:
            if kind_key in ("invoice", "invoices", "accrec", "accpay", "bill", "bills"):
                rows, fields = self.invoices.values(), ("Reference", "InvoiceNumber")
            elif kind_key in ("credit_note", "credit_notes", "creditnote", "creditnotes", "accreccredit"):
                rows, fields = self.credit_notes.values(), ("Reference", "CreditNoteNumber")
            elif kind_key in ("payment", "payments"):
                rows, fields = self.payments.values(), ("Reference",)
            elif kind_key in ("bank_transfer", "bank_transfers", "banktransfer", "banktransfers"):
                rows, fields = self.bank_transfers.values(), ("Reference",)
            elif kind_key in ("contact", "contacts"):
                rows, fields = self.contacts.values(), ("ContactNumber",)
            else:
                raise ValueError(f"unknown kind {kind!r}; expected invoices, credit_notes, payments, bank_transfers or contacts")
            count = 0
            for row in rows:
                if not include_void and row.get("Status") in ("DELETED", "VOIDED"):
                    continue
                if any((row.get(f) or "") == reference for f in fields):
                    count += 1
            return count

    def render(self, kind: str, record_id: str) -> dict:
        """A stored record as the API would return it (kinds: invoice, credit_note, contact, payment, bank_transfer,
        item; an item by ItemID or Code)."""
        with self.lock:
            if kind == "item":
                item = self.items.get(record_id) or self.item_by_code(record_id)
                if item is None:
                    raise KeyError(record_id)
                return self.render_item(item)
            if kind == "invoice":
                return self.render_doc(self.invoices[record_id], "invoice")
            if kind == "credit_note":
                return self.render_doc(self.credit_notes[record_id], "credit")
            if kind == "contact":
                return self.render_contact(self.contacts[record_id])
            if kind == "payment":
                return self.render_payment(self.payments[record_id])
            if kind == "bank_transfer":
                return self.render_bank_transfer(self.bank_transfers[record_id])
        raise ValueError(f"unknown kind {kind!r}")

    def account_balance(self, code: str) -> Decimal:
        """Net cash moved through a BANK account by payments and transfers (positive = money in)."""
        with self.lock:
            account = self.account_by_code(code)
            if account is None:
                raise KeyError(code)
            total = D0
            for p in self.payments.values():
                if p["Status"] != "AUTHORISED" or p["AccountID"] != account["AccountID"]:
                    continue
                incoming = p["PaymentType"] in ("ACCRECPAYMENT", "APCREDITPAYMENT")
                total += p["Amount"] if incoming else -p["Amount"]
            for t in self.bank_transfers.values():
                if t["FromAccountID"] == account["AccountID"]:
                    total -= t["Amount"]
                if t["ToAccountID"] == account["AccountID"]:
                    total += t["Amount"]
            return total

    def ledger_balance(self, code: str, as_of: date | None = None) -> Decimal:
        """Balance of any account in the posted books, debit positive (a liability in credit is negative).

        `as_of`: only what is dated on or before that day (the Trial Balance report's `date`).

        Authorised and paid invoices and credit notes book their lines (net of tax) against the debtors or
        creditors account and their tax to the sales-tax account: ACCREC lines credit their account, ACCPAY
        lines debit it, credit notes the reverse. A tracked item's purchase line is booked to its inventory
        asset account; its sale also books the average cost from that account to its COGS account. Payments
        move money between their bank account and debtors or creditors, bank transfers between two bank accounts.
        Amounts are as booked, in the organisation's currency; allocations only move credit within debtors or
        creditors, so they do not count.
        """
        with self.lock:
            account = self.account_by_code(code)
            if account is None:
                raise KeyError(code)
            return self.ledger_balances(as_of).get(account["AccountID"], D0)

    def ledger_balances(self, as_of: date | None = None) -> dict[str, Decimal]:
        """AccountID -> balance of every account with postings (see `ledger_balance`), in one pass over the books."""
        with self.lock:
            system = {a["SystemAccount"]: a["AccountID"] for a in self.accounts.values() if a.get("SystemAccount")}
            totals: dict[str, Decimal] = {}

            def book(account_id: str | None, debit: Decimal) -> None:
                if account_id is not None:
                    totals[account_id] = totals.get(account_id, D0) + debit

            def dated(record: dict) -> bool:
                return as_of is None or record["Date"] is None or record["Date"] <= as_of

            # +1: the control account is debited (a sale, a supplier's credit); -1: it is credited.
            signs = {"ACCREC": 1, "ACCRECCREDIT": -1, "ACCPAY": -1, "ACCPAYCREDIT": 1}
            for doc in [*self.invoices.values(), *self.credit_notes.values()]:
                if doc["Status"] not in ("AUTHORISED", "PAID") or not dated(doc):
                    continue
                sign = signs[doc["Type"]]
                book(system.get("DEBTORS" if doc["Type"].startswith("ACCREC") else "CREDITORS"), sign * doc["Total"])
                for line in doc["LineItems"]:
                    net = line["LineAmount"] - line["TaxAmount"] if doc["LineAmountTypes"] == "Inclusive" else line["LineAmount"]
                    book(line.get("AccountID"), -sign * net)
                    book(system.get("GST"), -sign * line["TaxAmount"])
            # Tracked items sold (or returned on a sales credit note) move their average cost between the
            # inventory asset account and the cost of goods sold account (inventory.py).
            for move in self.inventory_moves:
                if not move["COGS"] or move["InventoryAccount"] is None or not dated(move):
                    continue
                book((self.account_by_code(move["COGSAccount"]) or {}).get("AccountID"), move["COGS"])
                book((self.account_by_code(move["InventoryAccount"]) or {}).get("AccountID"), -move["COGS"])
            for p in self.payments.values():
                if p["Status"] != "AUTHORISED" or not dated(p):
                    continue
                incoming = p["PaymentType"] in ("ACCRECPAYMENT", "APCREDITPAYMENT")
                control = system.get("DEBTORS" if p["PaymentType"] in ("ACCRECPAYMENT", "ARCREDITPAYMENT") else "CREDITORS")
                book(p["AccountID"], p["Amount"] if incoming else -p["Amount"])
                book(control, -p["Amount"] if incoming else p["Amount"])
            for t in self.bank_transfers.values():
                if not dated(t):
                    continue
                book(t["FromAccountID"], -t["Amount"])
                book(t["ToAccountID"], t["Amount"])
            return totals
