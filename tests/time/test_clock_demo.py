"""The demo's clock events (demo_time.seed_clock_events): punches for the rostered
shifts that have begun, none in the future, lateness and missing punches in realistic shares."""
from portal.core.db import utcnow
from portal.time.models import ClockEvent, RosterEntry


def test_the_demo_punches_for_past_shifts_only(db):
    now = utcnow()
    events = ClockEvent.select().count()
    shifts = RosterEntry.select().where(RosterEntry.ends_at < now).count()
    assert shifts and 1.8 * shifts < events < 2.0 * shifts  # absences and missing punches leave some out
    assert ClockEvent.select().where(ClockEvent.at > now).count() == 0
    assert 0 < ClockEvent.select().where(ClockEvent.source == "device").count() < events * 0.1
