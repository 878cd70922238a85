from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.i18n import translations as wtforms_translations
from wtforms import (BooleanField, DateField, FieldList, Form, FormField, IntegerField, SearchField, SelectChoice,
                     StringField, TextAreaField)
from wtforms.validators import NumberRange, Optional

from portal.core.forms import REQUIRED, SelectField, max_length
from portal.posts.models import SKILL_LEVELS

LEVEL_LABELS = {
    1: _l("1 · basic"),
    2: _l("2 · working"),
    3: _l("3 · skilled"),
    4: _l("4 · advanced"),
    5: _l("5 · expert"),
}
LEVEL_CHOICES = [SelectChoice(level, LEVEL_LABELS[level]) for level in SKILL_LEVELS]
BLANK_SKILL_ROWS = 2  # empty rows under the listed skills, to add new ones without a round trip


class PlainForm(Form):
    """A form without a CSRF token (a GET filter, or a part of a bigger form),
    speaking WTForms' own messages in the reader's language like a FlaskForm."""

    class Meta:
        def get_translations(self, form):
            return wtforms_translations


class SkillLevelForm(PlainForm):
    """One row of a skill list: a skill's name (typed, or picked from the group's list) and a level."""

    name = StringField(_l("Skill"), validators=[Optional(), max_length(80)],
                       render_kw={"list": "skill-names", "autocomplete": "off"})
    level = SelectField(_l("Level"), coerce=int, choices=LEVEL_CHOICES, default=3)


def skill_rows(form, rows):
    """Fill `form.skills` with `rows` ([(name, level)]) and the blank rows that follow them."""
    while form.skills.entries:
        form.skills.pop_entry()
    for name, level in list(rows) + [("", 3)] * BLANK_SKILL_ROWS:
        form.skills.append_entry({"name": name, "level": level})
    return form


def submitted_skills(form):
    return [(row.form.name.data or "", row.form.level.data) for row in form.skills]


class PostForm(FlaskForm):
    company = SelectField(_l("Company"), coerce=int)
    code = StringField(_l("Code"), validators=[REQUIRED, max_length(32)])
    title = StringField(_l("Title"), validators=[REQUIRED, max_length(120)])
    duties = TextAreaField(_l("Duties"), validators=[max_length(5000)], render_kw={"rows": 6})
    growth_path = TextAreaField(_l("Growth path"), validators=[max_length(2000)], render_kw={"rows": 3})
    headcount_plan = IntegerField(_l("Headcount plan"), default=1,
                                  validators=[NumberRange(min=0, message=_l("Enter 0 or more."))])
    capacity = IntegerField(_l("Capacity (percent of a full-time person)"), default=100,
                            validators=[NumberRange(min=1, max=100, message=_l("Enter a share from 1 to 100."))])
    skills = FieldList(FormField(SkillLevelForm), min_entries=0)
    version = IntegerField(validators=[Optional()])


class EmployeeSkillsForm(FlaskForm):
    skills = FieldList(FormField(SkillLevelForm), min_entries=0)


class AssignForm(FlaskForm):
    number = StringField(_l("Employee number"), validators=[REQUIRED, max_length(32)])
    post = SelectField(_l("Post"), coerce=int)
    unit = SelectField(_l("Unit"), coerce=int)
    share = IntegerField(_l("Share (%)"), validators=[
        REQUIRED, NumberRange(min=1, max=100, message=_l("Enter a share from 1 to 100."))])
    start_date = DateField(_l("First day"), validators=[REQUIRED])
    end_date = DateField(_l("Last day"), validators=[Optional()])
    is_primary = BooleanField(_l("Primary post"))


class EndAssignmentForm(FlaskForm):
    end_date = DateField(_l("Last day"), validators=[REQUIRED])


class PostFilterForm(PlainForm):
    q = SearchField(_l("Search"), validators=[Optional(), max_length(64)])
    company = SelectField(_l("Company"), coerce=int, validators=[Optional()])
    archived = BooleanField(_l("Archived posts"))


class TalentFilterForm(PlainForm):
    q = SearchField(_l("Name or number"), validators=[Optional(), max_length(64)])
    skill = SelectField(_l("Skill"), coerce=int, validators=[Optional()])
    min_level = SelectField(_l("At least level"), coerce=int, choices=LEVEL_CHOICES, default=1)
    post = SelectField(_l("Holds the post"), coerce=int, validators=[Optional()])
    min_spare = IntegerField(_l("Spare capacity at least (%)"), default=0, validators=[
        Optional(), NumberRange(min=0, max=100, message=_l("Enter a share from 0 to 100."))])
