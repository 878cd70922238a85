"""Employee records: the list with its active search, the profile and its tabs,
forms for the record, contracts, documents and training, and self-service."""
import datetime as dt

from babel.units import format_unit
from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, send_file, \
    url_for
from flask_babel import format_percent, gettext as _, get_locale
from flask_login import current_user
from werkzeug.datastructures import FileStorage

from portal.core.errors import ServiceError
from portal.core.forms import ConfirmForm, apply_service_error, parse_page
from portal.core.htmx import render, wants_fragment
from portal.core.permissions import current_actor, current_scope, load_or_404, login_only, require
from portal.org.models import OrgUnit
from portal.org.services import unit_choices
from portal.people import services
from portal.people.forms import (
    CONTRACT_TYPE_LABELS, DOCUMENT_CATEGORY_LABELS, SENSITIVE_LABELS, SORT_LABELS, STATUS_LABELS,
    TRAINING_RESULT_LABELS, ContractForm, DocumentForm, EmployeeForm, PhotoForm, RevealForm, SensitiveForm,
    TrainingForm,
)
from portal.people.models import Contract, Document, Employee, TrainingRecord
from portal.people.permissions import PEOPLE_MANAGE, PEOPLE_TRANSFER, PEOPLE_VIEW, PEOPLE_VIEW_SENSITIVE
from portal.posts.models import Skill

blueprint = Blueprint("people", __name__, url_prefix="/people")
for _name, _labels in (("STATUS_LABELS", STATUS_LABELS), ("CONTRACT_TYPE_LABELS", CONTRACT_TYPE_LABELS),
                       ("DOCUMENT_CATEGORY_LABELS", DOCUMENT_CATEGORY_LABELS),
                       ("TRAINING_RESULT_LABELS", TRAINING_RESULT_LABELS), ("SENSITIVE_LABELS", SENSITIVE_LABELS)):
    blueprint.add_app_template_global(_labels, _name)
blueprint.add_app_template_global(services.ends_soon, "contract_ends_soon")
blueprint.add_app_template_filter(format_percent, "percent")


@blueprint.app_template_filter("filesize")
def file_size(size):
    """A file's size in the reader's language: 89 B, 1.5 kB, 2.3 MB."""
    for unit, factor in (("digital-megabyte", 1024 ** 2), ("digital-kilobyte", 1024)):
        if size >= factor:
            return format_unit(round(size / factor, 1), unit, length="short", locale=get_locale())
    return format_unit(size, "digital-byte", length="short", locale=get_locale())


@blueprint.app_template_global()
def country_name(code):
    """A country's name in the reader's language, from its ISO code."""
    return get_locale().territories.get(code, code) if code else ""


INVALID = 422
TOO_LARGE = 413

# The profile's tabs, in their order: (tab, endpoint, path below the profile's URL).
# Each tab has its own URL so that it can be linked to and pushed into the history.
PROFILE_TABS = (("overview", "employee", ""), ("posts", "posts", "/posts"), ("contracts", "contracts", "/contracts"),
                ("documents", "documents", "/documents"), ("training", "training", "/training"),
                ("history", "history", "/history"))
TABS = tuple(tab for tab, _endpoint, _path in PROFILE_TABS)
TAB_ENDPOINTS = {tab: f"people.{endpoint}" for tab, endpoint, _path in PROFILE_TABS}


# --- the list -------------------------------------------------------------------------

@blueprint.route("")
@require(PEOPLE_VIEW)
def employees():
    filters = services.parse_employee_filters(request.args)
    page = parse_page(request.args)
    scope = current_scope()
    rows, has_next = services.list_employees(scope, filters, page, current_app.config["PAGE_SIZE"])
    ids = [row.id for row in rows]
    context = dict(employees=rows, has_next=has_next, page=page, filters=filters,
                   query_args=filters.query_args(), primary_posts=services.primary_posts(ids),
                   ending_soon=services.contracts_ending_soon(ids))
    if not wants_fragment():  # the filter form's choices: only the full page shows them
        context.update(unit_options=unit_choices(scope, PEOPLE_VIEW), post_options=services.post_choices(scope),
                       skill_options=list(Skill.select(Skill.id, Skill.name).order_by(Skill.name).tuples()),
                       sort_labels=SORT_LABELS, can_add=scope.has_any(PEOPLE_MANAGE))
    return render("people/employees.html", "people/_employee_rows.html", **context)


# --- creating and editing a record ------------------------------------------------------

def _country_choices():
    return [("", "—")] + sorted(((code, country_name(code)) for code in services.COUNTRY_CODES),
                                key=lambda choice: choice[1])


def _employee_form(employee=None):
    if employee is None:
        form = EmployeeForm()
    else:
        form = EmployeeForm(obj=employee, username=employee.user.username if employee.user_id else "")
        if form.company.data is None:
            # WTForms reads `obj` first, and obj.company is a row the int select cannot
            # take: without this the first company would be chosen, and saved.
            form.company.data = employee.company_id
    choices = services.employer_choices(current_scope())
    if employee is not None and employee.company_id not in {company_id for company_id, _name in choices}:
        choices.insert(0, (employee.company_id, employee.company.name))
    form.company.choices = choices
    form.nationality.choices = _country_choices()
    if employee is not None:
        del form.national_id, form.bank_account
    return form


def _profile_values(form):
    values = {name: form[name].data for name in services.PROFILE_FIELDS + ("username",)}
    for name in services.SENSITIVE_FIELDS:
        if name in form:
            values[name] = form[name].data
    return values


def _render_form(title, fragment, status=200, **context):
    """A form on a page of its own, or alone for htmx."""
    return render("people/form_page.html", fragment, status=status, title=title, fragment=fragment, **context)


@blueprint.route("/new", methods=["GET", "POST"])
@require(PEOPLE_MANAGE)
def new_employee():
    form = _employee_form()
    if form.validate_on_submit():
        company = load_or_404(OrgUnit, form.company.data, PEOPLE_MANAGE)
        try:
            employee = services.create_employee(current_actor(), company, _profile_values(form))
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash(_("%(name)s is added.", name=employee.legal_name), "success")
            return redirect(url_for("people.employee", employee_id=employee.id))
    status = INVALID if form.is_submitted() else 200
    return _render_form(_("New person"), "people/_employee_form.html", status, form=form, employee=None)


@blueprint.route("/<int:employee_id>/edit", methods=["GET", "POST"])
@require(PEOPLE_MANAGE)
def edit_employee(employee_id):
    employee = load_or_404(Employee, employee_id)
    if not services.holds_on_record(current_scope(), PEOPLE_MANAGE, employee):
        abort(403)
    form = _employee_form(employee)
    if form.validate_on_submit():
        company = (employee.company if form.company.data == employee.company_id
                   else load_or_404(OrgUnit, form.company.data, PEOPLE_MANAGE))
        try:
            services.update_employee(current_actor(), employee, form.version.data, _profile_values(form), company)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("people.employee", employee_id=employee.id))
    status = INVALID if form.is_submitted() else 200
    return _render_form(_("Edit %(name)s", name=employee.display_name), "people/_employee_form.html", status,
                        form=form, employee=employee)


# --- the profile and its tabs -------------------------------------------------------------

def _tab_context(employee, tab, scope):
    if tab == "overview":
        return {"masked": services.masked_sensitive(employee)}
    if tab == "posts":
        return {"assignments": services.assignments_of(employee), "today": dt.date.today(),
                "can_request_moves": services.holds_on_record(scope, PEOPLE_TRANSFER, employee)}
    if tab == "contracts":
        return {"contracts": services.contracts_of(employee),
                "can_see_pay": services.holds_on_record(scope, PEOPLE_MANAGE, employee)
                or services.holds_on_record(scope, PEOPLE_VIEW_SENSITIVE, employee)}
    if tab == "documents":
        return {"documents": services.documents_of(employee), "document_form": DocumentForm(prefix="doc"),
                "max_document_mb": current_app.config["MAX_DOCUMENT_BYTES"] // (1024 * 1024)}
    if tab == "training":
        return {"records": services.training_of(employee)}
    page = parse_page(request.args)
    events, has_next = services.history_of(employee, page, current_app.config["PAGE_SIZE"])
    return {"events": events, "page": page, "has_next": has_next}


def _render_profile(employee, tab, status=200, **extra):
    """The profile with one tab open: the whole page, or (htmx) the tabs alone."""
    scope = current_scope()
    context = dict(employee=employee, tab=tab, tabs=TABS, tab_endpoints=TAB_ENDPOINTS,
                   can_manage=services.holds_on_record(scope, PEOPLE_MANAGE, employee),
                   can_reveal=services.holds_on_record(scope, PEOPLE_VIEW_SENSITIVE, employee),
                   **_tab_context(employee, tab, scope))
    context.update(extra)
    if not wants_fragment():
        ids = [employee.id]
        context.update(photo=services.photo_of(employee), ends_soon=bool(services.contracts_ending_soon(ids)),
                       primary_post=services.primary_posts(ids).get(employee.id),
                       photo_form=extra.get("photo_form") or PhotoForm(prefix="photo"))
    return render("people/profile.html", "people/_profile_tabs.html", status=status, **context)


def _profile_tab_view(tab):
    """The view that shows the profile with `tab` open."""
    @require(PEOPLE_VIEW)
    def profile_tab(employee_id):
        return _render_profile(load_or_404(Employee, employee_id), tab)

    return profile_tab


for _tab, _endpoint, _path in PROFILE_TABS:
    blueprint.add_url_rule(f"/<int:employee_id>{_path}", _endpoint, _profile_tab_view(_tab))


# --- sensitive fields --------------------------------------------------------------------

def _render_sensitive(employee, field, status=200, **state):
    """One sensitive field's row (htmx swaps it in place), or the profile with it."""
    state = dict(field=field, **state)
    if not wants_fragment():
        return _render_profile(employee, "overview", status, sensitive_state={field: state})
    scope = current_scope()
    return make_response(render_template(
        "people/_sensitive_field.html", employee=employee, masked=services.masked_sensitive(employee),
        can_manage=services.holds_on_record(scope, PEOPLE_MANAGE, employee),
        can_reveal=services.holds_on_record(scope, PEOPLE_VIEW_SENSITIVE, employee), **state), status)


@blueprint.route("/<int:employee_id>/reveal", methods=["POST"])
@require(PEOPLE_VIEW_SENSITIVE)
def reveal_sensitive(employee_id):
    form = RevealForm()
    employee = load_or_404(Employee, employee_id)
    if not services.holds_on_record(current_scope(), PEOPLE_VIEW_SENSITIVE, employee):
        abort(403)
    if not form.validate_on_submit():
        abort(400)
    try:
        value = services.reveal_sensitive(current_actor(), employee, form.field.data)
    except ServiceError as error:
        return _render_sensitive(employee, form.field.data, INVALID, notice=str(error.message))
    return _render_sensitive(employee, form.field.data, revealed=value)


@blueprint.route("/<int:employee_id>/sensitive", methods=["POST"])
@require(PEOPLE_MANAGE)
def change_sensitive(employee_id):
    form = SensitiveForm()
    employee = load_or_404(Employee, employee_id)
    if not services.holds_on_record(current_scope(), PEOPLE_MANAGE, employee):
        abort(403)
    if not form.validate_on_submit():
        return _render_sensitive(employee, form.field.data or "national_id", INVALID, change_form=form)
    try:
        employee = services.change_sensitive(current_actor(), employee, form.field.data, form.value.data)
    except ServiceError as error:
        apply_service_error(form, error)
        return _render_sensitive(employee, form.field.data, INVALID, change_form=form)
    if not wants_fragment():
        flash(_("Saved."), "success")
        return redirect(url_for("people.employee", employee_id=employee.id))
    return _render_sensitive(employee, form.field.data, notice=_("Saved."))


# --- documents and the photo ---------------------------------------------------------------

def _upload(file_field):
    """(bytes, filename) of an uploaded file, read up to one byte past the limit
    (enough for the service to refuse it), or None when no file was sent."""
    upload = file_field.data
    if not isinstance(upload, FileStorage) or not upload.filename:
        return None
    return upload.stream.read(current_app.config["MAX_DOCUMENT_BYTES"] + 1), upload.filename


def _save_with_file(form, file_field, save):
    """Validate `form`, then `save(upload)` with the file of `file_field` (see _upload).
    None once saved; else the status to answer (200 for a form not sent yet)."""
    if not form.validate_on_submit():
        return INVALID if form.is_submitted() else 200
    try:
        save(_upload(file_field))
    except ServiceError as error:
        if error.field == "file":  # the services call any upload "file"
            error.field = file_field.short_name
        apply_service_error(form, error)
        return TOO_LARGE if isinstance(error, services.DocumentTooLarge) else INVALID
    return None


def _add_document(employee, title, category):
    """A `save` for _save_with_file: the upload, which must be there, as a document."""
    def save(upload):
        if upload is None:
            raise ServiceError(_("Choose a file."), field="file")
        services.add_document(current_actor(), employee, *upload, title=title, category=category)

    return save


@blueprint.route("/<int:employee_id>/documents", methods=["POST"])
@require(PEOPLE_MANAGE)
def upload_document(employee_id):
    form = DocumentForm(prefix="doc")
    employee = load_or_404(Employee, employee_id)
    if not services.holds_on_record(current_scope(), PEOPLE_MANAGE, employee):
        abort(403)
    status = _save_with_file(form, form.file, _add_document(employee, form.title.data, form.category.data))
    if status is None:
        flash(_("The document is uploaded."), "success")
        return redirect(url_for("people.documents", employee_id=employee.id))
    return _render_profile(employee, "documents", status, document_form=form)


@blueprint.route("/<int:employee_id>/photo", methods=["POST"])
@require(PEOPLE_MANAGE)
def upload_photo(employee_id):
    form = PhotoForm(prefix="photo")
    employee = load_or_404(Employee, employee_id)
    if not services.holds_on_record(current_scope(), PEOPLE_MANAGE, employee):
        abort(403)
    status = _save_with_file(form, form.file, _add_document(employee, _("Photo"), "photo"))
    if status is None:
        flash(_("The photo is saved."), "success")
        return redirect(url_for("people.employee", employee_id=employee.id))
    return _render_profile(employee, "overview", status, photo_form=form)


@blueprint.route("/documents/<int:document_id>")
@login_only
def document(document_id):
    """Download a document: people in scope, or one's own. Always an attachment of
    the type detected at upload, never sniffed, and sandboxed should a browser render it."""
    document = services.load_document(current_actor(), document_id)
    response = send_file(services.document_file(document), mimetype=document.content_type, as_attachment=True,
                         download_name=document.original_name, max_age=0, etag=False)
    response.headers["Content-Security-Policy"] = "sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blueprint.route("/documents/<int:document_id>/archive", methods=["POST"])
@require(PEOPLE_MANAGE)
def archive_document(document_id):
    form = ConfirmForm()
    document = load_or_404(Document, document_id)
    if not services.holds_on_record(current_scope(), PEOPLE_MANAGE, document.employee):
        abort(403)
    if not form.validate_on_submit():
        abort(400)
    services.archive_document(current_actor(), document)
    if wants_fragment():
        return _render_profile(document.employee, "documents", notice=_("The document is removed."))
    flash(_("The document is removed."), "success")
    return redirect(url_for("people.documents", employee_id=document.employee_id))


# --- contracts ---------------------------------------------------------------------------

def _contract_values(form):
    return {name: form[name].data for name in services.CONTRACT_FIELDS + ("base_pay",)}


@blueprint.route("/<int:employee_id>/contracts/new", methods=["GET", "POST"])
@require(PEOPLE_MANAGE)
def new_contract(employee_id):
    form = ContractForm()
    employee = load_or_404(Employee, employee_id)
    if not services.holds_on_record(current_scope(), PEOPLE_MANAGE, employee):
        abort(403)
    if not form.is_submitted():
        form.currency.data = services.default_currency(employee)
    if form.validate_on_submit():
        try:
            services.create_contract(current_actor(), employee, _contract_values(form))
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash(_("The contract is added."), "success")
            return redirect(url_for("people.contracts", employee_id=employee.id))
    status = INVALID if form.is_submitted() else 200
    return _render_form(_("New contract"), "people/_contract_form.html", status, form=form, employee=employee,
                        contract=None)


@blueprint.route("/contracts/<int:contract_id>", methods=["GET", "POST"])
@require(PEOPLE_MANAGE)
def contract(contract_id):
    contract = load_or_404(Contract, contract_id)
    employee = contract.employee
    if not services.holds_on_record(current_scope(), PEOPLE_MANAGE, employee):
        abort(403)
    form = ContractForm(obj=contract, base_pay=services.contract_pay(contract))
    if form.validate_on_submit():
        try:
            services.update_contract(current_actor(), contract, form.version.data, _contract_values(form))
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("people.contracts", employee_id=employee.id))
    status = INVALID if form.is_submitted() else 200
    return _render_form(_("Contract"), "people/_contract_form.html", status, form=form, employee=employee,
                        contract=contract)


# --- training ------------------------------------------------------------------------------

def _training_values(form):
    return {name: form[name].data for name in services.TRAINING_FIELDS}


@blueprint.route("/<int:employee_id>/training/new", methods=["GET", "POST"])
@require(PEOPLE_MANAGE)
def new_training(employee_id):
    form = TrainingForm()
    employee = load_or_404(Employee, employee_id)
    if not services.holds_on_record(current_scope(), PEOPLE_MANAGE, employee):
        abort(403)
    status = _save_with_file(form, form.certificate, lambda certificate: services.record_training(
        current_actor(), employee, _training_values(form), certificate))
    if status is None:
        flash(_("Saved."), "success")
        return redirect(url_for("people.training", employee_id=employee.id))
    return _render_form(_("New training record"), "people/_training_form.html", status, form=form,
                        employee=employee, record=None)


@blueprint.route("/training/<int:training_id>", methods=["GET", "POST"])
@require(PEOPLE_MANAGE)
def training_record(training_id):
    record = load_or_404(TrainingRecord, training_id)
    employee = record.employee
    if not services.holds_on_record(current_scope(), PEOPLE_MANAGE, employee):
        abort(403)
    form = TrainingForm(obj=record)
    status = _save_with_file(form, form.certificate, lambda certificate: services.update_training(
        current_actor(), record, _training_values(form), certificate))
    if status is None:
        flash(_("Saved."), "success")
        return redirect(url_for("people.training", employee_id=employee.id))
    return _render_form(_("Training record"), "people/_training_form.html", status, form=form, employee=employee,
                        record=record)


# --- self-service --------------------------------------------------------------------------

@blueprint.route("/me")
@login_only
def me():
    employee = services.employee_of_user(current_user.account)
    context = dict(employee=employee)
    if employee is not None:
        context.update(
            assignments=services.assignments_of(employee), job_skills=services.post_skills_of(employee),
            contracts=services.contracts_of(employee), documents=services.documents_of(employee),
            records=services.training_of(employee), photo=services.photo_of(employee), can_see_pay=True,
            contact_change_url=url_for("approvals.new_request", kind="people.contact_change"))
    return render("people/me.html", "people/_me.html", **context)


from portal.people import import_views  # noqa: E402,F401  (routes on this blueprint)
