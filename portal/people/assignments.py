"""Assignments: who holds which post, in which unit, with what share, from when to when.

A person holds one primary post at a time and any number of secondary posts
(兼岗), in any unit of any company of the group; the post carries its company
and the unit must belong to it. Dates are inclusive; an open end is None.
On every day, the shares of the assignments in force add up to at most 100.

The capacity and primary rules are written once, as a sweep over interval
arrays (`_first_overload`); `check_capacity` checks one new assignment and
`capacity_violations` checks many people's at once (the importer).
`Employee.unit` follows the primary post in force (`sync_home_units`): after
every write here, and daily for transfers dated in the future.
"""
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import peewee as pw
from flask_babel import format_date, format_percent, gettext as _, lazy_gettext as _l

from portal.core.audit import changes, declare_actions, record_event
from portal.core.db import database, is_sqlite, update_at_version
from portal.core.errors import NotInScope, ServiceError
from portal.core.jobs import background_job, daily_job
from portal.org.models import OrgUnit
from portal.people.models import Assignment, Employee
from portal.people.permissions import PEOPLE_MANAGE, PEOPLE_VIEW, employee_condition
from portal.posts.models import Post

FULL_CAPACITY = 100
OPEN_END = dt.date.max.toordinal()
ASSIGNMENT_FIELDS = ("employee", "post", "unit", "is_primary", "share", "start_date", "end_date")
_IN_CHUNK = 500  # ids per IN (...) list, under SQLite's bound-parameter limit

declare_actions({
    "people.assignment_transferred": _l("Transferred to another post"),
    "people.home_units_synced": _l("Home units updated from posts"),
})


def in_force_on(day, model=Assignment):
    """WHERE clause: the assignment (of `model`, an Assignment or alias) is in force on `day`."""
    return (model.start_date <= day) & (model.end_date.is_null() | (model.end_date >= day))


def current_assignments(employee, on=None):
    """The person's assignments in force on `on` (today), primary first, with post and unit."""
    return assignments_in_force([employee.id], on).get(employee.id, [])


def assignments_in_force(employee_ids, on=None):
    """{employee id: [Assignment with .post and .unit]} in force on `on` (today), primary
    first: one query per chunk of ids, for lists that show everyone's posts."""
    on = on or dt.date.today()
    found = defaultdict(list)
    ids = list(employee_ids)
    for start in range(0, len(ids), _IN_CHUNK):
        query = (Assignment.select(Assignment, Post, OrgUnit)
                 .join(Post).switch(Assignment).join(OrgUnit, on=(Assignment.unit == OrgUnit.id))
                 .where(Assignment.employee.in_(ids[start:start + _IN_CHUNK]) & in_force_on(on))
                 .order_by(Assignment.is_primary.desc(), Assignment.share.desc(), Assignment.start_date))
        for assignment in query:
            found[assignment.employee_id].append(assignment)
    return dict(found)


# --- the rules: shares and primaries over time --------------------------------------

@dataclass(frozen=True)
class ProposedAssignment:
    """An assignment someone wants to add. `employee_id` is the person's id, or for a
    person not stored yet any other hashable key (an importer's ("new", number)):
    only int ids are looked up. `replaces` is the id of a stored assignment this one
    takes the place of (left out of the sums)."""

    employee_id: object
    share: int
    start_date: dt.date
    end_date: dt.date | None = None
    is_primary: bool = False
    replaces: int | None = None
    label: str = ""


@dataclass(frozen=True)
class Overload:
    """On `day`, the assignments `held` add up to `total`, more than the rule allows:
    (label, share, is_this_one) triples, the offending proposed assignment among them."""

    index: int  # position of the proposed assignment among those checked
    employee_id: object
    day: dt.date
    total: int
    held: list = field(default_factory=list)


def _first_overload(starts, ends, weights, limit, candidate):
    """The first day within the interval at position `candidate` on which the
    weights of the intervals in force exceed `limit`, as (day ordinal, mask of the
    intervals in force), or None. Ordinals inclusive. A total can only rise where
    an interval starts, so those days are the only ones to look at."""
    lo, hi = starts[candidate], ends[candidate]
    days = np.unique(np.concatenate(([lo], starts[(starts > lo) & (starts <= hi)])))
    in_force = (starts[None, :] <= days[:, None]) & (ends[None, :] >= days[:, None])
    totals = in_force.astype(np.int64) @ weights
    over = np.nonzero(totals > limit)[0]
    if not len(over):
        return None
    return int(days[over[0]]), in_force[over[0]]


def _ordinal_end(end_date):
    return OPEN_END if end_date is None else end_date.toordinal()


def _stored_intervals(employee_ids):
    """{employee id: [(id, share, start, end, is_primary, post title)]} of every stored assignment."""
    found = defaultdict(list)
    ids = [i for i in set(employee_ids) if isinstance(i, int)]
    for start in range(0, len(ids), _IN_CHUNK):
        query = (Assignment.select(Assignment.id, Assignment.employee, Assignment.share, Assignment.start_date,
                                   Assignment.end_date, Assignment.is_primary, Post.title)
                 .join(Post).where(Assignment.employee.in_(ids[start:start + _IN_CHUNK])).tuples())
        for assignment_id, employee_id, share, start_date, end_date, is_primary, title in query:
            found[employee_id].append((assignment_id, share, start_date, end_date, is_primary, title))
    return found


def _violations(proposed, weight_of, limit):
    """Overloads of the proposed assignments against each other and the stored ones,
    where `weight_of(share, is_primary)` is what an assignment adds to the day's total."""
    by_person = defaultdict(list)
    for index, row in enumerate(proposed):
        by_person[row.employee_id].append(index)
    stored = _stored_intervals(by_person)
    found = []
    for employee_id, indexes in by_person.items():
        replaced = {proposed[i].replaces for i in indexes if proposed[i].replaces is not None}
        kept = [s for s in stored.get(employee_id, ()) if s[0] not in replaced]
        labels = [s[5] for s in kept] + [proposed[i].label for i in indexes]
        starts = np.array([s[2].toordinal() for s in kept] + [proposed[i].start_date.toordinal() for i in indexes])
        ends = np.array([_ordinal_end(s[3]) for s in kept] + [_ordinal_end(proposed[i].end_date) for i in indexes])
        shares = [s[1] for s in kept] + [proposed[i].share for i in indexes]
        weights = np.array([weight_of(s[1], s[4]) for s in kept]
                           + [weight_of(proposed[i].share, proposed[i].is_primary) for i in indexes], dtype=np.int64)
        for position, index in enumerate(indexes, start=len(kept)):
            overload = _first_overload(starts, ends, weights, limit, position) if weights[position] else None
            if overload is not None:
                day, in_force = overload
                counted = [k for k in np.nonzero(in_force)[0] if weights[k]]
                held = [(labels[k], shares[k], k == position) for k in counted]
                found.append(Overload(index, employee_id, dt.date.fromordinal(day),
                                      int(sum(weights[k] for k in counted)), held))
    return sorted(found, key=lambda overload: overload.index)


def capacity_violations(proposed):
    """The proposed assignments (ProposedAssignment) that would take their person over
    100% on some day, counting the stored assignments and the other proposed ones:
    one Overload per offending assignment, naming the first such day. Any number of
    people at once, with one query per 500 of them."""
    return _violations(proposed, lambda share, is_primary: share, FULL_CAPACITY)


def primary_violations(proposed):
    """The proposed primary assignments that would give their person two primary
    posts on some day (stored ones counted): an Overload each, `total` the count."""
    return _violations(proposed, lambda share, is_primary: int(is_primary), 1)


def capacity_message(overload):
    """The translated error for a capacity Overload: the day, the total and every post held."""
    posts = ", ".join(_("%(post)s (%(share)s)", post=label or _("this assignment"), share=_percent(share))
                      for label, share, _this_one in overload.held)
    return _("The shares would add up to %(total)s on %(date)s, more than 100%%: %(posts)s.",
             total=_percent(overload.total), date=format_date(overload.day), posts=posts)


def primary_message(overload):
    other = next((label for label, _share, this_one in overload.held if not this_one), "")
    return _("Only one primary post at a time: on %(date)s the person already holds %(post)s as primary.",
             date=format_date(overload.day), post=other)


def _percent(share):
    return format_percent(Decimal(share) / 100)


def check_capacity(employee, share, start_date, end_date, exclude_id=None):
    """Raise ServiceError (on the `share` field) if `employee` taking `share` percent
    from `start_date` to `end_date` would exceed 100% on any day."""
    violations = capacity_violations([ProposedAssignment(employee.id, share, start_date, end_date,
                                                         replaces=exclude_id)])
    if violations:
        raise ServiceError(capacity_message(violations[0]), field="share")


def _check_primary(employee, start_date, end_date, exclude_id=None):
    violations = primary_violations([ProposedAssignment(employee.id, 0, start_date, end_date, is_primary=True,
                                                        replaces=exclude_id)])
    if violations:
        raise ServiceError(primary_message(violations[0]), field="is_primary")


# --- writing ---------------------------------------------------------------------------

def require_person_in_scope(actor, employee, permission=PEOPLE_VIEW):
    """Raise NotInScope unless `permission` reaches `employee` (through their company or a post they hold)."""
    reachable = Employee.select().where((Employee.id == employee.id) & employee_condition(actor.scope, permission))
    if not reachable.exists():
        raise NotInScope(permission)


def _lock_employee(employee):
    """Serialise writes to one person's assignments, so two concurrent requests cannot
    both pass the capacity check (SQLite's BEGIN IMMEDIATE already serialises writers)."""
    if not is_sqlite():
        Employee.select(Employee.id).where(Employee.id == employee.id).for_update().execute()


def _check_share(share):
    if not isinstance(share, int) or not 1 <= share <= FULL_CAPACITY:
        raise ServiceError(_("Enter a share from 1 to 100 percent."), field="share")


def _check_dates(employee, start_date, end_date):
    if start_date is None:
        raise ServiceError(_("Enter the first day."), field="start_date")
    if end_date is not None and end_date < start_date:
        raise ServiceError(_("The last day cannot come before the first."), field="end_date")
    if employee.leaving_date is not None and start_date > employee.leaving_date:
        raise ServiceError(_("The person leaves on %(date)s, before this starts.",
                             date=format_date(employee.leaving_date)), field="start_date")


def _check_post_and_unit(post, unit):
    if post.archived_at is not None:
        raise ServiceError(_("This post is archived."), field="post")
    if unit.archived_at is not None:
        raise ServiceError(_("This unit is archived."), field="unit")
    if unit.company_id != post.company_id:
        raise ServiceError(_("Choose a unit of the company the post belongs to."), field="unit")


def _label(employee, post):
    return f"{employee.display_name} · {post.title}"


def _create(actor, employee, post, unit, share, start_date, end_date, is_primary, action="people.assignment_created",
            before=None):
    _check_post_and_unit(post, unit)
    _check_share(share)
    _check_dates(employee, start_date, end_date)
    if is_primary:
        _check_primary(employee, start_date, end_date)
    violations = capacity_violations([ProposedAssignment(employee.id, share, start_date, end_date,
                                                         label=post.title)])
    if violations:
        raise ServiceError(capacity_message(violations[0]), field="share")
    assignment = Assignment.create(employee=employee, post=post, unit=unit, share=share, start_date=start_date,
                                   end_date=end_date, is_primary=is_primary)
    record_event(action, assignment, label=_label(employee, post), unit=unit, actor=actor.user, before=before,
                 after=changes(assignment, ASSIGNMENT_FIELDS))
    return assignment


def assign_post(actor, employee, post, unit, share, start_date, end_date=None, is_primary=False):
    """Give `employee` `post` in `unit` (a unit of the post's company) with `share` percent
    of their capacity from `start_date` to `end_date` (inclusive; None: open-ended)."""
    actor.require(PEOPLE_MANAGE, unit)
    require_person_in_scope(actor, employee)
    with database.atomic():
        _lock_employee(employee)
        assignment = _create(actor, employee, post, unit, share, start_date, end_date, bool(is_primary))
        _sync(dt.date.today(), [employee.id])
    return assignment


def end_assignment(actor, assignment, end_date):
    """Set the last day of `assignment` (ending it early, or moving an end it already has)."""
    actor.require(PEOPLE_MANAGE, assignment.unit)
    employee = assignment.employee
    if end_date is None:
        raise ServiceError(_("Enter the last day."), field="end_date")
    if end_date < assignment.start_date:
        raise ServiceError(_("The last day cannot come before the first (%(date)s).",
                             date=format_date(assignment.start_date)), field="end_date")
    before = changes(assignment, ASSIGNMENT_FIELDS)
    with database.atomic():
        _lock_employee(employee)
        if assignment.end_date is not None and end_date > assignment.end_date:  # a longer stay must still fit
            check_capacity(employee, assignment.share, assignment.start_date, end_date, exclude_id=assignment.id)
            if assignment.is_primary:
                _check_primary(employee, assignment.start_date, end_date, exclude_id=assignment.id)
        assignment = _save_end(assignment, end_date)
        record_event("people.assignment_ended", assignment, label=_label(employee, assignment.post),
                     unit=assignment.unit, actor=actor.user, before=before,
                     after=changes(assignment, ASSIGNMENT_FIELDS))
        _sync(dt.date.today(), [employee.id])
    return assignment


def _save_end(assignment, end_date):
    return update_at_version(Assignment, assignment.id, assignment.version, {"end_date": end_date},
                             _("Someone else changed this assignment meanwhile. Reload the page and try again."))


def transfer_assignment(actor, assignment, to_unit, to_post, share, effective_date):
    """调岗: `assignment` ends the day before `effective_date` and a new one, in `to_unit`
    holding `to_post`, starts on it, keeping the old one's primary-ness and planned end."""
    actor.require(PEOPLE_MANAGE, assignment.unit)
    actor.require(PEOPLE_MANAGE, to_unit)
    employee = assignment.employee
    if effective_date is None:
        raise ServiceError(_("Enter the day the transfer takes effect."), field="effective_date")
    if effective_date <= assignment.start_date:
        raise ServiceError(_("A transfer must take effect after the current post starts (%(date)s).",
                             date=format_date(assignment.start_date)), field="effective_date")
    if assignment.end_date is not None and effective_date > assignment.end_date:
        raise ServiceError(_("The current post ends on %(date)s, before the transfer would take effect.",
                             date=format_date(assignment.end_date)), field="effective_date")
    before = changes(assignment, ASSIGNMENT_FIELDS)
    with database.atomic():
        _lock_employee(employee)
        planned_end = assignment.end_date
        _save_end(assignment, effective_date - dt.timedelta(days=1))
        new = _create(actor, employee, to_post, to_unit, share, effective_date, planned_end, assignment.is_primary,
                      action="people.assignment_transferred", before=before)
        _sync(dt.date.today(), [employee.id])
    return new


# --- home units -------------------------------------------------------------------------

def _sync(today, employee_ids=None):
    """Set Employee.unit to the unit of the primary post in force on `today` (the
    employing company when none is); returns how many people changed."""
    primary = Assignment.alias()
    query = (Employee.select(Employee.id, Employee.unit, Employee.company, primary.unit, primary.start_date)
             .join(primary, pw.JOIN.LEFT_OUTER,
                   on=((primary.employee == Employee.id) & (primary.is_primary == True)  # noqa: E712
                       & in_force_on(today, primary)))
             .order_by(Employee.id, primary.start_date))
    targets = {}
    chunks = [None] if employee_ids is None else [employee_ids[i:i + _IN_CHUNK]
                                                   for i in range(0, len(employee_ids), _IN_CHUNK)]
    for chunk in chunks:
        rows = query if chunk is None else query.where(Employee.id.in_(chunk))
        for employee_id, unit_id, company_id, primary_unit_id, _start in rows.tuples():
            targets[employee_id] = (unit_id, primary_unit_id or company_id)  # the latest-starting primary wins
    moves = defaultdict(list)
    for employee_id, (unit_id, target) in targets.items():
        if unit_id != target:
            moves[target].append(employee_id)
    for target, ids in moves.items():
        for start in range(0, len(ids), _IN_CHUNK):
            Employee.update(unit=target).where(Employee.id.in_(ids[start:start + _IN_CHUNK])).execute()
    return sum(len(ids) for ids in moves.values())


def sync_home_units(today=None, employee_ids=None):
    """Keep every person's (or the given people's) home unit on their primary post in
    force `today`: the assignment services do it after each write, and a daily job for
    changes dated in the future. Returns how many people moved; audited when any did."""
    today = today or dt.date.today()
    with database.atomic():
        moved = _sync(today, list(employee_ids) if employee_ids is not None else None)
        if moved:
            record_event("people.home_units_synced", object_type="employee", label=str(today),
                         after={"employees": moved, "day": today.isoformat()})
    return moved


@background_job("people.sync_home_units", _l("Update home units from posts"))
def run_sync_home_units(progress, day=None):
    moved = sync_home_units(dt.date.fromisoformat(day) if day else None)
    progress.update(1, 1, force=True)
    return {"moved": moved}


# Transfers take effect on their date without anyone touching the records then.
daily_sync_home_units = daily_job("people.sync_home_units")
