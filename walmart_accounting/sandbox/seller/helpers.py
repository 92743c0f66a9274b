"""Money, time and JSON-shape helpers shared by the seller's parts: exact cents, Walmart's date formats, Poisson draws."""

from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from walmart_accounting.domain.money import Money

CURRENCY = "USD"
UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


# --- helpers -------------------------------------------------------------------------------------


def _dec(cents: int) -> Decimal:
    return Money(cents, CURRENCY).to_decimal()


def _amount(cents: int) -> str:
    return str(Money(cents, CURRENCY).to_decimal())


def _pct_of(cents: int, pct: Decimal) -> int:
    """cents x pct / 100, rounded once, half up."""
    return Money(cents, CURRENCY).times(pct / 100).minor


def _ms(dt: datetime) -> int:
    return (dt - _EPOCH) // _MS


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _mdy(d: date) -> str:
    return d.strftime("%m/%d/%Y")


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _poisson(rng: random.Random, lam: float) -> int:
    # Knuth's method: fine for the tens of orders a day this seller sees.
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _money(cents: int) -> dict:
    return {"currency": CURRENCY, "amount": _dec(cents)}


def _rmoney(cents: int) -> dict:
    return {"currencyAmount": _dec(cents), "currencyUnit": CURRENCY}


def _return_tax(name: str, per_unit: int) -> list[dict]:
    return [{"taxName": name, "taxPerUnit": _rmoney(per_unit), "excessTax": _rmoney(0)}]
