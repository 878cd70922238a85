"""The data bench/_bonus_pdf.py and bench/_bonus_preview.py measure on, built once per run.

A fresh SQLite database (migrated, the demo seeded) gets, under the demo's JD store,
one team per size asked for (`team(people)`): people with Chinese names holding a
full post in the team since dates spread over ten years (tenure), support points
for this month with a reason each, every tenth person paid in HKD (a contract in
HKD: their lines convert at the ECB rate), and a computed draft pool split by a
published rule of four dimensions (support points, tenure, skill level, attendance
rate; the last two mostly missing in this data, as for people without posts' skills
or rosters) — all through the bonus services except the bulk inserts of people.
"""
import atexit
import datetime as dt
import functools
import random
import shutil
import sys

from people import bench_workdir, person_name, seeded_app

DEFINITION = {
    "dimensions": [
        {"key": "support", "source": "hr.support_points", "direction": "higher", "normalisation": "minmax",
         "weight": 40},
        {"key": "tenure", "source": "hr.tenure", "direction": "higher", "normalisation": "minmax", "weight": 30},
        {"key": "skill", "source": "hr.skill_level", "direction": "higher", "normalisation": "percentile",
         "weight": 15},
        {"key": "attendance", "source": "hr.attendance_rate", "direction": "higher", "normalisation": "minmax",
         "weight": 15},
    ],
    "eligibility": {"min_days_worked": 0, "probation": "scale", "probation_scale": 0.5},
    "floor_minor": 10_000, "cap_minor": None, "team_multiplier_bp": 10_000, "team_target": None,
    "rounding_unit_minor": 1,
}
LEAD_PASSWORD = "demo1234"


def log(message):
    print(f"[bench/bonus world] {message}", file=sys.stderr, flush=True)


@functools.lru_cache(maxsize=None)
def app():
    """The seeded app (one per run: both parts use it)."""
    workdir = bench_workdir("bonus")
    atexit.register(shutil.rmtree, workdir, True)
    return seeded_app(workdir, log), workdir


def _add_people(team, company, count, rng):
    from portal.core.db import database, utcnow
    from portal.people.models import Assignment, Contract, Employee
    from portal.posts.models import Post

    post_id = Post.select(Post.id).where(Post.company == company.id).first().id
    now, prefix = utcnow(), f"BB{team.id}-"
    with database.atomic():
        Employee.insert_many([
            {"number": f"{prefix}{n:05d}", "legal_name": person_name(rng, False), "company": company.id,
             "unit": team.id, "hire_date": dt.date(2015, 1, 1) + dt.timedelta(days=rng.randrange(3650)),
             "status": "probation" if n % 17 == 0 else "active", "created_at": now, "updated_at": now}
            for n in range(count)]).execute()
        people = list(Employee.select(Employee.id, Employee.hire_date).where(Employee.number.startswith(prefix))
                      .order_by(Employee.id))
        Assignment.insert_many([{"employee": e.id, "post": post_id, "unit": team.id, "is_primary": True,
                                 "share": 50 if n % 9 == 0 else 100, "start_date": e.hire_date, "created_at": now}
                                for n, e in enumerate(people)]).execute()
        Contract.insert_many([{"employee": e.id, "contract_type": "permanent", "start_date": e.hire_date,
                               "currency": "HKD", "created_at": now} for e in people[::10]]).execute()
    return people


@functools.lru_cache(maxsize=None)
def team(people):
    """(team id, pool id, lead username) of a computed `people`-person pool this month."""
    from portal.accounts.models import Role
    from portal.accounts.services import create_user, grant_role
    from portal.bonus import services
    from portal.bonus.models import BonusSupportPoint
    from portal.core.db import database, utcnow
    from portal.core.permissions import Actor
    from portal.org.models import OrgUnit
    from portal.org.services import create_unit

    rng = random.Random(20261206 + people)
    with app()[0].app_context():
        system = Actor.system()
        company = OrgUnit.get(OrgUnit.code == "EXCN")
        store = OrgUnit.get(OrgUnit.code == "CN-JD")
        unit = create_unit(system, store, "team", f"BENCH-BONUS-{people}", f"奖金压测{people}人组")
        lead = f"bench.bonus.lead{people}"
        user = create_user(system, unit, lead, "Bench lead", LEAD_PASSWORD)
        grant_role(system, user, Role.get(Role.builtin_key == "team_lead"), unit, True)
        added = _add_people(unit, company, people, rng)
        month = dt.date.today().replace(day=1)
        with database.atomic():
            BonusSupportPoint.insert_many([
                {"employee": e.id, "unit": unit.id, "period_start": month, "points": rng.randint(1, 40),
                 "reason": "帮助B组处理大促咨询", "created_at": utcnow()} for e in added]).execute()
        version = services.publish_rule_version(
            system, services.create_rule(system, company, f"Bench rule {people}", DEFINITION))
        pool = services.create_pool(system, unit, month, people * 1_000_00, "CNY", version)
        services.compute_pool(system, pool)
        log(f"team of {people}: pool {pool.id} computed")
        return unit.id, pool.id, lead
