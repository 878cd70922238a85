import datetime as dt
import json

from attribution_world import build_world, make_cs_conversation, world_run
from factories import SYSTEM
from portal.cs import attribution
from portal.cs.models import CsAttribution, CsAttributionRun, CsDailyMetric, CsOverride


def credits_of(conversation):
    return list(CsAttribution.select().where(CsAttribution.conversation == conversation.id)
                .order_by(CsAttribution.employee))


def test_each_level_and_unattributed(db):
    w = build_world()
    runs = attribution.compute_period(SYSTEM, w.company, w.day, w.day)
    assert len(runs) == 1 and runs[0].period_start == dt.date(2026, 3, 1)
    expected = {"bound": (w.bound, 1, "sub_binding", w.binding.id), "login": (w.ip_person, 2, "login", w.login.id),
                "clocked": (w.clocked, 3, "clocked_rostered", w.entry_clocked.id),
                "rostered": (w.rostered, 4, "rostered", w.entry_evening.id)}
    for name, (person, level, kind, evidence_id) in expected.items():
        (credit,) = credits_of(getattr(w.convs, name))
        assert (credit.employee_id, credit.level, credit.share) == (person.id, level, 1.0), name
        evidence = json.loads(credit.evidence)
        assert (evidence["kind"], evidence["id"]) == (kind, evidence_id), name
    assert json.loads(credits_of(w.convs.login)[0].evidence)["match"] == "ip"
    assert credits_of(w.convs.nobody) == []
    run = CsAttributionRun.get_by_id(runs[0].id)
    assert (run.conversations, run.attributed, run.unattributed, run.stale) == (5, 4, 1, False)


def test_daily_metrics_rows(db):
    w = build_world()
    attribution.compute_period(SYSTEM, w.company, w.day, w.day)
    rows = {(m.employee_id, m.day): m for m in CsDailyMetric.select().where(CsDailyMetric.account == w.account.id)}
    bound = rows[(w.bound.id, w.day)]
    assert bound.conversations == 1 and bound.workload == 1.0 and bound.rated_positive == 1.0
    assert bound.unit_id == w.bound.unit_id
    assert rows[(w.clocked.id, w.day)].unanswered == 1.0
    assert rows[(w.ip_person.id, w.day)].online_seconds == 3 * 3600


def test_split_between_two_rostered(db):
    w = build_world()
    extra = make_cs_conversation(w.account, w.at(15), minutes=5)
    from portal.time.models import ClockEvent
    ClockEvent.delete().where(ClockEvent.employee == w.clocked.id).execute()
    attribution.compute_period(SYSTEM, w.company, w.day, w.day)
    credits = credits_of(extra)
    assert {c.employee_id for c in credits} == {w.clocked.id, w.rostered.id}
    assert sum(c.share for c in credits) == 1.0 and {c.level for c in credits} == {4}


def test_recompute_is_idempotent(db):
    w = build_world()
    attribution.compute_period(SYSTEM, w.company, w.day, w.day)
    first = sorted((c.conversation_id, c.employee_id, c.share, c.level, c.evidence) for c in CsAttribution.select())
    metrics = CsDailyMetric.select().count()
    attribution.compute_period(SYSTEM, w.company, w.day, w.day)
    again = sorted((c.conversation_id, c.employee_id, c.share, c.level, c.evidence) for c in CsAttribution.select())
    assert first == again and CsDailyMetric.select().count() == metrics
    assert CsAttributionRun.select().where((CsAttributionRun.company == w.company.id)
                                          & (CsAttributionRun.period_start == w.day.replace(day=1))).count() == 1


def test_override_wins_and_stale_runs_recompute(db):
    w = build_world()
    attribution.compute_period(SYSTEM, w.company, w.day, w.day)
    CsOverride.create(conversation=w.convs.bound.id, employee=w.rostered.id, reason="was on the phone")
    CsOverride.create(conversation=w.convs.login.id, employee=None, reason="test chat")
    assert attribution.mark_stale(w.company.id, w.day) == 1
    assert attribution.recompute_stale() == 1
    (credit,) = credits_of(w.convs.bound)
    assert (credit.employee_id, credit.level, credit.confidence) == (w.rostered.id, 0, 1.0)
    assert json.loads(credit.evidence)["kind"] == "override"
    assert credits_of(w.convs.login) == []
    run = world_run(w)
    assert (run.attributed, run.unattributed, run.stale) == (3, 2, False)


def test_a_range_computes_each_month(db):
    w = build_world()
    runs = attribution.compute_period(SYSTEM, w.company, dt.date(2026, 2, 20), dt.date(2026, 4, 2))
    assert [r.period_start for r in runs] == [dt.date(2026, 2, 1), dt.date(2026, 3, 1), dt.date(2026, 4, 1)]
    assert [r.conversations for r in runs] == [0, 5, 0]


def test_recompute_command(app, db):
    w = build_world()
    result = app.test_cli_runner().invoke(args=["cs", "recompute", "--company", w.company.code, "--month", "2026-03"])
    assert result.exit_code == 0, result.output
    assert "5 conversations, 4 attributed, 1 unattributed" in result.output
    bad = app.test_cli_runner().invoke(args=["cs", "recompute", "--company", w.company.code, "--month", "March"])
    assert bad.exit_code != 0


def test_the_recompute_job_redoes_stale_runs(db):
    w = build_world()
    attribution.compute_period(SYSTEM, w.company, w.day, w.day)
    attribution.mark_stale(w.company.id, w.day)

    class Progress:
        def update(self, *args, **kwargs):
            pass

    assert attribution.run_recompute(Progress()) == {"runs": 1}
    assert not world_run(w).stale
