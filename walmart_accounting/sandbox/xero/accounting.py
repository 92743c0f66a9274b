"""Accounting: the /api.xro/2.0 request handlers, composed from one mixin per resource family."""

from __future__ import annotations

from typing import Callable

from walmart_accounting.sandbox.xero.bank_transfers import BankTransfersApi
from walmart_accounting.sandbox.xero.base import _not_found, _post_data_invalid, _query_exception
from walmart_accounting.sandbox.xero.documents import DocumentsApi
from walmart_accounting.sandbox.xero.payments import PaymentsApi
from walmart_accounting.sandbox.xero.query import QueryParseError
from walmart_accounting.sandbox.xero.reports import ReportsApi
from walmart_accounting.sandbox.xero.settings import SettingsApi
from walmart_accounting.sandbox.xero.wire import Result, loads


class Accounting(SettingsApi, DocumentsApi, PaymentsApi, BankTransfersApi, ReportsApi):
    """Request handlers of /api.xro/2.0; every method runs with the state lock held."""

    def handle(self, method: str, segments: list[str], query: dict[str, str], headers: dict[str, str],
               body: bytes) -> Result:
        s = self.s
        resource = segments[0].lower() if segments else ""
        rest = segments[1:]
        table: dict[str, Callable[..., Result]] = {
            "invoices": self.invoices, "creditnotes": self.credit_notes, "contacts": self.contacts,
            "payments": self.payments, "banktransfers": self.bank_transfers, "accounts": self.accounts,
            "taxrates": self.tax_rates, "trackingcategories": self.tracking_categories, "items": self.items,
            "organisation": self.organisation, "currencies": self.currencies, "reports": self.reports,
        }
        handler = table.get(resource)
        if handler is None:
            return _not_found()
        data = None
        if method in ("PUT", "POST"):
            content_type = headers.get("content-type", "")
            if "json" not in content_type.lower():
                return _post_data_invalid("The sandbox reads JSON request bodies only (send Content-Type: application/json); "
                                          "without it Xero parses the body as XML")
            try:
                data = loads(body) if body.strip() else None
            except (ValueError, UnicodeDecodeError) as exc:
                return _post_data_invalid(f"JSON for post data was invalid,{exc}")
        unitdp = 4 if query.get("unitdp") == "4" else 2
        summarize = query.get("summarizeerrors", "true").strip().lower() != "false"
        with s.lock:
            try:
                return handler(method, rest, query, headers, data, unitdp, summarize)
            except QueryParseError as exc:
                return _query_exception(str(exc))
