from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectChoice, StringField

from portal.core.forms import REQUIRED, SelectField, max_length

KIND_LABELS = {
    "group": _l("Group"),
    "company": _l("Company"),
    "store": _l("Store"),
    "department": _l("Department"),
    "team": _l("Team"),
}
PLATFORM_LABELS = {
    "jd": _l("JD"),
    "vipshop": _l("Vipshop"),
    "tmall": _l("Tmall"),
    "taobao": _l("Taobao"),
    "douyin": _l("Douyin"),
    "pinduoduo": _l("Pinduoduo"),
    "other": _l("Other platform"),
}

PLATFORM_CHOICES = [SelectChoice(value, label) for value, label in PLATFORM_LABELS.items()]


class UnitSettingsMixin:
    country = StringField(_l("Country (ISO code)"), validators=[max_length(2)])
    currency = StringField(_l("Currency (ISO 4217)"), validators=[max_length(3)])
    timezone = SelectField(_l("Time zone"))
    default_locale = SelectField(_l("Default language"))


class UnitCreateForm(UnitSettingsMixin, FlaskForm):
    kind = SelectField(_l("Kind"))
    name = StringField(_l("Name"), validators=[REQUIRED, max_length(120)])
    code = StringField(_l("Code"), validators=[REQUIRED, max_length(32)])
    platform = SelectField(_l("Platform"), choices=PLATFORM_CHOICES)


class UnitEditForm(UnitSettingsMixin, FlaskForm):
    name = StringField(_l("Name"), validators=[REQUIRED, max_length(120)])
    code = StringField(_l("Code"), validators=[REQUIRED, max_length(32)])
    platform = SelectField(_l("Platform"), choices=PLATFORM_CHOICES)
    version = IntegerField(validators=[REQUIRED])


class MoveForm(FlaskForm):
    parent = SelectField(_l("New parent"), coerce=int)
