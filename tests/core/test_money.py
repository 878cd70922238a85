"""Money helpers: integer minor units in storage, Decimal at the edges, never float."""
from decimal import Decimal

import pytest
from flask_babel import force_locale
from hypothesis import given, strategies as st

from portal.core.money import format_money, minor_digits, to_decimal, to_minor_units

CURRENCIES = ["CNY", "HKD", "EUR", "JPY", "USD", "KRW", "BHD"]


@pytest.mark.parametrize("currency,digits", [("CNY", 2), ("EUR", 2), ("JPY", 0), ("KRW", 0), ("BHD", 3)])
def test_minor_digits_follow_iso_4217(currency, digits):
    assert minor_digits(currency) == digits


def test_to_minor_units_examples():
    assert to_minor_units(Decimal("1234.50"), "CNY") == 123450
    assert to_minor_units("0.01", "EUR") == 1
    assert to_minor_units("-12.30", "EUR") == -1230
    assert to_minor_units("1500", "JPY") == 1500
    assert to_minor_units("1.234", "BHD") == 1234
    assert isinstance(to_minor_units("12.00", "CNY"), int)


@pytest.mark.parametrize("amount,currency", [("0.001", "CNY"), ("12.345", "EUR"), ("100.5", "JPY"),
                                             ("1.0001", "BHD")])
def test_to_minor_units_refuses_fractions_of_the_minor_unit(amount, currency):
    with pytest.raises(ValueError, match=currency):
        to_minor_units(amount, currency)


def test_trailing_zeros_are_not_a_fraction():
    assert to_minor_units("100.000", "JPY") == 100
    assert to_minor_units("1.50000", "CNY") == 150


def test_to_decimal_is_exact():
    assert to_decimal(123450, "CNY") == Decimal("1234.50")
    assert to_decimal(1500, "JPY") == Decimal("1500")
    assert to_decimal(1, "BHD") == Decimal("0.001")
    assert isinstance(to_decimal(7, "EUR"), Decimal)


@given(minor=st.integers(min_value=-10**15, max_value=10**15), currency=st.sampled_from(CURRENCIES))
def test_minor_units_survive_the_round_trip_through_decimal(minor, currency):
    assert to_minor_units(to_decimal(minor, currency), currency) == minor


@given(minor=st.integers(min_value=-10**15, max_value=10**15), currency=st.sampled_from(CURRENCIES))
def test_the_round_trip_through_the_decimals_text_is_exact(minor, currency):
    amount = to_decimal(minor, currency)
    assert to_minor_units(str(amount), currency) == minor
    assert to_decimal(to_minor_units(amount, currency), currency) == amount


@given(amount=st.decimals(min_value=-10**9, max_value=10**9, places=4, allow_nan=False, allow_infinity=False),
       currency=st.sampled_from(CURRENCIES))
def test_an_amount_is_accepted_exactly_when_the_currency_can_hold_it(amount, currency):
    digits = minor_digits(currency)
    fits = amount == amount.quantize(Decimal(1).scaleb(-digits))
    if fits:
        assert to_decimal(to_minor_units(amount, currency), currency) == amount
    else:
        with pytest.raises(ValueError):
            to_minor_units(amount, currency)


@given(a=st.integers(min_value=-10**12, max_value=10**12), b=st.integers(min_value=-10**12, max_value=10**12),
       currency=st.sampled_from(CURRENCIES))
def test_sums_in_minor_units_equal_sums_in_decimal(a, b, currency):
    assert to_decimal(a, currency) + to_decimal(b, currency) == to_decimal(a + b, currency)


def test_format_money_uses_the_locale_and_the_currency_digits(app):
    with app.test_request_context():
        with force_locale("en"):
            assert format_money(123450, "CNY") == "CN¥1,234.50"
            assert format_money(1500, "JPY") == "¥1,500"
        with force_locale("zh_CN"):
            assert format_money(123450, "CNY") == "¥1,234.50"
        with force_locale("de"):
            assert format_money(123450, "EUR") == "1.234,50\xa0€"
