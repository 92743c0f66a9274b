"""Reports: GET /Reports/TrialBalance, computed from the books the emulator holds (the same as `ledger_balance`)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from walmart_accounting.sandbox.xero.base import AccountingBase, Result, _not_found, _validation_exception
from walmart_accounting.sandbox.xero.values import D0, _bool
from walmart_accounting.sandbox.xero.wire import ms_instant

# The report's sections, in Xero's order, by account Class.
_SECTIONS = (("REVENUE", "Revenue"), ("EXPENSE", "Expenses"), ("ASSET", "Assets"), ("LIABILITY", "Liabilities"),
             ("EQUITY", "Equity"))
_PROFIT_AND_LOSS = frozenset({"REVENUE", "EXPENSE"})


def _cell(value: Decimal, account_id: str) -> dict:
    return {"Value": f"{value:.2f}" if value else "", "Attributes": [{"Value": account_id, "Id": "account"}]}


def _sides(amount: Decimal) -> tuple[Decimal, Decimal]:
    """(debit, credit) of a debit-positive amount."""
    return (amount, D0) if amount > 0 else (D0, -amount)


class ReportsApi(AccountingBase):
    """Reports; only the Trial Balance is served (operationId getReportTrialBalance)."""

    def reports(self, method, rest, query, headers, data, unitdp, summarize) -> Result:
        if method != "GET" or [r.lower() for r in rest] != ["trialbalance"]:
            return _not_found()
        s = self.s
        if _bool(query.get("paymentsonly")):
            return Result(400, _validation_exception([{"ValidationErrors": [{"Message": (
                "The sandbox has no cash-basis books: paymentsOnly=true is not supported.")}]}]))
        raw = query.get("date")
        try:
            day = date.fromisoformat(raw[:10]) if raw else s.today()
        except ValueError:
            return Result(400, _validation_exception([{"ValidationErrors": [{"Message": (
                f"'{raw}' is not a valid date; expected YYYY-MM-DD.")}]}]))
        at_date = s.ledger_balances(day)
        month_start = day.replace(day=1)
        before_month = s.ledger_balances(month_start - timedelta(days=1))
        year_start = self._financial_year_start(day)
        before_year = s.ledger_balances(year_start - timedelta(days=1))
        columns = ("Account", "Debit", "Credit", "YTD Debit", "YTD Credit")
        header = {"RowType": "Header", "Cells": [{"Value": v} for v in columns]}
        rows: list[dict] = [header]
        totals = [D0, D0, D0, D0]
        accounts = sorted(s.accounts.values(), key=lambda a: (a["Code"] or "", a["Name"]))
        for cls, title in _SECTIONS:
            section_rows = []
            for account in (a for a in accounts if a["Class"] == cls):
                account_id = account["AccountID"]
                # Balance-sheet accounts carry their balance forward; revenue and expense accounts start each
                # financial year at zero (their earlier years are in retained earnings).
                ytd = at_date.get(account_id, D0) - (before_year.get(account_id, D0) if cls in _PROFIT_AND_LOSS else D0)
                month = at_date.get(account_id, D0) - before_month.get(account_id, D0)
                if not ytd and not month:
                    continue
                amounts = [*_sides(month), *_sides(ytd)]
                totals = [t + a for t, a in zip(totals, amounts, strict=True)]
                name = f"{account['Name']} ({account['Code']})" if account["Code"] else account["Name"]
                section_rows.append({"RowType": "Row", "Cells": [
                    {"Value": name, "Attributes": [{"Value": account_id, "Id": "account"}]},
                    *(_cell(a, account_id) for a in amounts)]})
            if section_rows:
                rows.append({"RowType": "Section", "Title": title, "Rows": section_rows})
        rows.append({"RowType": "Section", "Title": "", "Rows": [{"RowType": "SummaryRow", "Cells": [
            {"Value": "Total"}, *({"Value": f"{t:.2f}"} for t in totals)]}]})
        report_date = f"{day.day} {day.strftime('%B %Y')}"
        report = {"ReportID": "TrialBalance", "ReportName": "Trial Balance", "ReportType": "TrialBalance",
                  "ReportTitles": ["Trial Balance", s.tenant_name, f"As at {report_date}"],
                  "ReportDate": report_date, "UpdatedDateUTC": ms_instant(s.now(), offset=False), "Fields": [],
                  "Rows": rows}
        return Result(200, s.envelope("Reports", [report]))

    @staticmethod
    def _financial_year_start(day: date) -> date:
        """The organisation's financial year ends on 31 December (GET /Organisation says so)."""
        return date(day.year, 1, 1)
