"""The demo group's time data: shift types and rules, three months of rosters
from A/B rotations for the customer-service teams, clock events with realistic
lateness and missing punches, leave types, balances and requests. Holidays
(China's 2025/2026 holidays and adjusted working days) come from the `holidays`
package and need no rows."""
import datetime as dt

ROSTER_MONTHS_BACK = 2  # rosters start on the first of the month two months back …
ROSTER_WEEKS_AHEAD = 3  # … and reach this many weeks past today


def seed_time(units, rng, today=None):
    """`units` maps codes to OrgUnits. Called by demo.seed after the people."""
    today = today or dt.date.today()
    seed_rosters(units, rng, today)
    seed_clock_events(units, rng, today)
    seed_leave(units, rng, today)


# --- shift types, rules, rotations, rosters (rosters) --------------------------------------

def seed_rosters(units, rng, today):
    pass


# --- clock events (clock) ------------------------------------------------------------------------

def seed_clock_events(units, rng, today):
    pass


# --- leave types, balances, requests (leave) -------------------------------------------------------

def seed_leave(units, rng, today):
    pass
