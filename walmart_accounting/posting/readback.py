"""What a ledger adapter reads back from the ledger to prove it still agrees with what we posted.

Both adapters (`XeroAdapter`, `ExactAdapter`) have

- ``verify_posted(documents, ledger_ids) -> list[LedgerFinding]``: only the disagreements; an empty
  list means the ledger holds each document once, live, with our total;
- ``account_balances(codes, as_of) -> dict[str, Decimal]``: each account's balance at a date from the
  ledger's own reporting, debit positive.

A finding's `problem` is one of:

| problem   | meaning                                                                                  |
| --------- | ---------------------------------------------------------------------------------------- |
| missing   | no document with our reference (or the id the ledger gave us) is in the ledger: deleted  |
| voided    | the ledger has it, but voided / deleted (Xero) or reversed (Exact)                        |
| duplicate | our reference is on more than one live ledger document of that kind                       |
| amount    | the ledger's total differs from ours (the detail names both, in the document's currency) |
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

MISSING, VOIDED, DUPLICATE, AMOUNT = "missing", "voided", "duplicate", "amount"
PROBLEMS = frozenset({MISSING, VOIDED, DUPLICATE, AMOUNT})


@dataclass(frozen=True)
class LedgerFinding:
    """One way the ledger disagrees with a document we posted (see the module docstring)."""

    document_key: str
    kind: str
    problem: str
    detail: str

    def __post_init__(self) -> None:
        if self.problem not in PROBLEMS:
            raise ValueError(f"unknown problem {self.problem!r}; expected one of {', '.join(sorted(PROBLEMS))}")


def as_decimal(value: Any) -> Decimal | None:
    """A ledger's amount (a Decimal from our JSON parser, or text) as a Decimal; None when it is not a number."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def amount_finding(key: str, kind: str, expected: Decimal, actual: Any, currency: str,
                   actual_currency: Any = None, where: str = "") -> LedgerFinding | None:
    """An "amount" finding when the ledger's total (or currency) is not ours, else None."""
    found = as_decimal(actual)
    other = str(actual_currency or "").strip().upper()
    if other and other != currency.upper():
        return LedgerFinding(key, kind, AMOUNT, f"the ledger holds {found} {other}{where}, we posted {expected} "
                                                f"{currency}")
    if found is None or found != expected:
        return LedgerFinding(key, kind, AMOUNT, f"the ledger's total is {found} {currency}{where}, ours is "
                                                f"{expected} {currency}")
    return None
