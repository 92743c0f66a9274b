"""Query views: stored records as the typed values the `where`/`order` evaluator compares."""

from __future__ import annotations

from datetime import date, datetime, timezone

from walmart_accounting.sandbox.xero.query import _ENTITY_FIELDS, Guid
from walmart_accounting.sandbox.xero.values import _DOC_KINDS


class ViewMixin:
    """XeroState's query views, one per entity of query._ENTITY_FIELDS."""

    # -- query views (typed values the `where` evaluator compares) -------------------------------------------

    @staticmethod
    def _dt(day: date | None) -> datetime | None:
        return None if day is None else datetime(day.year, day.month, day.day, tzinfo=timezone.utc)

    @staticmethod
    def _ts(ts: float | None) -> datetime | None:
        return None if ts is None else datetime.fromtimestamp(ts, tz=timezone.utc)

    def view_contact(self, c: dict) -> dict:
        fields = _ENTITY_FIELDS["Contact"]
        view = {k: c.get(k) for k in fields}
        view["ContactID"] = Guid(c["ContactID"])
        view["UpdatedDateUTC"] = self._ts(c["UpdatedDateUTC"])
        view["HasAttachments"] = False
        return view

    def view_account(self, a: dict) -> dict:
        view = {k: a.get(k) for k in _ENTITY_FIELDS["Account"]}
        view["AccountID"] = Guid(a["AccountID"])
        view["UpdatedDateUTC"] = self._ts(a["UpdatedDateUTC"])
        return view

    def view_doc(self, d: dict, kind: str) -> dict:
        k = _DOC_KINDS[kind]
        view = {key: d.get(key) for key in _ENTITY_FIELDS[k["entity"]]}
        view[k["id"]] = Guid(d[k["id"]])
        for key in ("Date", "DueDate", "FullyPaidOnDate"):
            view[key] = self._dt(d.get(key))
        view["UpdatedDateUTC"] = self._ts(d["UpdatedDateUTC"])
        view["HasAttachments"] = False
        view["Contact"] = self.view_contact(self.contacts[d["ContactID"]])
        return view

    def view_payment(self, p: dict) -> dict:
        view = {k: p.get(k) for k in _ENTITY_FIELDS["Payment"]}
        view["PaymentID"] = Guid(p["PaymentID"])
        view["Date"] = self._dt(p["Date"])
        view["UpdatedDateUTC"] = self._ts(p["UpdatedDateUTC"])
        view["Invoice"] = self.view_doc(self.invoices[p["InvoiceID"]], "invoice") if p.get("InvoiceID") else None
        view["CreditNote"] = (self.view_doc(self.credit_notes[p["CreditNoteID"]], "credit")
                              if p.get("CreditNoteID") else None)
        view["Account"] = self.view_account(self.accounts[p["AccountID"]])
        return view

    def view_bank_transfer(self, t: dict) -> dict:
        view = {k: t.get(k) for k in _ENTITY_FIELDS["BankTransfer"]}
        view["BankTransferID"] = Guid(t["BankTransferID"])
        view["FromBankTransactionID"] = Guid(t["FromBankTransactionID"])
        view["ToBankTransactionID"] = Guid(t["ToBankTransactionID"])
        view["Date"] = self._dt(t["Date"])
        view["CreatedDateUTC"] = self._ts(t["CreatedDateUTC"])
        view["FromBankAccount"] = self.view_account(self.accounts[t["FromAccountID"]])
        view["ToBankAccount"] = self.view_account(self.accounts[t["ToAccountID"]])
        view["HasAttachments"] = False
        return view

    def view_item(self, i: dict) -> dict:
        view = {k: i.get(k) for k in _ENTITY_FIELDS["Item"]}
        view["ItemID"] = Guid(i["ItemID"])
        view["UpdatedDateUTC"] = self._ts(i["UpdatedDateUTC"])
        return view

    def view_tax_rate(self, t: dict) -> dict:
        return {k: t.get(k) for k in _ENTITY_FIELDS["TaxRate"]}

    def view_tracking(self, c: dict) -> dict:
        return {"TrackingCategoryID": Guid(c["TrackingCategoryID"]), "Name": c["Name"], "Status": c["Status"]}
