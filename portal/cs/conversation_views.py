"""Conversation pages: the list behind every dashboard figure (filters: account,
person, day range, level, unattributed) and one conversation with "Why was this
credited?" — each credit's level, confidence and evidence spelled out — with the
appeal form for the agent and the override form for the lead.

An agent without cs.view opens a conversation credited to themself (self-service);
any other conversation answers 404 like one outside the scope."""
import datetime as dt
import json
from zoneinfo import ZoneInfo

import peewee as pw

from flask import Blueprint, abort, current_app, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l, ngettext

from portal.core.errors import NotInScope, ServiceError
from portal.core.forms import parse_page
from portal.core.htmx import redirect_after_change, render
from portal.core.permissions import current_actor, current_scope, login_only, require, scoped_select
from portal.cs import appeals
from portal.cs.models import (CsAccount, CsAccountBinding, CsAttribution, CsConversation, CsLoginSession,
                              CsOverride, CsSubAccount, CsSubAccountBinding)
from portal.cs.permissions import CS_VIEW
from portal.org.models import OrgUnit
from portal.people.models import Employee
from portal.time.models import RosterEntry, ShiftType
from portal.time.services import company_zone, employee_of, local_instant

blueprint = Blueprint("conversations", __name__, url_prefix="/conversations")

MATCH_LABELS = {"ip": _l("platform login matched by IP address"),
                "workstation": _l("platform login matched by workstation"),
                "clock_in": _l("platform login matched by clock-in")}
LEVEL_LABELS = {0: _l("lead's override"), 1: _l("bound sub-account"), 2: _l("platform login"),
                3: _l("clocked in and rostered"), 4: _l("rostered only")}
LEVEL_FILTERS = [("", _l("Any level")), ("0", _l("Lead's override")), ("1", _l("Bound")),
                 ("2", _l("Platform login")), ("3", _l("Clocked in and rostered")), ("4", _l("Rostered only"))]


def level_label(level, evidence):
    kind = evidence.get("kind")
    if kind == "account_binding":
        return _("personal account")
    if kind == "login":
        return str(MATCH_LABELS.get(evidence.get("match"), LEVEL_LABELS[2]))
    return str(LEVEL_LABELS.get(level, level))


def _evidence_rows(credits):
    """Per credit: (label, object) of the evidence — binding, login session, roster entry or override."""
    wanted = {}
    for credit in credits:
        evidence = json.loads(credit.evidence or "{}")
        credit.evidence_data = evidence
        wanted.setdefault(evidence.get("kind"), set()).add(evidence.get("id"))
    loaders = {
        "sub_binding": lambda ids: CsSubAccountBinding.select(CsSubAccountBinding, CsSubAccount).join(CsSubAccount)
        .where(CsSubAccountBinding.id.in_(ids)),
        "account_binding": lambda ids: CsAccountBinding.select().where(CsAccountBinding.id.in_(ids)),
        "login": lambda ids: CsLoginSession.select().where(CsLoginSession.id.in_(ids)),
        "clocked_rostered": lambda ids: RosterEntry.select(RosterEntry, ShiftType).join(ShiftType)
        .where(RosterEntry.id.in_(ids)),
        "rostered": lambda ids: RosterEntry.select(RosterEntry, ShiftType).join(ShiftType)
        .where(RosterEntry.id.in_(ids)),
        "override": lambda ids: CsOverride.select().where(CsOverride.id.in_(ids)),
    }
    found = {kind: {row.id: row for row in loaders[kind](list(ids))} for kind, ids in wanted.items()
             if kind in loaders}
    for credit in credits:
        evidence = credit.evidence_data
        credit.evidence_kind = evidence.get("kind")
        credit.evidence_row = found.get(evidence.get("kind"), {}).get(evidence.get("id"))
        credit.level_name = level_label(credit.level, evidence)
    return credits


def _detail_context(actor, conversation, appeal_form=None, override_form=None):
    account = CsAccount.get_by_id(conversation.account_id)
    me = employee_of(actor.user)
    credits = _evidence_rows(appeals.credits_of(conversation.id))
    can_override = appeals.may_override(actor, conversation)
    if can_override and override_form is None:
        override_form = appeals.OverrideForm()
    if override_form is not None:
        override_form.employee.choices = [(0, _("Nobody (unattributed)"))] + [
            (person.id, f"{person.display_name} ({person.number})")
            for person in appeals.override_choices(actor, conversation)]
    return dict(
        conversation=conversation, account=account, store=OrgUnit.get_by_id(account.store_id),
        sub_account=CsSubAccount.get_or_none(CsSubAccount.id == conversation.sub_account_id),
        credits=credits, overrides=appeals.overrides_of(conversation.id), appeals=appeals.appeals_of(conversation.id),
        me=me, mine=any(me is not None and c.employee_id == me.id for c in credits),
        appeal_form=appeal_form or (appeals.AppealForm() if me is not None else None),
        override_form=override_form if can_override else None,
        people={p.id: p for p in Employee.select().where(Employee.id.in_(
            [o.employee_id for o in appeals.overrides_of(conversation.id) if o.employee_id] or [0]))})


def _conversation_or_404(actor, cs_conversation_id):
    try:
        return appeals.conversation_for(actor, cs_conversation_id)
    except NotInScope:
        abort(404)


@blueprint.get("/<int:cs_conversation_id>")
@login_only
def conversation(cs_conversation_id):
    actor = current_actor()
    row = _conversation_or_404(actor, cs_conversation_id)
    return render("cs/conversation.html", "cs/_conversation.html", **_detail_context(actor, row))


@blueprint.post("/<int:cs_conversation_id>/appeal")
@login_only
def appeal(cs_conversation_id):
    actor = current_actor()
    row = _conversation_or_404(actor, cs_conversation_id)
    form = appeals.AppealForm()
    if form.validate_on_submit():
        try:
            appeals.submit_appeal(actor, row, form.claim.data, form.reason.data)
        except ServiceError as error:
            (getattr(form, error.field).errors.append(error.message) if error.field and hasattr(form, error.field)
             else form.form_errors.append(error.message))
        else:
            return redirect_after_change(url_for(".conversation", cs_conversation_id=row.id))
    return render("cs/conversation.html", "cs/_conversation.html", status=422,
                  **_detail_context(actor, row, appeal_form=form))


@blueprint.post("/<int:cs_conversation_id>/override")
@login_only
def override(cs_conversation_id):
    actor = current_actor()
    row = _conversation_or_404(actor, cs_conversation_id)
    if not appeals.may_override(actor, row):
        abort(404)
    form = appeals.OverrideForm()
    context = _detail_context(actor, row, override_form=form)  # fills the choices
    if form.validate_on_submit():
        try:
            appeals.override_credit(actor, row, form.employee.data or None, form.reason.data)
        except ServiceError as error:
            (getattr(form, error.field).errors.append(error.message) if error.field and hasattr(form, error.field)
             else form.form_errors.append(error.message))
        else:
            return redirect_after_change(url_for(".conversation", cs_conversation_id=row.id))
    return render("cs/conversation.html", "cs/_conversation.html", status=422, **context)


# --- the list ------------------------------------------------------------------------------------

def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _day(value):
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def parse_filters(args):
    return {"account": _int(args.get("account")), "employee": _int(args.get("employee")),
            "start": _day(args.get("start")), "end": _day(args.get("end")),
            "level": _int(args.get("level")), "unattributed": args.get("unattributed") == "1"}


def list_conversations(scope, filters, zone, page, per_page):
    """(rows, has_next, unattributed count or None) of the conversations in scope
    matching `filters`, newest first; paged by fetching one row more (no COUNT over
    the table). The unattributed list is counted (it is the period's short list)."""
    query = scoped_select(CsConversation, CS_VIEW, CsConversation, CsAccount, scope=scope).join(CsAccount)
    if filters["account"]:
        query = query.where(CsConversation.account == filters["account"])
    if filters["start"]:
        query = query.where(CsConversation.started_at >= local_instant(zone, filters["start"], 0))
    if filters["end"]:
        query = query.where(CsConversation.started_at < local_instant(zone, filters["end"] + dt.timedelta(days=1), 0))
    credit = CsAttribution.select(CsAttribution.id).where(CsAttribution.conversation == CsConversation.id)
    if filters["employee"]:
        query = query.where(pw_exists(credit.where(CsAttribution.employee == filters["employee"])))
    if filters["level"] is not None:
        query = query.where(pw_exists(credit.where(CsAttribution.level == filters["level"])))
    count = None
    if filters["unattributed"]:
        query = query.where(~pw_exists(CsAttribution.select(CsAttribution.id)
                                       .where(CsAttribution.conversation == CsConversation.id)))
        count = query.count()
    rows = list(query.order_by(CsConversation.started_at.desc(), CsConversation.id.desc())
                .offset((page - 1) * per_page).limit(per_page + 1))
    has_next = len(rows) > per_page
    rows = rows[:per_page]
    credits = {}
    for row in (CsAttribution.select(CsAttribution, Employee).join(Employee)
                .where(CsAttribution.conversation.in_([r.id for r in rows] or [0]))):
        credits.setdefault(row.conversation_id, []).append(row)
    for row in rows:
        row.credits = credits.get(row.id, [])
    return rows, has_next, count


def pw_exists(query):
    return pw.fn.EXISTS(query)


@blueprint.get("")
@require("cs.view")
def conversations():
    actor = current_actor()
    filters = parse_filters(request.args)
    zone = _viewer_zone(actor, filters)
    page = parse_page(request.args)
    rows, has_next, count = list_conversations(current_scope(), filters, zone, page,
                                               current_app.config.get("PAGE_SIZE", 50))
    accounts = list(scoped_select(CsAccount, CS_VIEW).order_by(CsAccount.code).limit(500))
    args = {k: (("1" if v else None) if k == "unattributed" else (v.isoformat() if isinstance(v, dt.date) else v))
            for k, v in filters.items()}
    args = {k: v for k, v in args.items() if v is not None}
    count_text = ngettext("%(num)d unattributed conversation", "%(num)d unattributed conversations", count) \
        if count is not None else None
    return render("cs/conversations.html", "cs/_conversations.html", rows=rows, has_next=has_next, page=page,
                  filters=filters, args=args, accounts=accounts, level_filters=LEVEL_FILTERS,
                  level_labels=LEVEL_LABELS, count_text=count_text)


def _viewer_zone(actor, filters):
    """Day filters read in the zone of the account's company, else of the viewer's company."""
    if filters["account"]:
        account = CsAccount.get_or_none(CsAccount.id == filters["account"])
        if account is not None:
            return company_zone(OrgUnit.get_by_id(account.company_id))
    me = employee_of(actor.user)
    if me is not None:
        return company_zone(OrgUnit.get_by_id(me.company_id))
    return ZoneInfo("UTC")
