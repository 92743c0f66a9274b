"""Money never gains or loses a cent when split, allocated, summed, rounded or converted."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from walmart_accounting.domain.money import (
    Money,
    MoneyError,
    allocate_minor,
    currency_decimals,
    exact_minor,
    minor_from_api,
    round_to_minor,
    sum_money,
    to_decimal,
)

cents = st.integers(min_value=-10**15, max_value=10**15)
weights = st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=40).filter(lambda w: sum(w) > 0)


@given(cents, weights)
def test_allocation_sums_to_the_total(total, ws):
    parts = allocate_minor(total, ws)
    assert sum(parts) == total
    assert len(parts) == len(ws)


@given(cents, weights)
def test_allocation_is_proportional_within_one_cent(total, ws):
    parts = allocate_minor(total, ws)
    weight_sum = sum(ws)
    for part, w in zip(parts, ws, strict=True):
        exact = Decimal(total) * w / weight_sum
        assert abs(Decimal(part) - exact) < 1


@given(cents, weights)
def test_zero_weight_gets_nothing(total, ws):
    for part, w in zip(allocate_minor(total, ws), ws, strict=True):
        if w == 0:
            assert part == 0


@given(cents, st.integers(min_value=1, max_value=500))
def test_split_parts_add_up_and_differ_by_at_most_one_cent(total, n):
    parts = Money(total, "USD").split(n)
    assert sum_money(parts, "USD") == Money(total, "USD")
    minors = [p.minor for p in parts]
    assert max(minors) - min(minors) <= 1


@given(st.lists(cents, max_size=50))
def test_sum_is_exact(values):
    assert sum_money((Money(v, "USD") for v in values), "USD").minor == sum(values)


@given(cents)
def test_decimal_round_trip(minor):
    money = Money(minor, "USD")
    assert Money.of(money.to_decimal(), "USD") == money
    assert str(money.to_decimal()).count(".") == 1 and len(str(money.to_decimal()).split(".")[1]) == 2


@given(cents, st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("1000"), places=6))
def test_conversion_rounds_once_half_up(minor, rate):
    converted = Money(minor, "USD").convert(rate, "EUR")
    assert converted.minor == round_to_minor(Money(minor, "USD").to_decimal() * rate, "EUR")


def test_half_up_rounding_in_one_place():
    assert round_to_minor("0.005", "USD") == 1
    assert round_to_minor("-0.005", "USD") == -1
    assert round_to_minor("2.675", "USD") == 268  # float would give 2.67
    assert round_to_minor("0.5", "JPY") == 1
    assert round_to_minor("1.0005", "KWD") == 1001
    assert Money(1999, "USD").times(3) == Money(5997, "USD")
    assert Money(1999, "USD").times("0.115") == Money(230, "USD")  # 229.885 -> 230


def test_exactness_is_enforced():
    with pytest.raises(MoneyError, match="more than 2 decimals"):
        exact_minor("1.005", "USD")
    with pytest.raises(MoneyError, match="float"):
        to_decimal(1.1)
    with pytest.raises(MoneyError, match="must be an int"):
        Money(1.5, "USD")  # type: ignore[arg-type]
    with pytest.raises(MoneyError, match="currency mismatch"):
        Money(1, "USD") + Money(1, "EUR")
    with pytest.raises(MoneyError, match="ISO 4217"):
        Money(1, "US")
    assert currency_decimals("jpy") == 0
    assert Money.of("12.30", "USD").minor == 1230
    assert Money.of("1,234.56", "USD").minor == 123456


def test_allocation_rejects_bad_weights():
    with pytest.raises(MoneyError):
        allocate_minor(100, [])
    with pytest.raises(MoneyError):
        allocate_minor(100, [0, 0])
    with pytest.raises(MoneyError):
        allocate_minor(100, [1, -1])
    # ties go to the earliest position, so the result is deterministic
    assert allocate_minor(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate_minor(-100, [1, 1, 1]) == [-34, -33, -33]


def test_format_cents_is_exact_for_any_size():
    from walmart_accounting.domain.money import format_cents

    assert format_cents(123456789012345678) == "1234567890123456.78"  # float would lose the last digits
    assert format_cents(-5) == "-0.05" and format_cents(100000, thousands=True) == "1,000.00"


def test_an_api_amount_with_binary_float_noise_is_its_whole_cent():
    assert minor_from_api(Decimal("0.30000000000000004"), "USD") == 30
    assert minor_from_api(Decimal("12345.670000000001"), "USD") == 1234567
    assert minor_from_api(Decimal("-19.989999999999998"), "USD") == -1999
    assert minor_from_api(Decimal("5.551115123125783E-17"), "USD") == 0
    assert minor_from_api("4.99", "USD") == 499


def test_a_genuine_sub_cent_api_amount_is_refused():
    for amount in ("0.305", "0.001", "10.0049", "0.30000001"):
        with pytest.raises(MoneyError, match="decimals"):
            minor_from_api(Decimal(amount), "USD")
    with pytest.raises(MoneyError, match="float"):
        minor_from_api(0.3, "USD")  # a float itself is still refused: it must arrive as text or Decimal
