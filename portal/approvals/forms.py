from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, FieldList, HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import AnyOf, Optional

from portal.approvals.services import MAX_CHAIN_STEPS, MAX_COMMENT_LENGTH
from portal.core.forms import REQUIRED, SelectField, max_length

REQUEST_STATE_LABELS = {
    "pending": _l("Pending"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
    "withdrawn": _l("Withdrawn"),
}
STEP_STATE_LABELS = {
    "waiting": _l("Later"),
    "pending": _l("Deciding now"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
    "skipped": _l("Passed over"),
}
DELEGATION_STATE_LABELS = {
    "coming": _l("Coming"),
    "running": _l("Running"),
    "ended": _l("Ended"),
    "revoked": _l("Ended early"),
}


class DecisionForm(FlaskForm):
    """Approve or reject: the button pressed sends `decision`."""

    version = IntegerField(validators=[REQUIRED])
    decision = HiddenField(validators=[AnyOf(("approve", "reject"), message=_l("Approve or reject the request."))])
    comment = TextAreaField(_l("Comment"), validators=[max_length(MAX_COMMENT_LENGTH)])


class WithdrawForm(FlaskForm):
    version = IntegerField(validators=[REQUIRED])


class DelegationForm(FlaskForm):
    delegate = StringField(_l("Username of your stand-in"), validators=[REQUIRED, max_length(64)])
    start_date = DateField(_l("First day"), validators=[REQUIRED])
    end_date = DateField(_l("Last day"), validators=[REQUIRED])


class ChainForm(FlaskForm):
    """The roles of a chain, in order: one select per step, blank ones left out."""

    steps = FieldList(SelectField(_l("Role"), default=""), min_entries=MAX_CHAIN_STEPS, max_entries=MAX_CHAIN_STEPS)
    version = IntegerField(validators=[Optional()])

    def role_ids(self):
        return [int(entry.data) for entry in self.steps if entry.data]
