"""Corrections of who is credited with a conversation: a lead's override and an
agent's appeal (approval kind `cs.attribution_appeal`, chain team lead → company HR).

An override is written as CsOverride rows sharing one `created_at`: the people they
name share the conversation equally; a single row naming nobody leaves it
unattributed. Accepting an appeal writes such an override:
- claim "mine": the appellant is credited with the whole conversation;
- claim "not_mine": the appellant's credit is removed; the others credited share it
  equally (unattributed when nobody is left).
The conversation's credit rows are replaced at once (so its page shows the new
credit on reload), and its month's run is marked stale: the recompute job redoes
the run and its daily metrics (queued right after a lead's override commits; for an
accepted appeal by the periodic recompute, every 15 minutes).
"""
import json

from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from portal.approvals.kinds import Draft, RequestKind, register_kind, request_reason
from portal.core.audit import declare_actions, record_event
from portal.core.db import database, utcnow
from portal.core.errors import NotInScope, ServiceError
from portal.core.permissions import object_type_of
from portal.cs.attribution import mark_stale, queue_recompute
from portal.cs.models import CsAppeal, CsAttribution, CsAttributionRun, CsConversation, CsOverride
from portal.cs.permissions import CS_OVERRIDE, CS_VIEW
from portal.org.models import OrgUnit
from portal.people.models import Employee
from portal.people.permissions import employee_condition
from portal.time.services import company_zone, employee_of, local_day

KIND = "cs.attribution_appeal"
REASON_LENGTH = 2000
CLAIMS = ("mine", "not_mine")

declare_actions({
    "cs.attribution_overridden": _l("Conversation credit overridden"),
})


# --- reading -------------------------------------------------------------------------------------

def conversation_for(actor, conversation_id, permission=CS_VIEW):
    """The conversation if it is in the actor's scope for `permission`, or one credited
    to the actor themself (self-service); NotInScope otherwise."""
    condition = object_type_of(CsConversation).scope_condition(actor.scope, permission)
    conversation = CsConversation.select().where((CsConversation.id == conversation_id) & condition).first()
    if conversation is None:
        me = employee_of(actor.user)
        if me is not None and CsAttribution.select().where(
                (CsAttribution.conversation == conversation_id) & (CsAttribution.employee == me.id)).exists():
            conversation = CsConversation.get_or_none(CsConversation.id == conversation_id)
    if conversation is None:
        raise NotInScope(permission)
    return conversation


def credits_of(conversation_id):
    return list(CsAttribution.select(CsAttribution, Employee).join(Employee)
                .where(CsAttribution.conversation == conversation_id).order_by(-CsAttribution.share, Employee.id))


def overrides_of(conversation_id):
    return list(CsOverride.select().where(CsOverride.conversation == conversation_id)
                .order_by(-CsOverride.created_at, -CsOverride.id))


def appeals_of(conversation_id):
    return list(CsAppeal.select(CsAppeal, Employee).join(Employee)
                .where(CsAppeal.conversation == conversation_id).order_by(-CsAppeal.created_at))


def may_override(actor, conversation):
    """cs.override on the conversation's store or on someone credited with it."""
    store_id = conversation.account.store_id
    if actor.scope.allows(CS_OVERRIDE, OrgUnit.get_by_id(store_id)):
        return True
    ids = [c.employee_id for c in CsAttribution.select(CsAttribution.employee)
           .where(CsAttribution.conversation == conversation.id)]
    return bool(ids) and Employee.select().where(
        Employee.id.in_(ids) & employee_condition(actor.scope, CS_OVERRIDE)).exists()


def override_choices(actor, conversation, limit=500):
    """People the actor may credit: in their cs.override scope, of the conversation's company."""
    return list(Employee.select().where((Employee.company == conversation.company_id) & (Employee.status != "left")
                                        & employee_condition(actor.scope, CS_OVERRIDE))
                .order_by(Employee.legal_name).limit(limit))


# --- writing -------------------------------------------------------------------------------------

def _write_override(actor, conversation, employee_ids, reason, appeal=None):
    """Override rows (one per person, or one naming nobody), this conversation's credit
    replaced now and its month marked stale."""
    now = utcnow()
    names = employee_ids or [None]
    rows = [CsOverride.create(conversation=conversation.id, employee=employee_id, reason=reason, appeal=appeal,
                              created_by=actor.user, created_at=now) for employee_id in names]
    day = local_day(company_zone(OrgUnit.get_by_id(conversation.company_id)), conversation.started_at)
    run = CsAttributionRun.get_or_none((CsAttributionRun.company == conversation.company_id)
                                       & (CsAttributionRun.period_start == day.replace(day=1)))
    if run is not None:
        CsAttribution.delete().where(CsAttribution.conversation == conversation.id).execute()
        for row in rows:
            if row.employee_id is not None:
                CsAttribution.create(run=run.id, conversation=conversation.id, employee=row.employee_id,
                                     share=1.0 / len(rows), level=0, confidence=1.0,
                                     evidence=json.dumps({"kind": "override", "id": row.id}))
        mark_stale(conversation.company_id, day)
    record_event("cs.attribution_overridden", conversation, object_type="cs_conversation",
                 label=conversation.session_id, unit=conversation.company_id, actor=actor.user,
                 after={"employees": employee_ids, "reason": reason, "appeal": appeal.id if appeal else None})
    return rows, day


def _queue(conversation, day):
    try:
        queue_recompute(conversation.company_id, day)
    except Exception:  # noqa: BLE001 — the stale mark stays; the periodic job picks it up
        pass


def override_credit(actor, conversation, employee_id, reason):
    """A lead credits the conversation wholly to `employee_id` (None: nobody), with a reason."""
    if not may_override(actor, conversation):
        raise NotInScope(CS_OVERRIDE)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("Say why."), field="reason")
    if len(reason) > REASON_LENGTH:
        raise ServiceError(_("Use at most %(max)d characters.", max=REASON_LENGTH), field="reason")
    if employee_id is not None:
        person = Employee.select().where((Employee.id == employee_id) & (Employee.company == conversation.company_id)
                                         & employee_condition(actor.scope, CS_OVERRIDE)).first()
        if person is None:
            raise ServiceError(_("Pick someone you lead."), field="employee")
    with database.atomic():
        rows, day = _write_override(actor, conversation, [employee_id] if employee_id else [], reason)
    _queue(conversation, day)
    return rows


# --- the appeal kind -----------------------------------------------------------------------------

class AppealForm(FlaskForm):
    claim = RadioField(_l("I think"), choices=[("mine", _l("I handled this conversation")),
                                               ("not_mine", _l("I did not handle this conversation"))],
                       default="mine", validators=[DataRequired()])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=REASON_LENGTH)])


class OverrideForm(FlaskForm):
    employee = SelectField(_l("Credit"), coerce=int, validate_choice=True)
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=REASON_LENGTH)])


def _load_subject(actor, args):
    try:
        return conversation_for(actor, int(args.get("conversation", "")))
    except ValueError:
        raise NotInScope(KIND) from None


def _form(subject, formdata=None):
    return AppealForm(formdata=formdata)


def _draft(actor, conversation, values):
    conversation = conversation_for(actor, conversation.id)
    me = employee_of(actor.user)
    if me is None:
        raise ServiceError(_("Only people with an employee record can appeal."))
    claim = values.get("claim")
    if claim not in CLAIMS:
        raise ServiceError(_("Say whether you handled it."), field="claim")
    credited = CsAttribution.select().where((CsAttribution.conversation == conversation.id)
                                            & (CsAttribution.employee == me.id)).first()
    if claim == "not_mine" and credited is None:
        raise ServiceError(_("This conversation is not credited to you."), field="claim")
    if claim == "mine" and credited is not None and credited.share >= 1.0:
        raise ServiceError(_("This conversation is already credited wholly to you."), field="claim")
    if CsAppeal.select().where((CsAppeal.conversation == conversation.id) & (CsAppeal.employee == me.id)
                               & (CsAppeal.state == "pending")).exists():
        raise ServiceError(_("You already have an appeal pending for this conversation."))
    reason = request_reason(values, max_length=REASON_LENGTH)
    payload = {"conversation": conversation.id, "session": conversation.session_id, "employee": me.id,
               "name": me.display_name, "claim": claim}
    title = f"{conversation.session_id}: {me.display_name} ({claim})"
    return Draft(unit=OrgUnit.get_by_id(me.unit_id), subject=conversation, title=title, payload=payload,
                 reason=reason, effective_date=conversation.started_at.date())


def _on_submit(actor, request, payload):
    CsAppeal.create(conversation=payload["conversation"], employee=payload["employee"], claim=payload["claim"],
                    reason=request.reason, state="pending", approval=request, created_by=actor.user)


def _apply(actor, request, payload):
    appeal = CsAppeal.get_or_none((CsAppeal.approval == request.id) & (CsAppeal.state == "pending"))
    if appeal is None:
        raise ServiceError(_("This appeal is no longer pending. Reject the request."))
    conversation = CsConversation.get_by_id(appeal.conversation_id)
    if appeal.claim == "mine":
        people = [appeal.employee_id]
    else:
        people = [c.employee_id for c in CsAttribution.select(CsAttribution.employee)
                  .where((CsAttribution.conversation == conversation.id)
                         & (CsAttribution.employee != appeal.employee_id)).order_by(CsAttribution.employee)]
    reason = _("Appeal accepted: %(reason)s", reason=appeal.reason)
    _rows, day = _write_override(actor, conversation, people, reason, appeal=request)
    CsAppeal.update(state="accepted", version=CsAppeal.version + 1).where(CsAppeal.id == appeal.id).execute()
    # Not queued here: a worker starting before the approval commits would recompute without the
    # override. The stale run is picked up by the periodic recompute (every 15 minutes).


def _on_close(actor, request, payload, state):
    CsAppeal.update(state="rejected" if state == "rejected" else "withdrawn", version=CsAppeal.version + 1).where(
        (CsAppeal.approval == request.id) & (CsAppeal.state == "pending")).execute()


def _describe(request, payload):
    claim = _("I handled this conversation") if payload["claim"] == "mine" else \
        _("I did not handle this conversation")
    return [(_("Person"), payload["name"]), (_("Conversation"), payload["session"]), (_("Claim"), claim)]


register_kind(RequestKind(
    key=KIND,
    label=_l("Conversation credit appeal"),
    default_chain=("team_lead", "company_hr"),
    load_subject=_load_subject,
    form=_form,
    draft=_draft,
    apply=_apply,
    describe=_describe,
    on_submit=_on_submit,
    on_close=_on_close,
    intro=_l("Tell your lead who handled this conversation. Once accepted, the credit and your figures change."),
    subject_args=("conversation",),
))


def submit_appeal(actor, conversation, claim, reason):
    """The agent appeals how `conversation` is credited; returns the CsAppeal."""
    from portal.approvals.services import submit_request

    request = submit_request(actor, KIND, conversation, {"claim": claim, "reason": reason})
    return CsAppeal.get(CsAppeal.approval == request.id)
