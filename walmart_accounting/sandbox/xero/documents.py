"""Invoices and credit notes: listing, creating and updating documents, numbering and status rules."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from walmart_accounting.sandbox.xero.allocations import AllocationsApi
from walmart_accounting.sandbox.xero.base import Result, _error_echo, _not_found
from walmart_accounting.sandbox.xero.contacts import ContactsApi
from walmart_accounting.sandbox.xero.lines import LinesApi
from walmart_accounting.sandbox.xero.values import (
    _DOC_KINDS,
    D0,
    LINE_AMOUNT_TYPES,
    ZERO_GUID,
    BadValue,
    _bool,
    _get,
    _has,
    to_number,
)
from walmart_accounting.sandbox.xero.wire import parse_date


class DocumentsApi(ContactsApi, LinesApi, AllocationsApi):
    """Invoices and CreditNotes share one implementation, parameterised by values._DOC_KINDS."""

    # -- invoices and credit notes -----------------------------------------------------------------------------

    def invoices(self, method, rest, query, headers, data, unitdp, summarize) -> Result:
        return self._documents("invoice", method, rest, query, headers, data, unitdp, summarize)

    def credit_notes(self, method, rest, query, headers, data, unitdp, summarize) -> Result:
        if method == "PUT" and len(rest) == 2 and rest[1].lower() == "allocations":
            return self._allocate(rest[0], data, summarize)
        return self._documents("credit", method, rest, query, headers, data, unitdp, summarize)

    def _documents(self, kind, method, rest, query, headers, data, unitdp, summarize) -> Result:
        s = self.s
        k = _DOC_KINDS[kind]
        docs = s.docs(kind)
        if method == "GET":
            if len(rest) > 1:
                return _not_found()
            if rest:
                found = self._find_doc(kind, rest[0])
                if found is None:
                    return _not_found()
                return Result(200, s.envelope(k["coll"], [s.render_doc(found, kind, unitdp)]))
            rows = list(docs.values())
            ids = {i.lower() for i in self._csv(query, "IDs")}
            if ids:
                rows = [d for d in rows if d[k["id"]] in ids]
            numbers = {n.lower() for n in self._csv(query, "InvoiceNumbers")}
            if numbers and kind == "invoice":
                rows = [d for d in rows if (d["InvoiceNumber"] or "").lower() in numbers]
            contact_ids = {c.lower() for c in self._csv(query, "ContactIDs")}
            if contact_ids:
                rows = [d for d in rows if d["ContactID"] in contact_ids]
            statuses = {st.upper() for st in self._csv(query, "Statuses")}
            if statuses:
                rows = [d for d in rows if d["Status"] in statuses]
            term = (query.get("searchterm") or "").strip().lower()
            if term:
                rows = [d for d in rows if term in (d[k["number"]] or "").lower() or term in (d.get("Reference") or "").lower()]
            rows = self._filter(rows, query, headers, k["entity"], lambda d: s.view_doc(d, kind),
                                lambda d: d["UpdatedDateUTC"])
            rows, pagination = self._page(rows, query)
            # Without `page`, Xero leaves LineItems out of list responses (spec: page "with line items").
            with_lines = pagination is not None and not _bool(query.get("summaryonly"))
            return Result(200, s.envelope(k["coll"], [s.render_doc(d, kind, unitdp, lines=with_lines) for d in rows],
                                          pagination))
        if method in ("PUT", "POST"):
            if len(rest) > 1:
                return _not_found()
            if rest:
                found = self._find_doc(kind, rest[0])
                if found is None:
                    return _not_found()
                elements = self._elements(data, k["coll"])
                if isinstance(elements, Result):
                    return elements
                pinned = [dict(e, **{k["id"]: found[k["id"]]}) if isinstance(e, dict) else e for e in elements[:1]]
                return self._batch({k["coll"]: pinned}, k["coll"], summarize,
                                   lambda raw: self._save_doc(kind, raw, "POST", unitdp))
            return self._batch(data, k["coll"], summarize, lambda raw: self._save_doc(kind, raw, method, unitdp))
        return _not_found()

    def _save_doc(self, kind: str, raw: Any, method: str, unitdp: int) -> tuple[bool, dict]:
        s = self.s
        k = _DOC_KINDS[kind]
        flag = "HasErrors"
        if not isinstance(raw, dict):
            return False, _error_echo({}, k["id"], flag, [f"An {k['label']} must be an object"])
        errors: list[str] = []
        docs = s.docs(kind)

        # which document: an update by ID (PUT or POST), by number (POST, sales types), or a new one
        existing = None
        doc_id = str(_get(raw, k["id"]) or "").strip().lower()
        if doc_id and doc_id != ZERO_GUID:
            existing = docs.get(doc_id)
            if existing is None:
                return False, _error_echo(raw, k["id"], flag, [
                    f"An existing {k['label']} with the specified {k['id']} could not be found"])
        typ = str(_get(raw, "Type") or (existing["Type"] if existing else "")).strip().upper()
        if typ not in k["types"]:
            msg = (f"{k['label']} Type must be specified" if not typ
                   else f"'{typ}' is not a valid {k['label']} Type; expected one of {', '.join(k['types'])}")
            return False, _error_echo(raw, k["id"], flag, [msg])
        number_raw = _get(raw, k["number"])
        number = None if number_raw in (None, "") else str(number_raw).strip()
        if existing is None and method == "POST" and number and typ == k["sales"]:
            existing = s.doc_by_number(kind, number, (k["sales"],))
        if existing is not None and existing["Type"] != typ:
            return False, _error_echo(raw, k["id"], flag, [f"The {k['label']} Type cannot be changed"])

        status_raw = _get(raw, "Status")
        status = str(status_raw).strip().upper() if status_raw not in (None, "") else None
        if existing is None:
            status = status or "DRAFT"
            if status not in ("DRAFT", "SUBMITTED", "AUTHORISED"):
                return False, _error_echo(raw, k["id"], flag, [f"{k['label']} not of valid status for creation"])
        else:
            current = existing["Status"]
            status = status or current
            if current in ("PAID", "VOIDED", "DELETED"):
                return False, _error_echo(raw, k["id"], flag, [f"{k['label']} not of valid status for modification"])
            settled = (existing.get("AmountPaid", D0) > 0 or existing.get("AmountCredited", D0) > 0
                       or any(not s.allocations[a]["IsDeleted"] for a in existing["AllocationIDs"])
                       or any(s.payments[p]["Status"] == "AUTHORISED" for p in existing["PaymentIDs"]))
            if settled:
                return False, _error_echo(raw, k["id"], flag, [
                    "This document cannot be edited as it has a payment or credit note allocated to it."])
            allowed = {"DRAFT": {"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"},
                       "SUBMITTED": {"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"},
                       "AUTHORISED": {"AUTHORISED", "VOIDED"}}[current]
            if status not in allowed:
                return False, _error_echo(raw, k["id"], flag, [f"{k['label']} not of valid status for modification"])
            if status in ("VOIDED", "DELETED"):
                source = (kind, existing[k["id"]])
                problems = s.inventory_problems(source, [])  # voiding a bill must not leave sold stock negative
                if problems:
                    return False, _error_echo(raw, k["id"], flag, problems)
                existing["Status"] = status
                s.apply_inventory(source, [])
                if kind == "invoice":
                    existing["AmountDue"] = D0
                else:
                    existing["RemainingCredit"] = D0
                existing["UpdatedDateUTC"] = s.now()
                rendered = s.render_doc(existing, kind, unitdp)
                rendered["StatusAttributeString"] = "OK"
                return True, rendered
        approving = status in ("SUBMITTED", "AUTHORISED")

        # contact
        contact, create_contact, rename = (None, None, None)
        if _has(raw, "Contact") or existing is None:
            contact, create_contact, rename = self._resolve_contact(_get(raw, "Contact"), errors)
        else:
            contact = s.contacts[existing["ContactID"]]

        # dates
        def read_date(key: str, fallback: date | None) -> date | None:
            if not _has(raw, key):
                return fallback
            value = _get(raw, key)
            if value in (None, ""):
                return None
            try:
                return parse_date(value)
            except BadValue:
                errors.append(f"'{value}' is not a valid {key}; expected YYYY-MM-DD.")
                return fallback

        doc_date = read_date("Date", existing["Date"] if existing else None) or (existing["Date"] if existing else s.today())
        due_date = read_date("DueDate", existing.get("DueDate") if existing else None)
        if kind == "invoice" and approving and due_date is None:
            errors.append("The document DueDate field must be specified.")

        # amounts type, currency
        lat_raw = _get(raw, "LineAmountTypes")
        if lat_raw in (None, ""):
            lat = existing["LineAmountTypes"] if existing else "Exclusive"
        else:
            lat = LINE_AMOUNT_TYPES.get(str(lat_raw).strip().lower())
            if lat is None:
                errors.append(f"'{lat_raw}' is not a valid LineAmountTypes value; expected Exclusive, Inclusive or NoTax.")
                lat = "Exclusive"
        currency = str(_get(raw, "CurrencyCode") or (existing["CurrencyCode"] if existing else s.base_currency)).upper()
        rate_raw = _get(raw, "CurrencyRate")
        try:
            currency_rate = to_number(rate_raw, "CurrencyRate")
        except BadValue as exc:
            errors.append(str(exc))
            currency_rate = None
        if currency not in s.currencies:
            errors.append(f"The currency code {currency} is not valid for this organisation.")
        if currency == s.base_currency:
            currency_rate = Decimal(1)
        elif currency_rate is None:
            currency_rate = s.fx_rates.get(currency) or (existing["CurrencyRate"] if existing else None)
            if currency_rate is None:
                errors.append(f"No exchange rate is available for {currency}; specify a CurrencyRate.")
                currency_rate = Decimal(1)
        elif currency_rate <= 0:
            errors.append("CurrencyRate must be greater than zero.")

        # number uniqueness (sales types only)
        if typ == k["sales"]:
            if number is None:
                number = existing[k["number"]] if existing else None
            if number is not None:
                if len(number) > 255:
                    errors.append(f"{k['number']} must be 255 characters or less")
                clash = s.doc_by_number(kind, number, (k["sales"],))
                if clash is not None and clash is not existing:
                    errors.append(k["unique"])
        elif number is None and existing is not None:
            number = existing[k["number"]]

        reference = _get(raw, "Reference")
        if typ == k["sales"]:
            reference = str(reference) if reference is not None else (existing.get("Reference") if existing else None)
        else:  # spec: Reference is "ACCREC only" / "ACCRECCREDIT only"
            reference = existing.get("Reference") if existing else None

        # lines
        if _has(raw, "LineItems"):
            lines_raw = _get(raw, "LineItems")
        elif existing is not None:
            lines_raw = [self._line_inputs(line) for line in existing["LineItems"]]
        else:
            lines_raw = None
        if not isinstance(lines_raw, list) or not lines_raw:
            errors.append(f"{'An invoice' if kind == 'invoice' else 'A credit note'} must contain at least one line item.")
            lines_raw = lines_raw if isinstance(lines_raw, list) else []
        lines = []
        for line_raw in lines_raw:
            line = self._build_line(line_raw, typ, lat, approving, 4 if unitdp == 4 else 2, errors)
            if line is not None:
                lines.append(line)
        line_total = sum((line["LineAmount"] for line in lines), D0)
        tax_total = sum((line["TaxAmount"] for line in lines), D0)
        discount_total = sum((line["Discount"] for line in lines), D0)
        if lat == "Inclusive":
            sub_total, total = line_total - tax_total, line_total
        else:
            sub_total, total = line_total, line_total + tax_total
        if total < 0:
            errors.append(f"The {k['label'].lower()} total must be greater than or equal to zero; use a "
                          f"{'credit note' if kind == 'invoice' else 'invoice'} for the opposite direction.")

        if not errors:  # tracked items: an approved document must not take quantity on hand below zero
            doc_key = existing[k["id"]] if existing else None
            probe = {"Type": typ, "Status": status, "LineItems": lines, "LineAmountTypes": lat, "Date": doc_date,
                     k["id"]: doc_key}
            errors += s.inventory_problems((kind, doc_key), s.document_moves(probe, kind))
        if errors:
            return False, _error_echo(raw, k["id"], flag, list(dict.fromkeys(errors)))

        # commit
        if create_contact is not None:
            contact = self._new_contact(create_contact)
        if rename:
            contact["Name"] = rename
            contact["UpdatedDateUTC"] = s.now()
        if typ in ("ACCREC", "ACCRECCREDIT"):
            contact["IsCustomer"] = True
        else:
            contact["IsSupplier"] = True
        if typ == k["sales"] and number is None:
            number = self._next_number(kind)
        record = existing or {k["id"]: s.new_id(), "PaymentIDs": [], "AllocationIDs": [], "AmountPaid": D0,
                              "AmountCredited": D0, "FullyPaidOnDate": None, "CreatedDateUTC": s.now()}
        record.update({"Type": typ, k["number"]: number or "", "Reference": reference, "ContactID": contact["ContactID"],
                       "Date": doc_date, "DueDate": due_date, "Status": status, "LineAmountTypes": lat,
                       "LineItems": lines, "SubTotal": sub_total, "TotalTax": tax_total, "Total": total,
                       "TotalDiscount": discount_total, "CurrencyCode": currency, "CurrencyRate": currency_rate,
                       "SentToContact": _bool(_get(raw, "SentToContact"), record.get("SentToContact", False)),
                       "Url": _get(raw, "Url") or record.get("Url"), "UpdatedDateUTC": s.now()})
        if kind == "invoice":
            record["AmountDue"] = total
        else:
            record["RemainingCredit"] = total
        docs[record[k["id"]]] = record
        s.apply_inventory((kind, record[k["id"]]), s.document_moves(record, kind))
        rendered = s.render_doc(record, kind, unitdp)
        rendered["StatusAttributeString"] = "OK"
        return True, rendered

    def _next_number(self, kind: str) -> str:
        k = _DOC_KINDS[kind]
        n = 1
        while self.s.doc_by_number(kind, f"{k['prefix']}{n:04d}") is not None:
            n += 1
        return f"{k['prefix']}{n:04d}"
