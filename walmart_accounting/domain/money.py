"""Exact money: integer minor units with a currency, and the one place amounts are rounded."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from typing import Iterable, Sequence

# ISO 4217 minor-unit exponents for the currencies a Walmart seller and their ledgers use.
# Anything not listed has two decimals, which is right for almost every currency.
_CURRENCY_DECIMALS: dict[str, int] = {
    "JPY": 0,
    "KRW": 0,
    "CLP": 0,
    "ISK": 0,
    "HUF": 2,
    "BHD": 3,
    "KWD": 3,
    "OMR": 3,
    "JOD": 3,
    "TND": 3,
}


class MoneyError(ValueError):
    """An amount that cannot be represented exactly, or arithmetic across currencies."""


def currency_decimals(currency: str) -> int:
    """Number of minor-unit decimals of an ISO 4217 currency code."""
    code = _check_currency(currency)
    return _CURRENCY_DECIMALS.get(code, 2)


def _check_currency(currency: str) -> str:
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        raise MoneyError(f"currency must be a 3-letter ISO 4217 code, got {currency!r}")
    return currency.upper()


def to_decimal(value: object) -> Decimal:
    """Parse an API value (string, int, Decimal) into a Decimal; floats are refused."""
    if isinstance(value, bool):
        raise MoneyError(f"not an amount: {value!r}")
    if isinstance(value, float):
        raise MoneyError(
            f"float amount {value!r} refused: parse JSON with parse_float=Decimal or pass a string"
        )
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip().replace(",", ""))
        except InvalidOperation as exc:
            raise MoneyError(f"not an amount: {value!r}") from exc
    else:
        raise MoneyError(f"not an amount: {value!r}")
    if not result.is_finite():
        raise MoneyError(f"not a finite amount: {value!r}")
    return result


def round_to_minor(amount: Decimal | str | int, currency: str) -> int:
    """Round a major-unit amount to integer minor units, ROUND_HALF_UP: the project's only rounding."""
    exponent = currency_decimals(currency)
    scaled = to_decimal(amount).scaleb(exponent)
    return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def exact_minor(amount: Decimal | str | int, currency: str) -> int:
    """Convert a major-unit amount to minor units, refusing any amount that would need rounding."""
    exponent = currency_decimals(currency)
    scaled = to_decimal(amount).scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise MoneyError(
            f"{amount!r} {currency} has more than {exponent} decimals; round explicitly"
        )
    return int(scaled)


# How far a decimal written from a binary float may sit from the cent it stands for: a few units in the
# last place of a double (2**-52 relative) of the amount; near zero (0.1 + 0.2 - 0.3 = 5.55e-17), of 256 cents.
_FLOAT_NOISE = Decimal(2) ** -48
_NOISE_FLOOR = Decimal(256)


def minor_from_api(amount: Decimal | str | int, currency: str) -> int:
    """Minor units of an amount an API sent; one that is a whole cent plus binary-float noise is that cent.

    `0.30000000000000004` is what a float serializer upstream writes for 0.30: within a few units in the
    last place of a double of a whole cent, it is that cent. A genuine sub-cent amount (`0.305`) is refused.
    """
    try:
        return exact_minor(amount, currency)
    except MoneyError:
        exponent = currency_decimals(currency)
        scaled = to_decimal(amount).scaleb(exponent)
        whole = scaled.to_integral_value()
        if abs(scaled - whole) <= max(abs(whole), _NOISE_FLOOR) * _FLOAT_NOISE:
            return int(whole)
        raise


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in integer minor units of one currency."""

    minor: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.minor, bool) or not isinstance(self.minor, int):
            raise MoneyError(f"Money.minor must be an int, got {type(self.minor).__name__}")
        object.__setattr__(self, "currency", _check_currency(self.currency))

    @classmethod
    def of(cls, amount: Decimal | str | int, currency: str) -> "Money":
        """Exact amount from major units ("12.34"); raises if it has too many decimals."""
        return cls(exact_minor(amount, currency), currency)

    @classmethod
    def rounded(cls, amount: Decimal | str | int, currency: str) -> "Money":
        """Amount from major units, rounded ROUND_HALF_UP to the currency's decimals."""
        return cls(round_to_minor(amount, currency), currency)

    @classmethod
    def zero(cls, currency: str) -> "Money":
        return cls(0, currency)

    @property
    def decimals(self) -> int:
        return currency_decimals(self.currency)

    def to_decimal(self) -> Decimal:
        """Major units as a Decimal with exactly the currency's decimals (for API payloads)."""
        return Decimal(self.minor).scaleb(-self.decimals).quantize(Decimal(1).scaleb(-self.decimals))

    def __str__(self) -> str:
        return f"{self.to_decimal()} {self.currency}"

    def _same(self, other: "Money") -> None:
        if not isinstance(other, Money):
            raise MoneyError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise MoneyError(f"currency mismatch: {self.currency} and {other.currency}")

    def __add__(self, other: "Money") -> "Money":
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: "Money") -> "Money":
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> "Money":
        return Money(-self.minor, self.currency)

    def __lt__(self, other: "Money") -> bool:
        self._same(other)
        return self.minor < other.minor

    def __le__(self, other: "Money") -> bool:
        self._same(other)
        return self.minor <= other.minor

    def times(self, factor: Decimal | int | str) -> "Money":
        """Multiply by an exact factor (quantity, rate) and round once, HALF_UP."""
        product = Decimal(self.minor) * to_decimal(factor)
        return Money(int(product.quantize(Decimal(1), rounding=ROUND_HALF_UP)), self.currency)

    def convert(self, rate: Decimal | str, to_currency: str) -> "Money":
        """Convert at an explicit rate (units of to_currency per unit of this one), rounded once."""
        major = self.to_decimal() * to_decimal(rate)
        return Money.rounded(major, to_currency)

    def allocate(self, weights: Sequence[int | Decimal]) -> list["Money"]:
        """Split by weights; the parts always add up to exactly this amount (largest remainder)."""
        return [Money(part, self.currency) for part in allocate_minor(self.minor, weights)]

    def split(self, parts: int) -> list["Money"]:
        """Split into n nearly equal parts that add up to exactly this amount."""
        if parts < 1:
            raise MoneyError("split needs at least one part")
        return self.allocate([1] * parts)


def allocate_minor(total: int, weights: Sequence[int | Decimal]) -> list[int]:
    """Allocate integer minor units across weights, largest remainder first; sum is exactly total."""
    if not weights:
        raise MoneyError("allocate needs at least one weight")
    dec_weights = [to_decimal(w) for w in weights]
    if any(w < 0 for w in dec_weights):
        raise MoneyError("allocation weights must not be negative")
    weight_sum = sum((Fraction(w) for w in dec_weights), Fraction(0))
    if weight_sum == 0:
        raise MoneyError("allocation weights must not all be zero")
    sign = -1 if total < 0 else 1
    magnitude = abs(total)
    exact = [magnitude * Fraction(w) / weight_sum for w in dec_weights]  # exact rationals
    floors = [int(x) for x in exact]  # non-negative, so int() is floor
    remainder = magnitude - sum(floors)
    # Ties go to the earlier position so the result is deterministic.
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:remainder]:
        floors[i] += 1
    return [sign * f for f in floors]


XERO_RATE_DECIMALS = 6  # Xero's CurrencyRate: "max length = [18].[6]"


def xero_quote(rate: Decimal | str) -> Decimal:
    """Xero's CurrencyRate for `rate` (ledger base units per document unit): the reciprocal, as Xero keeps it.

    Xero quotes document-currency units per base unit with 6 decimals, so a rate of 0.92 reaches Xero as
    1.086957; a base amount meant to match Xero's books is computed from this quote (`convert_by_quote`).
    """
    rate = to_decimal(rate)
    if rate <= 0:
        raise MoneyError(f"exchange rate must be positive, got {rate}")
    return (Decimal(1) / rate).quantize(Decimal(1).scaleb(-XERO_RATE_DECIMALS), rounding=ROUND_HALF_UP)


def convert_by_quote(minor: int, currency: str, quote: Decimal, to_currency: str) -> int:
    """Minor units of `to_currency` for an amount divided by a quote (document units per base unit), half up."""
    amount = Money(int(minor), currency).to_decimal()
    return round_to_minor(amount / to_decimal(quote), to_currency)


def prorate_minor(amounts: Sequence[int], part: int, whole: int) -> list[int]:
    """The share of a line's amounts for `part` of its `whole` quantity, summing exactly to the share of its total.

    Each amount alone would round on its own and the parts could miss the prorated total by a cent; here the
    total's share is fixed first (allocate_minor), and the cents left after flooring every amount go to the
    largest remainders.
    """
    if whole <= 0 or not 0 <= part <= whole:
        raise MoneyError(f"cannot prorate {part} of a quantity of {whole}")
    total = sum(amounts)
    target = allocate_minor(total, [part, whole - part])[0] if total else 0
    exact = [Fraction(int(a) * part, whole) for a in amounts]
    floors = [math.floor(x) for x in exact]
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:target - sum(floors)]:
        floors[i] += 1
    return floors


def sum_money(amounts: Iterable[Money], currency: str) -> Money:
    """Sum amounts of one currency; an empty sum is zero in that currency."""
    total = Money.zero(currency)
    for amount in amounts:
        total = total + amount
    return total


def format_cents(cents: int, currency: str = "USD", thousands: bool = False) -> str:
    """Integer minor units as text for reports and metadata ("1234.50"), through Decimal, never float."""
    amount = Money(int(cents), currency).to_decimal()
    return f"{amount:,}" if thousands else str(amount)
