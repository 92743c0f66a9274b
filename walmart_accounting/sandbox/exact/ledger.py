"""Accounts, G/L accounts, cost centers and units, VAT codes and journals: their CRUD and the lookups entries share."""

from __future__ import annotations

from walmart_accounting.sandbox.exact.model import Division, _bad

# G/L account types (financial/GLAccounts.Type) that entry lines in sales/purchase journals refuse:
# cash, bank, credit card, payment service, receivables, payables and VAT (FACTS §2, picqer #121).
CONTROL_GL_TYPES = frozenset({10, 12, 14, 16, 20, 21, 22, 24})
GL_TYPE_DESCRIPTIONS = {
    10: "Cash", 12: "Bank", 20: "Accounts receivable", 22: "Accounts payable", 24: "VAT",
    32: "Other assets", 90: "General", 110: "Revenue", 111: "Cost of goods", 120: "Other costs",
    121: "Sales, general administrative expenses",
}


class LedgerMixin:
    """Master data of :class:`ExactState`: crm/Accounts, financial/GLAccounts, hrm/Costcenters and Costunits."""

    @staticmethod
    def _gl_values(code: str, description: str, gl_type: int) -> dict:
        balance_sheet = gl_type < 100
        credit = gl_type in (22, 24, 90, 110)
        return {"Code": code, "Description": description, "Type": gl_type,
                "TypeDescription": GL_TYPE_DESCRIPTIONS.get(gl_type, "General"),
                "BalanceSide": "C" if credit else "D", "BalanceType": "B" if balance_sheet else "W",
                "IsBlocked": False, "VATCode": None}

    # Accounts: Code is an 18-character right-aligned string (FACTS §2).
    def _account_code(self, div: Division, code: str | None, own_id: str | None = None) -> str:
        table = div.table("crm/Accounts")
        if code is None or not code.strip():
            numbers = [int(r["Code"]) for r in table.values() if r["Code"] and r["Code"].strip().isdigit()]
            code = str(max(numbers, default=0) + 1)
        code = code.strip()
        if len(code) > 18:
            raise _bad("Code: the maximum length is 18 characters.")
        padded = code.rjust(18)
        for other in table.values():
            if other["Code"] == padded and other["ID"] != own_id:
                raise _bad(f"Code: an account with code {code} already exists.")
        return padded

    def _create_crm_accounts(self, div: Division, data: dict) -> dict:
        if not (data.get("Name") or "").strip():
            raise _bad("Mandatory: Name")
        status = data.get("Status") or "A"
        if status not in ("A", "S", "P", "C"):
            raise _bad(f"Status: invalid value '{status}'; expected A, S, P or C.")
        if data.get("ID") and data["ID"] in div.table("crm/Accounts"):
            raise _bad("ID: an account with this ID already exists.")
        values = {**data, "Code": self._account_code(div, data.get("Code")), "Status": status, "Type": "A",
                  "IsSales": data.get("IsSales", status == "C"), "IsSupplier": bool(data.get("IsSupplier")),
                  "Blocked": bool(data.get("Blocked"))}
        values.setdefault("SearchCode", None)
        return self._insert(div, "crm/Accounts", values)

    def _update_crm_accounts(self, div: Division, rec: dict, data: dict) -> None:
        data.pop("ID", None)
        if "Code" in data:
            data["Code"] = self._account_code(div, data["Code"], rec["ID"])
        if "Name" in data and not (data["Name"] or "").strip():
            raise _bad("Mandatory: Name")
        rec.update(data)

    def _delete_crm_accounts(self, div: Division, rec: dict) -> None:
        for path, name in (("salesentry/SalesEntries", "Customer"), ("purchaseentry/PurchaseEntries", "Supplier"),
                           ("salesinvoice/SalesInvoices", "OrderedBy"), ("financialtransaction/BankEntryLines",
                                                                         "Account")):
            if div.find(path, name, rec["ID"]):
                raise _bad("The account cannot be deleted: it is used in transactions.")
        del div.table("crm/Accounts")[rec["ID"]]

    def _create_financial_glaccounts(self, div: Division, data: dict) -> dict:
        code = (data.get("Code") or "").strip()
        if not code or not data.get("Description"):
            raise _bad("Mandatory: Code, Description")
        if any(r["Code"] == code for r in div.table("financial/GLAccounts").values()):
            raise _bad(f"Code: G/L account {code} already exists.")
        gl_type = data.get("Type") or 90
        values = self._gl_values(code, data["Description"], gl_type)
        values.update({k: v for k, v in data.items() if k in ("BalanceSide", "BalanceType", "IsBlocked", "VATCode")
                       and v is not None})
        return self._insert(div, "financial/GLAccounts", values)

    def _create_code_description(self, div: Division, path: str, data: dict) -> dict:
        code = (data.get("Code") or "").strip()
        if not code:
            raise _bad("Mandatory: Code")
        if len(code) > 8:
            raise _bad("Code: the maximum length is 8 characters.")
        if div.find(path, "Code", code):
            raise _bad(f"Code: {code} already exists.")
        return self._insert(div, path, {**data, "Code": code})

    def _create_hrm_costcenters(self, div: Division, data: dict) -> dict:
        data.setdefault("Active", True)
        return self._create_code_description(div, "hrm/Costcenters", data)

    def _create_hrm_costunits(self, div: Division, data: dict) -> dict:
        return self._create_code_description(div, "hrm/Costunits", data)

    # Lookups shared by the entries
    def _gl_account(self, div: Division, guid: str | None, name: str = "GLAccount") -> dict:
        if guid is None:
            raise _bad(f"Mandatory: {name}")
        gl = div.table("financial/GLAccounts").get(guid)
        if gl is None:
            raise _bad(f"{name}: G/L account {guid} does not exist.")
        if gl["IsBlocked"]:
            raise _bad(f"{name}: G/L account {gl['Code']} is blocked.")
        return gl

    def _vat_code(self, div: Division, code: str) -> dict:
        wanted = code.strip()
        for rec in div.table("vat/VATCodes").values():
            if rec["Code"].strip() == wanted:
                if rec["IsBlocked"]:
                    raise _bad(f"Not allowed: VAT code {wanted} is blocked.")
                return rec
        raise _bad(f"VATCode: VAT code '{code}' does not exist.")

    def _code_ref(self, div: Division, path: str, code: str | None, name: str) -> dict | None:
        if code is None:
            return None
        rec = div.find(path, "Code", code.strip())
        if rec is None:
            raise _bad(f"{name}: '{code}' does not exist.")
        return rec

    def _journal(self, div: Division, code: str | None, types: tuple[int, ...], kind: str, name: str) -> dict:
        if not code:
            raise _bad(f"Mandatory: {name}")
        journal = div.find("financial/Journals", "Code", code.strip())
        if journal is None:
            raise _bad(f"{name}: journal '{code}' does not exist.")
        if journal["Type"] not in types:
            raise _bad(f"{name}: journal '{code}' is not a {kind} journal.")
        return journal

    def _account(self, div: Division, guid: str | None, name: str) -> dict:
        if guid is None:
            raise _bad(f"Mandatory: {name}")
        account = div.table("crm/Accounts").get(guid)
        if account is None:
            raise _bad(f"{name}: account {guid} does not exist.")
        if account["Blocked"]:
            raise _bad(f"{name}: account {account['Code'].strip()} is blocked.")
        return account

    def _next_number(self, div: Division, journal: str, year: int, suggested: int | None, used: set[int]) -> int:
        """Entry numbers per journal and year: YY + journal + 4-digit sequence; a suggestion is only a hint."""
        seq_key = f"{journal}:{year}"
        base = int(f"{year % 100:02d}{journal}0000") if journal.isdigit() else 0
        last = max(div.sequences[seq_key], base)
        if suggested is not None and suggested > last and suggested not in used:
            number = suggested  # accepted; otherwise silently replaced (FACTS §2, ossobv)
        else:
            number = last + 1
            while number in used:
                number += 1
        div.sequences[seq_key] = max(number, last)
        return number
