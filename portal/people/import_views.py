"""Import and export pages, on the people blueprint.

Import: upload a file (/people/imports) → map its columns → preview every bad
row and the counts → import in the background with a progress bar. One page
per import (/people/imports/<id>) shows whichever step it has reached; htmx
swaps the step in place, and every URL also serves the whole page.
Export: the employee list, as filtered, to CSV or XLSX.
"""
import json

from flask import abort, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectChoice

from portal.core import import_pages
from portal.core.errors import ServiceError
from portal.core.exports import csv_response, xlsx_response
from portal.core.forms import SelectField, apply_service_error
from portal.core.htmx import redirect_after_change, render
from portal.core.permissions import current_actor, current_scope, load_or_404, require
from portal.org.models import OrgUnit
from portal.people import exports, imports
from portal.people.models import PeopleImport
from portal.people.permissions import PEOPLE_EXPORT, PEOPLE_IMPORT
from portal.people.services import parse_employee_filters
from portal.people.views import blueprint

INVALID = import_pages.INVALID


class UploadForm(FlaskForm):
    company = SelectField(_l("Company"), coerce=int)
    kind = SelectField(_l("The file holds"),
                       choices=[SelectChoice(kind, label) for kind, label in imports.KIND_LABELS.items()])
    file = FileField(_l("CSV file or Excel workbook (.xlsx)"))


def _upload_form(formdata=None):
    form = UploadForm(formdata=formdata)
    form.company.choices = imports.importable_companies(current_scope())
    return form


def mapping_form(people_import, headers, formdata=None):
    """One select per field the kind of file may fill, offering the file's columns,
    prefilled with the mapping used last (this import's, else the suggested one)."""
    mapping = json.loads(people_import.mapping) or imports.suggest_mapping(
        people_import.company, people_import.kind, headers)
    return import_pages.mapping_form(headers, imports.kind_fields(people_import.kind), mapping, formdata)


def _mapping_values(form, kind):
    return {f.name: form[f.name].data for f in imports.kind_fields(kind)}


def _step_context(people_import, form=None):
    """What the import's page shows at the step it has reached."""
    state = people_import.state
    context = {"people_import": people_import, "summary": imports.import_summary(people_import),
               "kind_label": imports.KIND_LABELS[people_import.kind],
               "state_label": imports.STATE_LABELS[state], "company": people_import.company}
    if form is not None or state in ("uploaded", "failed"):
        context["form"] = form or mapping_form(people_import, imports.import_headers(people_import))
        context["fields"] = imports.kind_fields(people_import.kind)
    return {**context, **import_pages.review_context(people_import, form)}


def _render_step(people_import, form=None, status=200, notice=None):
    return render("people/import.html", "people/_import_step.html", status=status, notice=notice,
                  **_step_context(people_import, form))


@blueprint.route("/imports", methods=["GET", "POST"])
@require(PEOPLE_IMPORT)
def imports_page():
    posted = request.method == "POST"
    form = _upload_form(request.form if posted else None)
    # A company outside the user's import scope answers 404, like any object out of scope.
    company = load_or_404(OrgUnit, form.company.data, PEOPLE_IMPORT) if posted and form.company.data else None
    if posted and form.validate_on_submit():
        try:
            upload = import_pages.uploaded_file()
            people_import = imports.upload_import(current_actor(), company, form.kind.data, upload.filename,
                                                  upload.stream)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            return redirect_after_change(url_for("people.import_page", import_id=people_import.id))
    return render("people/import_list.html", "people/_import_upload.html", status=INVALID if posted else 200,
                  form=form, recent=imports.recent_imports(current_actor()), kind_labels=imports.KIND_LABELS,
                  state_labels=imports.STATE_LABELS, company_names=dict(form.company.choices))


@blueprint.route("/imports/<import_id>")
@require(PEOPLE_IMPORT)
def import_page(import_id):
    people_import = load_or_404(PeopleImport, import_id[:32])
    return _render_step(people_import)


@blueprint.route("/imports/<import_id>/mapping", methods=["GET", "POST"])
@require(PEOPLE_IMPORT)
def import_mapping(import_id):
    people_import = load_or_404(PeopleImport, import_id[:32])
    if people_import.state in ("importing", "imported"):  # nothing left to map: the import's own page
        return _render_step(people_import)
    headers = imports.import_headers(people_import)
    form = mapping_form(people_import, headers, request.form if request.method == "POST" else None)
    if request.method == "GET" or not form.validate_on_submit():
        return _render_step(people_import, form, 200 if request.method == "GET" else INVALID)
    return import_pages.check_step(people_import, form, _mapping_values(form, people_import.kind),
                                   imports.save_mapping, imports.validate_import, _render_step,
                                   url_for("people.import_page", import_id=people_import.id), push_url=True)


@blueprint.route("/imports/<import_id>/run", methods=["POST"])
@require(PEOPLE_IMPORT)
def run_import(import_id):
    people_import = load_or_404(PeopleImport, import_id[:32])
    return import_pages.run_step(people_import, imports.start_import, _render_step,
                                 url_for("people.import_page", import_id=people_import.id))


@blueprint.route("/imports/<import_id>/errors.csv")
@require(PEOPLE_IMPORT)
def import_errors_csv(import_id):
    return import_pages.errors_csv(load_or_404(PeopleImport, import_id[:32]), "import-errors")


@blueprint.route("/export.<file_format>")
@require(PEOPLE_EXPORT)
def export(file_format):
    filters = parse_employee_filters(request.args)
    if file_format not in exports.EXPORT_FORMATS:
        abort(404)
    filename, header, rows = exports.export_employees(current_actor(), filters, file_format)
    respond = csv_response if file_format == "csv" else xlsx_response
    return respond(filename, header, rows)
