"""Exports of bonus pools and statements under /bonus/exports, for auditors: a pool's
summary and its statements as PDF, its lines as CSV and XLSX (portal/bonus/exports.py
makes them and records each in the audit trail), and a page starting the statements
of a whole company's month as a background job, with its progress and the finished
file. A part of the bonus blueprint (portal/bonus/views.py)."""
import datetime as dt

from flask import Blueprint, Response, flash, redirect, request, send_file, url_for
from flask_babel import get_locale

from portal.bonus import exports
from portal.bonus.export_forms import CompanyStatementsForm
from portal.bonus.models import BonusPool
from portal.bonus.permissions import BONUS_EXPORT
from portal.core.errors import ServiceError
from portal.core.exports import csv_response, xlsx_response
from portal.core.forms import apply_service_error
from portal.core.htmx import redirect_after_change, render
from portal.core.i18n import select_timezone
from portal.core.pdf import PDF_MIMETYPE
from portal.core.permissions import current_actor, current_scope, load_or_404, require
from portal.jobs import services as jobs
from portal.org.models import OrgUnit
from portal.org.services import unit_choices

blueprint = Blueprint("exports", __name__, url_prefix="/exports")
INVALID = 422


def _attachment(export_file):
    return Response(export_file.body, mimetype=PDF_MIMETYPE,
                    headers={"Content-Disposition": f'attachment; filename="{export_file.filename}"'})


def _export(bonus_pool_id, make):
    """Load the pool (404 outside bonus.export's scope) and answer `make(actor, pool)`;
    a refusal goes back to the pool page with its message."""
    pool = load_or_404(BonusPool, bonus_pool_id, BONUS_EXPORT)
    try:
        return make(current_actor(), pool)
    except ServiceError as error:
        flash(str(error.message), "error")
        return redirect(url_for("bonus.pools.pool", bonus_pool_id=pool.id))


@blueprint.get("/pools/<int:bonus_pool_id>/summary.pdf")
@require(BONUS_EXPORT)
def summary_pdf(bonus_pool_id):
    return _export(bonus_pool_id, lambda actor, pool: _attachment(exports.summary_pdf(actor, pool)))


@blueprint.get("/pools/<int:bonus_pool_id>/statements.pdf")
@require(BONUS_EXPORT)
def statements_pdf(bonus_pool_id):
    return _export(bonus_pool_id, lambda actor, pool: _attachment(exports.statements_pdf(actor, pool)))


def _lines(bonus_pool_id, file_format):
    def make(actor, pool):
        table = exports.lines_table(actor, pool, file_format)
        if file_format == "csv":
            return csv_response(table.filename, table.header, table.rows)
        return xlsx_response(table.filename, table.header, table.rows, sheet_title=f"{pool.period_start:%Y-%m}")

    return _export(bonus_pool_id, make)


@blueprint.get("/pools/<int:bonus_pool_id>/lines.csv")
@require(BONUS_EXPORT)
def lines_csv(bonus_pool_id):
    return _lines(bonus_pool_id, "csv")


@blueprint.get("/pools/<int:bonus_pool_id>/lines.xlsx")
@require(BONUS_EXPORT)
def lines_xlsx(bonus_pool_id):
    return _lines(bonus_pool_id, "xlsx")


# --- a company's statements as a background job ------------------------------------------------

def _form(**kwargs):
    form = CompanyStatementsForm(**kwargs)
    form.company.choices = [(unit_id, label.strip()) for unit_id, label in
                            unit_choices(current_scope(), BONUS_EXPORT, kinds=("company",))]
    return form


@blueprint.route("/statements", methods=["GET", "POST"])
@require(BONUS_EXPORT)
def company_statements():
    if request.method == "GET":
        form = _form(formdata=None)
        form.month.data = (dt.date.today().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
        form.company.data = request.args.get("company", type=int) or (
            form.company.choices[0][0] if form.company.choices else None)
        return render("bonus/exports.html", "bonus/_exports.html", form=form)
    form = _form()
    if form.validate_on_submit():
        company = load_or_404(OrgUnit, form.company.data, BONUS_EXPORT)
        try:
            job = exports.start_statements_job(current_actor(), company, form.month.data, get_locale(),
                                               select_timezone())
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            return redirect_after_change(url_for(".statements_job", job_id=job.id))
    return render("bonus/exports.html", "bonus/_exports.html", status=INVALID, form=form)


def _job_page(job, status=200, notice=None):
    return render("bonus/export_job.html", "bonus/_export_job.html", status=status, job=job,
                  result=exports.job_result(job), notice=notice)


@blueprint.get("/jobs/<job_id>")
@require(BONUS_EXPORT)
def statements_job(job_id):
    return _job_page(jobs.load_job(current_actor(), job_id[:32]))


@blueprint.get("/jobs/<job_id>/statements.pdf")
@require(BONUS_EXPORT)
def statements_file(job_id):
    """The finished PDF for the one who asked for it; otherwise the job's page, saying why not."""
    actor = current_actor()
    job = jobs.load_job(actor, job_id[:32])
    try:
        path, filename = exports.job_file(actor, job)
    except ServiceError as error:
        return _job_page(job, notice=str(error.message))
    return send_file(path, mimetype=PDF_MIMETYPE, as_attachment=True, download_name=filename)
