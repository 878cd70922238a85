"""The approval engine and in-app notifications.

A request of a declared kind (approvals.kinds) moves through a chain of steps, one
role each: the kind's default chain, or the chain set on the request's unit or on the
nearest unit above it. Whoever holds a step's role on the request's unit (a grant
there, or above it with descendants) decides the step, and so does their delegate
while a delegation runs. A step nobody can decide is skipped, so a request never gets
stuck; the requester never decides a step of their own request.

Decisions are optimistic: the request's `version` rises with each one, and a single
UPDATE ... WHERE version = ? AND state = 'pending' lets exactly one of two approvers
acting at the same moment through; the other is told it was already decided.
"""
import datetime as dt
import json
from dataclasses import dataclass

import peewee as pw
from flask import current_app
from flask_babel import format_date, gettext as _, lazy_gettext as _l

from portal.accounts.models import Grant, Role, User
from portal.approvals.kinds import KINDS, kind_label, kind_or_404
from portal.approvals.models import ApprovalChain, ApprovalRequest, ApprovalStep, Delegation, Notification
from portal.approvals.permissions import APPROVALS_CONFIGURE, APPROVALS_VIEW
from portal.audit.models import AuditEvent
from portal.core.audit import record_event
from portal.core.db import PreparedSelect, chunked_insert, database, utcnow
from portal.core.errors import NotInScope, ServiceError
from portal.core.permissions import Actor, WholeGroupScope
from portal.org.models import OrgUnit

MAX_CHAIN_STEPS = 5
MAX_COMMENT_LENGTH = 2000
ALREADY_DECIDED = _l("This request was already decided by someone else.")

# Message key → a lazy format string; each domain declares the notifications it sends.
NOTIFICATION_MESSAGES = {}


def declare_notifications(messages):
    """Register notification texts ({"people.contract_expiring": _l("The contract of %(name)s ends on %(date)s.")})."""
    NOTIFICATION_MESSAGES.update(messages)


declare_notifications({
    "approvals.step_waiting": _l("%(requester)s asks for your approval: %(kind)s, %(title)s."),
    "approvals.request_approved": _l("Your request is approved: %(kind)s, %(title)s."),
    "approvals.request_rejected": _l("%(decider)s rejected your request: %(kind)s, %(title)s."),
    "approvals.delegated_to_you": _l("%(delegator)s asks you to decide their approvals from %(start_date)s "
                                     "to %(end_date)s."),
})


# --- notifications ------------------------------------------------------------------

def notify(users, message, params=None, link=""):
    """Queue an in-app notification for each of `users` (User rows or ids). Runs in the
    caller's transaction. `link` is a path inside the portal (see `portal_path`)."""
    if message not in NOTIFICATION_MESSAGES:
        raise LookupError(f"undeclared notification {message!r}")
    now, encoded = utcnow(), json.dumps(params or {}, ensure_ascii=False, default=str)
    user_ids = sorted({getattr(user, "id", user) for user in users})
    with database.atomic():
        chunked_insert(Notification, [{"user": user_id, "message": message, "params": encoded, "link": link,
                                       "created_at": now} for user_id in user_ids])


def portal_path(endpoint, **values):
    """The path of a page, for links stored outside a request (notifications); the
    page that shows it puts the script root in front."""
    return current_app.url_map.bind("").build(endpoint, values)


def _shown(name, value):
    """A parameter stored as data, shown in the reader's language: `kind` names a
    request kind, and a `…date` parameter is an ISO date."""
    if name == "kind":
        return kind_label(value)
    if name.endswith("date") and isinstance(value, str):
        try:
            return format_date(dt.date.fromisoformat(value))
        except ValueError:
            return value
    return value


def notification_text(notification):
    """The notification in the reader's language."""
    template = NOTIFICATION_MESSAGES.get(notification.message, notification.message)
    params = json.loads(notification.params or "{}")
    return str(template) % {name: _shown(name, value) for name, value in params.items()}


def list_notifications(user, page=1, per_page=50):
    """The user's notifications, newest first; returns (rows, has_next)."""
    rows = list(Notification.select().where(Notification.user == user.id)
                .order_by(Notification.created_at.desc(), Notification.id.desc())
                .offset((page - 1) * per_page).limit(per_page + 1))
    return rows[:per_page], len(rows) > per_page


def mark_notifications_read(user, notification_id=None):
    """Mark one of the user's notifications (or all of them) read; returns how many
    changed. The reader's own bookkeeping, not a change to anyone's records: not
    audited (an audit event would also invalidate every cached page, core/cache.py)."""
    condition = (Notification.user == user.id) & Notification.read_at.is_null()
    if notification_id is not None:
        if not Notification.select().where((Notification.id == notification_id)
                                           & (Notification.user == user.id)).exists():
            raise NotInScope("notification")
        condition &= Notification.id == notification_id
    with database.atomic():
        return Notification.update(read_at=utcnow()).where(condition).execute()


# --- chains ------------------------------------------------------------------------

def builtin_roles(keys):
    """The built-in roles with these keys, in the order given (missing ones left out)."""
    by_key = {role.builtin_key: role for role in Role.select().where(Role.builtin_key.in_(list(keys)))}
    return [by_key[key] for key in keys if key in by_key]


def roles_usable_at(unit):
    """Roles a chain on `unit` may name: those defined on it or on a unit above it."""
    return list(Role.select().where(Role.unit.in_(unit.ancestor_ids + [unit.id]))
                .order_by(Role.builtin_key.is_null(), Role.name))


def chain_row(kind_key, unit):
    """The ApprovalChain that applies at `unit`: its own, or the nearest above it; None when none."""
    return (ApprovalChain.select(ApprovalChain, OrgUnit).join(OrgUnit)
            .where((ApprovalChain.kind == kind_key) & (ApprovalChain.unit.in_(unit.ancestor_ids + [unit.id])))
            .order_by(OrgUnit.depth.desc()).first())


def chain_roles(kind_key, unit):
    """(roles in order, the ApprovalChain they come from or None for the kind's default)."""
    row = chain_row(kind_key, unit)
    if row is None:
        return builtin_roles(kind_or_404(kind_key).default_chain), None
    role_ids = json.loads(row.steps)
    by_id = {role.id: role for role in Role.select().where(Role.id.in_(role_ids or [0]))}
    return [by_id[role_id] for role_id in role_ids if role_id in by_id], row


def chains_at(unit):
    """For the chains page: (kind, roles, ApprovalChain or None) of every kind, as they apply at `unit`."""
    return [(kind, *chain_roles(kind.key, unit)) for kind in sorted(KINDS.values(), key=lambda k: k.key)]


def _chain_snapshot(role_ids):
    names = dict(Role.select(Role.id, Role.name).where(Role.id.in_(role_ids or [0])).tuples())
    return [names.get(role_id, role_id) for role_id in role_ids]


def save_chain(actor, kind_key, unit, role_ids, version=None):
    """Set the chain of `kind_key` for requests raised in `unit` and below. `version`
    is the chain's version the editor saw (None when there was none yet)."""
    actor.require(APPROVALS_CONFIGURE, unit)
    kind_or_404(kind_key)
    role_ids = [int(role_id) for role_id in role_ids]
    if not role_ids:
        raise ServiceError(_("Choose at least one role."), field="steps")
    if len(role_ids) > MAX_CHAIN_STEPS:
        raise ServiceError(_("A chain has at most %(n)d steps.", n=MAX_CHAIN_STEPS), field="steps")
    if len(set(role_ids)) != len(role_ids):
        raise ServiceError(_("Each role may appear only once in a chain."), field="steps")
    if not set(role_ids) <= {role.id for role in roles_usable_at(unit)}:
        raise ServiceError(_("Choose roles defined for this unit or above it."), field="steps")
    existing = ApprovalChain.get_or_none((ApprovalChain.kind == kind_key) & (ApprovalChain.unit == unit.id))
    with database.atomic():
        if existing is None:
            if version is not None:
                raise ServiceError(_("Someone else changed this chain meanwhile. Reload the page and try again."))
            try:
                with database.atomic():
                    chain = ApprovalChain.create(kind=kind_key, unit=unit, steps=json.dumps(role_ids),
                                                 updated_by=actor.user, updated_at=utcnow())
            except pw.IntegrityError:  # another editor created it first
                raise ServiceError(
                    _("Someone else changed this chain meanwhile. Reload the page and try again.")) from None
            before = None
        else:
            changed = (ApprovalChain.update(steps=json.dumps(role_ids), updated_by=actor.user, updated_at=utcnow(),
                                            version=ApprovalChain.version + 1)
                       .where((ApprovalChain.id == existing.id) & (ApprovalChain.version == version)).execute())
            if not changed:
                raise ServiceError(_("Someone else changed this chain meanwhile. Reload the page and try again."))
            chain = ApprovalChain.get_by_id(existing.id)
            before = {"kind": kind_key, "steps": _chain_snapshot(json.loads(existing.steps))}
        record_event("approvals.chain_saved", chain, label=f"{kind_key} · {unit.name}", unit=unit, actor=actor.user,
                     before=before, after={"kind": kind_key, "steps": _chain_snapshot(role_ids)})
    return chain


def reset_chain(actor, kind_key, unit):
    """Remove the chain set on `unit`: the one above it, or the kind's default, applies again."""
    actor.require(APPROVALS_CONFIGURE, unit)
    chain = ApprovalChain.get_or_none((ApprovalChain.kind == kind_or_404(kind_key).key)
                                      & (ApprovalChain.unit == unit.id))
    if chain is None:
        return
    with database.atomic():
        chain.delete_instance()
        record_event("approvals.chain_reset", chain, label=f"{kind_key} · {unit.name}", unit=unit, actor=actor.user,
                     before={"kind": kind_key, "steps": _chain_snapshot(json.loads(chain.steps))})


# --- who approves --------------------------------------------------------------------

def role_holder_ids(role_id, unit):
    """Active users holding `role_id` on `unit`, or on a unit above it with descendants."""
    covers = Grant.unit == unit.id
    if unit.ancestor_ids:
        covers |= Grant.unit.in_(unit.ancestor_ids) & (Grant.include_descendants == True)  # noqa: E712
    query = Grant.select(Grant.user).join(User, on=(Grant.user == User.id)).where(
        (Grant.role == role_id) & covers & (User.is_active == True))  # noqa: E712
    return {user_id for (user_id,) in query.tuples()}


def holders_of(role_key, unit):
    """Active users holding the built-in role `role_key` over `unit` (e.g. a team's leads)."""
    return set().union(*(role_holder_ids(role.id, unit) for role in builtin_roles([role_key])))


def _delegations_running(today):
    return (Delegation.revoked_at.is_null() & (Delegation.start_date <= today) & (Delegation.end_date >= today))


def delegates_of(user_ids, today=None):
    """{delegator id: {delegate ids}} of the delegations running `today` from any of `user_ids`."""
    found = {}
    if not user_ids:
        return found
    query = (Delegation.select(Delegation.delegator, Delegation.delegate)
             .join(User, on=(Delegation.delegate == User.id))
             .where(Delegation.delegator.in_(list(user_ids)) & _delegations_running(today or dt.date.today())
                    & (User.is_active == True)).tuples())  # noqa: E712
    for delegator_id, delegate_id in query:
        found.setdefault(delegator_id, set()).add(delegate_id)
    return found


def _step_holders(request, role_id, unit=None):
    """Who holds the step's role over the request's unit, the requester left out."""
    return role_holder_ids(role_id, unit or request.unit) - {request.requester_id}


def step_approver_ids(request, step):
    """Everyone who may decide `step` now: its holders and their delegates, never the requester."""
    holders = _step_holders(request, step.role_id)
    delegates = set().union(*delegates_of(holders).values()) if holders else set()
    return (holders | delegates) - {request.requester_id}


@dataclass(frozen=True)
class Decider:
    """How a user may decide a step: in their own right, or for `on_behalf_of` (a user id)."""

    on_behalf_of: int | None = None


def decider_for(user, request, step):
    """A Decider when `user` may decide `step` of `request`, else None."""
    if user is None or step is None or step.state != "pending" or user.id == request.requester_id:
        return None
    holders = _step_holders(request, step.role_id)
    if user.id in holders:
        return Decider()
    delegators = sorted(d for d, delegates in delegates_of(holders).items() if user.id in delegates)
    return Decider(delegators[0]) if delegators else None


# --- requests ------------------------------------------------------------------------

def _request_link(request):
    return portal_path("approvals.request_page", request_id=request.id)


def _notify_approvers(request, step, approver_ids):
    notify(approver_ids, "approvals.step_waiting",
           {"requester": request.requester.display_name if request.requester else "", "kind": request.kind,
            "title": request.title}, _request_link(request))


def _advance(request, steps, after_position):
    """Make the first step after `after_position` that someone can decide the pending
    one (skipping, and recording as skipped, those nobody can) and tell its approvers.
    Returns that step, or None when the chain is done."""
    for step in steps:
        if step.position <= after_position:
            continue
        approvers = step_approver_ids(request, step)
        if approvers:
            ApprovalStep.update(state="pending").where(ApprovalStep.id == step.id).execute()
            ApprovalRequest.update(step_position=step.position).where(ApprovalRequest.id == request.id).execute()
            step.state = "pending"
            _notify_approvers(request, step, approvers)
            return step
        ApprovalStep.update(state="skipped", decided_at=utcnow()).where(ApprovalStep.id == step.id).execute()
        step.state = "skipped"
    return None


def submit_request(actor, kind_key, subject, values):
    """Raise a request of kind `kind_key` about `subject` with the form's `values`
    (a dict; see the kind). The first step someone can decide waits for them."""
    kind = kind_or_404(kind_key)
    draft = kind.draft(actor, subject, values)
    requester_id = actor.user.id if actor.user is not None else None
    roles, _source = chain_roles(kind.key, draft.unit)
    holders = [role_holder_ids(role.id, draft.unit) for role in roles]
    if not any(ids - {requester_id} for ids in holders):
        if any(requester_id in ids for ids in holders):
            raise ServiceError(_("You are the only one who could approve this request, and nobody approves "
                                 "their own request. Ask your HR or administrator to set up its approval chain."))
        raise ServiceError(_("Nobody can approve this request here yet. Ask your HR or administrator to set up "
                             "its approval chain."))
    payload = json.dumps(draft.payload, ensure_ascii=False, sort_keys=True, default=str)
    with database.atomic():
        request = ApprovalRequest.create(
            kind=kind.key, unit=draft.unit, requester=actor.user, subject_type=draft.subject._meta.table_name,
            subject_id=draft.subject.get_id(), title=draft.title[:200], payload=payload,
            reason=draft.reason, effective_date=draft.effective_date, state="pending")
        steps = [ApprovalStep.create(request=request, position=position, role=role)
                 for position, role in enumerate(roles, start=1)]
        if kind.on_submit is not None:
            kind.on_submit(actor, request, draft.payload)
        first = _advance(request, steps, 0)
        record_event("approvals.requested", request, label=request.title, unit=draft.unit, actor=actor.user,
                     after={"kind": kind.key, "payload": draft.payload, "reason": draft.reason,
                            "first_step": first.position})
        if draft.watchers:
            notify(set(draft.watchers) - {requester_id}, f"{kind.key}.submitted", draft.payload)
    return ApprovalRequest.get_by_id(request.id)


def _pending_request(request_id, version):
    """The request, read in the deciding transaction, if it is still pending at `version`."""
    request = ApprovalRequest.get_or_none(ApprovalRequest.id == request_id)
    if request is None:
        raise NotInScope("request")
    if request.state != "pending" or request.version != version:
        raise ServiceError(ALREADY_DECIDED)
    return request


def _claim(request, version, **values):
    """The optimistic check: one UPDATE that succeeds for exactly one decision on `version`."""
    changed = (ApprovalRequest.update(version=ApprovalRequest.version + 1, **values)
               .where((ApprovalRequest.id == request.id) & (ApprovalRequest.version == version)
                      & (ApprovalRequest.state == "pending")).execute())
    if not changed:
        raise ServiceError(ALREADY_DECIDED)


def decide_step(actor, request_id, version, approve, comment):
    """Approve or reject the pending step of a request, as seen at `version`. The last
    approval applies the request (its kind's `apply`) in the same transaction."""
    visible_request(actor, request_id)
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT_LENGTH:
        raise ServiceError(_("Use at most %(max)d characters.", max=MAX_COMMENT_LENGTH), field="comment")
    if not approve and not comment:
        raise ServiceError(_("Say why you reject the request."), field="comment")
    with database.atomic():
        request = _pending_request(request_id, version)
        steps = list(ApprovalStep.select().where(ApprovalStep.request == request.id).order_by(ApprovalStep.position))
        step = next((s for s in steps if s.state == "pending"), None)
        if actor.user is not None and actor.user.id == request.requester_id:
            raise ServiceError(_("Nobody approves their own request."))
        decider = decider_for(actor.user, request, step)
        if decider is None:
            raise ServiceError(_("This step waits for someone else's decision."))
        now = utcnow()
        _claim(request, version)
        ApprovalStep.update(state="approved" if approve else "rejected", decided_by=actor.user,
                            on_behalf_of=decider.on_behalf_of, decided_at=now, comment=comment).where(
            (ApprovalStep.id == step.id) & (ApprovalStep.state == "pending")).execute()
        audit = {"step": step.position, "role": step.role_id, "comment": comment,
                 "on_behalf_of": decider.on_behalf_of}
        if not approve:
            ApprovalRequest.update(state="rejected", decided_at=now).where(ApprovalRequest.id == request.id).execute()
            _close(actor, request, "rejected")
            record_event("approvals.rejected", request, label=request.title, unit=request.unit_id, actor=actor.user,
                         after=audit)
            notify([request.requester_id] if request.requester_id else [], "approvals.request_rejected",
                   {"decider": actor.user.display_name, "kind": request.kind, "title": request.title},
                   _request_link(request))
        else:
            record_event("approvals.approved", request, label=request.title, unit=request.unit_id, actor=actor.user,
                         after=audit)
            if _advance(request, steps, step.position) is None:
                _apply(actor, request, now)
    return ApprovalRequest.get_by_id(request_id)


def _apply(actor, request, now):
    """The chain has approved `request`: make the change. The chain's approval is the
    authority for it, so the kind's services run with the whole group's scope (a
    secondary post may lie in a company the last approver does not look after),
    recorded under the approver's name."""
    kind = kind_or_404(request.kind)
    payload = json.loads(request.payload)
    kind.apply(Actor(actor.user, WholeGroupScope()), request, payload)
    ApprovalRequest.update(state="approved", decided_at=now, applied_at=utcnow()).where(
        ApprovalRequest.id == request.id).execute()
    record_event("approvals.applied", request, label=request.title, unit=request.unit_id, actor=actor.user,
                 after={"kind": request.kind, "payload": payload})
    notify([request.requester_id] if request.requester_id else [], "approvals.request_approved",
           {"kind": request.kind, "title": request.title}, _request_link(request))


def _close(actor, request, state):
    """Tell the request's kind it was rejected or withdrawn (its optional `on_close`); a
    kind no longer declared has nothing to tell."""
    kind = KINDS.get(request.kind)
    if kind is not None and kind.on_close is not None:
        kind.on_close(actor, request, json.loads(request.payload), state)


def withdraw_request(actor, request_id, version):
    """The requester takes back a request that is still pending."""
    visible_request(actor, request_id)
    with database.atomic():
        request = _pending_request(request_id, version)
        if actor.user is None or actor.user.id != request.requester_id:
            raise ServiceError(_("Only the person who made the request can withdraw it."))
        _claim(request, version, state="withdrawn", decided_at=utcnow())
        _close(actor, request, "withdrawn")
        record_event("approvals.withdrawn", request, label=request.title, unit=request.unit_id, actor=actor.user)
    return ApprovalRequest.get_by_id(request_id)


# --- reading requests ------------------------------------------------------------------

def visible_request(actor, request_id):
    """The request, if the actor may see it: its requester, anyone who holds (or stands
    in for someone who holds) the role of one of its steps over its unit or decided
    one, and holders of approvals.view on its unit. Otherwise NotInScope (404)."""
    request = (ApprovalRequest.select(ApprovalRequest, OrgUnit).join(OrgUnit)
               .where(ApprovalRequest.id == request_id).first())
    if request is None:
        raise NotInScope("request")
    user = actor.user
    if actor.scope.allows(APPROVALS_VIEW, request.unit) or (user is not None and user.id == request.requester_id):
        return request
    if user is not None:
        steps = list(ApprovalStep.select(ApprovalStep.role, ApprovalStep.decided_by, ApprovalStep.on_behalf_of)
                     .where(ApprovalStep.request == request.id).tuples())
        if any(user.id in (decided_by, on_behalf_of) for _role, decided_by, on_behalf_of in steps):
            return request
        holders = set().union(*(role_holder_ids(role_id, request.unit) for role_id in {s[0] for s in steps}))
        if user.id in holders or any(user.id in delegates for delegates in delegates_of(holders).values()):
            return request
    raise NotInScope("request")


def request_steps(request):
    """The request's steps in order, each with its role, who decided it (`decider`)
    and for whom they stood in (`stood_in_for`)."""
    decided_by, on_behalf_of = User.alias(), User.alias()
    return list(ApprovalStep.select(ApprovalStep, Role, decided_by, on_behalf_of)
                .join(Role).switch(ApprovalStep)
                .join(decided_by, pw.JOIN.LEFT_OUTER, on=(ApprovalStep.decided_by == decided_by.id), attr="decider")
                .switch(ApprovalStep)
                .join(on_behalf_of, pw.JOIN.LEFT_OUTER, on=(ApprovalStep.on_behalf_of == on_behalf_of.id),
                      attr="stood_in_for")
                .where(ApprovalStep.request == request.id).order_by(ApprovalStep.position))


def request_history(request):
    """The audit events of the request, oldest first."""
    return list(AuditEvent.select().where((AuditEvent.object_type == ApprovalRequest._meta.table_name)
                                          & (AuditEvent.object_id == str(request.id))).order_by(AuditEvent.id))


def describe_request(request):
    """[(label, value)] of what the request asks, in the reader's language."""
    return kind_or_404(request.kind).describe(request, json.loads(request.payload))


def my_requests(actor, page=1, per_page=50):
    """The actor's own requests, newest first, each pending one with its `pending_step`
    (and role); returns (rows, has_next)."""
    rows = list(ApprovalRequest.select(ApprovalRequest, OrgUnit).join(OrgUnit)
                .where(ApprovalRequest.requester == actor.user.id)
                .order_by(ApprovalRequest.created_at.desc(), ApprovalRequest.id.desc())
                .offset((page - 1) * per_page).limit(per_page + 1))
    rows, has_next = rows[:per_page], len(rows) > per_page
    pending_ids = [row.id for row in rows if row.state == "pending"]
    steps = {step.request_id: step for step in ApprovalStep.select(ApprovalStep, Role).join(Role).where(
        ApprovalStep.request.in_(pending_ids or [0]) & (ApprovalStep.state == "pending"))}
    for row in rows:
        row.pending_step = steps.get(row.id)
    return rows, has_next


# --- the inbox and the badges ------------------------------------------------------------

_REQUEST_UNIT = OrgUnit.alias("request_unit")
_GRANT_UNIT = OrgUnit.alias("grant_unit")
_REQUESTER = User.alias("requester")


def _decidable_steps(fields, holder_id, delegate_id, requester_id, running_from, running_until):
    """Pending steps the user may decide: through a grant of their own, or of someone
    whose delegation to them runs on the given day, on the request's unit or above it
    with descendants; never on a request of their own or of the grant's holder. The
    user's id and the day are given once per place they are used (see `_BADGES`).

    The user's few grants come first and the steps are looked up by role (CROSS JOIN
    keeps that order on SQLite): starting from the steps instead costs a scan of every
    grant of the step's role, about a second with thousands of users and requests."""
    acting = (Delegation.select(Delegation.delegator).where(
        (Delegation.delegate == delegate_id) & Delegation.revoked_at.is_null()
        & (Delegation.start_date <= running_from) & (Delegation.end_date >= running_until))
        | pw.Select(columns=[pw.Value(holder_id)]))
    return (Grant.select(*fields)
            .join(ApprovalStep, pw.JOIN.CROSS)
            .join(ApprovalRequest, on=(ApprovalStep.request == ApprovalRequest.id))
            .join(_REQUEST_UNIT, on=(ApprovalRequest.unit == _REQUEST_UNIT.id))
            .switch(Grant)
            .join(_GRANT_UNIT, on=(Grant.unit == _GRANT_UNIT.id))
            .where(Grant.user.in_(acting) & (ApprovalStep.role == Grant.role) & (ApprovalStep.state == "pending")
                   & (ApprovalRequest.state == "pending")
                   & ((Grant.unit == ApprovalRequest.unit)
                      | ((Grant.include_descendants == True)  # noqa: E712
                         & _REQUEST_UNIT.path.startswith(_GRANT_UNIT.path)))
                   & (ApprovalRequest.requester.is_null()
                      | ((ApprovalRequest.requester != requester_id) & (ApprovalRequest.requester != Grant.user)))))


def _badges_query(holder_id, delegate_id, requester_id, reader_id, running_from, running_until):
    waiting = _decidable_steps([pw.fn.COUNT(pw.fn.DISTINCT(ApprovalStep.id))], holder_id, delegate_id, requester_id,
                               running_from, running_until)
    unread = Notification.select(pw.fn.COUNT(Notification.id)).where(
        (Notification.user == reader_id) & Notification.read_at.is_null())
    return pw.Select(columns=[waiting, unread]).bind(database).tuples()


# Every page's top bar shows both figures: one statement, its SQL written once (core.db).
_BADGES = PreparedSelect(_badges_query, -918273601, -918273602, -918273603, -918273604,
                         dt.date(1, 1, 1), dt.date(1, 1, 2))


@dataclass(frozen=True)
class Badges:
    waiting: int  # steps waiting for the user's decision (or their delegators')
    unread: int  # unread notifications


def badge_counts(user, today=None):
    """The user's figures for the navigation and the top bar, in one query."""
    today = today or dt.date.today()
    waiting, unread = _BADGES.first(user.id, user.id, user.id, user.id, today, today)
    return Badges(waiting or 0, unread or 0)


@dataclass(frozen=True)
class InboxItem:
    step: object  # ApprovalStep with .role, .request (with .unit and .requester)
    on_behalf_of: object  # the User stood in for, or None for the user's own step


def inbox(actor, page=1, per_page=50, today=None):
    """Steps waiting for the actor's decision, the longest-waiting first; returns (items, has_next)."""
    today = today or dt.date.today()
    user_id = actor.user.id
    # 0 where the user holds the role themselves, else the id of someone they stand in for.
    via = pw.fn.MIN(pw.Case(None, [(Grant.user == user_id, 0)], Grant.user))
    found = list(_decidable_steps([ApprovalStep.id, via], user_id, user_id, user_id, today, today)
                 .group_by(ApprovalStep.id, ApprovalRequest.created_at)
                 .order_by(ApprovalRequest.created_at, ApprovalStep.id)
                 .offset((page - 1) * per_page).limit(per_page + 1).tuples())
    found, has_next = found[:per_page], len(found) > per_page
    steps = {step.id: step for step in (
        ApprovalStep.select(ApprovalStep, Role, ApprovalRequest, OrgUnit, _REQUESTER)
        .join(Role).switch(ApprovalStep)
        .join(ApprovalRequest).join(OrgUnit).switch(ApprovalRequest)
        .join(_REQUESTER, pw.JOIN.LEFT_OUTER, on=(ApprovalRequest.requester == _REQUESTER.id), attr="requester")
        .where(ApprovalStep.id.in_([step_id for step_id, _via in found] or [0])))}
    stood_in_for = {via_id for _step_id, via_id in found if via_id}
    users = {user.id: user for user in User.select().where(User.id.in_(stood_in_for))} if stood_in_for else {}
    return [InboxItem(steps[step_id], users.get(via_id)) for step_id, via_id in found], has_next


# --- delegation -----------------------------------------------------------------------------

def set_delegation(actor, delegate_username, start_date, end_date, today=None):
    """While the actor is away (start..end, inclusive), the user `delegate_username`
    may decide the actor's steps."""
    today = today or dt.date.today()
    user = actor.user
    if user is None:
        raise ServiceError(_("Only a person can delegate their approvals."))
    delegate = User.get_or_none(User.username == (delegate_username or "").strip().lower())
    if delegate is None or not delegate.is_active:
        raise ServiceError(_("No active user has this username."), field="delegate")
    if delegate.id == user.id:
        raise ServiceError(_("Choose someone other than yourself."), field="delegate")
    if start_date is None:
        raise ServiceError(_("Enter the first day."), field="start_date")
    if end_date is None or end_date < start_date:
        raise ServiceError(_("The last day cannot come before the first."), field="end_date")
    if end_date < today:
        raise ServiceError(_("The last day has already passed."), field="end_date")
    overlapping = Delegation.select().where(
        (Delegation.delegator == user.id) & (Delegation.delegate == delegate.id) & Delegation.revoked_at.is_null()
        & (Delegation.start_date <= end_date) & (Delegation.end_date >= start_date)).exists()
    if overlapping:
        raise ServiceError(_("You already delegate to %(name)s for part of this time.", name=delegate.display_name),
                           field="delegate")
    with database.atomic():
        delegation = Delegation.create(delegator=user, delegate=delegate, start_date=start_date, end_date=end_date)
        record_event("approvals.delegated", delegation, label=f"{user.username} → {delegate.username}",
                     unit=user.unit_id, actor=user, after={"delegate": delegate.username, "start_date": start_date,
                                                           "end_date": end_date})
        notify([delegate], "approvals.delegated_to_you",
               {"delegator": user.display_name, "start_date": start_date, "end_date": end_date},
               portal_path("approvals.inbox"))
    return delegation


def revoke_delegation(actor, delegation_id):
    """End one of the actor's own delegations now; someone else's answers 404."""
    delegation = Delegation.get_or_none((Delegation.id == delegation_id) & (Delegation.delegator == actor.user.id))
    if delegation is None:
        raise NotInScope("delegation")
    if delegation.revoked_at is not None:
        return delegation
    with database.atomic():
        Delegation.update(revoked_at=utcnow()).where(Delegation.id == delegation.id).execute()
        record_event("approvals.delegation_revoked", delegation,
                     label=f"{actor.user.username} → {delegation.delegate.username}", unit=actor.user.unit_id,
                     actor=actor.user)
    return Delegation.get_by_id(delegation.id)


def delegations_of(user, today=None):
    """(the delegations the user gave, newest first; those running or coming to them)."""
    today = today or dt.date.today()
    delegate, delegator = User.alias(), User.alias()
    given = list(Delegation.select(Delegation, delegate)
                 .join(delegate, on=(Delegation.delegate == delegate.id), attr="delegate")
                 .where(Delegation.delegator == user.id)
                 .order_by(Delegation.created_at.desc(), Delegation.id.desc()))
    received = list(Delegation.select(Delegation, delegator)
                    .join(delegator, on=(Delegation.delegator == delegator.id), attr="delegator")
                    .where((Delegation.delegate == user.id) & Delegation.revoked_at.is_null()
                           & (Delegation.end_date >= today))
                    .order_by(Delegation.start_date))
    return given, received
