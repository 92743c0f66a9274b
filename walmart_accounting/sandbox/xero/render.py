"""Stored records as the Accounting API returns them: the envelope, accounts, items, contacts, documents, payments."""

from __future__ import annotations

import uuid
from typing import Any

from walmart_accounting.sandbox.xero.values import _DOC_KINDS, PROVIDER_NAME, r2, rq
from walmart_accounting.sandbox.xero.wire import date_string, instant_string, ms_date, ms_instant


class RenderMixin:
    """XeroState's rendering; every method expects the state lock held."""

    # -- rendering ----------------------------------------------------------------------------------------------

    def envelope(self, collection: str, rows: list, pagination: dict | None = None) -> dict:
        out = {"Id": str(uuid.uuid4()), "Status": "OK", "ProviderName": PROVIDER_NAME,
               "DateTimeUTC": ms_instant(self.now(), offset=False)}
        if pagination is not None:
            out["pagination"] = pagination
        out[collection] = rows
        return out

    def render_account(self, a: dict) -> dict:
        out = {"AccountID": a["AccountID"], "Code": a["Code"], "Name": a["Name"], "Status": a["Status"],
               "Type": a["Type"], "TaxType": a["TaxType"]}
        if a.get("Description"):
            out["Description"] = a["Description"]
        out["Class"] = a["Class"]
        if a.get("SystemAccount"):
            out["SystemAccount"] = a["SystemAccount"]
        out["EnablePaymentsToAccount"] = a["EnablePaymentsToAccount"]
        out["ShowInExpenseClaims"] = a["ShowInExpenseClaims"]
        if a["Type"] == "BANK":
            out["BankAccountNumber"] = a.get("BankAccountNumber") or ""
            out["BankAccountType"] = a.get("BankAccountType") or "BANK"
            out["CurrencyCode"] = a.get("CurrencyCode") or self.base_currency
        out.update({"ReportingCode": a["ReportingCode"], "ReportingCodeName": a["ReportingCodeName"],
                    "HasAttachments": False, "UpdatedDateUTC": ms_instant(a["UpdatedDateUTC"]),
                    "AddToWatchlist": False})
        return out

    def render_tax_rate(self, t: dict) -> dict:
        out = dict(t)
        out["DisplayTaxRate"] = rq(t["DisplayTaxRate"], 4)
        out["EffectiveRate"] = rq(t["EffectiveRate"], 4)
        out["TaxComponents"] = [dict(c, Rate=rq(c["Rate"], 4)) for c in t["TaxComponents"]]
        return out

    def render_tracking_category(self, c: dict, include_archived: bool = False) -> dict:
        options = [{"TrackingOptionID": o["TrackingOptionID"], "Name": o["Name"], "Status": o["Status"],
                    "HasValidationErrors": False, "IsDeleted": False, "IsArchived": o["Status"] == "ARCHIVED",
                    "IsActive": o["Status"] == "ACTIVE"}
                   for o in c["Options"] if include_archived or o["Status"] == "ACTIVE"]
        return {"Name": c["Name"], "Status": c["Status"], "TrackingCategoryID": c["TrackingCategoryID"],
                "Options": options}

    def render_item(self, i: dict, unitdp: int = 2) -> dict:
        def details(d: dict) -> dict:
            out = {}
            if d.get("UnitPrice") is not None:
                out["UnitPrice"] = rq(d["UnitPrice"], unitdp)
            for k in ("AccountCode", "COGSAccountCode", "TaxType"):
                if d.get(k):
                    out[k] = d[k]
            return out

        out = {"ItemID": i["ItemID"], "Code": i["Code"], "Description": i.get("Description") or ""}
        if i.get("PurchaseDescription"):
            out["PurchaseDescription"] = i["PurchaseDescription"]
        out.update({"UpdatedDateUTC": ms_instant(i["UpdatedDateUTC"]), "PurchaseDetails": details(i["PurchaseDetails"]),
                    "SalesDetails": details(i["SalesDetails"]), "Name": i.get("Name") or "",
                    "IsTrackedAsInventory": i["IsTrackedAsInventory"]})
        if i["IsTrackedAsInventory"]:
            # As the spec's GET /Items/{ItemID} example: only tracked items carry these three.
            out.update({"InventoryAssetAccountCode": i["InventoryAssetAccountCode"],
                        "TotalCostPool": r2(i["TotalCostPool"]), "QuantityOnHand": rq(i["QuantityOnHand"], 4)})
        out.update({"IsSold": i["IsSold"], "IsPurchased": i["IsPurchased"]})
        return out

    def render_contact(self, c: dict) -> dict:
        out = {"ContactID": c["ContactID"], "ContactStatus": c["ContactStatus"], "Name": c["Name"]}
        for key in ("ContactNumber", "AccountNumber", "FirstName", "LastName", "CompanyNumber", "EmailAddress",
                    "TaxNumber", "DefaultCurrency", "Website", "AccountsReceivableTaxType", "AccountsPayableTaxType"):
            if c.get(key) not in (None, ""):
                out[key] = c[key]
        out.update({"BankAccountDetails": c.get("BankAccountDetails") or "", "Addresses": c["Addresses"],
                    "Phones": c["Phones"], "UpdatedDateUTC": ms_instant(c["UpdatedDateUTC"]), "ContactGroups": [],
                    "IsSupplier": c["IsSupplier"], "IsCustomer": c["IsCustomer"], "SalesTrackingCategories": [],
                    "PurchasesTrackingCategories": [], "ContactPersons": c["ContactPersons"], "HasAttachments": False,
                    "HasValidationErrors": False})
        return out

    def contact_summary(self, contact_id: str) -> dict:
        c = self.contacts[contact_id]
        out = {"ContactID": c["ContactID"]}
        if c.get("ContactNumber"):
            out["ContactNumber"] = c["ContactNumber"]
        out.update({"ContactStatus": c["ContactStatus"], "Name": c["Name"], "Addresses": [], "Phones": [],
                    "ContactGroups": [], "ContactPersons": [], "HasValidationErrors": False})
        return out

    def render_line(self, line: dict, unitdp: int) -> dict:
        out: dict[str, Any] = {}
        if line.get("ItemCode"):
            out["ItemCode"] = line["ItemCode"]
        out["Description"] = line.get("Description") or ""
        if line.get("UnitAmount") is not None:
            out["UnitAmount"] = rq(line["UnitAmount"], unitdp)
        out["TaxType"] = line["TaxType"]
        out["TaxAmount"] = r2(line["TaxAmount"])
        out["LineAmount"] = r2(line["LineAmount"])
        if line.get("AccountCode"):
            out["AccountCode"] = line["AccountCode"]
        if line.get("AccountID"):
            out["AccountID"] = line["AccountID"]
        out["Tracking"] = [dict(t) for t in line["Tracking"]]
        if line.get("Quantity") is not None:
            out["Quantity"] = rq(line["Quantity"], 4)
        if line.get("DiscountRate") is not None:
            out["DiscountRate"] = rq(line["DiscountRate"], 2)
        if line.get("DiscountAmount") is not None:
            out["DiscountAmount"] = r2(line["DiscountAmount"])
        out["LineItemID"] = line["LineItemID"]
        out["ValidationErrors"] = []
        return out

    def render_doc(self, d: dict, kind: str, unitdp: int = 2, lines: bool = True) -> dict:
        k = _DOC_KINDS[kind]
        out: dict[str, Any] = {"Type": d["Type"], k["id"]: d[k["id"]], k["number"]: d[k["number"]] or "",
                               "Reference": d.get("Reference") or ""}
        if kind == "credit":
            out["ID"] = d[k["id"]]
        payments = [self.payments[pid] for pid in d["PaymentIDs"] if self.payments[pid]["Status"] == "AUTHORISED"]
        out["Payments"] = [{"PaymentID": p["PaymentID"], "Date": ms_date(p["Date"]), "Amount": r2(p["Amount"]),
                            "Reference": p.get("Reference") or "", "CurrencyRate": p["CurrencyRate"],
                            "HasAccount": False, "HasValidationErrors": False} for p in payments]
        allocations = [self.allocations[aid] for aid in d["AllocationIDs"] if not self.allocations[aid]["IsDeleted"]]
        if kind == "invoice":
            credited = []
            for a in allocations:
                cn = self.credit_notes[a["CreditNoteID"]]
                credited.append({"CreditNoteID": cn["CreditNoteID"], "CreditNoteNumber": cn["CreditNoteNumber"] or "",
                                 "ID": cn["CreditNoteID"], "AppliedAmount": r2(a["Amount"]), "Date": ms_date(a["Date"]),
                                 "DateString": date_string(a["Date"]), "Total": r2(cn["Total"]),
                                 "HasErrors": False})
            out["CreditNotes"] = credited
        else:
            out["Allocations"] = [{"AllocationID": a["AllocationID"], "Amount": r2(a["Amount"]),
                                   "Date": ms_date(a["Date"]),
                                   "Invoice": {"InvoiceID": a["InvoiceID"],
                                               "InvoiceNumber": self.invoices[a["InvoiceID"]]["InvoiceNumber"] or "",
                                               "Payments": [], "CreditNotes": [], "Prepayments": [], "Overpayments": [],
                                               "HasErrors": False, "IsDiscounted": False, "LineItems": []},
                                   "IsDeleted": False, "ValidationErrors": []} for a in allocations]
        out["Prepayments"] = []
        out["Overpayments"] = []
        if kind == "invoice":
            out["AmountDue"] = r2(d["AmountDue"])
            out["AmountPaid"] = r2(d["AmountPaid"])
            out["AmountCredited"] = r2(d["AmountCredited"])
        else:
            out["RemainingCredit"] = r2(d["RemainingCredit"])
        out["SentToContact"] = d.get("SentToContact", False)
        out["CurrencyRate"] = rq(d["CurrencyRate"], 6)
        out["HasErrors"] = False
        out["IsDiscounted"] = any(line.get("DiscountRate") or line.get("DiscountAmount") for line in d["LineItems"])
        out["HasAttachments"] = False
        out["Contact"] = self.contact_summary(d["ContactID"])
        out["DateString"] = date_string(d["Date"])
        out["Date"] = ms_date(d["Date"])
        if d.get("DueDate") is not None:
            out["DueDateString"] = date_string(d["DueDate"])
            out["DueDate"] = ms_date(d["DueDate"])
        out["Status"] = d["Status"]
        out["LineAmountTypes"] = d["LineAmountTypes"]
        out["LineItems"] = [self.render_line(line, unitdp) for line in d["LineItems"]] if lines else []
        out["SubTotal"] = r2(d["SubTotal"])
        out["TotalTax"] = r2(d["TotalTax"])
        out["Total"] = r2(d["Total"])
        if d.get("TotalDiscount"):
            out["TotalDiscount"] = r2(d["TotalDiscount"])
        out["UpdatedDateUTC"] = ms_instant(d["UpdatedDateUTC"])
        out["UpdatedDateUTCString"] = instant_string(d["UpdatedDateUTC"])
        out["CurrencyCode"] = d["CurrencyCode"]
        if d.get("FullyPaidOnDate") is not None:
            out["FullyPaidOnDate"] = ms_date(d["FullyPaidOnDate"])
        if d.get("Url"):
            out["Url"] = d["Url"]
        return out

    def render_payment(self, p: dict) -> dict:
        account = self.accounts[p["AccountID"]]
        out = {"PaymentID": p["PaymentID"], "Date": ms_date(p["Date"]), "BankAmount": r2(p["BankAmount"]),
               "Amount": r2(p["Amount"]), "Reference": p.get("Reference") or "",
               "CurrencyRate": rq(p["CurrencyRate"], 6), "PaymentType": p["PaymentType"], "Status": p["Status"],
               "UpdatedDateUTC": ms_instant(p["UpdatedDateUTC"]),
               "UpdatedDateUTCString": instant_string(p["UpdatedDateUTC"]), "HasAccount": True,
               "IsReconciled": p["IsReconciled"],
               "Account": {"AccountID": account["AccountID"], "Code": account["Code"], "Name": account["Name"]}}
        if p.get("InvoiceID"):
            out["Invoice"] = self.render_doc(self.invoices[p["InvoiceID"]], "invoice", lines=False)
        if p.get("CreditNoteID"):
            out["CreditNote"] = self.render_doc(self.credit_notes[p["CreditNoteID"]], "credit", lines=False)
        out["HasValidationErrors"] = False
        return out

    def render_bank_transfer(self, t: dict) -> dict:
        def acct(account_id: str) -> dict:
            a = self.accounts[account_id]
            return {"AccountID": a["AccountID"], "Code": a["Code"], "Name": a["Name"]}

        return {"BankTransferID": t["BankTransferID"], "CreatedDateUTCString": instant_string(t["CreatedDateUTC"]),
                "CreatedDateUTC": ms_instant(t["CreatedDateUTC"]), "DateString": date_string(t["Date"]),
                "Date": ms_date(t["Date"]), "Status": t["Status"], "FromBankAccount": acct(t["FromAccountID"]),
                "ToBankAccount": acct(t["ToAccountID"]), "Amount": r2(t["Amount"]),
                "FromBankTransactionID": t["FromBankTransactionID"], "ToBankTransactionID": t["ToBankTransactionID"],
                "FromIsReconciled": t["FromIsReconciled"], "ToIsReconciled": t["ToIsReconciled"],
                "Reference": t.get("Reference") or "", "CurrencyRate": rq(t["CurrencyRate"], 6),
                "HasAttachments": False, "FromTracking": [], "ToTracking": [], "ValidationErrors": []}
