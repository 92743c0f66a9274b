"""Payments: applying money from a bank account to an invoice or credit note, and deleting a payment."""

from __future__ import annotations

from typing import Any

from walmart_accounting.sandbox.xero.base import AccountingBase, Result, _error_echo, _not_found
from walmart_accounting.sandbox.xero.values import D0, PAYMENT_TYPES, ZERO_GUID, BadValue, _bool, _get, _text, r2, to_number
from walmart_accounting.sandbox.xero.wire import parse_date


class PaymentsApi(AccountingBase):
    """Payments against authorised documents; each one moves AmountDue or RemainingCredit."""

    # -- payments --------------------------------------------------------------------------------------------

    def payments(self, method, rest, query, headers, data, unitdp, summarize) -> Result:
        s = self.s
        if method == "GET":
            if rest:
                found = s.payments.get(rest[0].lower())
                return Result(200, s.envelope("Payments", [s.render_payment(found)])) if found else _not_found()
            rows = self._filter(list(s.payments.values()), query, headers, "Payment", s.view_payment,
                                lambda p: p["UpdatedDateUTC"])
            rows, pagination = self._page(rows, query)
            return Result(200, s.envelope("Payments", [s.render_payment(p) for p in rows], pagination))
        if method == "PUT" and not rest:
            return self._batch(data, "Payments", summarize, self._create_payment)
        if method == "POST" and not rest:  # createPayment: one payment, always summarized
            elements = self._elements(data, "Payments")
            if isinstance(elements, Result):
                return elements
            return self._batch({"Payments": elements[:1]}, "Payments", True, self._create_payment)
        if method == "POST" and len(rest) == 1:
            payment = s.payments.get(rest[0].lower())
            if payment is None:
                return _not_found()
            return self._batch(data, "Payments", True, lambda raw: self._delete_payment(payment, raw))
        return _not_found()

    def _create_payment(self, raw: Any) -> tuple[bool, dict]:
        s = self.s
        flag = "HasValidationErrors"
        if not isinstance(raw, dict):
            return False, _error_echo({}, "PaymentID", flag, ["A Payment must be an object"])
        errors: list[str] = []
        doc, kind = None, None
        inv_ref, cn_ref = _get(raw, "Invoice"), _get(raw, "CreditNote")
        inv_key = (_get(inv_ref, "InvoiceID") or _get(inv_ref, "InvoiceNumber")) if isinstance(inv_ref, dict) else None
        inv_key = inv_key or _get(raw, "InvoiceNumber")
        cn_key = (_get(cn_ref, "CreditNoteID") or _get(cn_ref, "CreditNoteNumber")) if isinstance(cn_ref, dict) else None
        cn_key = cn_key or _get(raw, "CreditNoteNumber")
        if inv_key and str(inv_key) != ZERO_GUID:
            kind = "invoice"
            doc = self._find_doc("invoice", str(inv_key))
            if doc is None:
                errors.append("An existing Invoice with the specified InvoiceID could not be found")
        elif cn_key and str(cn_key) != ZERO_GUID:
            kind = "credit"
            doc = self._find_doc("credit", str(cn_key))
            if doc is None:
                errors.append("An existing Credit Note with the specified CreditNoteID could not be found")
        else:
            errors.append("A payment must be applied to an Invoice or a CreditNote.")
        account, why = s.account_by_ref(_get(raw, "Account"))
        if account is None:
            errors.append("An Account must be specified for the payment." if why == "missing"
                          else "Account could not be found")
        elif (account["Type"] != "BANK" and not account["EnablePaymentsToAccount"]) or account["Status"] != "ACTIVE":
            errors.append("Account type is invalid for making a payment to/from")
        when = None
        if _get(raw, "Date") in (None, ""):
            errors.append("The Date field must be specified.")
        else:
            try:
                when = parse_date(_get(raw, "Date"))
            except BadValue:
                errors.append(f"'{_get(raw, 'Date')}' is not a valid Date; expected YYYY-MM-DD.")
        try:
            amount = to_number(_get(raw, "Amount"), "Amount")
            rate = to_number(_get(raw, "CurrencyRate"), "CurrencyRate")
        except BadValue as exc:
            errors.append(str(exc))
            amount = rate = None
        if amount is None:
            errors.append("The Amount field must be specified.")
        elif amount <= 0:
            errors.append("Payment amount must be greater than zero.")
        else:
            amount = r2(amount)
        if doc is not None:
            if doc["Status"] != "AUTHORISED":
                errors.append("Payments can only be made against AUTHORISED documents; this one is " + doc["Status"] + ".")
            outstanding = doc["AmountDue"] if kind == "invoice" else doc["RemainingCredit"]
            if amount is not None and amount > 0 and amount > outstanding:
                errors.append("Payment amount exceeds the amount outstanding on this document")
            if account is not None and account["Type"] == "BANK" \
                    and account.get("CurrencyCode") not in (None, doc["CurrencyCode"]) \
                    and doc["CurrencyCode"] != s.base_currency:
                errors.append("The payment account currency must match the document currency or the base currency.")
        if errors:
            return False, _error_echo(raw, "PaymentID", flag, list(dict.fromkeys(errors)))
        currency_rate = rate if rate is not None else doc["CurrencyRate"]
        payment = {"PaymentID": s.new_id(), "Date": when, "Amount": amount, "BankAmount": amount,
                   "Reference": _text(_get(raw, "Reference")), "IsReconciled": _bool(_get(raw, "IsReconciled")),
                   "Status": "AUTHORISED", "PaymentType": PAYMENT_TYPES[doc["Type"]], "AccountID": account["AccountID"],
                   "InvoiceID": doc["InvoiceID"] if kind == "invoice" else None,
                   "CreditNoteID": doc["CreditNoteID"] if kind == "credit" else None,
                   "CurrencyRate": currency_rate, "UpdatedDateUTC": s.now()}
        s.payments[payment["PaymentID"]] = payment
        doc["PaymentIDs"].append(payment["PaymentID"])
        doc["AmountPaid"] = doc.get("AmountPaid", D0) + amount
        if kind == "invoice":
            doc["AmountDue"] -= amount
            settled = doc["AmountDue"] == 0
        else:
            doc["RemainingCredit"] -= amount
            settled = doc["RemainingCredit"] == 0
        if settled:
            doc["Status"] = "PAID"
            doc["FullyPaidOnDate"] = when
        doc["UpdatedDateUTC"] = s.now()
        rendered = s.render_payment(payment)
        rendered["StatusAttributeString"] = "OK"
        return True, rendered

    def _delete_payment(self, payment: dict, raw: Any) -> tuple[bool, dict]:
        s = self.s
        status = str(_get(raw, "Status") or "").upper()
        if status != "DELETED":
            return False, _error_echo(raw, "PaymentID", "HasValidationErrors",
                                      ["Only the Status of a payment can be updated, to DELETED."])
        if payment["Status"] == "DELETED":
            return False, _error_echo(raw, "PaymentID", "HasValidationErrors", ["This payment has already been deleted."])
        payment["Status"] = "DELETED"
        payment["UpdatedDateUTC"] = s.now()
        if payment.get("InvoiceID"):
            doc, due_key = s.invoices[payment["InvoiceID"]], "AmountDue"
        else:
            doc, due_key = s.credit_notes[payment["CreditNoteID"]], "RemainingCredit"
        doc[due_key] += payment["Amount"]
        doc["AmountPaid"] -= payment["Amount"]
        if doc["Status"] == "PAID":
            doc["Status"] = "AUTHORISED"
            doc["FullyPaidOnDate"] = None
        doc["UpdatedDateUTC"] = s.now()
        rendered = s.render_payment(payment)
        rendered["StatusAttributeString"] = "OK"
        return True, rendered
