"""Credit note allocations: PUT CreditNotes/{id}/Allocations applies credit to an invoice."""

from __future__ import annotations

from typing import Any

from walmart_accounting.sandbox.xero.base import AccountingBase, Result, _error_echo, _not_found
from walmart_accounting.sandbox.xero.values import BadValue, _get, r2, to_number
from walmart_accounting.sandbox.xero.wire import ms_date, parse_date


class AllocationsApi(AccountingBase):
    """Allocating an authorised credit note to an invoice of the same contact and currency."""

    # -- allocations ---------------------------------------------------------------------------------------

    def _allocate(self, credit_key: str, data: Any, summarize: bool) -> Result:
        s = self.s
        credit = self._find_doc("credit", credit_key)
        if credit is None:
            return _not_found()

        def one(raw: Any) -> tuple[bool, dict]:
            errors: list[str] = []
            if not isinstance(raw, dict):
                return False, _error_echo({}, None, "HasErrors", ["An Allocation must be an object"])
            if credit["Status"] != "AUTHORISED":
                errors.append("Credit Note must be AUTHORISED before it can be allocated.")
            inv_ref = _get(raw, "Invoice")
            invoice = None
            if not isinstance(inv_ref, dict) or not (_get(inv_ref, "InvoiceID") or _get(inv_ref, "InvoiceNumber")):
                errors.append("An Invoice must be specified for the allocation.")
            else:
                key = str(_get(inv_ref, "InvoiceID") or _get(inv_ref, "InvoiceNumber"))
                invoice = self._find_doc("invoice", key)
                if invoice is None:
                    errors.append("An existing Invoice with the specified InvoiceID could not be found")
            try:
                amount = to_number(_get(raw, "Amount"), "Amount")
            except BadValue as exc:
                errors.append(str(exc))
                amount = None
            when = None
            if _get(raw, "Date") in (None, ""):
                errors.append("The Date field must be specified.")
            else:
                try:
                    when = parse_date(_get(raw, "Date"))
                except BadValue:
                    errors.append(f"'{_get(raw, 'Date')}' is not a valid Date; expected YYYY-MM-DD.")
            if amount is None:
                errors.append("The Amount field must be specified.")
            elif amount <= 0:
                errors.append("The allocation Amount must be greater than zero.")
            else:
                amount = r2(amount)
            if invoice is not None:
                expected_type = "ACCREC" if credit["Type"] == "ACCRECCREDIT" else "ACCPAY"
                if invoice["Type"] != expected_type:
                    errors.append(f"A {credit['Type']} credit note can only be allocated to an {expected_type} invoice.")
                if invoice["Status"] != "AUTHORISED":
                    errors.append("Invoice not of valid status for allocation; it must be AUTHORISED and unpaid.")
                if invoice["ContactID"] != credit["ContactID"]:
                    errors.append("The credit note and the invoice must belong to the same contact.")
                if invoice["CurrencyCode"] != credit["CurrencyCode"]:
                    errors.append("The credit note and the invoice must be in the same currency.")
                if amount is not None and amount > 0 and amount > invoice["AmountDue"]:
                    errors.append("The amount being allocated exceeds the amount due on the invoice.")
            if amount is not None and amount > 0 and credit["Status"] == "AUTHORISED" and amount > credit["RemainingCredit"]:
                errors.append("The amount being allocated exceeds the remaining credit on the credit note.")
            if errors:
                return False, _error_echo(raw, None, "HasErrors", list(dict.fromkeys(errors)))
            allocation = {"AllocationID": s.new_id(), "CreditNoteID": credit["CreditNoteID"],
                          "InvoiceID": invoice["InvoiceID"], "Amount": amount, "Date": when, "IsDeleted": False}
            s.allocations[allocation["AllocationID"]] = allocation
            credit["AllocationIDs"].append(allocation["AllocationID"])
            invoice["AllocationIDs"].append(allocation["AllocationID"])
            credit["RemainingCredit"] -= amount
            invoice["AmountCredited"] += amount
            invoice["AmountDue"] -= amount
            now = s.now()
            for doc in (credit, invoice):
                doc["UpdatedDateUTC"] = now
            if invoice["AmountDue"] == 0:
                invoice["Status"] = "PAID"
                invoice["FullyPaidOnDate"] = when
            if credit["RemainingCredit"] == 0:
                credit["Status"] = "PAID"
                credit["FullyPaidOnDate"] = when
            rendered = {"AllocationID": allocation["AllocationID"], "Amount": amount, "Date": ms_date(when),
                        "Invoice": s.render_doc(invoice, "invoice", lines=False),
                        "CreditNote": s.render_doc(credit, "credit", lines=False),
                        "StatusAttributeString": "OK", "ValidationErrors": []}
            return True, rendered

        return self._batch(data, "Allocations", summarize, one)
