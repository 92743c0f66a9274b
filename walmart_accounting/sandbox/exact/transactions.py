"""financialtransaction/TransactionLines: the G/L lines of every entry, computed from the entries (never stored).

They book exactly what `InspectionMixin.trial_balance` books, line by line and debit positive (AmountDC),
so a sum of AmountDC by GLAccountCode and `Date le ...` is the trial balance at that date. Line 0 of a
sales or purchase entry is its receivables/payables line, as Exact numbers it; a bank entry has, for
each of its lines, the line itself and its counterpart on the journal's G/L account.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from walmart_accounting.sandbox.exact.model import Division
from walmart_accounting.sandbox.exact.sets import SETS

TRANSACTION_LINES = "financialtransaction/TransactionLines"
_NAMESPACE = uuid.UUID("6f1d3a52-5a3b-4f57-9a43-0d6a8f0e7c11")
CASH_FLOW = 40  # TransactionLines.Type of bank and cash entries


class TransactionsMixin:
    """Computes the TransactionLines of a division of :class:`ExactState` (call with the lock held)."""

    def transaction_lines(self, div: Division) -> list[dict]:
        """Every G/L line the division's entries book, as financialtransaction/TransactionLines rows."""
        gls = div.table("financial/GLAccounts")
        by_code = {r["Code"]: r for r in gls.values()}
        control = {t: next((r["Code"] for r in gls.values() if r["Type"] == t), None) for t in (20, 22)}
        vat_gl = {r["Code"]: (r["GLToPayCode"], r["GLToClaimCode"]) for r in div.table("vat/VATCodes").values()}
        out: list[dict] = []

        def line(entry_key: str, n: int, gl_code: str, amount: Decimal, header: dict, **extra) -> None:
            gl = by_code.get(gl_code) or {}
            date = header["Date"]
            out.append({
                "ID": str(uuid.uuid5(_NAMESPACE, f"{div.code}:{entry_key}:{n}")), "Division": div.code,
                "EntryID": entry_key, "LineNumber": n, "GLAccount": gl.get("ID"), "GLAccountCode": gl_code,
                "GLAccountDescription": gl.get("Description"), "AmountDC": amount,
                "Date": date, "FinancialYear": date.year if date else None,
                "FinancialPeriod": date.month if date else None, **header, **extra})

        def entries(path: str, nav: str, date_field: str, party: str | None, sign: int, gl_type: int) -> None:
            es = SETS[path]
            fk = es.key
            for e in div.table(path).values():
                if path == "salesinvoice/SalesInvoices" and e["Status"] != 50:
                    continue  # an open invoice is not in the ledger until it is processed
                header = {"Date": e.get(date_field), "EntryNumber": e.get("EntryNumber") or e.get("InvoiceNumber"),
                          "InvoiceNumber": e.get("InvoiceNumber"), "JournalCode": e.get("Journal"),
                          "JournalDescription": e.get("JournalDescription"), "YourRef": e.get("YourRef"),
                          "Currency": e.get("Currency"), "Type": e.get("Type"), "Status": e.get("Status"),
                          "Account": e.get(party) if party else e.get("OrderedBy"),
                          "Created": e.get("Created"), "Modified": e.get("Modified")}
                line(e[fk], 0, control[gl_type], sign * e["AmountDC"], header, AmountFC=sign * e["AmountFC"],
                     Description=e.get("Description"))
                n = 0
                for ln in div.children(es.nav[nav][0], fk, e[fk]):
                    n += 1
                    line(e[fk], n, ln["GLAccountCode"], -sign * ln["AmountDC"], header,
                         AmountFC=-sign * (ln.get("AmountFC") or Decimal("0")), Description=ln.get("Description"),
                         VATCode=ln.get("VATCode"), AmountVATFC=-sign * (ln.get("VATAmountFC") or Decimal("0")))
                    if ln.get("VATAmountDC"):
                        n += 1
                        pay, claim = vat_gl.get(ln.get("VATCode"), (None, None))
                        vat = -sign * ln["VATAmountDC"]
                        line(e[fk], n, (pay if sign > 0 else claim) or "1500", vat, header,
                             AmountFC=-sign * (ln.get("VATAmountFC") or Decimal("0")),
                             Description=ln.get("Description"), VATCode=ln.get("VATCode"))

        entries("salesentry/SalesEntries", "SalesEntryLines", "EntryDate", "Customer", 1, 20)
        entries("salesinvoice/SalesInvoices", "SalesInvoiceLines", "InvoiceDate", None, 1, 20)
        entries("purchaseentry/PurchaseEntries", "PurchaseEntryLines", "EntryDate", "Supplier", -1, 22)
        for e in div.table("financialtransaction/BankEntries").values():
            journal = div.find("financial/Journals", "Code", e["JournalCode"])
            n = 0
            for ln in div.children("financialtransaction/BankEntryLines", "EntryID", e["EntryID"]):
                header = {"Date": ln.get("Date"), "EntryNumber": e.get("EntryNumber"), "JournalCode": e["JournalCode"],
                          "JournalDescription": e.get("JournalDescription"), "Currency": e.get("Currency"),
                          "Type": CASH_FLOW, "Status": e.get("Status"), "Account": ln.get("Account"),
                          "AccountCode": ln.get("AccountCode"), "AccountName": ln.get("AccountName"),
                          "Description": ln.get("Description"), "Notes": ln.get("Notes"),
                          "Created": e.get("Created"), "Modified": e.get("Modified")}
                n += 1
                line(e["EntryID"], n, journal["GLAccountCode"], ln["AmountDC"], header, AmountFC=ln["AmountFC"])
                n += 1
                line(e["EntryID"], n, ln["GLAccountCode"], -ln["AmountDC"], header, AmountFC=-ln["AmountFC"])
        return out
