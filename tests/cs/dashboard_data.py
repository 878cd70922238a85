"""Rows for the dashboard tests: CS accounts, attribution runs, daily metric sums and
conversations written straight to the tables (the attribution service is not needed)."""
import datetime as dt
import itertools

from factories import unit_by_code
from portal.people.models import Employee
from portal.cs.models import CsAccount, CsAttributionRun, CsConversation, CsDailyMetric

_numbers = itertools.count(1)


def make_dashboard_account(store="CN-JD", code=None, name=None):
    store = unit_by_code(store) if isinstance(store, str) else store
    n = next(_numbers)
    return CsAccount.create(company=store.company_id, store=store.id, code=code or f"DASH-{n}",
                            name=name or f"Dashboard account {n}")


def make_dashboard_run(company, day):
    run = CsAttributionRun.get_or_none((CsAttributionRun.company == company.id)
                                       & (CsAttributionRun.period_start == day.replace(day=1)))
    return run or CsAttributionRun.create(company=company.id, period_start=day.replace(day=1),
                                          period_end=day.replace(day=28))


def make_daily_metric(employee, account, day, unit=None, **sums):
    """One person × account × day row of sums; `unit` defaults to the person's home unit."""
    run = make_dashboard_run(account.company, day)
    home = unit.id if unit is not None else Employee.get_by_id(employee.id).unit_id  # the record as saved now
    return CsDailyMetric.create(run=run.id, company=account.company_id, unit=home,
                                employee=employee.id, account=account.id, day=day, **sums)


def make_conversations(account, starts):
    """Conversations of `account` starting at the naive-UTC instants `starts`."""
    rows = [{"company": account.company_id, "account": account.id, "session_id": f"S{next(_numbers)}",
             "started_at": start, "ended_at": start + dt.timedelta(minutes=5), "created_at": start}
            for start in starts]
    CsConversation.insert_many(rows).execute()
