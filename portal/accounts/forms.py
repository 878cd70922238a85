from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, IntegerField, PasswordField, SelectField, \
    SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Email, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.core.forms import REQUIRED, max_length


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[REQUIRED, max_length(64)])
    password = PasswordField(_l("Password"), validators=[REQUIRED, max_length(256)])
    next = HiddenField()


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[REQUIRED])
    new_password = PasswordField(_l("New password"), validators=[REQUIRED, max_length(256)])


class PreferencesForm(FlaskForm):
    locale = SelectField(_l("Language"))
    timezone = SelectField(_l("Time zone"))


class UserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[REQUIRED, max_length(64)])
    display_name = StringField(_l("Name"), validators=[REQUIRED, max_length(120)])
    email = EmailField(_l("Email"), validators=[Optional(), Email(message=_l("Enter a valid email address.")),
                                                max_length(254)])
    unit = SelectField(_l("Belongs to"), coerce=int, validate_choice=True)
    locale = SelectField(_l("Language"))
    is_active = BooleanField(_l("Active"), default=True)
    password = PasswordField(_l("Initial password"))


class ResetPasswordForm(FlaskForm):
    new_password = PasswordField(_l("New password"), validators=[REQUIRED, max_length(256)])


class CheckboxListField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RoleForm(FlaskForm):
    name = StringField(_l("Name"), validators=[REQUIRED, max_length(80)])
    description = TextAreaField(_l("Description"), validators=[max_length(2000)])
    unit = SelectField(_l("Defined for"), coerce=int)
    permissions = CheckboxListField(_l("Permissions"))
    version = IntegerField(default=1)


class GrantForm(FlaskForm):
    role = SelectField(_l("Role"), coerce=int)
    unit = SelectField(_l("On unit"), coerce=int)
    include_descendants = BooleanField(_l("Include the units below"), default=True)
