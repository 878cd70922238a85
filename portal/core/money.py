"""Money: integer minor units plus an ISO 4217 code in storage, Decimal at the
edges, Babel for display. Never float."""
from decimal import Decimal

from babel.numbers import get_currency_precision
from flask_babel import format_currency


def minor_digits(currency):
    """How many decimal places `currency` has (CNY 2, JPY 0, BHD 3)."""
    return get_currency_precision(currency)


def to_decimal(minor_units, currency):
    return Decimal(int(minor_units)).scaleb(-minor_digits(currency))


def to_minor_units(amount, currency):
    """Decimal (or its string) → integer minor units; refuses sub-unit fractions."""
    scaled = Decimal(str(amount)).scaleb(minor_digits(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} has more decimals than {currency} allows")
    return int(scaled)


def format_money(minor_units, currency):
    """Minor units as money in the request's locale: ¥1,234.50 / 1.234,50 €."""
    return format_currency(to_decimal(minor_units, currency), currency)
