"""Roster services: shift types and their instants (overnight, DST), cells, week copy and
clear, conflicts (overlap, rest, leave), rotations and handover notes. Factory-made teams
and dates in 2025/2026 away from the demo's rosters."""
import datetime as dt

import pytest

from factories import (
    SYSTEM, make_approved_leave, make_roster_entry, make_roster_person, make_roster_team, make_shift_type,
)
from portal.approvals.models import Notification
from portal.audit.models import AuditEvent
from portal.core.errors import NotInScope, ServiceError
from portal.time import rosters
from portal.time.models import RosterEntry, TimePolicy
from portal.time.services import company_zone, shift_bounds

MONDAY = dt.date(2025, 5, 5)


@pytest.fixture
def team(db):
    return make_roster_team("EXCN-CS")


@pytest.fixture
def shifts(team):
    """The team's company's early, late and night shifts (China: 8 h rest in the demo policy)."""
    return {"early": make_shift_type(team.company, "TE", "08:30", "17:30"),
            "late": make_shift_type(team.company, "TL", "14:00", "23:00"),
            "night": make_shift_type(team.company, "TN", "22:00", "07:00")}


@pytest.fixture
def person(team):
    return make_roster_person(team)


def hours(entry):
    return (entry.ends_at - entry.starts_at).total_seconds() / 3600


# --- shift types and instants ---------------------------------------------------------------------

def test_an_overnight_shift_ends_the_next_day(team, shifts):
    start, end = shift_bounds(shifts["night"], MONDAY, company_zone(team))
    assert (start, end) == (dt.datetime(2025, 5, 5, 14, 0), dt.datetime(2025, 5, 5, 23, 0))  # UTC+8
    assert shifts["night"].overnight and not shifts["early"].overnight


@pytest.mark.parametrize("day,length", [(dt.date(2026, 3, 28), 7), (dt.date(2026, 10, 24), 9),
                                        (dt.date(2026, 3, 21), 8)])
def test_a_german_night_shift_across_a_clock_change(db, day, length):
    team = make_roster_team("EXDE-CS")
    night = make_shift_type(team.company, "TNX", "22:00", "06:00", break_minutes=30)
    person = make_roster_person(team)
    (entry,) = rosters.set_roster_cell(SYSTEM, team, person.id, day, night)
    assert hours(entry) == length
    assert entry.day == day
    zone = company_zone(team)
    assert entry.starts_at.replace(tzinfo=dt.timezone.utc).astimezone(zone).hour == 22
    assert entry.ends_at.replace(tzinfo=dt.timezone.utc).astimezone(zone).hour == 6


def test_shift_type_rules(team):
    with pytest.raises(ServiceError) as error:
        make_shift_type(team.company, "TX", "08:00", "08:00")
    assert error.value.field == "end"
    make_shift_type(team.company, "TY", "08:00", "09:00", break_minutes=0)
    with pytest.raises(ServiceError) as error:
        make_shift_type(team.company, "TY", "10:00", "12:00", break_minutes=0)
    assert error.value.field == "code"
    shift_type = make_shift_type(team.company, "TZ", cs_accounts="JD-01, JD-02，JD-01")
    assert rosters.shift_accounts(shift_type) == ["JD-01", "JD-02"]


def test_hr_de_cannot_make_shift_types_in_china(team, hr_de):
    with pytest.raises(NotInScope):
        rosters.create_shift_type(hr_de, team.company, {"code": "X", "name": "X", "start": dt.time(8),
                                                        "end": dt.time(9)})


def test_archived_shift_types_cannot_be_rostered(team, shifts, person):
    rosters.archive_shift_type(SYSTEM, shifts["early"])
    with pytest.raises(ServiceError):
        rosters.set_roster_cell(SYSTEM, team, person.id, MONDAY, rosters.ShiftType.get_by_id(shifts["early"].id))


# --- cells and conflicts ---------------------------------------------------------------------------------

def test_a_cell_is_set_replaced_and_cleared_with_audit(team, shifts, person):
    before = AuditEvent.select().where(AuditEvent.action == "time.roster_changed").count()
    (entry,) = rosters.set_roster_cell(SYSTEM, team, person.id, MONDAY, shifts["early"])
    assert (entry.source, entry.unit_id, entry.company_id, entry.break_minutes) == ("manual", team.id,
                                                                                    team.company_id, 60)
    (entry,) = rosters.set_roster_cell(SYSTEM, team, person.id, MONDAY, shifts["late"])
    assert entry.shift_type_id == shifts["late"].id
    assert rosters.set_roster_cell(SYSTEM, team, person.id, MONDAY, None) == []
    assert AuditEvent.select().where(AuditEvent.action == "time.roster_changed").count() == before + 3


def test_rest_time_conflict_names_person_day_and_shifts(team, shifts, person):
    TimePolicy.delete().where(TimePolicy.company == team.company_id).execute()
    TimePolicy.create(company=team.company_id, min_rest_minutes=11 * 60)
    rosters.set_roster_cell(SYSTEM, team, person.id, MONDAY, shifts["late"])
    with pytest.raises(ServiceError) as error:
        rosters.set_roster_cell(SYSTEM, team, person.id, MONDAY + dt.timedelta(days=1), shifts["early"])
    message = str(error.value.message)
    assert person.display_name in message and "rest" in message
    assert shifts["early"].name in message and shifts["late"].name in message
    assert "9.5" in message and "11" in message
    assert RosterEntry.select().where(RosterEntry.employee == person.id).count() == 1


def test_overlap_conflict_across_units(team, shifts):
    person = make_roster_person(team, share=50)
    other = make_roster_team("EXCN-CS")
    from factories import make_assignment, make_post

    make_assignment(person, make_post(team.company), other, share=50, start_date=dt.date(2024, 1, 1))
    make_roster_entry(other, person, MONDAY, shifts["early"])
    with pytest.raises(rosters.RosterConflict) as error:
        rosters.set_roster_cell(SYSTEM, team, person.id, MONDAY, shifts["late"])
    assert "overlaps" in str(error.value.message) and person.display_name in str(error.value.message)


def test_leave_conflict(team, shifts, person):
    make_approved_leave(person, MONDAY, MONDAY + dt.timedelta(days=2))
    with pytest.raises(rosters.RosterConflict) as error:
        rosters.set_roster_cell(SYSTEM, team, person.id, MONDAY + dt.timedelta(days=1), shifts["early"])
    assert "leave" in str(error.value.message)
    rosters.set_roster_cell(SYSTEM, team, person.id, MONDAY + dt.timedelta(days=3), shifts["early"])


def test_only_people_of_the_unit_can_be_rostered(team, shifts):
    stranger = make_roster_person(make_roster_team("EXCN-CS"))
    with pytest.raises(NotInScope):
        rosters.set_roster_cell(SYSTEM, team, stranger.id, MONDAY, shifts["early"])


def test_a_lead_edits_only_their_own_team(shifts, person, team, lead):
    with pytest.raises(NotInScope):
        rosters.set_roster_cell(lead, team, person.id, MONDAY, shifts["early"])


def test_copy_previous_week_and_clear(team, shifts, person):
    colleague = make_roster_person(team)
    for offset in range(5):
        make_roster_entry(team, person, MONDAY - dt.timedelta(days=7 - offset), shifts["early"])
    make_roster_entry(team, colleague, MONDAY + dt.timedelta(days=2), shifts["late"])  # replaced by the copy
    assert rosters.copy_previous_week(SYSTEM, team, MONDAY) == 5
    week = RosterEntry.select().where((RosterEntry.unit == team.id)
                                      & RosterEntry.day.between(MONDAY, MONDAY + dt.timedelta(days=6)))
    assert sorted((e.employee_id, e.day.weekday()) for e in week) == [(person.id, d) for d in range(5)]
    assert rosters.clear_week(SYSTEM, team, MONDAY) == 5
    assert not week.exists()
    assert RosterEntry.select().where(RosterEntry.unit == team.id).count() == 5  # the week before stays


def test_copying_a_week_into_someone_s_leave_is_refused_whole(team, shifts, person):
    for offset in range(3):
        make_roster_entry(team, person, MONDAY - dt.timedelta(days=7 - offset), shifts["early"])
    make_approved_leave(person, MONDAY + dt.timedelta(days=1))
    with pytest.raises(rosters.RosterConflict) as error:
        rosters.copy_previous_week(SYSTEM, team, MONDAY)
    assert len(error.value.conflicts) == 1
    assert not RosterEntry.select().where((RosterEntry.unit == team.id) & (RosterEntry.day >= MONDAY)).exists()


# --- rotations -------------------------------------------------------------------------------------------------

def test_pattern_text_in_codes_and_chinese(team, shifts):
    types = rosters.shift_types_of(team.company)
    early, late = shifts["early"].id, shifts["late"].id
    assert rosters.parse_pattern("TE TE TL, TL - off", types) == [early, early, late, late, None, None]
    zao = make_shift_type(team.company, "早X", "08:00", "16:00")
    types = rosters.shift_types_of(team.company)
    assert rosters.parse_pattern("早X早X休休", types) == [zao.id, zao.id, None, None]
    with pytest.raises(ServiceError):
        rosters.parse_pattern("TE ?? TE", types)
    with pytest.raises(ServiceError):
        rosters.parse_pattern("- - -", types)


def test_an_ab_rotation_four_on_two_off(team, shifts):
    people = [make_roster_person(team) for _ in range(4)]
    members = {people[0].id: ("A", 0), people[1].id: ("A", 0), people[2].id: ("B", 3), people[3].id: ("B", 3)}
    rotation = rosters.save_rotation(SYSTEM, team, {"name": "A/B", "pattern": "TE TE TE TE - -",
                                                    "anchor_date": MONDAY}, members)
    count = rosters.generate_rotation(SYSTEM, rotation, MONDAY, MONDAY + dt.timedelta(days=11))
    assert count == 4 * 8  # 12 days, 4 on / 2 off
    worked = {p.id: sorted((e.day - MONDAY).days for e in RosterEntry.select().where(RosterEntry.employee == p.id))
              for p in people}
    assert worked[people[0].id] == [0, 1, 2, 3, 6, 7, 8, 9]
    assert worked[people[2].id] == [0, 3, 4, 5, 6, 9, 10, 11]  # offset 3: starts the cycle on its fourth day
    assert {e.source for e in RosterEntry.select().where(RosterEntry.rotation == rotation.id)} == {"rotation"}
    # everybody with an account is told, with a link to their roster
    users = [p.user_id for p in people]
    notes = Notification.select().where(Notification.user.in_(users)
                                        & (Notification.message == "time.rotation_generated"))
    assert notes.count() == 4 and notes.first().link == "/time/roster/mine"


def test_weekly_rotating_early_late_and_regeneration(team, shifts):
    person = make_roster_person(team)
    pattern = " ".join(["TE"] * 5 + ["-"] * 2 + ["TL"] * 5 + ["-"] * 2)
    rotation = rosters.save_rotation(SYSTEM, team, {"name": "Weekly", "pattern": pattern, "anchor_date": MONDAY},
                                     {person.id: ("", 0)})
    rosters.generate_rotation(SYSTEM, rotation, MONDAY, MONDAY + dt.timedelta(days=13))
    codes = [e.shift_type.code for e in RosterEntry.select().where(RosterEntry.employee == person.id)
             .order_by(RosterEntry.day)]
    assert codes == ["TE"] * 5 + ["TL"] * 5
    # generating again replaces the rotation's entries instead of doubling them
    rosters.generate_rotation(SYSTEM, rotation, MONDAY, MONDAY + dt.timedelta(days=13))
    assert RosterEntry.select().where(RosterEntry.employee == person.id).count() == 10


def test_an_office_hours_rotation_follows_china_s_calendar(team, shifts):
    """Sunday 2026-09-20 is an adjusted working day (调休); 2026-10-01…10-07 are public
    holidays (10-06 and 10-07 substituted days off)."""
    person = make_roster_person(team)
    monday = dt.date(2026, 9, 14)
    values = {"name": "Office", "pattern": "TE TE TE TE TE - -", "anchor_date": monday}
    plain = rosters.save_rotation(SYSTEM, team, values, {person.id: ("", 0)})
    assert not plain.follows_calendar
    rotation = rosters.save_rotation(SYSTEM, team, {**values, "follows_calendar": True}, {person.id: ("", 0)}, plain)
    rosters.generate_rotation(SYSTEM, rotation, monday, dt.date(2026, 10, 11))
    worked = {e.day for e in RosterEntry.select().where(RosterEntry.employee == person.id)}
    assert dt.date(2026, 9, 20) in worked  # the working Sunday, on the pattern's first shift
    assert not worked & {dt.date(2026, 10, 1) + dt.timedelta(days=n) for n in range(7)}  # Golden Week off
    assert dt.date(2026, 10, 8) in worked and dt.date(2026, 9, 19) not in worked


def test_rotation_skips_leave_and_refuses_conflicts_whole(team, shifts):
    person, other = make_roster_person(team), make_roster_person(team)
    make_approved_leave(person, MONDAY + dt.timedelta(days=1))
    rotation = rosters.save_rotation(SYSTEM, team, {"name": "Days", "pattern": "TE", "anchor_date": MONDAY},
                                     {person.id: ("", 0)})
    assert rosters.generate_rotation(SYSTEM, rotation, MONDAY, MONDAY + dt.timedelta(days=2)) == 2
    make_roster_entry(team, other, MONDAY + dt.timedelta(days=4), shifts["night"])  # 22:00 → 07:00 the next day
    rotation = rosters.save_rotation(SYSTEM, team, {"name": "Days", "pattern": "TE", "anchor_date": MONDAY},
                                     {person.id: ("", 0), other.id: ("", 0)}, rotation)
    with pytest.raises(rosters.RosterConflict) as error:
        rosters.generate_rotation(SYSTEM, rotation, MONDAY, MONDAY + dt.timedelta(days=6))
    assert len(error.value.conflicts) == 2  # the night's day (overlap), the morning after (rest)
    assert RosterEntry.select().where(RosterEntry.rotation == rotation.id).count() == 2  # unchanged


def test_rotation_members_must_be_of_the_unit(team, shifts):
    stranger = make_roster_person(make_roster_team("EXCN-CS"))
    with pytest.raises(NotInScope):
        rosters.save_rotation(SYSTEM, team, {"name": "X", "pattern": "TE", "anchor_date": MONDAY},
                              {stranger.id: ("A", 0)})


# --- my roster and handover notes ---------------------------------------------------------------------------------

def test_my_roster_and_the_previous_shift_s_notes(team, shifts, person):
    now = dt.datetime(2025, 5, 5, 4, 0)  # 12:00 in Shanghai
    make_roster_entry(team, person, MONDAY, shifts["late"])
    make_roster_entry(team, person, MONDAY + dt.timedelta(days=20), shifts["early"])
    make_roster_entry(team, person, MONDAY + dt.timedelta(days=21), shifts["early"])  # beyond 3 weeks
    mine = rosters.my_roster(person, now)
    assert [(s.entry.day, s.future) for s in mine] == [(MONDAY, True), (MONDAY + dt.timedelta(days=20), True)]
    assert [part.replace("\u202f", " ") for part in (mine[0].starts, mine[0].ends)] == ["2:00 PM", "11:00 PM"]
    lead = team.lead_user
    from portal.core.permissions import Actor

    note = rosters.write_handover_note(Actor.for_user(lead), team, MONDAY, shifts["early"],
                                       "Ticket 42 waits for a reply.")
    note.created_at = now - dt.timedelta(hours=1)
    note.save()
    notes = rosters.handover_for(person, mine, now + dt.timedelta(minutes=1))
    assert [n.body for n in notes] == ["Ticket 42 waits for a reply."]


def test_who_may_write_handover_notes(team, shifts, person):
    from portal.accounts.models import User
    from portal.core.permissions import Actor

    actor = Actor.for_user(User.get_by_id(person.user_id))
    with pytest.raises(NotInScope):
        rosters.write_handover_note(actor, team, MONDAY, None, "Not on shift today.")
    make_roster_entry(team, person, MONDAY, shifts["early"])
    note = rosters.write_handover_note(actor, team, MONDAY, shifts["early"], "All quiet.")
    assert AuditEvent.select().where((AuditEvent.action == "time.handover_written")
                                     & (AuditEvent.object_id == str(note.id))).exists()
    with pytest.raises(ServiceError):
        rosters.write_handover_note(actor, team, MONDAY, None, "   ")
