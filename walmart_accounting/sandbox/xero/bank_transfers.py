"""Bank transfers: moving money between two active BANK accounts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from walmart_accounting.sandbox.xero.base import AccountingBase, Result, _error_echo, _not_found
from walmart_accounting.sandbox.xero.values import BadValue, _bool, _get, _text, r2, to_number
from walmart_accounting.sandbox.xero.wire import parse_date


class BankTransfersApi(AccountingBase):
    """BankTransfers: list, get and create (createBankTransfer has no summarizeErrors)."""

    # -- bank transfers --------------------------------------------------------------------------------------

    def bank_transfers(self, method, rest, query, headers, data, unitdp, summarize) -> Result:
        s = self.s
        if method == "GET":
            if rest:
                found = s.bank_transfers.get(rest[0].lower())
                return Result(200, s.envelope("BankTransfers", [s.render_bank_transfer(found)])) if found else _not_found()
            rows = self._filter(list(s.bank_transfers.values()), query, headers, "BankTransfer",
                                s.view_bank_transfer, lambda t: t["CreatedDateUTC"])
            return Result(200, s.envelope("BankTransfers", [s.render_bank_transfer(t) for t in rows]))
        if method == "PUT" and not rest:  # createBankTransfer has no summarizeErrors
            return self._batch(data, "BankTransfers", True, self._create_bank_transfer)
        return _not_found()

    def _create_bank_transfer(self, raw: Any) -> tuple[bool, dict]:
        s = self.s
        flag = "HasValidationErrors"
        if not isinstance(raw, dict):
            return False, _error_echo({}, "BankTransferID", flag, ["A BankTransfer must be an object"])
        errors: list[str] = []
        accounts = {}
        for side in ("From", "To"):
            account, why = s.account_by_ref(_get(raw, f"{side}BankAccount"))
            if account is None:
                errors.append(f"A {side}BankAccount must be specified." if why == "missing"
                              else f"The {side}BankAccount could not be found.")
            elif account["Type"] != "BANK" or account["Status"] != "ACTIVE":
                errors.append(f"The {side}BankAccount must be an active account of type BANK.")
                account = None
            accounts[side] = account
        if accounts["From"] is not None and accounts["From"] is accounts["To"]:
            errors.append("The FromBankAccount and ToBankAccount must be different accounts.")
        try:
            amount = to_number(_get(raw, "Amount"), "Amount")
            rate = to_number(_get(raw, "CurrencyRate"), "CurrencyRate")
        except BadValue as exc:
            errors.append(str(exc))
            amount = rate = None
        if amount is None:
            errors.append("The Amount field must be specified.")
        elif amount <= 0:
            errors.append("The Amount must be greater than zero.")
        else:
            amount = r2(amount)
        when = s.today()
        if _get(raw, "Date") not in (None, ""):
            try:
                when = parse_date(_get(raw, "Date"))
            except BadValue:
                errors.append(f"'{_get(raw, 'Date')}' is not a valid Date; expected YYYY-MM-DD.")
        if errors:
            return False, _error_echo(raw, "BankTransferID", flag, list(dict.fromkeys(errors)))
        now = s.now()
        transfer = {"BankTransferID": s.new_id(), "FromAccountID": accounts["From"]["AccountID"],
                    "ToAccountID": accounts["To"]["AccountID"], "Amount": amount, "Date": when,
                    "Reference": _text(_get(raw, "Reference")), "CurrencyRate": rate or Decimal(1),
                    "FromIsReconciled": _bool(_get(raw, "FromIsReconciled")),
                    "ToIsReconciled": _bool(_get(raw, "ToIsReconciled")), "Status": "AUTHORISED",
                    "FromBankTransactionID": s.new_id(), "ToBankTransactionID": s.new_id(),
                    "CreatedDateUTC": now, "UpdatedDateUTC": now}
        s.bank_transfers[transfer["BankTransferID"]] = transfer
        return True, s.render_bank_transfer(transfer)
