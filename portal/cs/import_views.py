"""CS import pages (/cs/imports): marketplace exports through upload → map columns →
check → import in the background (portal.core.import_pages, as the clock import),
and the API tokens of pushing systems (/cs/imports/tokens)."""
from flask import Blueprint, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from portal.core.errors import ServiceError
from portal.core.forms import apply_service_error
from portal.core.htmx import redirect_after_change, render
from portal.core.import_pages import (
    INVALID, check_step, errors_csv, mapping_form, review_context, run_step, uploaded_file,
)
from portal.core.permissions import current_actor, current_scope, load_or_404, require
from portal.cs import api_tokens, imports
from portal.cs.forms import ApiTokenForm, CsUploadForm
from portal.cs.models import CsAccount, CsApiToken, CsImport
from portal.cs.permissions import CS_IMPORT, CS_MANAGE
from portal.org.models import OrgUnit

blueprint = Blueprint("imports", __name__, url_prefix="/imports")


def _upload_form(formdata=None):
    form = CsUploadForm(formdata=formdata)
    form.company.choices = imports.importable_companies(current_scope())
    form.connector.choices = imports.connector_choices()
    form.account.choices = [(0, _("— from the file —"))] + [
        (a.id, f"{a.code} · {a.name}") for a in imports.importable_accounts(current_actor())]
    return form


def _page_url(cs_imp):
    return url_for("cs.imports.import_page", cs_import_id=cs_imp.id)


def _mapping_form(cs_imp, formdata=None):
    return mapping_form(imports.cs_import_headers(cs_imp), imports.import_connector(cs_imp).fields(),
                        imports.current_mapping(cs_imp), formdata)


def _step_context(cs_imp, form=None):
    state = cs_imp.state
    conn = imports.import_connector(cs_imp)
    context = {"cs_import": cs_imp, "summary": imports.cs_import_summary(cs_imp), "connector": conn,
               "state_label": imports.STATE_LABELS[state], "company": cs_imp.company, "fields": conn.fields(),
               "account": imports.import_account(cs_imp)}
    if form is not None or state in ("uploaded", "mapped", "failed"):
        context["form"] = form or _mapping_form(cs_imp)
    return {**context, **review_context(cs_imp, form)}


def _render_step(cs_imp, form=None, status=200, notice=None):
    return render("cs/import.html", "cs/_import_step.html", status=status, notice=notice,
                  **_step_context(cs_imp, form))


@blueprint.route("", methods=["GET", "POST"])
@require(CS_IMPORT)
def imports_page():
    posted = request.method == "POST"
    form = _upload_form(request.form if posted else None)
    company = load_or_404(OrgUnit, form.company.data, CS_IMPORT) if posted and form.company.data else None
    if posted and form.validate_on_submit():
        account = load_or_404(CsAccount, form.account.data, CS_IMPORT) if form.account.data else None
        try:
            upload = uploaded_file()
            cs_imp = imports.upload_cs_import(current_actor(), company, form.connector.data, upload.filename,
                                              upload.stream, account=account)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            return redirect_after_change(_page_url(cs_imp))
    return render("cs/imports.html", "cs/_import_upload.html", status=INVALID if posted else 200,
                  form=form, recent=imports.recent_cs_imports(current_actor()),
                  state_labels=imports.STATE_LABELS, connector_labels=dict(form.connector.choices),
                  company_names=dict(form.company.choices))


@blueprint.route("/<cs_import_id>", methods=["GET", "POST"])
@require(CS_IMPORT)
def import_page(cs_import_id):
    """The import at its step; a POST here saves the column mapping and checks the file."""
    cs_imp = load_or_404(CsImport, cs_import_id[:32])
    if request.method == "GET" or cs_imp.state in ("importing", "imported"):
        return _render_step(cs_imp)
    form = _mapping_form(cs_imp, request.form)
    if not form.validate_on_submit():
        return _render_step(cs_imp, form, INVALID)
    fields = imports.import_connector(cs_imp).fields()
    return check_step(cs_imp, form, {f.name: form[f.name].data for f in fields}, imports.save_cs_mapping,
                      imports.validate_cs_import, _render_step, _page_url(cs_imp))


@blueprint.route("/<cs_import_id>/mapping")
@require(CS_IMPORT)
def import_mapping(cs_import_id):
    cs_imp = load_or_404(CsImport, cs_import_id[:32])
    if cs_imp.state in ("importing", "imported"):
        return _render_step(cs_imp)
    return _render_step(cs_imp, _mapping_form(cs_imp))


@blueprint.route("/<cs_import_id>/run", methods=["POST"])
@require(CS_IMPORT)
def run_import(cs_import_id):
    cs_imp = load_or_404(CsImport, cs_import_id[:32])
    return run_step(cs_imp, imports.start_cs_import, _render_step, _page_url(cs_imp))


@blueprint.route("/<cs_import_id>/errors.csv")
@require(CS_IMPORT)
def import_errors_csv(cs_import_id):
    return errors_csv(load_or_404(CsImport, cs_import_id[:32]), "cs-import-errors")


# --- API tokens --------------------------------------------------------------------------------------

def _token_form(formdata=None):
    form = ApiTokenForm(formdata=formdata)
    form.company.choices = api_tokens.manageable_companies(current_scope())
    return form


def _render_tokens(form=None, status=200, created=None, notice=None):
    return render("cs/api_tokens.html", "cs/_api_tokens.html", status=status, form=form or _token_form(),
                  tokens=api_tokens.list_tokens(current_actor()), created=created, notice=notice)


@blueprint.route("/tokens", methods=["GET", "POST"])
@require(CS_MANAGE)
def tokens():
    if request.method == "GET":
        return _render_tokens()
    form = _token_form(request.form)
    company = load_or_404(OrgUnit, form.company.data, CS_MANAGE) if form.company.data else None
    if not form.validate_on_submit():
        return _render_tokens(form, INVALID)
    try:
        token, secret = api_tokens.create_token(current_actor(), company, form.name.data)
    except ServiceError as error:
        apply_service_error(form, error)
        return _render_tokens(form, INVALID)
    # The secret is shown once, in this response only (never stored, so no redirect).
    return _render_tokens(created=(token, secret))


@blueprint.route("/tokens/<int:cs_api_token_id>/revoke", methods=["POST"])
@require(CS_MANAGE)
def revoke_token(cs_api_token_id):
    token = load_or_404(CsApiToken, cs_api_token_id)
    if not FlaskForm().validate_on_submit():
        return _render_tokens(status=INVALID)
    try:
        api_tokens.revoke_token(current_actor(), token)
    except ServiceError as error:
        return _render_tokens(status=INVALID, notice=str(error.message))
    return redirect_after_change(url_for("cs.imports.tokens"))
