"""Contacts: the endpoint, saving with unique names, and resolving the contact a document names."""

from __future__ import annotations

from typing import Any

from walmart_accounting.sandbox.xero.base import AccountingBase, Result, _error_echo, _not_found
from walmart_accounting.sandbox.xero.values import ZERO_GUID, BadValue, _bool, _get, _has, _is_guid, _text


class ContactsApi(AccountingBase):
    """Contacts, and the contact helpers documents use."""

    # -- contacts -------------------------------------------------------------------------------------------

    def contacts(self, method, rest, query, headers, data, unitdp, summarize) -> Result:
        s = self.s
        if method == "GET":
            if rest:
                key = rest[0]
                found = s.contacts.get(key.lower()) if _is_guid(key) else s.contact_by_number(key)
                return Result(200, s.envelope("Contacts", [s.render_contact(found)])) if found else _not_found()
            rows = list(s.contacts.values())
            if not _bool(query.get("includearchived")):
                rows = [c for c in rows if c["ContactStatus"] != "ARCHIVED"]
            ids = {i.lower() for i in self._csv(query, "IDs")}
            if ids:
                rows = [c for c in rows if c["ContactID"] in ids]
            term = (query.get("searchterm") or "").strip().lower()
            if term:
                rows = [c for c in rows if any(term in (c.get(k) or "").lower() for k in
                                               ("Name", "FirstName", "LastName", "ContactNumber", "EmailAddress"))]
            rows = self._filter(rows, query, headers, "Contact", s.view_contact, lambda c: c["UpdatedDateUTC"])
            rows, pagination = self._page(rows, query)
            return Result(200, s.envelope("Contacts", [s.render_contact(c) for c in rows], pagination))
        if method in ("PUT", "POST"):
            if len(rest) > 1:
                return _not_found()
            if rest:
                found = s.contacts.get(rest[0].lower()) if _is_guid(rest[0]) else s.contact_by_number(rest[0])
                if found is None:
                    return _not_found()
                elements = self._elements(data, "Contacts")
                if isinstance(elements, Result):
                    return elements
                pinned = [dict(e, ContactID=found["ContactID"]) if isinstance(e, dict) else e for e in elements[:1]]
                return self._batch({"Contacts": pinned}, "Contacts", summarize, lambda raw: self._save_contact(raw, "POST"))
            return self._batch(data, "Contacts", summarize, lambda raw: self._save_contact(raw, method))
        return _not_found()

    def _contact_fields(self, raw: dict, errors: list[str]) -> dict:
        fields: dict[str, Any] = {}
        limits = {"Name": 255, "ContactNumber": 50, "AccountNumber": 50, "EmailAddress": 255, "FirstName": 255,
                  "LastName": 255, "CompanyNumber": 50, "TaxNumber": 50, "Website": 255}
        for key, limit in limits.items():
            if _has(raw, key):
                try:
                    value = _text(_get(raw, key))
                except BadValue:
                    errors.append(f"{key} must be text")
                    continue
                if value is not None and len(value) > limit:
                    errors.append(f"{key} must be {limit} characters or less")
                fields[key] = value.strip() if isinstance(value, str) and key == "Name" else value
        for key in ("DefaultCurrency", "AccountsReceivableTaxType", "AccountsPayableTaxType", "BankAccountDetails"):
            if _has(raw, key):
                fields[key] = _get(raw, key)
        for key in ("Addresses", "Phones", "ContactPersons"):
            if _has(raw, key):
                value = _get(raw, key) or []
                if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
                    errors.append(f"{key} must be a list of objects")
                else:
                    fields[key] = [{k: v for k, v in item.items() if not isinstance(v, (dict, list))} for item in value]
        if _has(raw, "ContactStatus"):
            status = str(_get(raw, "ContactStatus") or "").upper()
            if status not in ("ACTIVE", "ARCHIVED", "GDPRREQUEST"):
                errors.append("ContactStatus must be ACTIVE, ARCHIVED or GDPRREQUEST")
            fields["ContactStatus"] = status
        return fields

    def _name_clash(self, name: str, own_id: str | None) -> str | None:
        other = self.s.contact_by_name(name)
        if other is not None and other["ContactID"] != own_id:
            return (f"The contact name {name} is already assigned to another contact. "
                    "The contact name must be unique across all active contacts.")
        return None

    def _new_contact(self, fields: dict) -> dict:
        s = self.s
        record = {"ContactID": s.new_id(), "ContactStatus": "ACTIVE", "Name": "", "Addresses": [], "Phones": [],
                  "ContactPersons": [], "IsSupplier": False, "IsCustomer": False}
        record.update({k: v for k, v in fields.items() if v is not None or k not in ("ContactStatus",)})
        record["ContactStatus"] = record.get("ContactStatus") or "ACTIVE"
        record["UpdatedDateUTC"] = s.now()
        s.contacts[record["ContactID"]] = record
        return record

    def _save_contact(self, raw: Any, method: str) -> tuple[bool, dict]:
        s = self.s
        if not isinstance(raw, dict):
            return False, _error_echo({}, "ContactID", "HasValidationErrors", ["A Contact must be an object"])
        errors: list[str] = []
        fields = self._contact_fields(raw, errors)
        contact_id = str(_get(raw, "ContactID") or "").lower()
        existing = None
        if contact_id and contact_id != ZERO_GUID:
            existing = s.contacts.get(contact_id)
            if existing is None:
                errors.append("An existing Contact with the specified ContactID could not be found")
        elif method == "POST" and fields.get("ContactNumber"):
            existing = s.contact_by_number(fields["ContactNumber"])
        name = fields.get("Name")
        if existing is None and not errors and not name:
            errors.append("The contact name must be specified.")
        if name:
            clash = self._name_clash(name, existing["ContactID"] if existing else None)
            if clash:
                errors.append(clash)
        if errors:
            return False, _error_echo(raw, "ContactID", "HasValidationErrors", errors)
        if existing is None:
            record = self._new_contact(fields)
        else:
            existing.update(fields)
            existing["UpdatedDateUTC"] = s.now()
            record = existing
        rendered = s.render_contact(record)
        rendered["StatusAttributeString"] = "OK"
        return True, rendered

    def _resolve_contact(self, raw_contact: Any, errors: list[str]) -> tuple[dict | None, dict | None, str | None]:
        """(existing contact, fields of a contact to create, new name for the existing one)."""
        s = self.s
        ident = ("The Contact must contain at least 1 of the following elements to identify the contact: "
                 "Name, ContactID, ContactNumber")
        if not isinstance(raw_contact, dict):
            errors.append(ident)
            return None, None, None
        cid = str(_get(raw_contact, "ContactID") or "").strip().lower()
        number = str(_get(raw_contact, "ContactNumber") or "").strip()
        name = str(_get(raw_contact, "Name") or "").strip()
        if cid and cid != ZERO_GUID:
            found = s.contacts.get(cid)
            if found is None:
                errors.append("An existing Contact with the specified ContactID could not be found")
                return None, None, None
            if name and name != found["Name"]:  # Xero renames the contact (FACTS §5)
                clash = self._name_clash(name, found["ContactID"])
                if clash:
                    errors.append(clash)
                return found, None, name
            return found, None, None
        if number:
            found = s.contact_by_number(number)
            if found is not None:
                return found, None, None
        if name:
            found = s.contact_by_name(name)
            if found is not None:
                return found, None, None
            sub_errors: list[str] = []
            fields = self._contact_fields(raw_contact, sub_errors)
            fields.pop("ContactStatus", None)
            errors.extend(sub_errors)
            return None, fields, None
        if number:
            errors.append(f"A Contact with ContactNumber '{number}' could not be found; include a Name to create one.")
            return None, None, None
        errors.append(ident)
        return None, None, None
