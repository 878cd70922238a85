"""Where the values of a bonus rule's dimensions come from: a registry of sources.

A `Source` names a figure about a person over a period (key → label, unit, default
direction) and a function that gives it for a whole pool at once: `values(context)`
returns one float per person of `context.people` (NaN = no data, which the engine
scores 0 and leaves out of the team's range). `team(context)` gives the team's own
figure for a rule's team target (by default the participation-weighted mean of the
people's values).

The context loads what several sources share once per gathering (the CS daily sums,
the attendance days), in a few set-based queries: nothing is kept between gatherings.

CS figures are the dashboards' own (portal/cs/metrics.py `read_daily` → `figures`):
a person's rows over the period, whatever unit they were recorded in; satisfaction
shrinks toward the pool's pooled rate. HR figures: tenure in years at the period's
end; skill level — the mean of the person's levels (0 when lacking) in the skills
their posts in the team require; attendance rate — rostered days not absent ÷
rostered days; days worked — days with worked time; support points — the sum of the points leads gave in the team for
the period.
"""
import datetime as dt
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from flask_babel import lazy_gettext as _l

from portal.core.db import utcnow

NAN = float("nan")


@dataclass(frozen=True)
class Source:
    key: str
    label: object
    unit: str            # "count", "share", "seconds", "rate", "years", "level", "points"
    direction: str       # default direction: "higher" or "lower" is better
    values: Callable     # context → float array [people]
    group: str = "hr"    # "cs" or "hr", for the rule editor's grouping
    description: object = ""
    team: Callable | None = None


SOURCES = {}


def register_source(source):
    SOURCES[source.key] = source
    return source


def source_choices():
    """[(key, label)] of every source, CS first, for forms."""
    return [(s.key, s.label) for s in sorted(SOURCES.values(), key=lambda s: (s.group != "cs", s.key))]


@dataclass
class Context:
    """The people of a pool and its period, with what sources share loaded on first use."""

    people: list               # Employee rows (id, company, hire_date, status … loaded)
    unit: object               # the pool's team (OrgUnit)
    start: dt.date
    end: dt.date
    participation: np.ndarray  # [people] 0..1
    now: dt.datetime = field(default_factory=utcnow)
    _loaded: dict = field(default_factory=dict)

    @property
    def ids(self):
        return [person.id for person in self.people]

    def once(self, name, load):
        if name not in self._loaded:
            self._loaded[name] = load(self)
        return self._loaded[name]

    def weighted_mean(self, values):
        present = ~np.isnan(values) & (self.participation > 0)
        if not present.any():
            return NAN
        return float(np.average(values[present], weights=self.participation[present]))


# --- customer service ---------------------------------------------------------------------------

def _cs_figures(context):
    """{metric key: array aligned with context.people} and the team's figures {key: float}."""
    from portal.cs import metrics
    from portal.cs.models import CsDailyMetric
    from portal.people.permissions import one_of

    ids = np.array(context.ids, np.int64)
    data = metrics.read_daily(one_of(CsDailyMetric.employee, ids.tolist()), context.start, context.end)
    prior = data.all().pooled_satisfaction()
    people, sums = data.group(data.employee)
    values = metrics.figures(sums, prior)
    team = {key: float(np.asarray(v, np.float64)[0]) for key, v in metrics.figures(data.all(), prior).items()}
    row_of = {int(person): row for row, person in enumerate(people)}
    rows = np.array([row_of.get(int(i), -1) for i in ids], np.int64)
    found = rows >= 0
    aligned = {}
    for key, column in values.items():
        out = np.full(ids.size, NAN)
        out[found] = np.asarray(column, np.float64)[rows[found]]
        aligned[key] = out
    # a person with no rows handled nothing: workload and counts are 0, rates have no data
    for key in ("workload", "conversations", "unanswered"):
        aligned[key] = np.where(np.isnan(aligned[key]), 0.0, aligned[key])
    return aligned, team


def _cs_source(metric_key, key=None, scale=1.0):
    from portal.cs.metrics import METRIC_DEFINITIONS

    metric = METRIC_DEFINITIONS[metric_key]

    def values(context):
        return context.once("cs", _cs_figures)[0][metric_key] * scale

    def team(context):
        return context.once("cs", _cs_figures)[1][metric_key] * scale

    unit = {"duration": "seconds", "hours": "seconds"}.get(metric.kind, metric.kind)
    return register_source(Source(key or f"cs.{metric_key}", metric.label, unit, metric.better or "higher", values,
                                  group="cs", description=metric.definition, team=team))


for _key in ("workload", "conversations", "first_response_seconds", "response_seconds", "unanswered_rate",
             "resolution_rate", "reopen_rate", "satisfaction", "satisfaction_shrunk", "online_seconds"):
    _cs_source(_key)


# --- HR data ------------------------------------------------------------------------------------

def _tenure(context):
    end = context.end
    return np.array([max((end - person.hire_date).days, 0) / 365.25 for person in context.people], np.float64)


def _skill_levels(context):
    from portal.people.models import EmployeeSkill
    from portal.posts.models import PostSkill

    ids = context.ids
    held = _held_in_team(context)
    post_ids = sorted({post for posts in held.values() for post in posts})
    required = {}
    if post_ids:
        for post_id, skill_id in PostSkill.select(PostSkill.post, PostSkill.skill).where(
                PostSkill.post.in_(post_ids)).tuples():
            required.setdefault(post_id, set()).add(skill_id)
    own = {}
    if ids:
        for employee_id, skill_id, level in EmployeeSkill.select(
                EmployeeSkill.employee, EmployeeSkill.skill, EmployeeSkill.level).where(
                EmployeeSkill.employee.in_(ids)).tuples():
            own[(employee_id, skill_id)] = level
    out = np.full(len(ids), NAN)
    for i, employee_id in enumerate(ids):
        skills = set().union(*(required.get(post, set()) for post in held.get(employee_id, ())))
        if skills:
            out[i] = sum(own.get((employee_id, skill), 0) for skill in skills) / len(skills)
    return out


def _held_in_team(context):
    """{employee id: {post ids}} of the posts held in the team during the period."""
    from portal.org.models import OrgUnit
    from portal.people.models import Assignment

    def load(context):
        held = {}
        query = (Assignment.select(Assignment.employee, Assignment.post)
                 .join(OrgUnit, on=(OrgUnit.id == Assignment.unit))
                 .where(OrgUnit.path.startswith(context.unit.path) & Assignment.employee.in_(context.ids)
                        & (Assignment.start_date <= context.end)
                        & (Assignment.end_date.is_null() | (Assignment.end_date >= context.start))).tuples())
        for employee_id, post_id in query:
            held.setdefault(employee_id, set()).add(post_id)
        return held

    return context.once("held", load)


def attendance_days(context):
    """(attendance rate, days worked) per person from the time domain's attendance."""
    from portal.time.attendance import attendance_for

    def load(context):
        if not context.people:
            return np.zeros(0), np.zeros(0, np.int64)
        result = attendance_for(context.people, context.start, context.end, context.now).result
        rostered = (result.scheduled > 0).sum(axis=1)
        absent = (np.asarray(result.absent, bool) & (result.scheduled > 0)).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.where(rostered > 0, 1.0 - absent / np.maximum(rostered, 1), NAN)
        worked = (result.worked > 0).sum(axis=1).astype(np.int64)
        return rate, worked

    return context.once("attendance", load)


def _support_points(context):
    import peewee as pw

    from portal.bonus.models import BonusSupportPoint

    ids = context.ids
    totals = dict(BonusSupportPoint.select(BonusSupportPoint.employee, pw.fn.SUM(BonusSupportPoint.points))
                  .where(BonusSupportPoint.employee.in_(ids) & (BonusSupportPoint.unit == context.unit.id)
                         & (BonusSupportPoint.period_start == context.start))
                  .group_by(BonusSupportPoint.employee).tuples()) if ids else {}
    return np.array([float(totals.get(i, 0)) for i in ids], np.float64)


register_source(Source("hr.tenure", _l("Tenure"), "years", "higher", _tenure,
                       description=_l("Years since the person was hired, at the end of the period.")))
register_source(Source("hr.skill_level", _l("Skill level"), "level", "higher", _skill_levels, description=_l(
    "The mean of the person's levels (1–5, 0 when lacking) in the skills their posts in the team require.")))
register_source(Source("hr.attendance_rate", _l("Attendance rate"), "rate", "higher",
                       lambda context: attendance_days(context)[0], description=_l(
                           "Rostered days the person was not absent ÷ rostered days, from attendance.")))
register_source(Source("hr.days_worked", _l("Days worked"), "count", "higher",
                       lambda context: attendance_days(context)[1].astype(np.float64), description=_l(
                           "Days in the period with worked time in attendance (clock-ins on rostered shifts).")))
register_source(Source("hr.support_points", _l("Support points"), "points", "higher", _support_points,
                       description=_l("Support and collaboration points the team's lead gave for the period, "
                                      "each with its reason.")))


def gather(context, source_keys):
    """[people, len(source_keys)] float values of the sources named."""
    columns = [np.asarray(SOURCES[key].values(context), np.float64) for key in source_keys]
    return np.stack(columns, axis=1) if columns else np.zeros((len(context.people), 0))


def team_value(context, source_key):
    source = SOURCES[source_key]
    if source.team is not None:
        return source.team(context)
    return context.weighted_mean(np.asarray(source.values(context), np.float64))
