"""The demo group's time data: shift types and rules, three months of rosters
from A/B rotations for the customer-service teams, clock events with realistic
lateness and missing punches, leave types, balances and requests. Holidays
(China's 2025/2026 holidays and adjusted working days) come from the `holidays`
package and need no rows."""
import datetime as dt

ROSTER_MONTHS_BACK = 2  # rosters start on the first of the month two months back …
ROSTER_WEEKS_AHEAD = 3  # … and reach this many weeks past today
MIN_HISTORY_DAYS = 14  # however few months back, at least this many days of rosters and punches


def seed_time(units, rng, today=None, history_months=ROSTER_MONTHS_BACK):
    """`units` maps codes to OrgUnits. Called by demo.seed after the people; rosters
    and punches reach back to the first of the month `history_months` back."""
    today = today or dt.date.today()
    seed_rosters(units, rng, today, history_months)
    seed_clock_events(units, rng, today)
    seed_leave(units, rng, today)
    seed_calendar_days(units, today)


# --- shift types, rules, rotations, rosters (rosters) --------------------------------------

# company code → (minimum rest in minutes, [(code, name, start, end, break minutes, colour index)]).
# China, Hong Kong and Japan: 8–10 h between shifts as the companies' own rule; Germany: the
# 11 h of the Arbeitszeitgesetz.
DEMO_SHIFT_TYPES = {
    "EXCN": (8 * 60, [("早", "早班", "08:30", "17:30", 60, 0), ("晚", "晚班", "14:00", "23:00", 60, 4),
                      ("白", "白班", "09:00", "18:00", 60, 1), ("夜", "夜班", "22:00", "07:00", 60, 9)]),
    "EXHK": (8 * 60, [("早", "早更", "09:00", "18:00", 60, 0), ("晚", "晚更", "13:00", "22:00", 60, 4),
                      ("日", "辦公時間", "09:00", "18:00", 60, 1)]),
    "EXDE": (11 * 60, [("F", "Frühschicht", "06:00", "14:30", 30, 0), ("S", "Spätschicht", "13:30", "22:00", 30, 4),
                       ("T", "Tagdienst", "08:00", "16:30", 30, 1), ("N", "Nachtschicht", "22:00", "06:00", 30, 9)]),
    "EXJP": (10 * 60, [("早", "早番", "08:00", "17:00", 60, 0), ("遅", "遅番", "13:00", "22:00", 60, 4),
                       ("日", "日勤", "09:00", "18:00", 60, 1)]),
}
# company code → (early code, late code, day code, night code or None)
DEMO_SHIFT_ROLES = {"EXCN": ("早", "晚", "白", "夜"), "EXHK": ("早", "晚", "日", None), "EXDE": ("F", "S", "T", None),
                    "EXJP": ("早", "遅", "日", None)}
NIGHT_TEAMS = ("EXCN-WH-WH-N",)
HANDOVER_NOTES = {
    "CN-JD-CS-A": ["618 返场活动的优惠券问题已整理到共享文档，晚班请继续跟进 3 单未回复的退款。",
                   "京东主账号下午 4 点左右掉线一次，已重新登录；如再出现请联系运营。",
                   "客户 王先生 的换货单（尾号 8821）已经联系仓库，明天上午出库。"],
    "CN-JD-CS-B": ["夜间积压 12 条咨询，早班优先处理物流类。"],
    "CN-VIP-CS-A": ["唯品会后台今天更新了退货规则，已贴在群公告。"],
    "EXDE-CS-CS1": ["Zwei offene Reklamationen zu Lieferung 4711 – bitte morgen früh nachfassen."],
    "EXJP-CS-CS1": ["午後の問い合わせが多いので、遅番は 13:00 から返品対応をお願いします。"],
}


def _insert_plainly(model, columns, rows):
    """INSERT many rows of plain values with one prepared statement: for the demo's
    tens of thousands of roster entries, peewee's writing of the SQL per row costs
    several times what the database takes."""
    from portal.core.db import database

    fields = [model._meta.fields[name] for name in columns]
    sql = 'INSERT INTO "{}" ({}) VALUES ({})'.format(
        model._meta.table_name, ", ".join(f'"{field.column_name}"' for field in fields),
        ", ".join([database.param] * len(fields)))
    cursor = database.cursor()
    cursor.executemany(sql, [tuple(field.db_value(value) for field, value in zip(fields, row)) for row in rows])


def _is_cs_team(unit):
    return unit.kind == "team" and ("-CS-" in unit.code or unit.code.endswith("-CS")) and unit.code != "EXCN-CS-QA"


def seed_rosters(units, rng, today, history_months=ROSTER_MONTHS_BACK):
    """Time rules and shift types per company, a rotation for every team and its roster
    from the first of the month `history_months` back to three weeks ahead: the CS teams an
    A/B rotation (A early while B is late, so they overlap in the afternoon, days off
    spread over each group), the night warehouse team nights, the others weekday day
    shifts. A few handover notes. Bulk inserts, one audit event."""
    import json

    from portal.accounts.models import User
    from portal.core.audit import record_event
    from portal.core.db import chunked_insert, utcnow
    from portal.people.models import Assignment, Employee
    from portal.time.models import HandoverNote, Rotation, RotationMember, RosterEntry, ShiftType, TimePolicy
    from portal.time.rosters import SHIFT_COLOURS, rotation_rows

    start = today.replace(day=1)
    for _month in range(history_months):
        start = (start - dt.timedelta(days=1)).replace(day=1)
    start = min(start, today - dt.timedelta(days=MIN_HISTORY_DAYS))
    end = today + dt.timedelta(weeks=ROSTER_WEEKS_AHEAD)
    anchor = start - dt.timedelta(days=start.weekday())
    now = utcnow()
    types = {}
    for code, (rest, shifts) in DEMO_SHIFT_TYPES.items():
        company = units[code]
        TimePolicy.create(company=company, min_rest_minutes=rest)
        for shift_code, name, begins, ends, break_minutes, colour in shifts:
            hour, minute = map(int, begins.split(":"))
            end_hour, end_minute = map(int, ends.split(":"))
            types[(code, shift_code)] = ShiftType.create(
                company=company, code=shift_code, name=name, start_minute=hour * 60 + minute,
                end_minute=end_hour * 60 + end_minute, break_minutes=break_minutes, color=SHIFT_COLOURS[colour],
                cs_accounts=json.dumps([]))
    teams = [unit for unit in units.values() if unit.kind == "team"]
    held = {}
    for employee_id, unit_id, first, last in (Assignment.select(Assignment.employee, Assignment.unit,
                                                                Assignment.start_date, Assignment.end_date)
                                              .join(Employee, on=(Employee.id == Assignment.employee))
                                              .where(Assignment.unit.in_([t.id for t in teams])
                                                     & Assignment.is_primary & (Employee.status != "left")
                                                     & (Assignment.start_date <= end)
                                                     & (Assignment.end_date.is_null() | (Assignment.end_date >= start)))
                                              .order_by(Assignment.employee).tuples()):
        held.setdefault(unit_id, []).append((employee_id, first, last or end))
    company_codes = {units[code].id: code for code in DEMO_SHIFT_TYPES}
    entries, members = [], []
    for team in sorted(teams, key=lambda unit: unit.code):
        people = held.get(team.id, [])
        if not people:
            continue
        code = company_codes[team.company_id]
        early, late, day, night = (types.get((code, shift)) for shift in DEMO_SHIFT_ROLES[code])
        follows_calendar = False  # marketplaces never close: CS and night teams work through holidays
        if _is_cs_team(team):
            name, cycle = "A/B", [early] * 5 + [None] * 2 + [late] * 5 + [None] * 2
            # Group B starts half a cycle later; within a group the days off are spread.
            plan = [("AB"[index % 2], (7 if index % 2 else 0) + (index // 2) * 2 % 7) for index in range(len(people))]
        elif team.code in NIGHT_TEAMS:
            name, cycle = "夜班轮换", [night] * 5 + [None] * 2
            plan = [("", index % 7) for index in range(len(people))]
        else:
            name, cycle, follows_calendar = str(day.name), [day] * 5 + [None] * 2, True
            plan = [("", 0)] * len(people)
        rotation = Rotation.create(company=team.company_id, unit=team, name=name, anchor_date=anchor,
                                   follows_calendar=follows_calendar,
                                   pattern=json.dumps([shift.id if shift else None for shift in cycle]))
        offsets = [(pk, offset) for (pk, _first, _last), (_label, offset) in zip(people, plan)]
        members += [{"rotation": rotation.id, "employee": pk, "offset": offset, "label": label}
                    for (pk, offset), (label, _offset) in zip(offsets, plan)]
        spans = {pk: (first, last) for pk, first, last in people}
        entries += [row for row in rotation_rows(rotation, offsets, start, end)
                    if spans[row["employee"]][0] <= row["day"] <= spans[row["employee"]][1]]
    chunked_insert(RotationMember, members)
    columns = ("employee", "unit", "company", "day", "shift_type", "starts_at", "ends_at", "break_minutes", "source",
               "rotation", "created_by", "created_at", "version")
    for row in entries:
        row["shift_type"], row["created_at"], row["version"] = row["shift_type"].id, now, 1
    _insert_plainly(RosterEntry, columns, [tuple(row[name] for name in columns) for row in entries])
    authors = dict(User.select(User.unit, User.id).where(User.unit.in_([units[c].id for c in HANDOVER_NOTES
                                                                        if c in units])).tuples())
    lead = User.get_or_none(User.username == "lead.jd")
    notes = []
    for team_code, bodies in HANDOVER_NOTES.items():
        team = units.get(team_code)
        if team is None:
            continue
        author = lead.id if team_code == "CN-JD-CS-A" and lead else authors.get(team.id)
        for age, body in enumerate(bodies):
            written = now - dt.timedelta(hours=4 + 9 * age)
            notes.append({"unit": team.id, "day": (written + dt.timedelta(hours=8)).date(), "shift_type": None,
                          "author": author, "body": body, "created_at": written})
    chunked_insert(HandoverNote, notes)
    record_event("demo.rosters_seeded", object_type="roster_entry", label=f"{len(entries)} demo roster entries",
                 after={"entries": len(entries), "rotations": len(members), "notes": len(notes)})


# --- clock events (clock) ------------------------------------------------------------------------

def seed_clock_events(units, rng, today, now=None):
    """Punches for every rostered shift that has begun: most people arrive 0–10
    minutes early, ~8% are 1–40 minutes late, ~3% forget to clock out, ~1% to clock
    in, ~2% do not come; a few punches come from the attendance device. Nothing
    after `now`."""
    from portal.core.db import database, utcnow
    from portal.time.models import ClockEvent, RosterEntry

    now = now or utcnow()
    shifts = (RosterEntry.select(RosterEntry.employee, RosterEntry.starts_at, RosterEntry.ends_at)
              .where(RosterEntry.starts_at < now).tuples())
    rows = []

    def add(employee_id, at, kind):
        if at > now:
            return
        device = rng.random() < 0.06
        rows.append((employee_id, at.replace(microsecond=0), kind, "device" if device else "portal",
                     "ZK-F22 #1" if device else "",
                     "" if device else f"10.8.{rng.randrange(1, 5)}.{rng.randrange(10, 250)}", at))

    for employee_id, starts_at, ends_at in shifts:
        fate = rng.random()
        if fate < 0.02:  # absent
            continue
        if fate >= 0.03:  # 1%: the clock-in is missing
            late = rng.random() < 0.08
            offset = rng.uniform(60, 40 * 60) if late else -rng.uniform(0, 10 * 60)
            add(employee_id, starts_at + dt.timedelta(seconds=offset), "in")
        if not 0.03 <= fate < 0.06:  # 3%: the clock-out is missing
            offset = -rng.uniform(60, 20 * 60) if rng.random() < 0.04 else rng.uniform(0, 12 * 60)
            add(employee_id, ends_at + dt.timedelta(seconds=offset), "out")
    # One prepared INSERT run for every row: some 30,000 rows, which peewee would take
    # seconds to write out as SQL value by value.
    fields = [ClockEvent.employee, ClockEvent.at, ClockEvent.kind, ClockEvent.source, ClockEvent.device,
              ClockEvent.address, ClockEvent.created_at]
    sql = ClockEvent.insert_many([[None] * len(fields)], fields=fields).sql()[0]
    with database.atomic():
        database.cursor().executemany(sql, rows)


# --- leave types, balances, requests (leave) -------------------------------------------------------

# (code, name, paid, unit, accrual, accrual amount, carry-over cap, needs balance, colour) per company,
# in its language; amounts in hundredths of the unit (42 a month ≈ 5 days a year).
DEMO_LEAVE_TYPES = {
    "EXCN": [("AL", "年假", True, "day", "monthly", 42, 500, True, "#2e9d6a"),
             ("SICK", "病假", True, "day", "none", 0, None, False, "#d9534f"),
             ("PERS", "事假", False, "day", "none", 0, None, False, "#e0a526"),
             ("COMP", "调休假", True, "hour", "none", 0, None, True, "#4c7bd9")],
    "EXHK": [("AL", "Annual leave", True, "day", "monthly", 100, 500, True, "#2e9d6a"),
             ("SICK", "Sick leave", True, "day", "none", 0, None, False, "#d9534f")],
    "EXDE": [("URL", "Urlaub", True, "day", "yearly", 3000, 500, True, "#2e9d6a"),
             ("KRANK", "Krankheit", True, "day", "none", 0, None, False, "#d9534f")],
    "EXJP": [("NENKYU", "年次有給休暇", True, "day", "yearly", 1000, 1000, True, "#2e9d6a"),
             ("BYOKI", "病気休暇", False, "day", "none", 0, None, False, "#d9534f")],
}
# Most requests are annual leave; the rest sick or personal leave.
LEAVE_MIX = {"EXCN": ("AL",) * 6 + ("SICK", "PERS"), "EXHK": ("AL",) * 4 + ("SICK",),
             "EXDE": ("URL",) * 5 + ("KRANK",), "EXJP": ("NENKYU",) * 4 + ("BYOKI",)}
LEAVE_REASONS = {"EXCN": ("家中有事", "回老家探亲", "身体不适", "孩子开家长会", "外出旅游"),
                 "EXHK": ("Family matters", "Short trip", "Medical appointment"),
                 "EXDE": ("Familienfeier", "Kurzurlaub", "Arzttermin"),
                 "EXJP": ("私用のため", "家族旅行", "通院")}
REJECT_COMMENTS = {"EXCN": "大促期间人手紧张，请改期。", "EXHK": "Peak season, please choose other dates.",
                   "EXDE": "In dieser Woche sind schon zu viele im Urlaub.", "EXJP": "繁忙期のため日程を変更してください。"}
LEAVE_REQUESTS = 40  # spread over the roster months: approved and rejected in the past, pending ahead


def seed_leave(units, rng, today):
    """Leave types per company, opening balances and this year's accruals for everyone,
    and about LEAVE_REQUESTS requests. Past decisions are written as the approval engine
    would have left them (bulk, for speed); the requests still waiting go through it, one
    of them from team CN-JD-CS-A into lead.jd's inbox."""
    import json

    from portal.accounts.models import Role, User
    from portal.approvals.models import ApprovalRequest, ApprovalStep
    from portal.approvals.services import holders_of
    from portal.core.errors import ServiceError
    from portal.core.permissions import Actor
    from portal.people.models import Employee
    from portal.time import leave
    from portal.time.models import LeaveLedger, LeaveRequest, LeaveType

    companies = [code for code in DEMO_LEAVE_TYPES if code in units]
    types = {}
    for code in companies:
        for values in DEMO_LEAVE_TYPES[code]:
            row = LeaveType.create(company=units[code], **dict(zip(
                ("code", "name", "paid", "unit", "accrual", "accrual_amount", "carry_over_cap", "needs_balance",
                 "color"), values)))
            types[code, row.code] = row
    people = list(Employee.select().where(Employee.company.in_([units[c].id for c in companies])
                                          & (Employee.status != "left")).order_by(Employee.id))
    company_code = {units[c].id: c for c in companies}
    new_year = dt.date(today.year, 1, 1)
    openings = []
    for person in people:
        code = company_code[person.company_id]
        for (owner, _type_code), leave_type in types.items():
            if owner != code or not leave_type.needs_balance:
                continue
            amount = rng.randrange(4, 17) * 100 if leave_type.unit == "hour" else rng.randrange(0, 11) * 50
            openings.append({"employee": person.id, "leave_type": leave_type.id, "day": max(new_year, person.hire_date),
                             "amount": amount, "kind": "opening", "period": "", "note": ""})
    for start in range(0, len(openings), 500):
        LeaveLedger.insert_many(openings[start:start + 500]).execute()
    for month in range(1, today.month + 1):
        leave.accrue_leave(dt.date(today.year, month, 1))

    roles = {key: Role.get(Role.builtin_key == key) for key in ("team_lead", "company_hr")}
    deciders = {}

    def decider(role_key, unit):
        if (role_key, unit.id) not in deciders:
            deciders[role_key, unit.id] = min(holders_of(role_key, unit), default=None)
        return deciders[role_key, unit.id]

    def draft(person, leave_type, start, end):
        """The request's payload and amount, or None where the services would refuse it."""
        try:
            quote = leave.quote_leave(person, leave_type, start, end)
        except ServiceError:
            return None
        return {"employee": person.id, "name": person.display_name, "number": person.number,
                "leave_type": leave_type.id, "leave_type_name": leave_type.name, "unit": leave_type.unit,
                "start_date": start.isoformat(), "end_date": end.isoformat(), "start_minute": None,
                "end_minute": None, "amount": quote.amount}

    def decided(person, leave_type, start, end, approve, reason):
        """True once written; False where the services would refuse it (no working day, balance)."""
        payload = draft(person, leave_type, start, end)
        if payload is None:
            return False
        team = person.unit
        created = dt.datetime.combine(start - dt.timedelta(days=rng.randrange(3, 15)), dt.time(2, 0))
        decided_at = created + dt.timedelta(hours=rng.randrange(2, 30))
        approval = ApprovalRequest.create(
            kind=leave.KIND, unit=team, requester=person.user_id, subject_type="employee", subject_id=person.id,
            title=f"{leave_type.name}: {person.display_name} · {start.isoformat()}"
                  + (f" – {end.isoformat()}" if end != start else ""),
            payload=json.dumps(payload, ensure_ascii=False, sort_keys=True), reason=reason,
            state="approved" if approve else "rejected", step_position=2, effective_date=start,
            created_at=created, decided_at=decided_at, applied_at=decided_at if approve else None)
        lead_id, hr_id = decider("team_lead", team), decider("company_hr", team)
        comment = "" if approve else REJECT_COMMENTS[company_code[person.company_id]]
        verdict = "approved" if approve else "rejected"
        # A team without a lead skips the first step; a rejection ends the chain where it happens.
        lead_state = verdict if lead_id is not None else "skipped"
        hr_state = "waiting" if lead_state == "rejected" else verdict
        steps = [(1, roles["team_lead"], lead_id, lead_state, comment if lead_state == "rejected" else ""),
                 (2, roles["company_hr"], hr_id if hr_state != "waiting" else None, hr_state,
                  comment if hr_state == "rejected" else "")]
        ApprovalStep.insert_many([
            {"request": approval.id, "position": position, "role": role.id, "state": state, "decided_by": user_id,
             "decided_at": decided_at if state in ("approved", "rejected") else None, "comment": text}
            for position, role, user_id, state, text in steps]).execute()
        row = LeaveRequest.create(employee=person, leave_type=leave_type, start_date=start, end_date=end,
                                  amount=payload["amount"], reason=reason, state="approved" if approve else "rejected",
                                  approval=approval, created_by=person.user_id, created_at=created)
        if approve and leave_type.needs_balance:
            LeaveLedger.create(employee=person, leave_type=leave_type, day=start, amount=-row.amount, kind="taken",
                               request=row, created_by=lead_id, created_at=decided_at)
        return True

    def pending(person, leave_type, start, end, reason, start_time=None, end_time=None):
        try:
            leave.submit_leave(Actor.for_user(User.get_by_id(person.user_id)), person, {
                "leave_type": leave_type.id, "start_date": start, "end_date": end, "start_time": start_time,
                "end_time": end_time, "reason": reason})
        except ServiceError:
            pass

    def workday_on_or_after(day):
        while day.isoweekday() > 5:
            day += dt.timedelta(days=1)
        return day

    # The demo logins keep no leave requests: tests read their requests and inboxes.
    from portal.demo import DEMO_LOGINS

    logins = {login[0] for login in DEMO_LOGINS}
    usernames = dict(User.select(User.id, User.username).tuples())
    with_users = [p for p in people if p.user_id is not None and usernames[p.user_id] not in logins]
    rng.shuffle(with_users)
    window_start = (today.replace(day=1) - dt.timedelta(days=40)).replace(day=1)
    jd_team = units.get("CN-JD-CS-A")
    inbox_person = next((p for p in with_users if jd_team is not None and p.unit_id == jd_team.id), None)
    chosen = [p for p in with_users if p is not inbox_person][:LEAVE_REQUESTS - 1]
    for index, person in enumerate(chosen):
        code = company_code[person.company_id]
        leave_type = types[code, rng.choice(LEAVE_MIX[code])]
        reason = rng.choice(LEAVE_REASONS[code])
        length = rng.choice((0, 0, 1, 1, 2, 4))
        if index % 8 == 7:  # a few waiting for approval in the coming weeks
            start = workday_on_or_after(today + dt.timedelta(days=rng.randrange(5, 25)))
            pending(person, leave_type, start, start + dt.timedelta(days=length), reason)
            continue
        past_days = max(1, (today - window_start).days - 7)
        for _attempt in range(3):  # a rostered person may be off on the days first picked
            start = workday_on_or_after(window_start + dt.timedelta(days=rng.randrange(past_days)))
            if decided(person, leave_type, start, start + dt.timedelta(days=length), index % 10 != 3, reason):
                break
    if inbox_person is not None:
        start = workday_on_or_after(today + dt.timedelta(days=10))
        pending(inbox_person, types["EXCN", "AL"], start, start + dt.timedelta(days=1), "回老家参加婚礼")
    comp_person = next((p for p in with_users if p is not inbox_person and p not in chosen
                        and company_code[p.company_id] == "EXCN"), None)
    if comp_person is not None:  # hour-based leave: an afternoon off for last week's overtime
        start = workday_on_or_after(today + dt.timedelta(days=7))
        pending(comp_person, types["EXCN", "COMP"], start, start, "上周加班调休", dt.time(14, 0), dt.time(18, 0))


# --- company calendar days (attendance) ----------------------------------------------------------

# company code → [(month, day, kind, name)], in the current year: days a company adds
# to its country's public holidays (a day off for its annual meeting, a stock-take Saturday).
DEMO_CALENDAR_DAYS = {
    "EXCN": [(1, 30, "holiday", "公司年会"), (12, 19, "workday", "年终盘点（周六上班）")],
    "EXDE": [(12, 24, "holiday", "Heiligabend (betriebsfrei)"), (12, 31, "holiday", "Silvester (betriebsfrei)")],
}


def seed_calendar_days(units, today):
    from portal.time.models import CalendarDay

    rows = [{"company": units[code].id, "day": dt.date(today.year, month, day), "kind": kind, "name": name}
            for code, days in DEMO_CALENDAR_DAYS.items() if code in units for month, day, kind, name in days]
    CalendarDay.insert_many(rows).execute()
