"""Bank entries and their lines: the opening balance plus the lines equals the closing balance."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from walmart_accounting.sandbox.exact.model import Division, _bad, _q2


class BankMixin:
    """financialtransaction/BankEntries and BankEntryLines of :class:`ExactState`."""

    # Bank entries: opening balance plus the lines equals the closing balance.
    def _journal_balance(self, div: Division, journal_code: str) -> Decimal:
        total = Decimal("0")
        for entry in div.table("financialtransaction/BankEntries").values():
            if entry["JournalCode"] == journal_code:
                total += sum((ln["AmountFC"] for ln in div.children("financialtransaction/BankEntryLines", "EntryID",
                                                                       entry["EntryID"])), Decimal("0"))
        return total

    def _bank_line(self, div: Division, line: dict, n: int, journal: dict, rate: Decimal) -> dict:
        if line.get("AmountFC") is None:
            raise _bad(f"Mandatory: AmountFC (line {n})")
        gl = self._gl_account(div, line.get("GLAccount"))
        if gl["ID"] == journal["GLAccount"]:
            raise _bad(f"GLAccount: {gl['Code']} is the G/L account of journal {journal['Code']} itself.")
        account = self._account(div, line["Account"], "Account") if line.get("Account") else None
        if line.get("OurRef") is not None:
            match = [e for path, party in (("salesentry/SalesEntries", "Customer"),
                                           ("purchaseentry/PurchaseEntries", "Supplier"))
                     for e in div.table(path).values()
                     if e["InvoiceNumber"] == line["OurRef"] and (account is None or e[party] == account["ID"])]
            if not match:
                raise _bad(f"OurRef: no invoice {line['OurRef']} for this account.")
        vat = self._vat_code(div, line["VATCode"]) if line.get("VATCode") is not None else None
        center = self._code_ref(div, "hrm/Costcenters", line.get("CostCenter"), "CostCenter")
        unit = self._code_ref(div, "hrm/Costunits", line.get("CostUnit"), "CostUnit")
        amount = line["AmountFC"]
        return {
            "LineNumber": n, "Account": account and account["ID"], "AccountCode": account and account["Code"],
            "AccountName": account and account["Name"], "AmountFC": amount,
            "AmountDC": line["AmountDC"] if line.get("AmountDC") is not None else _q2(amount * rate),
            "AmountVATFC": line.get("AmountVATFC"),
            "Date": line.get("Date") or datetime.combine(self.now().date(), datetime.min.time()),
            "Description": line.get("Description"), "GLAccount": gl["ID"], "GLAccountCode": gl["Code"],
            "GLAccountDescription": gl["Description"], "OurRef": line.get("OurRef"),
            "CostCenter": center and center["Code"], "CostUnit": unit and unit["Code"],
            "VATCode": vat and vat["Code"], "VATPercentage": vat and vat["Percentage"], "Quantity": line.get("Quantity"),
            "ExchangeRate": rate, "Document": line.get("Document"), "Notes": line.get("Notes")}

    def _create_financialtransaction_bankentries(self, div: Division, data: dict) -> dict:
        journal = self._journal(div, data.get("JournalCode"), (12,), "bank", "JournalCode")
        lines_in = data.get("BankEntryLines")
        if not lines_in:
            raise _bad("Mandatory: BankEntryLines")
        currency = data.get("Currency") or journal["Currency"]
        if currency != journal["Currency"]:
            raise _bad(f"Currency: journal {journal['Code']} only allows {journal['Currency']}.")
        lines = [self._bank_line(div, line, n, journal, Decimal("1")) for n, line in enumerate(lines_in, start=1)]
        movement = sum((ln["AmountFC"] for ln in lines), Decimal("0"))
        opening = data.get("OpeningBalanceFC")
        closing = data.get("ClosingBalanceFC")
        if opening is None:
            opening = closing - movement if closing is not None else self._journal_balance(div, journal["Code"])
        if closing is None:
            closing = opening + movement
        if opening + movement != closing:
            raise _bad(f"The opening balance ({opening}) plus the lines ({movement}) does not equal the closing "
                       f"balance ({closing}).")
        first = lines[0]["Date"]
        used = {r["EntryNumber"] for r in div.table("financialtransaction/BankEntries").values()
                if r["JournalCode"] == journal["Code"]}
        number = self._next_number(div, journal["Code"], data.get("FinancialYear") or first.year,
                                   data.get("EntryNumber"), used)
        rec = self._insert(div, "financialtransaction/BankEntries", {
            "EntryNumber": number, "JournalCode": journal["Code"], "JournalDescription": journal["Description"],
            "Currency": currency, "OpeningBalanceFC": opening, "ClosingBalanceFC": closing,
            "FinancialPeriod": data.get("FinancialPeriod") or first.month,
            "FinancialYear": data.get("FinancialYear") or first.year, "Status": 20, "StatusDescription": "Open",
            "BankStatementDocument": data.get("BankStatementDocument")})
        for line in lines:
            self._insert(div, "financialtransaction/BankEntryLines",
                         {**line, "EntryID": rec["EntryID"], "EntryNumber": number})
        return rec

    def _create_financialtransaction_bankentrylines(self, div: Division, data: dict) -> dict:
        entry = div.table("financialtransaction/BankEntries").get(data.get("EntryID") or "")
        if entry is None:
            raise _bad("Mandatory: EntryID (an existing bank entry)")
        journal = div.find("financial/Journals", "Code", entry["JournalCode"])
        existing = div.children("financialtransaction/BankEntryLines", "EntryID", entry["EntryID"])
        line = self._bank_line(div, data, len(existing) + 1, journal, Decimal("1"))
        rec = self._insert(div, "financialtransaction/BankEntryLines",
                           {**line, "EntryID": entry["EntryID"], "EntryNumber": entry["EntryNumber"]})
        entry["ClosingBalanceFC"] = entry["ClosingBalanceFC"] + line["AmountFC"]
        return rec

    def _delete_financialtransaction_bankentries(self, div: Division, rec: dict) -> None:
        if rec["Status"] == 50:
            raise _bad("A processed entry cannot be deleted.")
        for line in div.children("financialtransaction/BankEntryLines", "EntryID", rec["EntryID"]):
            del div.table("financialtransaction/BankEntryLines")[line["ID"]]
        del div.table("financialtransaction/BankEntries")[rec["EntryID"]]
