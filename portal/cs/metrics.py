"""Customer-service figures for the dashboards: read the per person × account ×
local day sums (CsDailyMetric), add them up per person, account or day with numpy,
and form averages and rates from the sums (engine.rates) only then — a rate is
never averaged from rates. Where a rate has no denominator it is NaN ("no data"),
shown as a dash, never as 0.

Each metric's definition is written once, in METRIC_DEFINITIONS: the table heads'
tooltips and the help page both read it.
"""
import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
import peewee as pw
from flask_babel import lazy_gettext as _l

from portal.core.audit import declare_actions, record_event
from portal.core.db import database
from portal.cs import engine
from portal.cs.models import CsAccount, CsDailyMetric, CsConversation
from portal.cs.permissions import CS_EXPORT, CS_VIEW
from portal.org.models import OrgUnit
from portal.people.models import Employee
from portal.time.attendance import epoch_seconds

SHRINK_M = 20.0
MAX_RANGE_DAYS = 366
# Columns of CsDailyMetric added up when rows roll up; peak concurrency takes the largest.
SUM_FIELDS = ("conversations", "workload", "answered", "unanswered", "first_response_seconds", "response_seconds",
              "response_count", "handling_seconds", "resolved", "resolution_known", "reopened", "rated",
              "rated_positive", "online_seconds")
MAX_FIELDS = ("peak_concurrency",)
FIELDS = SUM_FIELDS + MAX_FIELDS

declare_actions({"cs.dashboard_exported": _l("Customer-service figures exported")})


@dataclass(frozen=True)
class Metric:
    key: str
    label: object        # the column head
    definition: object   # one or two sentences: the tooltip and the help page
    kind: str            # "count", "share" (fractional count), "duration" or "hours" (seconds), "rate" (0..1)
    better: str = ""     # "higher", "lower" or "" (neither): the rank's direction


METRICS = (
    Metric("workload", _l("Workload"), _l(
        "The sum of your shares of conversations: a conversation split between two people counts 0.5 for each."),
        "share", "higher"),
    Metric("conversations", _l("Conversations"), _l(
        "Conversations in which you have any share, however small."), "count", "higher"),
    Metric("first_response_seconds", _l("First response"), _l(
        "Average time from the customer's first message to the first agent reply, counting only the account's "
        "service hours (a message at 23:50 answered at 09:05, with service hours 09:00–24:00, counts 15 minutes). "
        "Averaged over answered conversations only."), "duration", "lower"),
    Metric("response_seconds", _l("Response time"), _l(
        "Where the marketplace exports messages: the average gap from a customer message to the next agent reply, "
        "over conversations with message data."), "duration", "lower"),
    Metric("handling_seconds", _l("Handling time"), _l(
        "Average time from the first agent reply to the end of the conversation, over answered conversations."),
        "duration", ""),
    Metric("unanswered", _l("Unanswered"), _l(
        "Conversations (by share) that never got an agent reply. They count here, never as a zero first response "
        "time."), "share", "lower"),
    Metric("unanswered_rate", _l("Unanswered rate"), _l("Unanswered conversations ÷ workload."), "rate", "lower"),
    Metric("resolution_rate", _l("Resolution rate"), _l(
        "Resolved conversations ÷ conversations whose resolution the marketplace reports."), "rate", "higher"),
    Metric("reopen_rate", _l("Reopen rate"), _l("Reopened conversations ÷ resolved conversations."), "rate", "lower"),
    Metric("satisfaction", _l("Satisfaction"), _l(
        "Positive ratings (4 or 5 of 5) ÷ ratings given."), "rate", "higher"),
    Metric("satisfaction_shrunk", _l("Satisfaction (adjusted)"), _l(
        "Satisfaction pulled toward the team's rate so that a few ratings do not outweigh many: (positive + 20 × "
        "team rate) ÷ (ratings + 20). With no ratings it is the team's rate; with hundreds, nearly the raw rate."),
        "rate", "higher"),
    Metric("online_seconds", _l("Online time"), _l(
        "Time logged in on the marketplace account, from the login sessions matched to you; overlapping sessions "
        "count once."), "hours", ""),
    Metric("peak_concurrency", _l("Peak concurrency"), _l(
        "The most of your credited conversations open at the same moment on one account and day (a conversation is "
        "open from the customer's first message until it ends)."), "count", ""),
)
METRIC_DEFINITIONS = {metric.key: metric for metric in METRICS}
METRIC_KEYS = tuple(metric.key for metric in METRICS)
SORT_KEYS = ("name",) + METRIC_KEYS
RANKED = ("workload", "first_response_seconds", "resolution_rate", "satisfaction_shrunk")

# Evidence levels and split rules, for the help page ("Why was this credited to me?").
LEVEL_EXPLANATIONS = (
    (_l("Bound sub-account"), _l(
        "The export names the sub-account (waiter) that handled the conversation, and that sub-account — or the "
        "personal account — was bound to you at that moment. The strongest evidence.")),
    (_l("Login session"), _l(
        "You were logged in to the account on the marketplace when the customer's first message arrived, in a login "
        "session matched to you by your registered IP address or workstation, or by your clock-in close to the "
        "login.")),
    (_l("Clocked in and rostered"), _l(
        "You were rostered on the account and clocked in at that moment.")),
    (_l("Rostered"), _l(
        "You were rostered on the account at that moment, with no clock-in to confirm it. The weakest evidence.")),
)
SPLIT_EXPLANATIONS = (
    (_l("Equal"), _l("Everyone who qualifies gets the same share.")),
    (_l("By presence"), _l(
        "Each share in proportion to how much of the conversation your evidence covers (a login or shift that ends "
        "halfway through counts half).")),
    (_l("By capacity"), _l("Each share in proportion to your post's capacity (a half-time post gets half the weight).")),
)


# --- reading and adding up ---------------------------------------------------------------------

@dataclass
class Sums:
    """Summed columns (FIELDS) as float arrays, one value per group."""

    columns: dict

    @classmethod
    def empty(cls, size=0):
        return cls({name: np.zeros(size) for name in FIELDS})

    def __len__(self):
        return len(self.columns["workload"])

    def total(self):
        """The groups added up into one (peak concurrency: the largest)."""
        return Sums({name: np.array([values.max() if values.size else 0.0]) if name in MAX_FIELDS
                     else np.array([values.sum()]) for name, values in self.columns.items()})

    def pooled_satisfaction(self):
        rated = float(self.columns["rated"].sum())
        return float(self.columns["rated_positive"].sum()) / rated if rated > 0 else float("nan")


def figures(sums, prior_rate):
    """Every metric of METRICS per group: counts from the sums, averages and rates
    formed from the sums (NaN where nothing to average), satisfaction shrunk toward
    `prior_rate` (the team's rate; NaN prior = no ratings in the team: shrunk is NaN too)."""
    columns = sums.columns
    formed = engine.rates(columns, prior_rate=0.0 if np.isnan(prior_rate) else prior_rate, m=SHRINK_M)
    shrunk = np.asarray(formed["satisfaction_shrunk"], np.float64)
    if np.isnan(prior_rate):
        shrunk = np.where(columns["rated"] > 0, shrunk, np.nan)
    return {
        "workload": columns["workload"], "conversations": columns["conversations"],
        "first_response_seconds": formed["first_response_seconds"], "response_seconds": formed["response_seconds"],
        "handling_seconds": formed["handling_seconds"], "unanswered": columns["unanswered"],
        "unanswered_rate": formed["unanswered_rate"], "resolution_rate": formed["resolution_rate"],
        "reopen_rate": formed["reopen_rate"], "satisfaction": formed["satisfaction"], "satisfaction_shrunk": shrunk,
        "online_seconds": columns["online_seconds"], "peak_concurrency": columns["peak_concurrency"],
        "rated": columns["rated"],
    }


@dataclass
class DailyRows:
    """CsDailyMetric rows as arrays: employee, account and day (days since
    1970-01-01) ids, and each FIELDS column."""

    employee: np.ndarray
    account: np.ndarray
    day: np.ndarray
    columns: dict

    def group(self, keys):
        """Sums per distinct value of `keys` (an int array aligned with the rows):
        (sorted distinct keys, Sums)."""
        distinct, inverse = np.unique(keys, return_inverse=True)
        size = distinct.size
        out = {}
        for name, values in self.columns.items():
            if name in MAX_FIELDS:
                peak = np.zeros(size)
                np.maximum.at(peak, inverse, values)
                out[name] = peak
            else:
                out[name] = np.bincount(inverse, weights=values, minlength=size)
        return distinct, Sums(out)

    def where(self, mask):
        return DailyRows(self.employee[mask], self.account[mask], self.day[mask],
                         {name: values[mask] for name, values in self.columns.items()})

    def all(self):
        return Sums({name: values for name, values in self.columns.items()}).total()


def _day_number(day):
    return (day - dt.date(1970, 1, 1)).days


def day_of_number(number):
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(number))


def read_daily(condition, start, end):
    """The CsDailyMetric rows matching `condition` with start <= day <= end."""
    query = (CsDailyMetric.select(CsDailyMetric.employee, CsDailyMetric.account,
                                  epoch_seconds(CsDailyMetric.day), *(getattr(CsDailyMetric, n) for n in FIELDS))
             .where(condition & (CsDailyMetric.day >= start) & (CsDailyMetric.day <= end)))
    rows = database.execute(query).fetchall()
    data = np.array(rows, dtype=np.float64).reshape(len(rows), 3 + len(FIELDS))
    return DailyRows(data[:, 0].astype(np.int64), data[:, 1].astype(np.int64), (data[:, 2] // 86400).astype(np.int64),
                     {name: data[:, 3 + i] for i, name in enumerate(FIELDS)})


def _in_unit(unit):
    return CsDailyMetric.unit.in_(OrgUnit.select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path)))


# --- tables -----------------------------------------------------------------------------------------

@dataclass
class Row:
    """One line of a table: what it is about and its figures (metric key → value,
    NaN for no data)."""

    key: int
    label: str
    sublabel: str
    values: dict
    link_args: dict = field(default_factory=dict)  # the conversations list's query for this line


@dataclass
class Table:
    rows: list
    total: Row
    sort: str
    descending: bool


def _nan_last_order(values, descending):
    values = np.asarray(values, np.float64)
    finite = ~np.isnan(values)
    order = np.argsort(-values if descending else values, kind="stable")
    return np.concatenate((order[finite[order]], order[~finite[order]]))


def sort_rows(rows, sort, descending):
    """Rows ordered by `sort` (a metric key or "name"); rows without a figure come last either way."""
    if sort == "name":
        return sorted(rows, key=lambda row: row.label, reverse=descending)
    order = _nan_last_order([row.values[sort] for row in rows], descending)
    return [rows[i] for i in order]


def _rows(keys, sums, prior, labels, link_arg, base_args):
    values = figures(sums, prior)
    rows = []
    for i, key in enumerate(keys):
        label, sublabel = labels.get(int(key), ("?", ""))
        rows.append(Row(int(key), label, sublabel, {name: float(values[name][i]) for name in values},
                        {**base_args, link_arg: int(key)}))
    return rows


def _people_labels(ids):
    if not len(ids):
        return {}
    return {person.id: (person.display_name, person.number) for person in
            Employee.select(Employee.id, Employee.number, Employee.legal_name, Employee.preferred_name)
            .where(Employee.id.in_([int(i) for i in ids]))}


def _account_labels(ids):
    if not len(ids):
        return {}
    return {account.id: (account.name, account.code) for account in
            CsAccount.select(CsAccount.id, CsAccount.code, CsAccount.name).where(CsAccount.id.in_([int(i) for i in ids]))}


@dataclass
class Trend:
    days: list          # dates of the range
    workload: list
    first_response: list  # seconds, NaN where nothing was answered


def _trend(data, start, end):
    first = _day_number(start)
    count = _day_number(end) - first + 1
    workload = np.zeros(count)
    frt = np.full(count, np.nan)
    if len(data.day):
        days, sums = data.group(data.day)
        index = days - first
        workload[index] = sums.columns["workload"]
        frt[index] = figures(sums, np.nan)["first_response_seconds"]
    return Trend([start + dt.timedelta(days=n) for n in range(count)], workload.tolist(), frt.tolist())


@dataclass
class Dashboard:
    unit: object
    start: dt.date
    end: dt.date
    people: Table
    accounts: Table
    trend: Trend
    team_rate: float
    heat: list = field(default_factory=list)


def _table(rows, total, sort, descending):
    return Table(sort_rows(rows, sort, descending), total, sort, descending)


def team_dashboard(actor, unit, start, end, sort="workload", descending=True, heat=True):
    """The dashboard of `unit` (and the units below it) over local days start..end:
    a row per person with any figures, the unit's total, a row per account, the
    daily trend and (with `heat`) the hour × weekday load per account."""
    actor.require(CS_VIEW, unit)
    data = read_daily(_in_unit(unit) & actor.scope.condition(CsDailyMetric.unit, CS_VIEW), start, end)
    range_args = {"start": start.isoformat(), "end": end.isoformat()}
    everything = data.all()
    prior = everything.pooled_satisfaction()
    people, people_sums = data.group(data.employee)
    accounts, account_sums = data.group(data.account)
    person_rows = _rows(people, people_sums, prior, _people_labels(people), "employee", range_args)
    account_rows = _rows(accounts, account_sums, prior, _account_labels(accounts), "account", range_args)
    total = Row(0, "", "", {name: float(v[0]) for name, v in figures(everything, prior).items()}, dict(range_args))
    dashboard = Dashboard(unit, start, end, _table(person_rows, total, sort, descending),
                          _table(account_rows, total, sort, descending),
                          _trend(data, start, end), prior)
    if heat:
        dashboard.heat = load_heat(accounts, _account_labels(accounts), start, end)
    return dashboard


@dataclass
class PersonDashboard:
    employee: object
    start: dt.date
    end: dt.date
    total: Row
    days: list       # Rows per day with any figures, newest first
    accounts: Table
    trend: Trend
    team_rate: float
    team: object     # the unit the rank is taken in (the person's home unit)
    ranks: dict      # metric key → (rank, out of) or None


def person_dashboard(actor, employee, start, end, own=False):
    """One person's figures over local days start..end: the total, per day, per
    account, the trend and their rank in their team (home unit). `own`: the
    person's own page (every row of theirs, whatever unit it was recorded in);
    otherwise only rows of units in the actor's CS scope."""
    condition = CsDailyMetric.employee == employee.id
    if not own:
        condition &= actor.scope.condition(CsDailyMetric.unit, CS_VIEW)
    data = read_daily(condition, start, end)
    team = OrgUnit.get_or_none(OrgUnit.id == employee.unit_id)
    team_data = read_daily(CsDailyMetric.unit == team.id, start, end) if team is not None else data
    prior = team_data.all().pooled_satisfaction()
    range_args = {"start": start.isoformat(), "end": end.isoformat()}
    mine = {"employee": employee.id, **range_args}
    total = Row(employee.id, employee.display_name, employee.number,
                {name: float(v[0]) for name, v in figures(data.all(), prior).items()}, mine)
    days, day_sums = data.group(data.day)
    day_values = figures(day_sums, prior)
    day_rows = []
    for i, number in enumerate(days):
        day = day_of_number(number)
        day_rows.append(Row(int(number), day, "", {name: float(v[i]) for name, v in day_values.items()},
                            {"employee": employee.id, "start": day.isoformat(), "end": day.isoformat()}))
    day_rows.reverse()
    accounts, account_sums = data.group(data.account)
    account_rows = _rows(accounts, account_sums, prior, _account_labels(accounts), "account", mine)
    return PersonDashboard(employee, start, end, total, day_rows,
                           _table(account_rows, total, "workload", True), _trend(data, start, end), prior, team,
                           team_ranks(team_data, employee.id, prior))


def team_ranks(team_data, employee_id, prior):
    """{metric: (rank, people ranked)} of one person among the people with figures
    in the team, for the RANKED metrics in their better direction (1 = best); None
    where the person has no figure for it."""
    people, sums = team_data.group(team_data.employee)
    values = figures(sums, prior)
    where = np.flatnonzero(people == employee_id)
    ranks = {}
    for key in RANKED:
        column = np.asarray(values[key], np.float64)
        if not where.size or np.isnan(column[where[0]]):
            ranks[key] = None
            continue
        mine = column[where[0]]
        finite = column[~np.isnan(column)]
        better = (finite < mine) if METRIC_DEFINITIONS[key].better == "lower" else (finite > mine)
        ranks[key] = (int(better.sum()) + 1, int(finite.size))
    return ranks


# --- hour × weekday load --------------------------------------------------------------------------------

QUARTER = 900
HEAT_LEVELS = 5


@dataclass
class Heat:
    account_id: int
    label: str
    code: str
    counts: list   # 7 weekdays (Monday first) × 24 hours
    levels: list   # the same shape, 0 (none) .. HEAT_LEVELS
    peak: int
    total: int


def _zone_of_accounts(account_ids):
    rows = (CsAccount.select(CsAccount.id, OrgUnit.timezone).join(OrgUnit, on=(OrgUnit.id == CsAccount.company))
            .where(CsAccount.id.in_(account_ids)).tuples())
    return {account_id: ZoneInfo(zone or "UTC") for account_id, zone in rows}


def load_heat(account_ids, labels, start, end):
    """Conversations per local hour of day and weekday of each account over local
    days start..end: one GROUP BY of the conversations by account and UTC quarter
    hour (every time zone's offset is a whole number of quarter hours), turned into
    local time with numpy."""
    account_ids = [int(a) for a in account_ids]
    if not account_ids:
        return []
    zones = _zone_of_accounts(account_ids)
    # a day's margin either side covers every zone; each account is then cut to its own local range
    low = dt.datetime.combine(start - dt.timedelta(days=1), dt.time())
    high = dt.datetime.combine(end + dt.timedelta(days=2), dt.time())
    bucket = epoch_seconds(CsConversation.started_at) / QUARTER  # integer division on both databases
    query = (CsConversation.select(CsConversation.account, bucket, pw.fn.COUNT(CsConversation.id))
             .where(CsConversation.account.in_(account_ids) & (CsConversation.started_at >= low)
                    & (CsConversation.started_at < high))
             .group_by(CsConversation.account, bucket))
    rows = np.array(database.execute(query).fetchall(), dtype=np.int64).reshape(-1, 3)
    out = []
    for account_id in sorted(account_ids, key=lambda a: labels.get(a, ("", ""))[0]):
        mine = rows[rows[:, 0] == account_id]
        zone = zones.get(account_id, ZoneInfo("UTC"))
        utc = mine[:, 1] * QUARTER
        hours = np.unique(utc // 3600)
        offsets = np.array([_offset(zone, int(h) * 3600) for h in hours], dtype=np.int64)
        local = utc + offsets[np.searchsorted(hours, utc // 3600)] if hours.size else utc
        day = local // 86400
        keep = (day >= _day_number(start)) & (day <= _day_number(end))
        local, count, day = local[keep], mine[keep, 2], day[keep]
        weekday = (day + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
        hour = (local % 86400) // 3600
        grid = np.bincount(weekday * 24 + hour, weights=count, minlength=7 * 24).astype(np.int64).reshape(7, 24)
        peak = int(grid.max()) if grid.size else 0
        levels = np.where(grid > 0, np.ceil(grid / max(peak, 1) * HEAT_LEVELS), 0).astype(int)
        label, code = labels.get(account_id, ("?", ""))
        out.append(Heat(account_id, label, code, grid.tolist(), levels.tolist(), peak, int(grid.sum())))
    return out


def _offset(zone, epoch):
    instant = dt.datetime.fromtimestamp(epoch, dt.UTC)
    return int(instant.astimezone(zone).utcoffset().total_seconds())


# --- the page's inputs --------------------------------------------------------------------------------

def default_range(today):
    """This month so far."""
    return today.replace(day=1), today


def record_export(actor, unit, start, end, file_format, rows):
    """Audit one export of a unit's figures (they leave the portal)."""
    actor.require(CS_EXPORT, unit)
    with database.atomic():
        record_event("cs.dashboard_exported", unit, unit=unit, actor=actor.user,
                     after={"start": start.isoformat(), "end": end.isoformat(), "format": file_format, "rows": rows})


def export_rows(dashboard, formatters=None):
    """The people table (then the unit's total) as plain rows: number, name, then
    each metric (rates as fractions, durations in seconds, rounded)."""
    def cells(row):
        out = []
        for metric in METRICS:
            value = row.values[metric.key]
            if np.isnan(value):
                out.append("")
            elif metric.kind == "rate":
                out.append(round(value, 4))
            elif metric.kind == "count":
                out.append(int(round(value)))
            else:
                out.append(round(value, 2))
        return out

    for row in dashboard.people.rows:
        yield [row.sublabel, row.label, *cells(row)]
    yield ["", str(_l("Total")), *cells(dashboard.people.total)]
