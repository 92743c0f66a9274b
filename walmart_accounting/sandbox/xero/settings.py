"""Settings resources: Organisation, Currencies, Accounts, TaxRates, TrackingCategories and Items."""

from __future__ import annotations

import re
from typing import Any

from walmart_accounting.sandbox.xero.base import AccountingBase, _error_echo, _not_found, _validation_exception
from walmart_accounting.sandbox.xero.values import (
    ACCOUNT_CLASSES,
    CURRENCY_NAMES,
    D0,
    ZERO_GUID,
    BadValue,
    _bool,
    _get,
    _has,
    rq,
    to_number,
)
from walmart_accounting.sandbox.xero.wire import Result, ms_instant


class SettingsApi(AccountingBase):
    """The organisation's settings and price list."""

    # -- organisation, currencies -----------------------------------------------------------------------

    def organisation(self, method, rest, query, headers, data, unitdp, summarize) -> Result:
        if method != "GET" or rest:
            return _not_found()
        s = self.s
        org = {"APIKey": "", "Name": s.tenant_name, "LegalName": s.tenant_name, "PaysTax": True, "Version": "US",
               "OrganisationType": "COMPANY", "BaseCurrency": s.base_currency, "CountryCode": "US",
               "IsDemoCompany": False, "OrganisationStatus": "ACTIVE", "FinancialYearEndDay": 31,
               "FinancialYearEndMonth": 12, "SalesTaxBasis": "ACCRUALS", "SalesTaxPeriod": "MONTHLY",
               "DefaultSalesTax": "Tax Exclusive", "DefaultPurchasesTax": "Tax Exclusive",
               "CreatedDateUTC": ms_instant(s.created_at, offset=False), "OrganisationEntityType": "COMPANY",
               "Timezone": "PACIFICSTANDARDTIME", "ShortCode": s.short_code, "OrganisationID": s.tenant_id,
               "Edition": "BUSINESS", "Class": "STANDARD", "Addresses": [], "Phones": [], "ExternalLinks": [],
               "PaymentTerms": {}}
        return Result(200, s.envelope("Organisations", [org]))

    def currencies(self, method, rest, query, headers, data, unitdp, summarize) -> Result:
        if method == "GET" and not rest:
            rows = [{"Code": c, "Description": CURRENCY_NAMES.get(c, c)} for c in sorted(self.s.currencies)]
            return Result(200, self.s.envelope("Currencies", rows))
        if method == "PUT" and not rest:
            code = str(_get(data, "Code") or "").upper()
            if not re.fullmatch(r"[A-Z]{3}", code):
                return Result(400, _validation_exception([_error_echo(data, None, "HasValidationErrors",
                                                                       ["Currency Code must be a valid ISO 4217 code"])]))
            self.s.currencies.add(code)
            return Result(200, self.s.envelope("Currencies", [{"Code": code, "Description": CURRENCY_NAMES.get(code, code)}]))
        return _not_found()

    # -- accounts --------------------------------------------------------------------------------------

    def accounts(self, method, rest, query, headers, data, unitdp, summarize) -> Result:
        s = self.s
        if method == "GET":
            if rest:
                found = s.accounts.get(rest[0].lower())
                return Result(200, s.envelope("Accounts", [s.render_account(found)])) if found else _not_found()
            rows = self._filter(list(s.accounts.values()), query, headers, "Account", s.view_account,
                                lambda a: a["UpdatedDateUTC"])
            return Result(200, s.envelope("Accounts", [s.render_account(a) for a in rows]))
        if method == "PUT" and not rest:
            raw = data if isinstance(data, dict) else {}
            if _has(raw, "Accounts") and isinstance(_get(raw, "Accounts"), list) and _get(raw, "Accounts"):
                raw = _get(raw, "Accounts")[0]
            errors = []
            code = str(_get(raw, "Code") or "").strip()
            name = str(_get(raw, "Name") or "").strip()
            typ = str(_get(raw, "Type") or "").strip().upper()
            if not name:
                errors.append("Please enter a Name.")
            if typ not in ACCOUNT_CLASSES:
                errors.append("Please select a valid account Type.")
            if typ != "BANK" and not code:
                errors.append("Please enter a Code.")
            if len(code) > 10:
                errors.append("The Code must be 10 characters or less.")
            if code and s.account_by_code(code):
                errors.append("Please enter a unique Code.")
            if name and any(a["Name"].lower() == name.lower() for a in s.accounts.values()):
                errors.append("Please enter a unique Name.")
            if typ == "BANK" and not _get(raw, "BankAccountNumber"):
                errors.append("Please enter a Bank Account Number.")
            tax_type = str(_get(raw, "TaxType") or "NONE")
            if tax_type not in s.tax_rates:
                errors.append(f"The TaxType code {tax_type} does not exist or cannot be used for this type of transaction.")
            if errors:
                return Result(400, _validation_exception([_error_echo(raw, "AccountID", "HasValidationErrors", errors)]))
            record = s._add_account(code, name, typ, Description=_get(raw, "Description"),
                                    EnablePaymentsToAccount=_bool(_get(raw, "EnablePaymentsToAccount")),
                                    BankAccountNumber=_get(raw, "BankAccountNumber"),
                                    BankAccountType=_get(raw, "BankAccountType") or ("BANK" if typ == "BANK" else None))
            record["TaxType"] = tax_type
            return Result(200, s.envelope("Accounts", [s.render_account(record)]))
        if method == "POST" and len(rest) == 1:  # archive / update a few fields
            found = s.accounts.get(rest[0].lower())
            if not found:
                return _not_found()
            raw = data if isinstance(data, dict) else {}
            if _has(raw, "Accounts") and isinstance(_get(raw, "Accounts"), list) and _get(raw, "Accounts"):
                raw = _get(raw, "Accounts")[0]
            status = _get(raw, "Status")
            if status:
                if str(status).upper() not in ("ACTIVE", "ARCHIVED"):
                    return Result(400, _validation_exception([_error_echo(raw, "AccountID", "HasValidationErrors",
                                                                          ["Invalid account Status."])]))
                found["Status"] = str(status).upper()
            if _has(raw, "EnablePaymentsToAccount"):
                found["EnablePaymentsToAccount"] = _bool(_get(raw, "EnablePaymentsToAccount"))
            if _get(raw, "Name"):
                found["Name"] = str(_get(raw, "Name"))
            found["UpdatedDateUTC"] = s.now()
            return Result(200, s.envelope("Accounts", [s.render_account(found)]))
        return _not_found()

    # -- tax rates -------------------------------------------------------------------------------------

    def tax_rates(self, method, rest, query, headers, data, unitdp, summarize) -> Result:
        s = self.s
        if method == "GET":
            rows = list(s.tax_rates.values())
            if rest:
                rows = [t for t in rows if t["TaxType"].lower() == rest[0].lower()]
                if not rows:
                    return _not_found()
            rows = self._filter(rows, query, headers, "TaxRate", s.view_tax_rate)
            return Result(200, s.envelope("TaxRates", [s.render_tax_rate(t) for t in rows]))
        if method == "PUT" and not rest:
            def one(raw):
                name = str(_get(raw, "Name") or "").strip()
                errors = []
                if not name:
                    errors.append("Name is required.")
                elif any(t["Name"].lower() == name.lower() for t in s.tax_rates.values()):
                    errors.append(f"The tax rate name '{name}' is already in use.")
                rate = D0
                comps = _get(raw, "TaxComponents") or []
                try:
                    for comp in comps:
                        rate += to_number(_get(comp, "Rate"), "Rate") or D0
                except BadValue as exc:
                    errors.append(str(exc))
                if not comps:
                    errors.append("At least one tax component is required.")
                if errors:
                    return False, _error_echo(raw, None, "HasValidationErrors", errors)
                n = 1
                while f"TAX{n:03d}" in s.tax_rates:
                    n += 1
                record = s._add_tax_rate(f"TAX{n:03d}", name, rate, str(_get(raw, "ReportTaxType") or "OUTPUT"))
                record["TaxComponents"] = [{"Name": str(_get(c, "Name") or name),
                                            "Rate": to_number(_get(c, "Rate"), "Rate") or D0,
                                            "IsCompound": _bool(_get(c, "IsCompound")), "IsNonRecoverable": False}
                                           for c in comps]
                return True, s.render_tax_rate(record)

            return self._batch(data, "TaxRates", True, one)
        return _not_found()

    # -- tracking categories ------------------------------------------------------------------------------

    def tracking_categories(self, method, rest, query, headers, data, unitdp, summarize) -> Result:
        s = self.s
        include_archived = _bool(query.get("includearchived"))
        if method == "GET":
            rows = [c for c in s.tracking_categories.values() if include_archived or c["Status"] == "ACTIVE"]
            if rest:
                rows = [c for c in s.tracking_categories.values() if c["TrackingCategoryID"] == rest[0].lower()]
                if not rows:
                    return _not_found()
            rows = self._filter(rows, query, headers, "TrackingCategory", s.view_tracking)
            return Result(200, s.envelope("TrackingCategories",
                                          [s.render_tracking_category(c, include_archived) for c in rows]))
        raw = data if isinstance(data, dict) else {}
        if method == "PUT" and not rest:
            name = str(_get(raw, "Name") or "").strip()
            errors = []
            if not name:
                errors.append("Tracking Category Name is required.")
            elif len(name) > 100:
                errors.append("Tracking Category Name must be 100 characters or less.")
            elif any(c["Name"].lower() == name.lower() for c in s.tracking_categories.values()):
                errors.append("Tracking Category Name must be unique.")
            if sum(c["Status"] == "ACTIVE" for c in s.tracking_categories.values()) >= 2:
                errors.append("You can only have 2 active tracking categories.")
            if errors:
                return Result(400, _validation_exception([_error_echo(raw, "TrackingCategoryID", "HasValidationErrors", errors)]))
            cat = s._add_tracking_category(name)
            return Result(200, s.envelope("TrackingCategories", [s.render_tracking_category(cat)]))
        if method == "PUT" and len(rest) == 2 and rest[1].lower() == "options":
            cat = s.tracking_categories.get(rest[0].lower())
            if cat is None:
                return _not_found()
            name = str(_get(raw, "Name") or "").strip()
            errors = []
            if not name:
                errors.append("Tracking Option Name is required.")
            elif len(name) > 100:
                errors.append("Tracking Option Name must be 100 characters or less.")
            elif any(o["Name"].lower() == name.lower() for o in cat["Options"]):
                errors.append("Tracking Option Name must be unique.")
            if errors:
                return Result(400, _validation_exception([_error_echo(raw, "TrackingOptionID", "HasValidationErrors", errors)]))
            option = s._add_tracking_option(cat, name)
            rendered = {"TrackingOptionID": option["TrackingOptionID"], "Name": name, "Status": "ACTIVE",
                        "HasValidationErrors": False, "IsDeleted": False, "IsArchived": False, "IsActive": True}
            return Result(200, s.envelope("Options", [rendered]))
        return _not_found()

    # -- items ---------------------------------------------------------------------------------------------

    def items(self, method, rest, query, headers, data, unitdp, summarize) -> Result:
        s = self.s
        if method == "GET":
            rows = list(s.items.values())
            if rest:
                key = rest[0].lower()
                rows = [i for i in rows if i["ItemID"] == key or i["Code"].lower() == key]
                if not rows:
                    return _not_found()
            rows = self._filter(rows, query, headers, "Item", s.view_item, lambda i: i["UpdatedDateUTC"])
            return Result(200, s.envelope("Items", [s.render_item(i, unitdp) for i in rows]))
        if method in ("PUT", "POST") and not rest:
            return self._batch(data, "Items", summarize, lambda raw: self._save_item(raw, method, unitdp))
        return _not_found()

    def _save_item(self, raw: Any, method: str, unitdp: int) -> tuple[bool, dict]:
        s = self.s
        errors: list[str] = []
        if not isinstance(raw, dict):
            return False, _error_echo({}, "ItemID", "HasValidationErrors", ["An Item must be an object"])
        code = str(_get(raw, "Code") or "").strip()
        item_id = str(_get(raw, "ItemID") or "").lower()
        existing = s.items.get(item_id) if item_id and item_id != ZERO_GUID else None
        if item_id and item_id != ZERO_GUID and existing is None:
            errors.append("An existing Item with the specified ItemID could not be found")
        if existing is None and method == "POST" and code:
            existing = s.item_by_code(code)
        if not code and existing is None:
            errors.append("Item code must be specified")
        if len(code) > 30:
            errors.append("Item code must be 30 characters or less")
        clash = s.item_by_code(code) if code else None
        if clash is not None and clash is not existing:
            errors.append(f"Price List Item with Code ''{code}'' already exists")
        name = _get(raw, "Name")
        if name is not None and len(str(name)) > 50:
            errors.append("Item name must be 50 characters or less")

        def details(key: str) -> dict:
            given = _get(raw, key)
            base = dict(existing[key]) if existing else {}
            if not isinstance(given, dict):
                return base
            try:
                price = to_number(_get(given, "UnitPrice"), "UnitPrice")
            except BadValue as exc:
                errors.append(str(exc))
                price = None
            if price is not None:
                base["UnitPrice"] = rq(price, unitdp)
            for k in ("AccountCode", "COGSAccountCode", "TaxType"):
                value = _get(given, k)
                if value not in (None, ""):
                    if k != "TaxType" and s.account_by_code(str(value)) is None:
                        errors.append(f"Account code '{value}' is not a valid code for this document.")
                    if k == "TaxType" and str(value) not in s.tax_rates:
                        errors.append(f"The TaxType code {value} does not exist or cannot be used for this type of transaction.")
                    base[k] = str(value)
            return base

        sales, purchase = details("SalesDetails"), details("PurchaseDetails")
        tracked, inventory_code = self._tracking(raw, existing, purchase, errors)
        if errors:
            return False, _error_echo(raw, "ItemID", "HasValidationErrors", errors)
        record = existing or {"ItemID": s.new_id(), "IsTrackedAsInventory": False}
        if tracked:
            # "AccountCode: ... Not applicable to the purchase details of tracked items" (spec `Purchase`):
            # their purchases go to the inventory asset account.
            purchase.pop("AccountCode", None)
            record.setdefault("QuantityOnHand", D0)
            record.setdefault("TotalCostPool", D0)
        else:
            record.pop("QuantityOnHand", None)
            record.pop("TotalCostPool", None)
        record.update({"IsTrackedAsInventory": tracked, "InventoryAssetAccountCode": inventory_code})
        record.update({"Code": code or record["Code"], "Name": str(name) if name is not None else record.get("Name", ""),
                       "Description": str(_get(raw, "Description") or record.get("Description") or ""),
                       "PurchaseDescription": _get(raw, "PurchaseDescription") or record.get("PurchaseDescription"),
                       "IsSold": _bool(_get(raw, "IsSold"), record.get("IsSold", True)),
                       "IsPurchased": _bool(_get(raw, "IsPurchased"), record.get("IsPurchased", True)),
                       "SalesDetails": sales, "PurchaseDetails": purchase, "UpdatedDateUTC": s.now()})
        s.items[record["ItemID"]] = record
        rendered = s.render_item(record, unitdp)
        rendered["StatusAttributeString"] = "OK"
        return True, rendered

    def _tracking(self, raw: dict, existing: dict | None, purchase: dict, errors: list[str]) -> tuple[bool, str | None]:
        """(tracked, InventoryAssetAccountCode) of an item being saved; appends validation messages.

        "An item will be tracked as inventory if the InventoryAssetAccountCode and COGSAccountCode are set"
        (spec `Item.IsTrackedAsInventory`), so IsTrackedAsInventory in a request is not read: set on its own it
        leaves the item untracked, as clients report (calcinai/xero-php#498). QuantityOnHand and TotalCostPool
        in a request are read-only and ignored.
        """
        s = self.s
        if _has(raw, "InventoryAssetAccountCode"):
            code = str(_get(raw, "InventoryAssetAccountCode") or "").strip() or None
        else:
            code = existing.get("InventoryAssetAccountCode") if existing else None
        cogs = purchase.get("COGSAccountCode")
        if code is None:
            if existing is not None and s.is_tracked(existing):
                # CHOICE: an item with inventory movements or quantity on hand stays tracked.
                if existing.get("QuantityOnHand") or any(m["ItemID"] == existing["ItemID"] for m in s.inventory_moves):
                    errors.append("A tracked item with inventory transactions cannot be untracked.")
                    return True, existing.get("InventoryAssetAccountCode")
                purchase.pop("COGSAccountCode", None)  # untracked: its COGS account goes with the asset account
                return False, None
            if cogs is not None:
                # CHOICE: COGSAccountCode is "only applicable to the purchase details of tracked items".
                errors.append("The InventoryAssetAccountCode is required for an item with a COGSAccountCode.")
            return False, None
        account = s.account_by_code(code)
        if account is None or account["Type"] != "INVENTORY":
            errors.append(f"The InventoryAssetAccountCode '{code}' must be an account of type INVENTORY.")
        if cogs is None:
            # "The COGSAccountCode in PurchaseDetails is also required to create a tracked item" (spec).
            errors.append("The COGSAccountCode in PurchaseDetails is required for a tracked item.")
        else:
            cogs_account = s.account_by_code(cogs)
            # CHOICE: the cost of goods sold account must be an expense-class account (e.g. DIRECTCOSTS).
            if cogs_account is not None and cogs_account["Class"] != "EXPENSE":
                errors.append(f"The COGSAccountCode '{cogs}' must be an expense account.")
        return True, account["Code"] if account is not None else code
