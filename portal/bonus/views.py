"""The bonus domain's pages under /bonus (rules, pools with the what-if, statements,
exports), one blueprint per part, nested here so the app registers the domain from
its one list (portal.DOMAINS). Built on portal/bonus/services.py."""
import math
from decimal import Decimal

from babel.dates import format_skeleton
from babel.numbers import format_decimal as babel_decimal
from flask import Blueprint
from flask_babel import format_decimal, format_percent, get_locale

from portal.bonus import export_views, forms, pool_views, rule_views, services, sources, statement_views

blueprint = Blueprint("bonus", __name__, url_prefix="/bonus")
for _part in (rule_views, pool_views, statement_views,
              export_views):  # PDF, CSV and XLSX exports: portal/bonus/export_views.py
    blueprint.register_blueprint(_part.blueprint)

for _name, _labels in (("BONUS_STATE_LABELS", services.STATE_LABELS), ("DIRECTION_LABELS", forms.DIRECTION_LABELS),
                       ("NORMALISATION_LABELS", forms.NORMALISATION_LABELS),
                       ("PROBATION_LABELS", forms.PROBATION_LABELS),
                       ("INELIGIBLE_REASONS", services.INELIGIBLE_REASONS)):
    blueprint.add_app_template_global(_labels, _name)


@blueprint.app_template_global()
def bonus_source_label(key):
    source = sources.SOURCES.get(key)
    return source.label if source is not None else key


@blueprint.app_template_filter("bonus_value")
def bonus_value(value, unit):
    """A dimension's raw value in its source's unit: "–" when there is none, seconds
    as m:ss (h:mm:ss from an hour), rates as percentages."""
    if value is None or isinstance(value, float) and math.isnan(value):
        return "–"
    if unit == "seconds":
        hours, rest = divmod(int(round(value)), 3600)
        minutes, seconds = divmod(rest, 60)
        return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
    if unit == "rate":
        return format_percent(value, "#,##0.0%")
    return format_decimal(value, "#,##0.##")


@blueprint.app_template_filter("bonus_score")
def bonus_score(value):
    """A normalised value or a contribution: two decimals."""
    return "–" if value is None else format_decimal(value, "#,##0.00")


@blueprint.app_template_filter("bonus_rate")
def bonus_rate(rate):
    """An exchange rate (a decimal string) with all its digits."""
    return babel_decimal(Decimal(rate), locale=get_locale(), decimal_quantization=False)


@blueprint.app_template_filter("bonus_month")
def bonus_month(day):
    """A pool's period as its month and year in the reader's language."""
    return format_skeleton("yMMM", day, locale=get_locale())
