"""Sales and purchase entries and their lines (FACTS §2): validation, numbering, totals and recalculation."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from walmart_accounting.sandbox.exact.ledger import CONTROL_GL_TYPES
from walmart_accounting.sandbox.exact.model import Division, _bad, _q2
from walmart_accounting.sandbox.exact.sets import SETS


class EntriesMixin:
    """salesentry/SalesEntries and purchaseentry/PurchaseEntries of :class:`ExactState`, lines included."""

    # Sales and purchase entries (FACTS §2)
    def _entry_lines(self, div: Division, lines: list[dict], entry_type: int, rate: Decimal, kind: str) -> list[dict]:
        out = []
        for n, line in enumerate(lines, start=1):
            if line.get("AmountFC") is None:
                raise _bad(f"Mandatory: AmountFC (line {n})")
            gl = self._gl_account(div, line.get("GLAccount"))
            if gl["Type"] in CONTROL_GL_TYPES:
                raise _bad(f"Invalid: G/L account type ({gl['Code']} {gl['TypeDescription']} is not allowed "
                           f"on {kind} lines)")
            vat_code = line.get("VATCode") if line.get("VATCode") is not None else gl.get("VATCode")
            vat = self._vat_code(div, vat_code) if vat_code is not None else None
            amount = line["AmountFC"]
            pct = vat["Percentage"] if vat else Decimal("0")
            vat_amount = line["VATAmountFC"] if line.get("VATAmountFC") is not None else _q2(amount * pct)
            center = self._code_ref(div, "hrm/Costcenters", line.get("CostCenter"), "CostCenter")
            unit = self._code_ref(div, "hrm/Costunits", line.get("CostUnit"), "CostUnit")
            if line.get("Type") is not None and line["Type"] not in (entry_type,):
                raise _bad(f"Type: line type {line['Type']} does not match the entry type {entry_type}.")
            out.append({
                "LineNumber": n, "AmountFC": amount,
                "AmountDC": line["AmountDC"] if line.get("AmountDC") is not None else _q2(amount * rate),
                "VATAmountFC": vat_amount,
                "VATAmountDC": line["VATAmountDC"] if line.get("VATAmountDC") is not None else _q2(vat_amount * rate),
                "VATBaseAmountFC": amount, "VATBaseAmountDC": _q2(amount * rate),
                "VATCode": vat["Code"] if vat else None, "VATCodeDescription": vat["Description"] if vat else None,
                "VATPercentage": pct, "GLAccount": gl["ID"], "GLAccountCode": gl["Code"],
                "GLAccountDescription": gl["Description"], "CostCenter": center and center["Code"],
                "CostCenterDescription": center and center["Description"], "CostUnit": unit and unit["Code"],
                "CostUnitDescription": unit and unit["Description"], "Description": line.get("Description"),
                "Quantity": line.get("Quantity"), "From": line.get("From"), "To": line.get("To"),
                "Type": entry_type, "Notes": line.get("Notes")})
        return out

    def _create_entry(self, div: Division, data: dict, *, path: str, lines_nav: str, party: str,
                      journal_types: tuple[int, ...], kind: str, types: dict[int, str]) -> dict:
        es = SETS[path]
        account = self._account(div, data.get(party), party)
        journal = self._journal(div, data.get("Journal"), journal_types, kind, "Journal")
        if data.get("EntryDate") is None:
            raise _bad("Mandatory: EntryDate")
        entry_type = data.get("Type") if data.get("Type") is not None else min(types)
        if entry_type not in types:
            raise _bad(f"Type: invalid value {entry_type}; expected one of {sorted(types)}.")
        lines_in = data.get(lines_nav)
        if not lines_in:
            raise _bad(f"Mandatory: {lines_nav}")
        currency = data.get("Currency") or div.currency
        if currency != div.currency:
            if data.get("Rate") is None:
                raise _bad(f"Rate: an exchange rate is mandatory for currency {currency}.")
            rate = data["Rate"]
        else:
            rate = Decimal("1")
        lines = self._entry_lines(div, lines_in, entry_type, rate, kind)
        net = sum((ln["AmountFC"] for ln in lines), Decimal("0"))
        vat = sum((ln["VATAmountFC"] for ln in lines), Decimal("0"))
        total = net + vat
        if data.get("AmountFC") is not None and data["AmountFC"] != total:
            raise _bad(f"AmountFC: the entry amount {data['AmountFC']} does not equal the lines including VAT "
                       f"({total}).")
        if data.get("VATAmountFC") is not None and data["VATAmountFC"] != vat:
            raise _bad(f"VATAmountFC: the VAT amount {data['VATAmountFC']} does not equal the VAT of the lines "
                       f"({vat}).")
        credit_type = max(types)
        if entry_type == credit_type and total > 0:
            raise _bad(f"A credit note (Type {credit_type}) needs negative amounts; the total is {total}.")
        entry_date = data["EntryDate"]
        year = data.get("ReportingYear") or entry_date.year
        used = {r["EntryNumber"] for r in div.table(path).values() if r["Journal"] == journal["Code"]}
        number = self._next_number(div, journal["Code"], year, data.get("InvoiceNumber") or data.get("EntryNumber"),
                                   used)
        header = {k: v for k, v in data.items() if k in es.fields}
        header.update({
            "EntryNumber": number, "InvoiceNumber": number, "Journal": journal["Code"],
            "JournalDescription": journal["Description"], party: account["ID"], f"{party}Name": account["Name"],
            "DueDate": data.get("DueDate") or entry_date + timedelta(days=30), "Currency": currency, "Rate": rate,
            "AmountFC": total, "AmountDC": _q2(total * rate), "VATAmountFC": vat, "VATAmountDC": _q2(vat * rate),
            "ReportingYear": year, "ReportingPeriod": data.get("ReportingPeriod") or entry_date.month,
            "Status": 20, "StatusDescription": "Open", "Type": entry_type, "TypeDescription": types[entry_type]})
        if "Reversal" in es.fields:
            header["Reversal"] = bool(data.get("Reversal"))
        rec = self._insert(div, path, header)
        child_path = es.nav[lines_nav][0]
        for line in lines:
            self._insert(div, child_path, {**line, "EntryID": rec["EntryID"]})
        return rec

    def _recalculate_entry(self, div: Division, path: str, rec: dict) -> None:
        es = SETS[path]
        child_path, fk = next(iter(es.nav.values()))
        lines = div.children(child_path, fk, rec["EntryID"])
        net = sum((ln["AmountFC"] for ln in lines), Decimal("0"))
        vat = sum((ln["VATAmountFC"] for ln in lines), Decimal("0"))
        rate = rec["Rate"] or Decimal("1")
        rec.update({"AmountFC": net + vat, "AmountDC": _q2((net + vat) * rate), "VATAmountFC": vat,
                    "VATAmountDC": _q2(vat * rate), "Modified": self.now()})

    _SALES = dict(path="salesentry/SalesEntries", lines_nav="SalesEntryLines", party="Customer", journal_types=(20,),
                  kind="sales", types={20: "Sales entry", 21: "Sales credit note"})
    _PURCHASE = dict(path="purchaseentry/PurchaseEntries", lines_nav="PurchaseEntryLines", party="Supplier",
                     journal_types=(22,), kind="purchase", types={30: "Purchase entry", 31: "Purchase credit note"},
                     )

    def _create_salesentry_salesentries(self, div: Division, data: dict) -> dict:
        return self._create_entry(div, data, **self._SALES)

    def _create_purchaseentry_purchaseentries(self, div: Division, data: dict) -> dict:
        return self._create_entry(div, data, **self._PURCHASE)

    def _update_entry(self, div: Division, rec: dict, data: dict, spec: dict) -> None:
        if rec["Status"] == 50:
            raise _bad("A processed entry cannot be changed.")
        party = spec["party"]
        if party in data:
            account = self._account(div, data[party], party)
            data[f"{party}Name"] = account["Name"]
        if "Journal" in data and data["Journal"] is not None and data["Journal"].strip() != rec["Journal"]:
            raise _bad("Journal: the journal of an entry cannot be changed.")
        for name in ("AmountFC", "VATAmountFC", "AmountDC", "VATAmountDC", "Type", "EntryNumber", "InvoiceNumber",
                     "Currency", "Rate", "Journal"):
            data.pop(name, None)
        rec.update(data)

    def _update_salesentry_salesentries(self, div, rec, data):
        self._update_entry(div, rec, data, self._SALES)

    def _update_purchaseentry_purchaseentries(self, div, rec, data):
        self._update_entry(div, rec, data, self._PURCHASE)

    def _delete_entry(self, div: Division, rec: dict, path: str) -> None:
        if rec["Status"] == 50:
            raise _bad("A processed entry cannot be deleted.")
        child_path, fk = next(iter(SETS[path].nav.values()))
        for line in div.children(child_path, fk, rec["EntryID"]):
            del div.table(child_path)[line["ID"]]
        del div.table(path)[rec["EntryID"]]

    def _delete_salesentry_salesentries(self, div, rec):
        self._delete_entry(div, rec, "salesentry/SalesEntries")

    def _delete_purchaseentry_purchaseentries(self, div, rec):
        self._delete_entry(div, rec, "purchaseentry/PurchaseEntries")

    def _create_line(self, div: Division, data: dict, path: str, kind: str) -> dict:
        es = SETS[path]
        parent_path, fk = es.parent
        parent = div.table(parent_path).get(data.get(fk) or "")
        if parent is None:
            raise _bad(f"Mandatory: {fk} (an existing entry)")
        if parent["Status"] == 50:
            raise _bad("A processed entry cannot be changed.")
        existing = div.children(path, fk, parent[fk])
        line = self._entry_lines(div, [data], parent["Type"], parent["Rate"] or Decimal("1"), kind)[0]
        line["LineNumber"] = max((r["LineNumber"] for r in existing), default=0) + 1
        rec = self._insert(div, path, {**line, fk: parent[fk]})
        self._recalculate_entry(div, parent_path, parent)
        return rec

    def _create_salesentry_salesentrylines(self, div, data):
        return self._create_line(div, data, "salesentry/SalesEntryLines", "sales")

    def _create_purchaseentry_purchaseentrylines(self, div, data):
        return self._create_line(div, data, "purchaseentry/PurchaseEntryLines", "purchase")

    def _delete_line(self, div: Division, rec: dict, path: str) -> list:
        parent_path, fk = SETS[path].parent
        parent = div.table(parent_path)[rec[fk]]
        if parent["Status"] == 50:
            raise _bad("A processed entry cannot be changed.")
        del div.table(path)[rec["ID"]]
        if not div.children(path, fk, parent[fk]):
            # Deleting the last line removes the entire entry (FACTS §2, ossobv).
            del div.table(parent_path)[parent[fk]]
            pes = SETS[parent_path]
            return [(pes.topic, "Delete", pes, parent[fk])]
        self._recalculate_entry(div, parent_path, parent)
        return []

    def _delete_salesentry_salesentrylines(self, div, rec):
        return self._delete_line(div, rec, "salesentry/SalesEntryLines")

    def _delete_purchaseentry_purchaseentrylines(self, div, rec):
        return self._delete_line(div, rec, "purchaseentry/PurchaseEntryLines")
