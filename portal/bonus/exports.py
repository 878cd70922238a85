"""Exports of bonus pools for auditors (issue 6, point 6): the pool summary and the
per-person statements as PDF, the pool's lines as CSV and XLSX, and the statements of
every pool of a company and month as a background job.

Everything printed comes from one snapshot of the pool (services.pool_snapshot): the
lines, members, adjustments and rule definition are taken from that dict, not read
again, so the SHA-256 in the header (`PoolExport.sha256`, equal to
services.snapshot_hash) is the fingerprint of exactly the data the file was made
from. Names, the approval trail and the org units are read beside it (they are not
part of the fingerprint). Every export records "bonus.exported" with the pool, the
format and the fingerprint.

Service API (bonus.export on the pool's team; NotInScope (404) outside it):
- `pool_export(actor, pool) -> PoolExport` — the snapshot and what the files show.
- `summary_pdf(actor, pool) -> ExportFile` — the pool: header, rule, every person's
  line and amount, totals, adjustments (A4 landscape).
- `statements_pdf(actor, pool) -> ExportFile` — one statement per person and page.
- `lines_table(actor, pool, file_format) -> LinesExport` — header and rows of the
  lines for core.exports' csv_response / xlsx_response ("csv" or "xlsx").
- `exportable_pools(actor, unit, period_start) -> [BonusPool]` — the pools of the
  month in `unit` and below where the actor may export, by team.
- `start_statements_job(actor, company, period_start, locale, zone) -> Job` — the
  statements of all those pools in one PDF, made by the background job
  "bonus.statements_pdf" (progress by person; each pool is laid out on its own and
  its pages numbered "page X of Y" within its part); `job_file(actor, job) ->
  (path, filename)` for its creator once it is done.
"""
import datetime as dt
import hashlib
import json
import re
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace

from babel.dates import format_datetime
from flask_babel import force_locale, get_locale, gettext as _, lazy_gettext as _l, pgettext

from portal.accounts.models import User
from portal.bonus import services
from portal.bonus.models import BonusPool, BonusRule, BonusRuleVersion
from portal.bonus.permissions import BONUS_EXPORT
from portal.core.audit import declare_actions, record_event
from portal.core.db import database, utcnow
from portal.core.errors import ServiceError
from portal.core.jobs import background_job, start_job
from portal.core.money import to_decimal
from portal.core.pdf import join_documents, render_document
from portal.core.permissions import Actor
from portal.org.models import OrgUnit
from portal.people.models import Employee

JOB_KIND = "bonus.statements_pdf"
EXPORT_DIR = "bonus-exports"
FORMATS = {"pdf_summary": _l("Pool summary (PDF)"), "pdf_statements": _l("Statements (PDF)"),
           "csv": _l("Lines (CSV)"), "xlsx": _l("Lines (XLSX)")}
SUMMARY_TEMPLATE = "pdf/bonus_pool.html"
STATEMENTS_TEMPLATE = "pdf/bonus_statements.html"

declare_actions({"bonus.exported": _l("Bonus pool exported")})


# --- what an export shows --------------------------------------------------------------------------

@dataclass
class ExportLine:
    """One person's line of the snapshot, ready for the page: `line` has the snapshot's
    fields as attributes (plus `currency`, `days_worked`, `rate_date` as a date)."""

    employee: object
    line: object
    dimensions: list          # [services.StatementDimension]
    eligibility: dict         # as services.Statement.eligibility
    adjustments: list         # [{"amount_minor", "reason"}] of this person


@dataclass
class PoolExport:
    pool: object
    unit: object
    company: object
    rule: object
    rule_version: object
    definition: dict
    dimensions: list          # [services.DimensionInfo]
    trail: list               # [ApprovalStep] (services.approval_trail)
    snapshot: dict
    sha256: str
    lines: list               # [ExportLine] by rank
    ranges: dict              # source → (min, max) over the eligible people with a value
    adjustments: list         # [(employee, amount_minor, reason)]
    totals: dict              # rule_minor, adjustment_minor, amount_minor, leftover_minor, effective_minor, pay
    corrects: object = None
    superseded_by: object = None

    @property
    def computed(self):
        return self.pool.computed_at is not None

    @property
    def label(self):
        return f"{self.unit.name} {self.pool.period_start:%Y-%m} #{self.pool.number}"

    def file_stem(self):
        code = re.sub(r"[^A-Za-z0-9_-]+", "_", self.unit.code or str(self.unit.id))
        return f"bonus-{code}-{self.pool.period_start:%Y-%m}-v{self.pool.number}"


@dataclass
class ExportFile:
    filename: str
    body: bytes
    sha256: str


@dataclass
class LinesExport:
    filename: str
    header: list
    rows: list
    sha256: str


def snapshot_digest(snapshot):
    """The SHA-256 of a snapshot, serialised as services.snapshot_hash does."""
    data = json.dumps(snapshot, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def _ranges(lines, definition):
    """{source: (min, max)} of the raw values of the eligible lines that have one."""
    out = {}
    for dim in definition["dimensions"]:
        values = [line["raw"][dim["source"]] for line in lines
                  if line["eligibility_scale"] > 0 and line["raw"].get(dim["source"]) is not None]
        out[dim["source"]] = (min(values), max(values)) if values else (None, None)
    return out


def _line_view(line, currency):
    rate_date = dt.date.fromisoformat(line["rate_date"]) if line["rate_date"] else None
    return SimpleNamespace(**{**line, "rate_date": rate_date, "currency": currency,
                              "days_worked": int(line["raw"].get(services.FACT_DAYS) or 0)})


def _export_lines(snapshot, dimensions, definition, ranges, employees, currency):
    adjustments = {}
    for a in snapshot["adjustments"]:
        adjustments.setdefault(a["employee"], []).append(a)
    out = []
    for line in snapshot["lines"]:
        raw, normalised, contributions = line["raw"], line["normalised"], line["contributions"]
        dims = [services.StatementDimension(info, raw.get(info.source), normalised.get(info.key, 0.0),
                                            contributions.get(info.key, 0.0), *ranges[info.source])
                for info in dimensions]
        view = _line_view(line, currency)
        eligibility = {**definition["eligibility"], "days_worked": view.days_worked,
                       "on_probation": bool(raw.get(services.FACT_PROBATION)), "scale": line["eligibility_scale"],
                       "participation": line["participation"], "reason": line["ineligible_reason"],
                       "reason_label": services.INELIGIBLE_REASONS.get(line["ineligible_reason"], "")}
        out.append(ExportLine(employees[line["employee"]], view, dims, eligibility,
                              adjustments.get(line["employee"], [])))
    out.sort(key=lambda x: (x.line.rank, x.employee.display_name, x.employee.id))
    return out


def _totals(snapshot):
    lines = snapshot["lines"]
    pay = {}
    for line in lines:
        pay[line["pay_currency"]] = pay.get(line["pay_currency"], 0) + line["pay_amount_minor"]
    info = snapshot["pool"]
    return {"rule_minor": sum(x["rule_amount_minor"] for x in lines),
            "adjustment_minor": sum(x["adjustment_minor"] for x in lines),
            "amount_minor": sum(x["amount_minor"] for x in lines),
            "leftover_minor": info["leftover_minor"] or 0,
            "effective_minor": info["effective_minor"] if info["effective_minor"] is not None else info["amount_minor"],
            "pay": sorted(pay.items())}


def pool_export(actor, pool):
    """The pool's snapshot and everything the export files show (module docstring).

    Read in one transaction and checked against a second fingerprint, so a pool
    recomputed meanwhile is refused rather than printed half old, half new."""
    unit = OrgUnit.get_by_id(pool.unit_id)
    actor.require(BONUS_EXPORT, unit)
    with database.atomic():
        fresh = BonusPool.get_by_id(pool.id)
        snapshot = services.pool_snapshot(fresh)
        sha256 = snapshot_digest(snapshot)
        if services.snapshot_hash(BonusPool.get_by_id(pool.id)) != sha256:
            raise ServiceError(_("Someone else changed this pool meanwhile. Reload the page and try again."))
        version = BonusRuleVersion.get_by_id(fresh.rule_version_id)
        employee_ids = sorted({m["employee"] for m in snapshot["members"]} | {x["employee"] for x in snapshot["lines"]})
        employees = {e.id: e for e in Employee.select().where(Employee.id.in_(employee_ids or [0]))}
        trail = services.approval_trail(fresh)
        corrects = BonusPool.get_or_none(BonusPool.id == fresh.corrects_id) if fresh.corrects_id else None
        superseded = BonusPool.select().where(BonusPool.corrects == fresh.id).order_by(BonusPool.number).first()
    definition = snapshot["rule_version"]["definition"]
    dimensions = services.describe_definition(definition)
    ranges = _ranges(snapshot["lines"], definition)
    lines = _export_lines(snapshot, dimensions, definition, ranges, employees, fresh.currency)
    adjustments = [(employees[a["employee"]], a["amount_minor"], a["reason"]) for a in snapshot["adjustments"]]
    return PoolExport(fresh, unit, OrgUnit.get_by_id(fresh.company_id), BonusRule.get_by_id(version.rule_id), version,
                      definition, dimensions, trail, snapshot, sha256, lines, ranges, adjustments, _totals(snapshot),
                      corrects, superseded)


def _record_export(actor, export, file_format, **extra):
    with database.atomic():
        record_event("bonus.exported", export.pool, label=export.label, unit=export.unit, actor=actor.user,
                     after={"pool": export.pool.id, "format": file_format, "snapshot_sha256": export.sha256,
                            "people": len(export.lines), **extra})


# --- PDF -------------------------------------------------------------------------------------------

def generated_line(actor, when=None, zone=None):
    """"Generated by … on …" in the reader's language, at `when` (now) in `zone`
    (the request's time zone; a job passes the one of the user who started it)."""
    from portal.core.i18n import select_timezone

    tzinfo = zoneinfo.ZoneInfo(zone or select_timezone() or "UTC")
    moment = (when or utcnow()).replace(tzinfo=dt.timezone.utc)
    name = actor.user.display_name if actor.user is not None else "Fairshare"
    return _("Generated by %(name)s on %(when)s", name=name,
             when=format_datetime(moment, "medium", tzinfo=tzinfo, locale=get_locale()))


def _document(template, export, generated):
    return render_document(template, export=export, generated_line=generated,
                           landscape=template == SUMMARY_TEMPLATE, formats=FORMATS)


def summary_pdf(actor, pool):
    """The pool summary as PDF (recorded as "pdf_summary")."""
    export = pool_export(actor, pool)
    # the fingerprint in every page's footer too: the table may run over several pages
    footer = _("%(generated)s · SHA-256 %(sha256)s", generated=generated_line(actor), sha256=export.sha256)
    body = _document(SUMMARY_TEMPLATE, export, footer).write_pdf()
    _record_export(actor, export, "pdf_summary")
    return ExportFile(f"{export.file_stem()}-summary.pdf", body, export.sha256)


def statements_pdf(actor, pool):
    """Every person's statement of the pool, one a page (recorded as "pdf_statements")."""
    export = pool_export(actor, pool)
    body = _document(STATEMENTS_TEMPLATE, export, generated_line(actor)).write_pdf()
    _record_export(actor, export, "pdf_statements")
    return ExportFile(f"{export.file_stem()}-statements.pdf", body, export.sha256)


# --- CSV and XLSX ----------------------------------------------------------------------------------

def lines_header(dimensions):
    header = [_("Rank"), _("Number"), pgettext("person", "Name"), _("Share of the team")]
    for d in dimensions:
        header += [_("%(figure)s: value", figure=d.label), _("%(figure)s: normalised", figure=d.label),
                   _("%(figure)s: contribution", figure=d.label)]
    return header + [_("Score"), _("Counts"), _("Not eligible because"), _("Days worked"), _("Floor"), _("Cap"),
                     _("By the rule"), _("Adjustment"), _("Amount"), _("Currency"), _("In pay currency"),
                     _("Pay currency"), _("Rate"), _("Rate of"), _("Rate source"), _("Data fingerprint (SHA-256)")]


def _money(minor, currency):
    return None if minor is None else to_decimal(minor, currency)


def lines_rows(export):
    """The export's lines as rows of plain values (Decimal money in major units)."""
    rows = []
    for item in export.lines:
        line = item.line
        row = [line.rank, item.employee.number, item.employee.display_name, line.participation]
        for d in item.dimensions:
            row += [d.raw, d.normalised, d.contribution]
        row += [line.score, line.eligibility_scale, str(item.eligibility["reason_label"]), line.days_worked,
                _money(line.floor_minor, line.currency), _money(line.cap_minor, line.currency),
                _money(line.rule_amount_minor, line.currency), _money(line.adjustment_minor, line.currency),
                _money(line.amount_minor, line.currency), line.currency,
                _money(line.pay_amount_minor, line.pay_currency), line.pay_currency, Decimal(line.rate),
                line.rate_date, line.rate_source, export.sha256]
        rows.append(row)
    return rows


def lines_table(actor, pool, file_format):
    """The pool's lines for a CSV or XLSX file (recorded with that format)."""
    if file_format not in ("csv", "xlsx"):
        raise ValueError(file_format)
    export = pool_export(actor, pool)
    rows = lines_rows(export)
    _record_export(actor, export, file_format)
    return LinesExport(f"{export.file_stem()}.{file_format}", lines_header(export.dimensions), rows, export.sha256)


# --- a whole company's statements as a background job ---------------------------------------------

def exportable_pools(actor, unit, period_start):
    """The pools of the month in `unit` and below where the actor may export, by team
    and version."""
    start, _end = services.month_period(period_start)
    return list(BonusPool.select(BonusPool).join(OrgUnit, on=(OrgUnit.id == BonusPool.unit))
                .where(OrgUnit.path.startswith(unit.path) & (BonusPool.period_start == start)
                       & actor.scope.condition(BonusPool.unit, BONUS_EXPORT))
                .order_by(OrgUnit.path, BonusPool.number))


def _people_in(pools):
    from portal.bonus.models import BonusLine

    ids = [p.id for p in pools if p.computed_at is not None]
    return BonusLine.select().where(BonusLine.pool.in_(ids)).count() if ids else 0


def start_statements_job(actor, company, period_start, locale, zone):
    """Queue the statements of every pool of the company's month the actor may export.
    `locale` and `zone` are the reader's: the job writes in them."""
    actor.require(BONUS_EXPORT, company)
    start, _end = services.month_period(period_start)
    pools = [p for p in exportable_pools(actor, company, start) if p.computed_at is not None]
    if not pools:
        raise ServiceError(_("No computed bonus pool of this month to export."), field="month")
    return start_job(JOB_KIND, (company.id, start.isoformat(), actor.user.id, str(locale), zone),
                     actor=actor.user, unit=company, total=_people_in(pools),
                     message=_("Waiting for the worker"))


def export_path(job_id):
    from portal.core.import_runs import upload_dir

    return upload_dir(EXPORT_DIR) / f"{re.sub(r'[^0-9a-f]', '', job_id)}.pdf"


@background_job(JOB_KIND, _l("Bonus statements (PDF)"))
def statements_job(progress, company_id, period, user_id, locale, zone):
    actor = Actor.for_user(User.get_by_id(user_id))
    company = OrgUnit.get_by_id(company_id)
    start = dt.date.fromisoformat(period)
    with force_locale(locale):
        pools = [p for p in exportable_pools(actor, company, start) if p.computed_at is not None]
        total = _people_in(pools)
        done, documents, exports = 0, [], []
        progress.update(0, total, _("Reading the pools"), force=True)
        for pool in pools:
            export = pool_export(actor, pool)
            progress.update(done, total, _("Laying out %(pool)s", pool=export.label), force=True)
            documents.append(_document(STATEMENTS_TEMPLATE, export, generated_line(actor, zone=zone)))
            exports.append(export)
            done += len(export.lines)
            progress.update(done, total, _("Laid out %(pool)s", pool=export.label), force=True)
        if not documents:
            raise ServiceError(_("No computed bonus pool of this month to export."))
        progress.update(done, total, _("Writing the PDF"), force=True)
        path = export_path(progress.job_id)
        path.write_bytes(join_documents(documents))
        for export in exports:
            _record_export(actor, export, "pdf_statements", job=progress.job_id)
        progress.update(done, total, _("The PDF is ready."), force=True)
        code = re.sub(r"[^A-Za-z0-9_-]+", "_", company.code or str(company.id))
        return {"filename": f"bonus-statements-{code}-{start:%Y-%m}.pdf", "pools": len(exports),
                "people": done, "pages": sum(len(d.pages) for d in documents),
                "fingerprints": {str(e.pool.id): e.sha256 for e in exports}}


def job_result(job):
    return json.loads(job.result) if job.result else None


def job_file(actor, job):
    """(path, filename) of a finished statements job's PDF, for the user who started it;
    ServiceError saying why not otherwise."""
    if job.kind != JOB_KIND:
        raise ServiceError(_("This job makes no PDF to download."))
    if job.created_by != getattr(actor.user, "id", None):
        raise ServiceError(_("Only the person who asked for this PDF can download it."))
    if job.state != "succeeded" or not job.result:
        raise ServiceError(_("The PDF is not ready yet."))
    path = export_path(job.id)
    if not path.is_file():
        raise ServiceError(_("The PDF is no longer kept. Make it again."))
    return path, job_result(job)["filename"]
