"""Sales invoices and their processing through PrintedSalesInvoices (FACTS §2, §3)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from walmart_accounting.sandbox.exact.ledger import CONTROL_GL_TYPES
from walmart_accounting.sandbox.exact.model import Division, _bad, _q2
from walmart_accounting.sandbox.exact.sets import SETS


class InvoicesMixin:
    """salesinvoice/SalesInvoices and PrintedSalesInvoices of :class:`ExactState`."""

    # Sales invoices (FACTS §2, §3)
    def _create_salesinvoice_salesinvoices(self, div: Division, data: dict) -> dict:
        journal = self._journal(div, data.get("Journal"), (20,), "sales", "Journal")
        ordered_by = self._account(div, data.get("OrderedBy"), "OrderedBy")
        invoice_type = data.get("Type") or 8020
        if invoice_type in (8023, 8024):
            raise _bad(f"Type: {invoice_type} (direct sales invoice/credit note) is not available in this edition.")
        if invoice_type not in (8020, 8021):
            raise _bad(f"Type: invalid value {invoice_type}; expected 8020 or 8021.")
        if data.get("Warehouse") is not None:
            raise _bad("Warehouse: cannot be set for a normal sales invoice or credit note.")
        status = data.get("Status") or 20
        if status not in (10, 20):
            raise _bad(f"Status: invalid value {status} for a new invoice; expected 10 or 20.")
        lines_in = data.get("SalesInvoiceLines")
        if not lines_in:
            raise _bad("Mandatory: SalesInvoiceLines")
        for name in ("InvoiceTo", "DeliverTo"):
            if data.get(name) is not None:
                self._account(div, data[name], name)
        invoice_date = data.get("InvoiceDate") or datetime.combine(self.now().date(), datetime.min.time())
        lines = []
        for n, line in enumerate(lines_in, start=1):
            item = div.table("logistics/Items").get(line.get("Item") or "")
            if item is None:
                raise _bad(f"Mandatory: Item (line {n}): an existing item is required.")
            quantity = line.get("Quantity") if line.get("Quantity") is not None else Decimal("1")
            price = line.get("NetPrice") if line.get("NetPrice") is not None else line.get("UnitPrice")
            if price is None:
                price = item["StandardSalesPrice"] or Decimal("0")
            if price < 0:
                raise _bad("Exact can't handle a negative selling price: use a negative quantity and a positive "
                           "price.")
            gl = self._gl_account(div, line.get("GLAccount") or item["GLRevenue"])
            if gl["Type"] in CONTROL_GL_TYPES:
                raise _bad(f"Invalid: G/L account type ({gl['Code']} {gl['TypeDescription']})")
            vat = self._vat_code(div, line.get("VATCode") or item["SalesVatCode"] or "0")
            amount = _q2(quantity * price)
            vat_amount = _q2(amount * vat["Percentage"])
            center = self._code_ref(div, "hrm/Costcenters", line.get("CostCenter"), "CostCenter")
            unit = self._code_ref(div, "hrm/Costunits", line.get("CostUnit"), "CostUnit")
            lines.append({
                "LineNumber": n, "Item": item["ID"], "ItemCode": item["Code"], "ItemDescription": item["Description"],
                "Description": line.get("Description") or item["Description"], "Quantity": quantity,
                "UnitPrice": line.get("UnitPrice") if line.get("UnitPrice") is not None else price, "NetPrice": price,
                "AmountFC": amount, "AmountDC": amount, "VATAmountFC": vat_amount, "VATAmountDC": vat_amount,
                "VATCode": vat["Code"], "VATCodeDescription": vat["Description"], "VATPercentage": vat["Percentage"],
                "GLAccount": gl["ID"], "GLAccountCode": gl["Code"], "CostCenter": center and center["Code"],
                "CostUnit": unit and unit["Code"], "DeliveryDate": line.get("DeliveryDate"),
                "UnitCode": line.get("UnitCode") or item["Unit"], "Notes": line.get("Notes")})
        net = sum((ln["AmountFC"] for ln in lines), Decimal("0"))
        vat_total = sum((ln["VATAmountFC"] for ln in lines), Decimal("0"))
        table = div.table("salesinvoice/SalesInvoices")
        used = {r["InvoiceNumber"] for r in table.values()}
        # Invoice numbers come from the journal's free numbers, shared with its sales entries.
        number = self._next_number(div, journal["Code"], invoice_date.year, None, used)
        order_number = data.get("OrderNumber") or max((r["OrderNumber"] or 0 for r in table.values()), default=0) + 1
        header = {k: v for k, v in data.items() if k in SETS["salesinvoice/SalesInvoices"].fields}
        header.update({
            "InvoiceNumber": number, "OrderNumber": order_number, "Type": invoice_type,
            "TypeDescription": {8020: "Sales invoice", 8021: "Sales credit note"}[invoice_type],
            "Journal": journal["Code"], "JournalDescription": journal["Description"], "OrderedByName": ordered_by["Name"],
            "InvoiceTo": data.get("InvoiceTo") or ordered_by["ID"], "DeliverTo": data.get("DeliverTo") or ordered_by["ID"],
            "InvoiceDate": invoice_date, "OrderDate": data.get("OrderDate") or invoice_date,
            "DueDate": data.get("DueDate") or invoice_date + timedelta(days=30),
            "Currency": data.get("Currency") or div.currency, "AmountFC": net + vat_total, "AmountDC": net + vat_total,
            "VATAmountFC": vat_total, "VATAmountDC": vat_total, "Status": status,
            "StatusDescription": {10: "Draft", 20: "Open"}[status]})
        rec = self._insert(div, "salesinvoice/SalesInvoices", header)
        for line in lines:
            self._insert(div, "salesinvoice/SalesInvoiceLines", {**line, "InvoiceID": rec["InvoiceID"]})
        return rec

    def _update_salesinvoice_salesinvoices(self, div: Division, rec: dict, data: dict) -> None:
        for name in ("Journal", "OrderedBy"):
            if name in data:
                raise _bad(f"{name}: cannot be changed on an existing invoice; leave it out of the PUT.")
        if rec["Status"] == 50:
            raise _bad("A processed invoice cannot be changed.")
        if data.get("Status") not in (None, 10, 20):
            raise _bad("Status: process an invoice through PrintedSalesInvoices.")
        for name in ("Type", "Warehouse"):
            data.pop(name, None)
        rec.update(data)

    def _delete_salesinvoice_salesinvoices(self, div: Division, rec: dict) -> None:
        if rec["Status"] == 50:
            raise _bad("A processed invoice cannot be deleted.")
        for line in div.children("salesinvoice/SalesInvoiceLines", "InvoiceID", rec["InvoiceID"]):
            del div.table("salesinvoice/SalesInvoiceLines")[line["ID"]]
        del div.table("salesinvoice/SalesInvoices")[rec["InvoiceID"]]

    def _create_salesinvoice_printedsalesinvoices(self, div: Division, data: dict) -> dict:
        invoice = div.table("salesinvoice/SalesInvoices").get(data.get("InvoiceID") or "")
        if invoice is None:
            raise _bad("Mandatory: InvoiceID (an existing sales invoice)")
        if invoice["Status"] == 50:
            raise _bad("The invoice has already been processed.")
        invoice.update({"Status": 50, "StatusDescription": "Processed", "Modified": self.now()})
        self._pending_events.append(("SalesInvoices", "Update", SETS["salesinvoice/SalesInvoices"],
                                     invoice["InvoiceID"]))
        return {"InvoiceID": invoice["InvoiceID"], "InvoiceNumber": invoice["InvoiceNumber"],
                "SendEmailToCustomer": bool(data.get("SendEmailToCustomer")),
                "SendOutputBasedOnAccount": bool(data.get("SendOutputBasedOnAccount")), "Division": div.code}
