"""View helpers shared by the import pages (people, clock events): one page per import
shows the step it has reached (see portal.core.import_runs); htmx swaps the step in
place, and every URL also serves the whole page. `render_step(record, form=None,
status=200, notice=None)` is each import's renderer of its step."""
from flask import redirect, request
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import SelectChoice

from portal.core.errors import ServiceError
from portal.core.exports import csv_response
from portal.core.forms import SelectField, apply_service_error, parse_page
from portal.core.htmx import wants_fragment
from portal.core.import_runs import outcome_errors
from portal.core.permissions import current_actor
from portal.jobs.models import Job

INVALID = 422
ERRORS_PER_PAGE = 100


def uploaded_file():
    """The request's uploaded file, or a ServiceError on the file field."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ServiceError(_("Choose a file."), field="file")
    return upload


def mapping_form(headers, fields, mapping, formdata=None):
    """One select per field the file may fill, offering the file's columns, prefilled from `mapping`."""

    class MappingForm(FlaskForm):
        pass

    choices = [SelectChoice("", _("— not in the file —"))] + [SelectChoice(header, header) for header in headers]
    for import_field in fields:
        setattr(MappingForm, import_field.name, SelectField(import_field.label, choices=choices,
                                                           default=mapping.get(import_field.name, "")))
    return MappingForm(formdata=formdata, prefix="map")


def review_context(record, form=None):
    """A page of the bad rows of a checked import (unless the mapping form is shown),
    and the job of an import under way or done."""
    context = {}
    if record.state == "validated" and form is None:
        errors = outcome_errors(record)
        page = parse_page(request.args)
        context.update(errors=errors[(page - 1) * ERRORS_PER_PAGE:page * ERRORS_PER_PAGE], page=page,
                       has_next=len(errors) > page * ERRORS_PER_PAGE)
    if record.job_id and record.state in ("importing", "imported", "failed"):
        context["job"] = Job.get_or_none(Job.id == record.job_id)
    return context


def show_step(record, render_step, page_url, push_url=False):
    """After a change: htmx gets the step in place (its page's URL pushed when asked),
    a plain form a redirect to the page (post/redirect/get)."""
    record = type(record).get_by_id(record.id)
    if wants_fragment():
        response = render_step(record)
        if push_url:
            response.headers["HX-Push-Url"] = page_url
        return response
    return redirect(page_url)


def check_step(record, form, mapping, save, validate, render_step, page_url, push_url=False):
    """The mapping form posted and valid: save the mapping, check the file, show the outcome."""
    actor = current_actor()
    try:
        record = save(actor, record, mapping)
        validate(actor, record)
    except ServiceError as error:
        apply_service_error(form, error)
        return render_step(record, form, INVALID)
    return show_step(record, render_step, page_url, push_url)


def run_step(record, start, render_step, page_url):
    """POST …/run: queue the import's job and show the step it leads to."""
    if not FlaskForm().validate_on_submit():
        return render_step(record, status=INVALID)
    try:
        start(current_actor(), record)
    except ServiceError as error:
        return render_step(type(record).get_by_id(record.id), status=INVALID, notice=str(error.message))
    return show_step(record, render_step, page_url)


def errors_csv(record, prefix):
    """The bad rows of the last check as a CSV download."""
    return csv_response(f"{prefix}-{record.id[:8]}.csv", [_("Row"), _("Column"), _("Reason")],
                        ([error.row, error.column, error.message] for error in outcome_errors(record)))
