"""The people domain's approval requests (approvals.kinds): a transfer (调岗), a
secondary post (兼岗), and an employee's own contact details.

Registered with the approval engine when this module loads, which people.permissions
makes happen at start. That is before the people and posts services these kinds call
have loaded (they import people.permissions themselves), so those are imported where
they are used.
"""
import datetime as dt
import functools
import json
from decimal import Decimal

from flask_babel import format_date, format_percent, gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, IntegerField, StringField, TextAreaField
from wtforms.validators import Email, NumberRange, Optional

from portal.approvals.kinds import MAX_REASON_LENGTH, Draft, RequestKind, register_kind, request_reason
from portal.approvals.models import ApprovalRequest
from portal.approvals.services import declare_notifications, holders_of
from portal.core.errors import NotInScope, ServiceError
from portal.core.forms import REQUIRED, SelectField, max_length
from portal.core.permissions import WholeGroupScope
from portal.org.models import OrgUnit
from portal.org.services import unit_choices
from portal.people.models import Assignment, Employee
from portal.people.permissions import PEOPLE_TRANSFER, employee_condition
from portal.posts.models import Post

TARGET_UNIT_KINDS = ("company", "store", "department", "team")

# The leads of the unit a person is to join hear of the request as it is made.
declare_notifications({
    "people.transfer.submitted": _l("%(name)s is to join %(to_unit_name)s as %(to_post_title)s from "
                                    "%(effective_date)s, once the transfer is approved."),
    "people.secondary_post.submitted": _l("%(name)s is to hold the post %(post_title)s in %(unit_name)s from "
                                          "%(start_date)s, once the request is approved."),
})


# --- shared by the kinds --------------------------------------------------------------

def _person_for_transfer(actor, employee_id):
    """A person the actor may request transfers and secondary posts for, or NotInScope."""
    employee = Employee.select().where(
        (Employee.id == employee_id) & employee_condition(actor.scope, PEOPLE_TRANSFER)).first()
    if employee is None:
        raise NotInScope(PEOPLE_TRANSFER)
    return employee


def _person_from_args(actor, args):
    try:
        employee_id = int(args.get("employee", ""))
    except (TypeError, ValueError):
        raise NotInScope(PEOPLE_TRANSFER) from None
    return _person_for_transfer(actor, employee_id)


def _person_to_move(actor, employee):
    """`employee` read again through the actor's transfer scope; they must not have left."""
    employee = _person_for_transfer(actor, employee.id)
    if employee.status == "left":
        raise ServiceError(_("This person has left the company."))
    return employee


# A transfer and a secondary post: asked for a person in the actor's transfer scope
# (named by ?employee=), approved by the leads of the unit, then its company's HR.
_move_kind = functools.partial(RequestKind, default_chain=("team_lead", "company_hr"),
                               load_subject=_person_from_args, subject_args=("employee",))


def _title(employee):
    return f"{employee.display_name} ({employee.number})"


def _share(values):
    share = values.get("share")
    if not isinstance(share, int) or not 1 <= share <= 100:
        raise ServiceError(_("Enter a share from 1 to 100 percent."), field="share")
    return share


def _target(values, unit_field, post_field):
    """The unit and post asked for: active, the unit of the post's company."""
    unit = OrgUnit.get_or_none((OrgUnit.id == (values.get(unit_field) or 0)) & OrgUnit.archived_at.is_null()
                               & OrgUnit.company.is_null(False))
    if unit is None:
        raise ServiceError(_("Choose a unit from the list."), field=unit_field)
    post = Post.get_or_none((Post.id == (values.get(post_field) or 0)) & Post.archived_at.is_null())
    if post is None:
        raise ServiceError(_("Choose a post from the list."), field=post_field)
    if post.company_id != unit.company_id:
        raise ServiceError(_("This post belongs to another company than the unit. Choose a post of %(company)s.",
                             company=unit.company.name), field=post_field)
    return unit, post


def _leads_of(unit):
    return tuple(holders_of("team_lead", unit))


def _pending_payloads(kind, employee):
    rows = (ApprovalRequest.select(ApprovalRequest.payload)
            .where((ApprovalRequest.kind == kind) & (ApprovalRequest.state == "pending")
                   & (ApprovalRequest.subject_type == Employee._meta.table_name)
                   & (ApprovalRequest.subject_id == employee.id)).tuples())
    return [json.loads(payload) for (payload,) in rows]


def _date(value):
    return dt.date.fromisoformat(value) if value else None


def _percent(share):
    return format_percent(Decimal(share) / 100)


def _optional_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _target_choices(employee, formdata, unit_field):
    """(unit choices, post choices) for a post somewhere else: every active unit of the
    group (a transfer or a secondary post may lead anywhere in it; the chain decides
    whether it happens), and the active posts of the chosen unit's company, or of the
    person's own company until a unit is chosen (the form reloads when it is)."""
    unit_id = _optional_int(formdata.get(unit_field)) if formdata else None
    unit = OrgUnit.get_or_none(OrgUnit.id == unit_id) if unit_id else None
    company_id = unit.company_id if unit is not None and unit.company_id else employee.company_id
    posts = (Post.select(Post.id, Post.title, Post.code)
             .where((Post.company == company_id) & Post.archived_at.is_null()).order_by(Post.title).tuples())
    return ([("", _("Choose a unit"))] + unit_choices(WholeGroupScope(), None, TARGET_UNIT_KINDS),
            [("", _("Choose a post"))] + [(post_id, f"{title} · {code}") for post_id, title, code in posts])


def _load_target(payload, unit_key, post_key):
    unit = OrgUnit.get_or_none(OrgUnit.id == payload[unit_key])
    post = Post.get_or_none(Post.id == payload[post_key])
    if unit is None or post is None:
        raise ServiceError(_("The unit or post asked for no longer exists. Reject the request."))
    return unit, post


def _load_person(payload):
    employee = Employee.get_or_none(Employee.id == payload["employee"])
    if employee is None:
        raise ServiceError(_("The person's record no longer exists. Reject the request."))
    return employee


# --- transfer (调岗) -----------------------------------------------------------------------

class TransferForm(FlaskForm):
    assignment = SelectField(_l("Post to leave"), coerce=int)
    to_unit = SelectField(_l("New unit"), coerce=_optional_int, validators=[REQUIRED])
    to_post = SelectField(_l("New post"), coerce=_optional_int, validators=[REQUIRED])
    share = IntegerField(_l("Share of their time (%)"), validators=[REQUIRED, NumberRange(
        1, 100, message=_l("Enter a share from 1 to 100 percent."))])
    effective_date = DateField(_l("Takes effect on"), validators=[REQUIRED])
    reason = TextAreaField(_l("Reason"), validators=[REQUIRED, max_length(MAX_REASON_LENGTH)])


def _assignments_to_leave(employee, today=None):
    """The person's assignments in force today or starting later."""
    today = today or dt.date.today()
    return list(Assignment.select(Assignment, Post, OrgUnit).join(Post).switch(Assignment)
                .join(OrgUnit, on=(Assignment.unit == OrgUnit.id))
                .where((Assignment.employee == employee.id)
                       & (Assignment.end_date.is_null() | (Assignment.end_date >= today)))
                .order_by(Assignment.is_primary.desc(), Assignment.start_date))


def _transfer_form(employee, formdata=None):
    held = _assignments_to_leave(employee)
    form = TransferForm(formdata=formdata, share=held[0].share if held else 100)
    form.assignment.choices = [(a.id, f"{a.post.title} · {a.unit.name} ({_percent(a.share)})") for a in held]
    form.to_unit.choices, form.to_post.choices = _target_choices(employee, formdata, "to_unit")
    return form


def _draft_transfer(actor, employee, values, today=None):
    from portal.people.assignments import check_capacity

    today = today or dt.date.today()
    employee = _person_to_move(actor, employee)
    assignment = Assignment.get_or_none((Assignment.id == (values.get("assignment") or 0))
                                        & (Assignment.employee == employee.id))
    if assignment is None or (assignment.end_date is not None and assignment.end_date < today):
        raise ServiceError(_("Choose one of the person's current posts."), field="assignment")
    if any(payload.get("assignment") == assignment.id for payload in _pending_payloads("people.transfer", employee)):
        raise ServiceError(_("A transfer from this post is already waiting for approval."), field="assignment")
    to_unit, to_post = _target(values, "to_unit", "to_post")
    if (to_unit.id, to_post.id) == (assignment.unit_id, assignment.post_id):
        raise ServiceError(_("The person already holds this post in this unit."), field="to_post")
    share = _share(values)
    effective_date = values.get("effective_date")
    if effective_date is None:
        raise ServiceError(_("Enter the day the transfer takes effect."), field="effective_date")
    if effective_date < today or effective_date <= assignment.start_date:
        raise ServiceError(_("Choose a day from today on, after the current post starts (%(date)s).",
                             date=format_date(assignment.start_date)), field="effective_date")
    if assignment.end_date is not None and effective_date > assignment.end_date:
        raise ServiceError(_("The current post ends on %(date)s, before that day.",
                             date=format_date(assignment.end_date)), field="effective_date")
    check_capacity(employee, share, effective_date, assignment.end_date, exclude_id=assignment.id)
    payload = {
        "employee": employee.id, "name": employee.display_name, "number": employee.number,
        "assignment": assignment.id, "from_post": assignment.post.title, "from_unit": assignment.unit.name,
        "from_share": assignment.share, "to_unit": to_unit.id, "to_unit_name": to_unit.name, "to_post": to_post.id,
        "to_post_title": to_post.title, "share": share, "effective_date": effective_date.isoformat(),
    }
    # The approvers are those of the unit the person leaves.
    return Draft(unit=assignment.unit, subject=employee, title=_title(employee), payload=payload,
                 reason=request_reason(values), effective_date=effective_date, watchers=_leads_of(to_unit))


def _apply_transfer(actor, request, payload):
    from portal.people.assignments import transfer_assignment

    assignment = Assignment.get_or_none(Assignment.id == payload["assignment"])
    if assignment is None:
        raise ServiceError(_("The post to leave no longer exists. Reject the request."))
    to_unit, to_post = _load_target(payload, "to_unit", "to_post")
    transfer_assignment(actor, assignment, to_unit, to_post, payload["share"], _date(payload["effective_date"]))


def _describe_transfer(request, payload):
    return [
        (_("Person"), f"{payload['name']} ({payload['number']})"),
        (_("Leaves"), f"{payload['from_post']} · {payload['from_unit']} ({_percent(payload['from_share'])})"),
        (_("Joins"), f"{payload['to_post_title']} · {payload['to_unit_name']} ({_percent(payload['share'])})"),
        (_("Takes effect on"), format_date(_date(payload["effective_date"]))),
    ]


register_kind(_move_kind(
    key="people.transfer",
    label=_l("Transfer"),
    form=_transfer_form,
    draft=_draft_transfer,
    apply=_apply_transfer,
    describe=_describe_transfer,
    intro=_l("The person leaves one of their posts for a post in another unit from the day it takes effect. "
             "The leads of the unit they leave and its company's HR approve it; the new unit's leads are told."),
    refresh_on=("to_unit",),
))


# --- secondary post (兼岗) ---------------------------------------------------------------

class SecondaryPostForm(FlaskForm):
    unit = SelectField(_l("Unit"), coerce=_optional_int, validators=[REQUIRED])
    post = SelectField(_l("Post"), coerce=_optional_int, validators=[REQUIRED])
    share = IntegerField(_l("Share of their time (%)"), validators=[REQUIRED, NumberRange(
        1, 100, message=_l("Enter a share from 1 to 100 percent."))])
    start_date = DateField(_l("First day"), validators=[REQUIRED])
    end_date = DateField(_l("Last day"), validators=[Optional()])
    reason = TextAreaField(_l("Reason"), validators=[REQUIRED, max_length(MAX_REASON_LENGTH)])


def _secondary_post_form(employee, formdata=None):
    form = SecondaryPostForm(formdata=formdata)
    form.unit.choices, form.post.choices = _target_choices(employee, formdata, "unit")
    return form


def _draft_secondary_post(actor, employee, values, today=None):
    from portal.people.assignments import check_capacity

    today = today or dt.date.today()
    employee = _person_to_move(actor, employee)
    unit, post = _target(values, "unit", "post")
    share = _share(values)
    start_date, end_date = values.get("start_date"), values.get("end_date")
    if start_date is None or start_date < today:
        raise ServiceError(_("Choose a first day from today on."), field="start_date")
    if end_date is not None and end_date < start_date:
        raise ServiceError(_("The last day cannot come before the first."), field="end_date")
    # Checked again when the request is approved: the person's posts may change meanwhile.
    check_capacity(employee, share, start_date, end_date)
    payload = {
        "employee": employee.id, "name": employee.display_name, "number": employee.number, "unit": unit.id,
        "unit_name": unit.name, "post": post.id, "post_title": post.title, "share": share,
        "start_date": start_date.isoformat(), "end_date": end_date.isoformat() if end_date else None,
    }
    # The approvers are those of the person's own unit (their primary post's).
    return Draft(unit=employee.unit, subject=employee, title=_title(employee), payload=payload,
                 reason=request_reason(values), effective_date=start_date, watchers=_leads_of(unit))


def _apply_secondary_post(actor, request, payload):
    from portal.people.assignments import assign_post

    unit, post = _load_target(payload, "unit", "post")
    assign_post(actor, _load_person(payload), post, unit, payload["share"], _date(payload["start_date"]),
                _date(payload["end_date"]), is_primary=False)


def _describe_secondary_post(request, payload):
    end_date = _date(payload["end_date"])
    return [
        (_("Person"), f"{payload['name']} ({payload['number']})"),
        (_("Also holds"), f"{payload['post_title']} · {payload['unit_name']} ({_percent(payload['share'])})"),
        (_("From"), format_date(_date(payload["start_date"]))),
        (_("Until"), format_date(end_date) if end_date else _("Open-ended")),
    ]


register_kind(_move_kind(
    key="people.secondary_post",
    label=_l("Secondary post"),
    form=_secondary_post_form,
    draft=_draft_secondary_post,
    apply=_apply_secondary_post,
    describe=_describe_secondary_post,
    intro=_l("The person takes on a further post, in any unit of the group, with a share of their time. "
             "All their shares together may not exceed 100%."),
    refresh_on=("unit",),
))


# --- contact details (self-service) ------------------------------------------------------

CONTACT_LABELS = {
    "email": _l("Email"),
    "phone": _l("Phone"),
    "address": _l("Address"),
    "emergency_contact_name": _l("Emergency contact"),
    "emergency_contact_relation": _l("Relation to you"),
    "emergency_contact_phone": _l("Emergency contact's phone"),
}


class ContactChangeForm(FlaskForm):
    email = EmailField(CONTACT_LABELS["email"], validators=[
        Optional(), Email(message=_l("Enter an email address such as name@example.com.")), max_length(254)])
    phone = StringField(CONTACT_LABELS["phone"], validators=[max_length(40)])
    address = TextAreaField(CONTACT_LABELS["address"], validators=[max_length(500)])
    emergency_contact_name = StringField(CONTACT_LABELS["emergency_contact_name"], validators=[max_length(120)])
    emergency_contact_relation = StringField(CONTACT_LABELS["emergency_contact_relation"],
                                             validators=[max_length(60)])
    emergency_contact_phone = StringField(CONTACT_LABELS["emergency_contact_phone"], validators=[max_length(40)])


def _own_record(actor, args=None):
    """The actor's own employee record; anyone without one gets 404."""
    employee = Employee.get_or_none(Employee.user == actor.user.id) if actor.user is not None else None
    if employee is None:
        raise NotInScope("employee")
    return employee


def _contact_form(employee, formdata=None):
    return ContactChangeForm(formdata=formdata, obj=employee)


def _draft_contact_change(actor, employee, values):
    from portal.people.services import contact_fields

    own = _own_record(actor)
    if own.id != employee.id:
        raise NotInScope("employee")
    if _pending_payloads("people.contact_change", own):
        raise ServiceError(_("Your earlier change is still waiting for approval."))
    changes = {}
    for name in (name for name in contact_fields() if name in values):  # a detail not given stays as it is
        wanted = (values.get(name) or "").strip()
        if wanted != (getattr(own, name) or ""):
            changes[name] = {"from": getattr(own, name) or "", "to": wanted}
    if not changes:
        raise ServiceError(_("Change at least one of your details."))
    payload = {"employee": own.id, "name": own.display_name, "number": own.number, "changes": changes}
    return Draft(unit=own.unit, subject=own, title=_title(own), payload=payload)


def _apply_contact_change(actor, request, payload):
    from portal.people.services import apply_contact_change

    apply_contact_change(actor, _load_person(payload), {name: change["to"] for name, change in
                                                        payload["changes"].items()})


def _describe_contact_change(request, payload):
    rows = [(_("Person"), f"{payload['name']} ({payload['number']})")]
    for name, change in payload["changes"].items():
        rows.append((CONTACT_LABELS.get(name, name), f"{change['from'] or '—'} → {change['to'] or '—'}"))
    return rows


register_kind(RequestKind(
    key="people.contact_change",
    label=_l("Change of contact details"),
    default_chain=("company_hr",),
    load_subject=_own_record,
    form=_contact_form,
    draft=_draft_contact_change,
    apply=_apply_contact_change,
    describe=_describe_contact_change,
    intro=_l("Your HR checks the new details before they replace the ones on your record."),
))
