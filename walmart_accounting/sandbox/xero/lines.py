"""Document line items: quantities, discounts, accounts, per-line tax rounding and tracking."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from walmart_accounting.sandbox.xero.base import AccountingBase
from walmart_accounting.sandbox.xero.values import D0, HUNDRED, ZERO_GUID, BadValue, _get, money_text, r2, rq, to_number


class LinesApi(AccountingBase):
    """Building a document's lines from a request, and turning stored lines back into one."""

    def _line_inputs(self, line: dict) -> dict:
        """A stored line turned back into request form (to recompute when the header changes)."""
        raw: dict[str, Any] = {"LineItemID": line["LineItemID"], "Description": line.get("Description"),
                               "Quantity": line.get("Quantity"), "UnitAmount": line.get("UnitAmount"),
                               "AccountCode": line.get("AccountCode"), "TaxType": line["TaxType"],
                               "ItemCode": line.get("ItemCode"),
                               "Tracking": [{"TrackingCategoryID": t["TrackingCategoryID"],
                                             "TrackingOptionID": t["TrackingOptionID"]} for t in line["Tracking"]]}
        if line.get("Quantity") is None and line.get("UnitAmount") is None:
            raw["LineAmount"] = line["LineAmount"]
        if line.get("DiscountRate") is not None:
            raw["DiscountRate"] = line["DiscountRate"]
        if line.get("DiscountAmount") is not None:
            raw["DiscountAmount"] = line["DiscountAmount"]
        if line.get("TaxOverridden"):
            raw["TaxAmount"] = line["TaxAmount"]
        return raw

    def _build_line(self, raw: Any, doc_type: str, lat: str, approving: bool, unitdp: int,
                    errors: list[str]) -> dict | None:
        s = self.s
        if not isinstance(raw, dict):
            errors.append("A line item must be an object")
            return None
        line: dict[str, Any] = {"LineItemID": str(_get(raw, "LineItemID") or s.new_id()).lower()}
        if line["LineItemID"] == ZERO_GUID:
            line["LineItemID"] = s.new_id()
        description = _get(raw, "Description")
        line["Description"] = None if description is None else str(description)
        if line["Description"] is not None and len(line["Description"]) > 4000:
            errors.append("Description must be 4000 characters or less")
        sales = doc_type in ("ACCREC", "ACCRECCREDIT")
        item = None
        item_code = _get(raw, "ItemCode")
        if item_code not in (None, ""):
            item = s.item_by_code(str(item_code))
            if item is None:
                errors.append(f"Item code '{item_code}' is not valid.")
            else:
                line["ItemCode"] = item["Code"]
        try:
            qty = to_number(_get(raw, "Quantity"), "Quantity")
            unit = to_number(_get(raw, "UnitAmount"), "UnitAmount")
            amount = to_number(_get(raw, "LineAmount"), "LineAmount")
            rate_off = to_number(_get(raw, "DiscountRate"), "DiscountRate")
            amount_off = to_number(_get(raw, "DiscountAmount"), "DiscountAmount")
            tax_given = to_number(_get(raw, "TaxAmount"), "TaxAmount")
        except BadValue as exc:
            errors.append(str(exc))
            return None
        details = (item or {}).get("SalesDetails" if sales else "PurchaseDetails") or {}
        if item is not None:
            if unit is None and amount is None and details.get("UnitPrice") is not None:
                unit = details["UnitPrice"]
            if line["Description"] is None:
                line["Description"] = item.get("Description") or item.get("Name")
        if (rate_off is not None or amount_off is not None) and doc_type != "ACCREC":
            errors.append("Discounts are only supported on ACCREC invoices.")
            rate_off = amount_off = None
        if rate_off is not None and amount_off is not None:
            errors.append("Only one of DiscountRate and DiscountAmount can be specified on a line item.")
            amount_off = None
        if rate_off is not None and not (D0 <= rate_off <= HUNDRED):
            errors.append("DiscountRate must be between 0 and 100.")
            rate_off = None
        if unit is not None:
            unit = rq(unit, unitdp)
        if qty is not None:
            qty = rq(qty, 4)
        discount = D0
        if qty is not None and unit is not None:
            gross = qty * unit
            if rate_off is not None:
                expected = r2(gross * (HUNDRED - rate_off) / HUNDRED)
                discount = r2(gross) - expected
            elif amount_off is not None:
                expected = r2(gross) - r2(amount_off)
                discount = r2(amount_off)
            else:
                expected = r2(gross)
            if amount is not None and amount != expected:
                errors.append(f"The line total {money_text(amount)} does not match "
                              f"the expected line total {money_text(expected)}")
            amount = expected
        elif amount is not None:
            amount = r2(amount)
            if qty is not None:
                if qty == 0:
                    errors.append("Quantity cannot be zero when a LineAmount is given without a UnitAmount.")
                    return None
                unit = rq(amount / qty, unitdp)
            elif unit is not None:
                qty = rq(amount / unit, 4) if unit != 0 else Decimal(1)
            else:
                qty, unit = Decimal(1), rq(amount, unitdp)
        elif unit is not None:
            qty = Decimal(1)
            amount = r2(unit)
        else:
            amount = D0
        line.update({"Quantity": qty, "UnitAmount": unit, "LineAmount": amount, "DiscountRate": rate_off,
                     "DiscountAmount": amount_off, "Discount": discount})
        if amount.copy_abs() > Decimal("9999999999.99"):
            errors.append("LineAmount must be less than 9,999,999,999.99")

        # account
        account = None
        code = _get(raw, "AccountCode")
        account_id = _get(raw, "AccountID")
        # A tracked item is bought into its inventory asset account (Xero's tracked-inventory guide posts the
        # purchase line to it); its PurchaseDetails carry no AccountCode.
        inventory_code = item["InventoryAssetAccountCode"] if s.is_tracked(item) and not sales else None
        if code in (None, "") and account_id in (None, "") and (inventory_code or details.get("AccountCode")):
            code = inventory_code or details["AccountCode"]
        if code not in (None, ""):
            account = s.account_by_code(str(code))
            if account is None or account["Type"] == "BANK" or account.get("SystemAccount") in ("DEBTORS", "CREDITORS", "GST"):
                errors.append(f"Account code '{code}' is not a valid code for this document.")
                account = None
            elif account["Status"] != "ACTIVE":
                errors.append(f"Account code '{code}' has been archived, or has been deleted. "
                              "Each line item must reference a valid account.")
                account = None
        elif account_id not in (None, ""):
            account = s.accounts.get(str(account_id).lower())
            if account is None or account["Type"] == "BANK" or account["Status"] != "ACTIVE":
                errors.append(f"AccountID '{account_id}' is not a valid account for this document.")
                account = None
        elif approving and amount != 0:
            errors.append("Account code must be specified for each line item with an amount on an approved document.")
        if account is not None and inventory_code is not None and account["Code"] != inventory_code:
            # CHOICE: another account on a purchase line of a tracked item is refused rather than replaced.
            errors.append(f"Account code '{account['Code']}' cannot be used for tracked item '{item['Code']}'; "
                          f"purchases of it go to its inventory asset account {inventory_code}.")
            account = None
        if account is not None:
            line["AccountCode"] = account["Code"]
            line["AccountID"] = account["AccountID"]

        # tax
        tax_type = _get(raw, "TaxType")
        if tax_type in (None, ""):
            tax_type = (details.get("TaxType") if item else None) or (account or {}).get("TaxType") or "NONE"
        tax_type = str(tax_type)
        tax_rate = s.tax_rates.get(tax_type)
        if tax_rate is None or tax_rate["Status"] != "ACTIVE":
            errors.append(f"The TaxType code {tax_type} does not exist or cannot be used for this type of transaction.")
            rate = D0
        else:
            rate = tax_rate["EffectiveRate"]
        line["TaxType"] = tax_type
        line["TaxOverridden"] = False
        if lat == "NoTax":
            tax = D0
        elif tax_given is not None:
            tax = r2(tax_given)
            line["TaxOverridden"] = True
        elif lat == "Exclusive":
            tax = r2(amount * rate / HUNDRED)
        else:
            tax = r2(amount * rate / (HUNDRED + rate))
        line["TaxAmount"] = tax

        # tracking
        tracking_raw = _get(raw, "Tracking") or []
        line["Tracking"] = []
        if not isinstance(tracking_raw, list):
            errors.append("Tracking must be a list")
            tracking_raw = []
        if len(tracking_raw) > 2:
            errors.append("A line item can have at most 2 tracking categories.")
        seen_categories = set()
        for t in tracking_raw[:2]:
            if not isinstance(t, dict):
                errors.append("A tracking entry must be an object")
                continue
            cat_id, cat_name = _get(t, "TrackingCategoryID"), _get(t, "Name")
            opt_id, opt_name = _get(t, "TrackingOptionID"), _get(t, "Option")
            category = None
            if cat_id:
                category = s.tracking_categories.get(str(cat_id).lower())
            elif cat_name:
                category = next((c for c in s.tracking_categories.values()
                                 if c["Name"].lower() == str(cat_name).strip().lower()), None)
            if category is None or category["Status"] != "ACTIVE":
                errors.append(f"The tracking category '{cat_name or cat_id}' does not exist or is not active.")
                continue
            if category["TrackingCategoryID"] in seen_categories:
                errors.append(f"Tracking category '{category['Name']}' can only be used once per line item.")
                continue
            seen_categories.add(category["TrackingCategoryID"])
            option = None
            if opt_id:
                option = next((o for o in category["Options"] if o["TrackingOptionID"] == str(opt_id).lower()), None)
            elif opt_name:
                option = next((o for o in category["Options"] if o["Name"].lower() == str(opt_name).strip().lower()), None)
            if option is None or option["Status"] != "ACTIVE":
                errors.append(f"The tracking option '{opt_name or opt_id}' does not exist for tracking category "
                              f"'{category['Name']}'.")
                continue
            line["Tracking"].append({"Name": category["Name"], "Option": option["Name"],
                                     "TrackingCategoryID": category["TrackingCategoryID"],
                                     "TrackingOptionID": option["TrackingOptionID"]})
        return line
