"""Attribution services: load one company's month from the database as arrays, run
the engine (portal/cs/engine.py) and store what it found.

A run covers one calendar month of local dates in the company's time zone (one
CsAttributionRun per company and month); `compute_period` over a longer range
recomputes each month in it. Storing a month replaces its CsAttribution and
CsDailyMetric rows in one transaction.

What the loader decides (the engine only sees intervals):
- a platform login without a logout closes LOGIN_CAP after the login, or at the
  end of the month, whichever comes first;
- clock events pair into presence intervals: an "in" ends at the person's next
  "out"; an "in" followed by another "in" (or nothing) ends at the end of the
  roster entry it falls in, else CLOCK_CAP after it, and never after the next
  punch; an "out" with no "in" before it is ignored; voided punches do not count;
- bindings and registered workstations are valid from local midnight of
  `valid_from` to local midnight after `valid_to` (open-ended: far future);
- capacity is the sum of the person's assignment shares (percent) in the company
  running during the month, as a fraction.
- Overrides: the latest CsOverride rows of a conversation (those written at its
  latest `created_at`) replace what the engine found: level 0, confidence 1, the
  people named share it equally; one row naming nobody leaves it unattributed.
"""
import datetime as dt
import json

import numpy as np
import peewee as pw
from huey import crontab
from flask_babel import lazy_gettext as _l

from portal.core.audit import declare_actions, record_event
from portal.core.db import database, utcnow
from portal.core.jobs import background_job, huey, start_job
from portal.core.permissions import Actor
from portal.cs import bulk, engine
from portal.cs.models import (LEVEL_OVERRIDE, CsAccount, CsAccountBinding, CsAttribution, CsAttributionRun,
                              CsConversation, CsDailyMetric, CsLoginSession, CsMessage, CsOverride, CsSubAccount,
                              CsSubAccountBinding, CsWorkstation)
from portal.cs.permissions import CS_IMPORT
from portal.org.models import OrgUnit
from portal.people.models import Assignment, Employee
from portal.time.models import ClockEvent, RosterEntry, ShiftType
from portal.time.services import company_of, company_zone, local_instant

LOGIN_CAP = 12 * 3600
CLOCK_CAP = 12 * 3600
FAR = 2 ** 62
EPOCH = dt.datetime(1970, 1, 1)
SPLIT_CODES = {"equal": engine.SPLIT_EQUAL, "presence": engine.SPLIT_PRESENCE, "capacity": engine.SPLIT_CAPACITY}
EVIDENCE_NAMES = {engine.EVIDENCE_SUB_BINDING: "sub_binding", engine.EVIDENCE_ACCOUNT_BINDING: "account_binding",
                  engine.EVIDENCE_LOGIN: "login", engine.EVIDENCE_CLOCKED_ROSTERED: "clocked_rostered",
                  engine.EVIDENCE_ROSTERED: "rostered"}
MATCH_NAMES = {engine.MATCH_IP: "ip", engine.MATCH_WORKSTATION: "workstation", engine.MATCH_CLOCK_IN: "clock_in"}

declare_actions({
    "cs.attribution_computed": _l("Conversation attribution computed"),
})


# --- conversions -----------------------------------------------------------------------------------

def _seconds(values):
    """int64 epoch seconds of naive-UTC datetimes (None → -1)."""
    array = np.array(values, dtype="datetime64[s]") if len(values) else np.zeros(0, "datetime64[s]")
    out = array.astype(np.int64)
    out[np.isnat(array)] = -1
    return out


def _epoch(instant):
    return int((instant - EPOCH).total_seconds())


def _ids(values):
    """int64 ids (None → -1)."""
    return np.array([-1 if v is None else v for v in values], dtype=np.int64)


def _index(sorted_ids, ids):
    """Indices of `ids` in `sorted_ids` (-1 where absent or -1)."""
    ids = np.asarray(ids, dtype=np.int64)
    if not sorted_ids.size:
        return np.full(ids.shape, -1, np.int32)
    pos = np.clip(np.searchsorted(sorted_ids, ids), 0, sorted_ids.size - 1)
    return np.where((sorted_ids[pos] == ids) & (ids >= 0), pos, -1).astype(np.int32)


def _columns(query, count):
    rows = list(query.tuples())
    if not rows:
        return [[] for _ in range(count)]
    return [list(col) for col in zip(*rows)]


class _Offsets:
    """UTC offsets of a zone over a span, per hour (DST changes fall on the hour)."""

    def __init__(self, zone, start, end):
        self.origin = start - 2 * 86400
        hours = (end - self.origin) // 3600 + 3 * 24
        base = EPOCH + dt.timedelta(seconds=self.origin)
        self.table = np.array([
            int((base + dt.timedelta(hours=h)).replace(tzinfo=dt.timezone.utc).astimezone(zone)
                .utcoffset().total_seconds()) for h in range(hours)], dtype=np.int64)

    def local(self, seconds):
        seconds = np.asarray(seconds, dtype=np.int64)
        hour = np.clip((seconds - self.origin) // 3600, 0, self.table.size - 1)
        return np.where(seconds >= 0, seconds + self.table[hour], -1)


def _day_bounds(zone, starts, ends):
    """UTC epoch seconds of local midnight of each `starts` date and after each `ends`
    date (None → far future)."""
    cache = {}

    def midnight(day):
        if day not in cache:
            cache[day] = _epoch(local_instant(zone, day, 0))
        return cache[day]

    start = np.array([midnight(day) for day in starts], dtype=np.int64)
    end = np.array([FAR if day is None else midnight(day + dt.timedelta(days=1)) for day in ends], dtype=np.int64)
    return start, end


def _codes(*columns):
    """Number the distinct non-empty strings across `columns` (one code space)."""
    joined = [value for column in columns for value in column]
    if not joined:
        return [np.zeros(0, np.int64) for _ in columns]
    _unique, inverse = np.unique(np.array(joined, dtype=object).astype(str), return_inverse=True)
    empty = np.array([not value for value in joined])
    inverse = np.where(empty, -1, inverse).astype(np.int64)
    out, at = [], 0
    for column in columns:
        out.append(inverse[at:at + len(column)])
        at += len(column)
    return out


# --- months ----------------------------------------------------------------------------------------

def month_bounds(day):
    first = day.replace(day=1)
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    return first, last


def months_between(period_start, period_end):
    months, day = [], period_start.replace(day=1)
    while day <= period_end:
        months.append(month_bounds(day))
        day = months[-1][1] + dt.timedelta(days=1)
    return months


# --- the month's world -----------------------------------------------------------------------------

def _presence(person, at, kind, roster_person, roster_start, roster_end):
    """Presence intervals from punches sorted by (person, at); see the module docstring."""
    n = person.size
    if not n:
        return np.zeros(0, np.int32), np.zeros(0, np.int64), np.zeros(0, np.int64)
    is_in = kind == 1
    nxt = np.arange(1, n + 1)
    has_next = np.zeros(n, bool)
    has_next[:-1] = person[1:] == person[:-1]
    nxt = np.minimum(nxt, n - 1)
    next_at = np.where(has_next, at[nxt], FAR)
    next_out = has_next & (kind[nxt] == 0)
    # the roster entry covering the punch (latest start at or before it)
    fallback = at + CLOCK_CAP
    if roster_person.size:
        order = np.lexsort((roster_start, roster_person))
        rp, rs, re = roster_person[order], roster_start[order], roster_end[order]
        key = rp.astype(np.int64) * (2 ** 40) + (rs - rs.min())
        probe = person.astype(np.int64) * (2 ** 40) + (at - rs.min())
        pos = np.searchsorted(key, probe, side="right") - 1
        ok = pos >= 0
        pos = np.clip(pos, 0, None)
        covered = ok & (rp[pos] == person) & (re[pos] > at)
        fallback = np.where(covered, re[pos], fallback)
    end = np.where(next_out, next_at, np.minimum(fallback, next_at))
    keep = is_in & (end > at)
    return person[keep], at[keep], end[keep]


def _message_gaps(conv_ids, n):
    """Mean gap from the first customer message of each run of customer messages to
    the next agent message, per conversation index (NaN: no message data)."""
    out = np.full(n, np.nan)
    if not n:
        return out
    query = (CsMessage.select(CsMessage.conversation, CsMessage.at, CsMessage.sender)
             .where(CsMessage.conversation.in_(conv_ids.tolist()) if n < 30000 else
                    CsMessage.conversation.between(int(conv_ids.min()), int(conv_ids.max())))
             .order_by(CsMessage.conversation, CsMessage.at))
    conv, at, sender = _columns(query, 3)
    if not conv:
        return out
    conv = _index(conv_ids, _ids(conv))
    at = _seconds(at)
    keep = conv >= 0
    conv, at = conv[keep], at[keep]
    agent = np.array(sender, dtype=object)[keep] == "agent"
    prev_same = np.zeros(conv.size, bool)
    prev_same[1:] = (conv[1:] == conv[:-1]) & ~agent[:-1]
    run_start = np.flatnonzero(~agent & ~prev_same)
    agents = np.flatnonzero(agent)
    has = np.bincount(conv, minlength=n) > 0
    if agents.size and run_start.size:
        j = np.searchsorted(agents, run_start)
        ok = j < agents.size
        j = np.clip(j, 0, agents.size - 1)
        ok &= conv[agents[j]] == conv[run_start]
        gap = (at[agents[j]] - at[run_start])[ok].astype(float)
        c = conv[run_start][ok]
        count = np.bincount(c, minlength=n)
        total = np.bincount(c, weights=gap, minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return np.where(has, out, np.nan)


def _compute_month(actor, company, first, last, now):
    zone = company_zone(company)
    start_dt = local_instant(zone, first, 0)
    end_dt = local_instant(zone, last + dt.timedelta(days=1), 0)
    start, end = _epoch(start_dt), _epoch(end_dt)
    offsets = _Offsets(zone, start, end)

    # accounts and sub-accounts
    acc_id, acc_kind, acc_rule, acc_open, acc_close = _columns(
        CsAccount.select(CsAccount.id, CsAccount.kind, CsAccount.split_rule, CsAccount.service_start_minute,
                         CsAccount.service_end_minute).where(CsAccount.company == company).order_by(CsAccount.id), 5)
    account_ids = np.array(acc_id, dtype=np.int64)
    split_rule = np.array([SPLIT_CODES.get(rule, 0) for rule in acc_rule], dtype=np.int8)
    service_open = np.array(acc_open, dtype=np.int32) * 60
    service_close = np.array(acc_close, dtype=np.int32) * 60
    code_of = dict(CsAccount.select(CsAccount.code, CsAccount.id).where(CsAccount.company == company).tuples())
    (sub_id,) = _columns(CsSubAccount.select(CsSubAccount.id).join(CsAccount)
                         .where(CsAccount.company == company).order_by(CsSubAccount.id), 1)
    sub_ids = np.array(sub_id, dtype=np.int64)

    # conversations
    c_id, c_acc, c_sub, c_start, c_reply, c_end, c_resolved, c_reopened, c_rating = _columns(
        CsConversation.select(CsConversation.id, CsConversation.account, CsConversation.sub_account,
                              CsConversation.started_at, CsConversation.first_reply_at, CsConversation.ended_at,
                              CsConversation.resolved, CsConversation.reopened, CsConversation.rating)
        .where((CsConversation.company == company) & (CsConversation.started_at >= start_dt)
               & (CsConversation.started_at < end_dt)).order_by(CsConversation.id), 9)
    conv_ids = np.array(c_id, dtype=np.int64)
    n = conv_ids.size
    conv_account = _index(account_ids, _ids(c_acc))
    conv_sub = _index(sub_ids, _ids(c_sub))
    conv_start = _seconds(c_start)
    conv_end = np.maximum(_seconds(c_end), conv_start)
    conv_reply = _seconds(c_reply)

    # the people: everyone evidence or an override names (filled below), indexed by id
    people = set()

    sb_id, sb_sub, sb_emp, sb_from, sb_to = _columns(
        CsSubAccountBinding.select(CsSubAccountBinding.id, CsSubAccountBinding.sub_account,
                                   CsSubAccountBinding.employee, CsSubAccountBinding.valid_from,
                                   CsSubAccountBinding.valid_to)
        .where(CsSubAccountBinding.sub_account.in_(sub_ids.tolist() or [0])), 5)
    ab_id, ab_acc, ab_emp, ab_from, ab_to = _columns(
        CsAccountBinding.select(CsAccountBinding.id, CsAccountBinding.account, CsAccountBinding.employee,
                                CsAccountBinding.valid_from, CsAccountBinding.valid_to)
        .join(CsAccount).where((CsAccount.company == company) & (CsAccount.kind == "personal")), 5)
    lg_id, lg_acc, lg_sub, lg_in, lg_out, lg_addr, lg_ws = _columns(
        CsLoginSession.select(CsLoginSession.id, CsLoginSession.account, CsLoginSession.sub_account,
                              CsLoginSession.login_at, CsLoginSession.logout_at, CsLoginSession.address,
                              CsLoginSession.workstation)
        .where((CsLoginSession.company == company) & (CsLoginSession.login_at < end_dt)
               & (CsLoginSession.login_at >= start_dt - dt.timedelta(days=2))).order_by(CsLoginSession.id), 7)
    ws_emp, ws_kind, ws_value, ws_from, ws_to = _columns(
        CsWorkstation.select(CsWorkstation.employee, CsWorkstation.kind, CsWorkstation.value,
                             CsWorkstation.valid_from, CsWorkstation.valid_to)
        .where(CsWorkstation.company == company), 5)
    st_id, st_accounts = _columns(ShiftType.select(ShiftType.id, ShiftType.cs_accounts)
                                  .where(ShiftType.company == company), 2)
    re_id, re_emp, re_type, re_start, re_end = _columns(
        RosterEntry.select(RosterEntry.id, RosterEntry.employee, RosterEntry.shift_type, RosterEntry.starts_at,
                           RosterEntry.ends_at)
        .where((RosterEntry.company == company) & (RosterEntry.starts_at < end_dt)
               & (RosterEntry.ends_at > start_dt - dt.timedelta(days=1))).order_by(RosterEntry.id), 5)
    ov_id, ov_conv, ov_emp, ov_at = _columns(
        CsOverride.select(CsOverride.id, CsOverride.conversation, CsOverride.employee, CsOverride.created_at)
        .join(CsConversation)
        .where((CsConversation.company == company) & (CsConversation.started_at >= start_dt)
               & (CsConversation.started_at < end_dt)), 4)
    for column in (sb_emp, ab_emp, ws_emp, re_emp, [e for e in ov_emp if e is not None]):
        people.update(column)
    people.update(employee_id for (employee_id,) in Employee.select(Employee.id)
                  .where(Employee.company == company).tuples())
    person_ids = np.array(sorted(people), dtype=np.int64)
    P = person_ids.size

    ck_emp, ck_at, ck_kind = _columns(
        ClockEvent.select(ClockEvent.employee, ClockEvent.at, ClockEvent.kind)
        .join(Employee).where((Employee.company == company) & ClockEvent.voided_by.is_null()
                              & (ClockEvent.at >= start_dt - dt.timedelta(days=1))
                              & (ClockEvent.at < end_dt + dt.timedelta(days=1)))
        .order_by(ClockEvent.employee, ClockEvent.at), 3)

    # capacity: running assignments in the company's units
    cap_emp, cap_share = _columns(
        Assignment.select(Assignment.employee, pw.fn.SUM(Assignment.share)).join(OrgUnit)
        .where(((OrgUnit.company == company) | (OrgUnit.id == company.id)) & (Assignment.start_date <= last)
               & (Assignment.end_date.is_null() | (Assignment.end_date >= first)))
        .group_by(Assignment.employee), 2)
    capacity = np.zeros(P)
    cap_index = _index(person_ids, _ids(cap_emp))
    capacity[cap_index[cap_index >= 0]] = (np.array(cap_share, dtype=float) / 100.0)[cap_index >= 0]

    # evidence arrays
    sb_start, sb_end = _day_bounds(zone, sb_from, sb_to)
    ab_start, ab_end = _day_bounds(zone, ab_from, ab_to)
    ws_start, ws_end = _day_bounds(zone, ws_from, ws_to)
    login_start = _seconds(lg_in)
    login_out = _seconds(lg_out)
    login_end = np.where(login_out >= 0, login_out, np.minimum(login_start + LOGIN_CAP, end))
    login_end = np.maximum(login_end, login_start)
    login_account = _index(account_ids, _ids(lg_acc))
    login_sub = _index(sub_ids, _ids(lg_sub))
    ip_codes, ws_codes, station_codes = _codes(lg_addr, lg_ws, ws_value)
    station_kind = np.array([engine.STATION_IP if kind == "ip" else engine.STATION_WORKSTATION for kind in ws_kind],
                            dtype=np.int8)

    # roster entries expanded to the accounts their shift type staffs
    staffs = {type_id: [code_of[code] for code in json.loads(codes or "[]") if code in code_of]
              for type_id, codes in zip(st_id, st_accounts)}
    re_type_arr = _ids(re_type)
    counts = np.array([len(staffs.get(t, ())) for t in st_id] or [0], dtype=np.int64)
    type_ids = np.array(st_id or [0], dtype=np.int64)
    order_t = np.argsort(type_ids)
    type_ids, counts = type_ids[order_t], counts[order_t]
    flat = [staffs.get(int(t), []) for t in type_ids]
    offsets_t = np.concatenate([[0], np.cumsum(counts)])
    flat_accounts = _index(account_ids, np.array([a for accs in flat for a in accs], dtype=np.int64))
    t_pos = np.clip(np.searchsorted(type_ids, re_type_arr), 0, type_ids.size - 1)
    rep = counts[t_pos] if re_type_arr.size else np.zeros(0, np.int64)
    roster_row = np.repeat(np.arange(re_type_arr.size), rep)
    within = np.arange(roster_row.size) - np.repeat(np.cumsum(rep) - rep, rep)
    roster_account = flat_accounts[offsets_t[t_pos][roster_row] + within] if roster_row.size else \
        np.zeros(0, np.int32)
    roster_entry_ids = _ids(re_id)[roster_row]
    roster_person = _index(person_ids, _ids(re_emp))[roster_row]
    roster_start = _seconds(re_start)[roster_row]
    roster_end = _seconds(re_end)[roster_row]
    keep = roster_account >= 0
    roster_entry_ids, roster_person, roster_account = roster_entry_ids[keep], roster_person[keep], roster_account[keep]
    roster_start, roster_end = roster_start[keep], roster_end[keep]

    clock_person = _index(person_ids, _ids(ck_emp))
    clock_at = _seconds(ck_at)
    clock_kind = np.array([1 if kind == "in" else 0 for kind in ck_kind], dtype=np.int8)
    all_rp = _index(person_ids, _ids(re_emp))
    pr_person, pr_start, pr_end = _presence(clock_person, clock_at, clock_kind, all_rp, _seconds(re_start),
                                            _seconds(re_end))
    ins = clock_kind == 1

    login_person, login_how = engine.match_login_sessions(
        login_start, ip_codes, ws_codes, _index(person_ids, _ids(ws_emp)), station_kind, station_codes, ws_start,
        ws_end, clock_person[ins], clock_at[ins], login_account, roster_person, roster_account, roster_start,
        roster_end)

    data = engine.AttributionInput(
        conv_account=conv_account, conv_sub_account=conv_sub, conv_start=conv_start, conv_end=conv_end,
        account_split_rule=split_rule, person_capacity=capacity,
        sub_binding_sub=_index(sub_ids, _ids(sb_sub)), sub_binding_person=_index(person_ids, _ids(sb_emp)),
        sub_binding_start=sb_start, sub_binding_end=sb_end,
        account_binding_account=_index(account_ids, _ids(ab_acc)),
        account_binding_person=_index(person_ids, _ids(ab_emp)), account_binding_start=ab_start,
        account_binding_end=ab_end,
        login_account=login_account, login_sub_account=login_sub, login_start=login_start, login_end=login_end,
        login_person=login_person,
        presence_person=pr_person, presence_start=pr_start, presence_end=pr_end,
        roster_person=roster_person, roster_account=roster_account, roster_start=roster_start,
        roster_end=roster_end)
    found = engine.attribute(data)

    # evidence ids per credit row
    ev_ids = {engine.EVIDENCE_SUB_BINDING: _ids(sb_id), engine.EVIDENCE_ACCOUNT_BINDING: _ids(ab_id),
              engine.EVIDENCE_LOGIN: _ids(lg_id), engine.EVIDENCE_CLOCKED_ROSTERED: roster_entry_ids,
              engine.EVIDENCE_ROSTERED: roster_entry_ids}
    row_evidence_id = np.full(found.conv.size, -1, np.int64)
    for kind, ids in ev_ids.items():
        mask = found.evidence_kind == kind
        if mask.any():
            row_evidence_id[mask] = ids[found.evidence[mask]]
    row_how = np.zeros(found.conv.size, np.int8)
    login_rows = found.evidence_kind == engine.EVIDENCE_LOGIN
    row_how[login_rows] = login_how[found.evidence[login_rows]]
    conv_rows, person_rows = found.conv.astype(np.int64), found.person.astype(np.int32)
    share, level, confidence = found.share, found.level.astype(np.int8), found.confidence
    evidence_kind = found.evidence_kind.astype(np.int8)
    conv_level = found.conv_level.copy()

    # overrides: the latest group of each conversation replaces the engine's rows
    if ov_id:
        o_conv = _index(conv_ids, _ids(ov_conv))
        o_at = _seconds(ov_at)
        o_ids = _ids(ov_id)
        o_person = _index(person_ids, _ids(ov_emp))
        ok = o_conv >= 0
        o_conv, o_at, o_ids, o_person = o_conv[ok], o_at[ok], o_ids[ok], o_person[ok]
        latest = np.full(n, -1, np.int64)
        np.maximum.at(latest, o_conv, o_at)
        chosen = o_at == latest[o_conv]
        o_conv, o_ids, o_person = o_conv[chosen], o_ids[chosen], o_person[chosen]
        overridden = np.zeros(n, bool)
        overridden[o_conv] = True
        stay = ~overridden[conv_rows]
        named = o_person >= 0
        o_conv, o_ids, o_person = o_conv[named], o_ids[named], o_person[named]
        # one person named twice in the group counts once
        _u, first_of = np.unique(o_conv.astype(np.int64) * (P + 1) + o_person, return_index=True)
        o_conv, o_ids, o_person = o_conv[first_of], o_ids[first_of], o_person[first_of]
        per_conv = np.bincount(o_conv, minlength=n)
        conv_rows = np.concatenate([conv_rows[stay], o_conv.astype(np.int64)])
        person_rows = np.concatenate([person_rows[stay], o_person.astype(np.int32)])
        share = np.concatenate([share[stay], 1.0 / per_conv[o_conv]])
        level = np.concatenate([level[stay], np.full(o_conv.size, LEVEL_OVERRIDE, np.int8)])
        confidence = np.concatenate([confidence[stay], np.ones(o_conv.size)])
        evidence_kind = np.concatenate([evidence_kind[stay], np.zeros(o_conv.size, np.int8)])
        row_evidence_id = np.concatenate([row_evidence_id[stay], o_ids])
        row_how = np.concatenate([row_how[stay], np.zeros(o_conv.size, np.int8)])
        conv_level[overridden] = 0
        conv_level[o_conv] = LEVEL_OVERRIDE  # attributed (by a lead); 0 stays for "nobody"
        attributed_mask = np.zeros(n, bool)
        attributed_mask[conv_rows] = True
    else:
        attributed_mask = found.conv_level > 0

    # metrics
    conv_local = offsets.local(conv_start)
    facts = engine.ConversationFacts(
        start_local=conv_local, first_reply_local=offsets.local(conv_reply), end_local=offsets.local(conv_end),
        service_open=service_open[conv_account] if n else np.zeros(0, np.int32),
        service_close=service_close[conv_account] if n else np.zeros(0, np.int32),
        day=(conv_local // 86400).astype(np.int32),
        resolved=np.array([-1 if r is None else int(r) for r in c_resolved], dtype=np.int8),
        reopened=np.array([bool(r) for r in c_reopened], dtype=bool),
        rating=np.array([0 if r is None else r for r in c_rating], dtype=np.int8),
        response_seconds=_message_gaps(conv_ids, n))
    credits = engine.Attribution(conv=conv_rows, person=person_rows, share=share, level=level,
                                 confidence=confidence, evidence=np.zeros(conv_rows.size, np.int64),
                                 evidence_kind=evidence_kind, conv_level=conv_level)
    lo, hi = max(start, 0), end
    s_start = np.clip(login_start, lo, hi)
    s_end = np.clip(login_end, lo, hi)
    metrics = engine.daily_metrics(credits, conv_account, facts, login_person, login_account,
                                   offsets.local(s_start), offsets.local(s_end))

    _store(actor, company, first, last, now, conv_ids, person_ids, account_ids, credits, evidence_kind,
           row_evidence_id, row_how, metrics, int(attributed_mask.sum()))


def _evidence_json(kinds, ids, hows):
    names = {**EVIDENCE_NAMES, 0: "override"}
    out = []
    for kind, evidence_id, how in zip(kinds.tolist(), ids.tolist(), hows.tolist()):
        if kind == engine.EVIDENCE_LOGIN:
            out.append('{"kind": "login", "id": %d, "match": "%s"}' % (evidence_id, MATCH_NAMES.get(how, "")))
        else:
            out.append('{"kind": "%s", "id": %d}' % (names[kind], evidence_id))
    return out


def _store(actor, company, first, last, now, conv_ids, person_ids, account_ids, credits, evidence_kind,
           row_evidence_id, row_how, metrics, attributed):
    n, m = conv_ids.size, credits.conv.size
    employee_col = person_ids[credits.person].tolist()
    conversation_col = conv_ids[credits.conv].tolist()
    evidence_col = _evidence_json(evidence_kind, row_evidence_id, row_how)
    share_col, level_col, conf_col = credits.share.tolist(), credits.level.tolist(), credits.confidence.tolist()
    metric_people = person_ids[metrics.person]
    home = dict(Employee.select(Employee.id, Employee.unit).where(
        Employee.id.in_(np.unique(metric_people).tolist() or [0])).tuples())
    days = [dt.date(1970, 1, 1) + dt.timedelta(days=int(d)) for d in metrics.day.tolist()]
    metric_cols = ("conversations", "workload", "answered", "unanswered", "first_response_seconds",
                   "response_seconds", "response_count", "handling_seconds", "resolved", "resolution_known",
                   "reopened", "rated", "rated_positive", "online_seconds", "peak_concurrency")
    values = {name: getattr(metrics, name).tolist() for name in metric_cols}
    with database.atomic():
        run = CsAttributionRun.get_or_none(CsAttributionRun.company == company, CsAttributionRun.period_start == first)
        fields = dict(period_end=last, conversations=n, attributed=attributed, unattributed=n - attributed,
                      stale=False, computed_at=now, computed_by=actor.user.id if actor.user else None)
        if run is None:
            run = CsAttributionRun.create(company=company, period_start=first, **fields)
        else:
            CsAttribution.delete().where(CsAttribution.run == run.id).execute()
            CsDailyMetric.delete().where(CsDailyMetric.run == run.id).execute()
            CsAttributionRun.update(**fields).where(CsAttributionRun.id == run.id).execute()
        # a conversation is stored in one run only: the month of its start
        bulk.insert_rows(CsAttribution, ("run", "conversation", "employee", "share", "level", "confidence",
                                         "evidence"),
                         list(zip([run.id] * m, conversation_col, employee_col, share_col, level_col, conf_col,
                                  evidence_col)))
        people = metric_people.tolist()
        accounts = account_ids[metrics.account].tolist()
        rows = [(run.id, company.id, home[p], p, a, d, *cols) for p, a, d, *cols in
                zip(people, accounts, days, *(values[name] for name in metric_cols))]
        bulk.insert_rows(CsDailyMetric, ("run", "company", "unit", "employee", "account", "day") + metric_cols, rows)
        record_event("cs.attribution_computed", run, label=f"{company.code} {first:%Y-%m}", unit=company,
                     actor=actor.user, after={"conversations": n, "attributed": attributed,
                                              "unattributed": n - attributed, "credits": m,
                                              "daily_metrics": len(rows)})
    return run


# --- the services ----------------------------------------------------------------------------------

def compute_period(actor, company, period_start, period_end, now=None):
    """Attribute the company's conversations of local dates `period_start`…`period_end`
    and store the results: each calendar month touched is recomputed whole. Returns
    the runs (CsAttributionRun), one per month."""
    company = company_of(company)
    actor.require(CS_IMPORT, company)
    now = now or utcnow()
    runs = []
    for first, last in months_between(period_start, period_end):
        _compute_month(actor, company, first, last, now)
        runs.append(CsAttributionRun.get((CsAttributionRun.company == company)
                                         & (CsAttributionRun.period_start == first)))
    return runs


def mark_stale(company_id, day):
    """New data or a correction for local `day`: its month's run is to be redone."""
    first, _last = month_bounds(day)
    return (CsAttributionRun.update(stale=True)
            .where((CsAttributionRun.company == company_id) & (CsAttributionRun.period_start == first)).execute())


def recompute_stale(now=None):
    """Recompute every stale run; returns how many."""
    now = now or utcnow()
    stale = list(CsAttributionRun.select(CsAttributionRun.company, CsAttributionRun.period_start)
                 .where(CsAttributionRun.stale).tuples())
    system = Actor.system()
    for company_id, first in stale:
        compute_period(system, OrgUnit.get_by_id(company_id), first, first, now=now)
    return len(stale)


@background_job("cs.recompute", _l("Recompute conversation attribution"))
def run_recompute(progress, company_id=None, month=None):
    if company_id and month:
        first = dt.date.fromisoformat(month + "-01") if len(month) == 7 else dt.date.fromisoformat(month)
        compute_period(Actor.system(), OrgUnit.get_by_id(company_id), first, first)
        done = 1
    else:
        done = recompute_stale()
    progress.update(1, 1, force=True)
    return {"runs": done}


def queue_recompute(company_id, day):
    """Queue the recompute job for the month of `day` (after the transaction that
    marked it stale)."""
    return start_job("cs.recompute", (company_id, f"{day:%Y-%m}"))


@huey.periodic_task(crontab(minute="*/15"), name="fairshare.cs.recompute_stale")
def periodic_recompute():
    from portal.core.jobs import _app

    with _app().app_context():
        if CsAttributionRun.select().where(CsAttributionRun.stale).exists():
            start_job("cs.recompute")
