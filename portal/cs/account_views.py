"""CS set-up pages: the accounts of the stores (list with filters, create, edit,
archive, restore), one account with its sub-accounts, who holds it or its
sub-accounts over which dates, and the shift types staffing it."""
import datetime as dt

from flask import Blueprint, current_app, flash, request, url_for
from flask_babel import format_date, gettext as _

from portal.core.errors import ServiceError
from portal.core.forms import ConfirmForm, apply_service_error, parse_page
from portal.core.htmx import redirect_after_change, render
from portal.core.permissions import current_actor, current_scope, load_or_404, require
from portal.cs import services
from portal.cs.forms import (ACCOUNT_KIND_LABELS, SPLIT_RULE_LABELS, BindingForm, CsAccountFilterForm, CsAccountForm,
                             EndBindingForm, SubAccountForm)
from portal.cs.models import CsAccount, CsAccountBinding, CsSubAccount, CsSubAccountBinding
from portal.cs.permissions import CS_MANAGE, CS_VIEW
from portal.org.forms import PLATFORM_LABELS
from portal.org.models import OrgUnit
from portal.time.permissions import TIME_ROSTER

blueprint = Blueprint("accounts", __name__, url_prefix="/accounts")
blueprint.add_app_template_global(ACCOUNT_KIND_LABELS, "CS_ACCOUNT_KIND_LABELS")
blueprint.add_app_template_global(SPLIT_RULE_LABELS, "CS_SPLIT_RULE_LABELS")
blueprint.add_app_template_global(services.format_service_hours, "service_hours")
blueprint.add_app_template_global(services.span_text, "cs_span")
INVALID = 422


def _query_args():
    """The filters of the list, for its pager (page left out)."""
    return {key: value for key, value in request.args.items() if key != "page" and value}


# --- the list ------------------------------------------------------------------------------------

@blueprint.route("")
@require(CS_VIEW)
def accounts():
    scope = current_scope()
    form = CsAccountFilterForm(request.args)
    form.company.choices = [(0, _("All companies"))] + services.filter_company_choices(scope, CS_VIEW)
    form.store.choices = [(0, _("All stores"))] + services.store_choices(scope, CS_VIEW)
    form.platform.choices = [("", _("All platforms"))] + [(k, str(v)) for k, v in PLATFORM_LABELS.items()]
    filters, status = services.AccountFilters(), INVALID
    if form.validate():
        filters, status = services.AccountFilters(
            company_id=form.company.data or None, store_id=form.store.data or None, platform=form.platform.data or "",
            kind=form.kind.data or "", q=(form.q.data or "").strip(), archived=form.archived.data), 200
    page = parse_page(request.args)
    rows, has_next = services.list_cs_accounts(scope, CS_VIEW, filters, page, current_app.config["PAGE_SIZE"])
    return render("cs/accounts.html", "cs/_account_rows.html", status=status, form=form, accounts=rows, page=page,
                  has_next=has_next, query_args=_query_args(), can_create=scope.has_any(CS_MANAGE))


# --- creating and editing --------------------------------------------------------------------------

def _account_form(account=None):
    scope = current_scope()
    if account is None:
        form = CsAccountForm(store=request.args.get("store", type=int))
        del form.version
        form.store.choices = services.store_choices(scope, CS_MANAGE)
        return form
    form = CsAccountForm(obj=account, store=account.store_id,
                         service_hours=services.format_service_hours(account.service_start_minute,
                                                                     account.service_end_minute))
    choices = services.store_choices(scope, CS_MANAGE, account.company_id)
    if account.store_id not in {store_id for store_id, _label in choices}:  # an archived store keeps its accounts
        choices.insert(0, (account.store_id, OrgUnit.get_by_id(account.store_id).name))
    form.store.choices = choices
    return form


def _save_account(form, account=None):
    """The account as saved, or None with the service's error shown on the form."""
    try:
        start, end = services.parse_service_hours(form.service_hours.data)
        store = load_or_404(OrgUnit, form.store.data, CS_MANAGE)
        values = (store, form.code.data, form.name.data, form.kind.data, form.split_rule.data, start, end)
        if account is None:
            return services.create_cs_account(current_actor(), *values)
        return services.update_cs_account(current_actor(), account, form.version.data, *values)
    except ServiceError as error:
        apply_service_error(form, error)
        return None


def _render_account_form(form, account=None, status=200):
    return render("cs/account_form.html", "cs/_account_form.html", status=status, form=form, account=account)


@blueprint.route("/new", methods=["GET", "POST"])
@require(CS_MANAGE)
def new_account():
    form = _account_form()
    if form.validate_on_submit():
        account = _save_account(form)
        if account is not None:
            flash(_("The account %(code)s is created.", code=account.code), "success")
            return redirect_after_change(url_for("cs.accounts.account", cs_account_id=account.id))
    return _render_account_form(form, status=INVALID if form.is_submitted() else 200)


@blueprint.route("/<int:cs_account_id>/edit", methods=["GET", "POST"])
@require(CS_MANAGE)
def edit_account(cs_account_id):
    account = load_or_404(CsAccount, cs_account_id, CS_MANAGE)
    form = _account_form(account)
    if form.validate_on_submit():
        saved = _save_account(form, account)
        if saved is not None:
            flash(_("Saved."), "success")
            return redirect_after_change(url_for("cs.accounts.account", cs_account_id=saved.id))
    return _render_account_form(form, account, status=INVALID if form.is_submitted() else 200)


@blueprint.route("/<int:cs_account_id>/archive", methods=["POST"])
@require(CS_MANAGE)
def archive_account(cs_account_id):
    return _change_state(cs_account_id, services.archive_cs_account, _("%(code)s is archived."))


@blueprint.route("/<int:cs_account_id>/restore", methods=["POST"])
@require(CS_MANAGE)
def restore_account(cs_account_id):
    return _change_state(cs_account_id, services.restore_cs_account, _("%(code)s is restored."))


def _change_state(cs_account_id, service, message):
    account = load_or_404(CsAccount, cs_account_id, CS_MANAGE)
    if not ConfirmForm().validate_on_submit():
        return _render_account(account, INVALID, error=_("The form expired. Reload the page and try again."))
    try:
        account = service(current_actor(), account)
    except ServiceError as error:
        return _render_account(account, INVALID, error=str(error.message))
    flash(message % {"code": account.code}, "success")
    return redirect_after_change(url_for("cs.accounts.account", cs_account_id=account.id))


# --- one account ------------------------------------------------------------------------------------

def _forms(account, sub_accounts, today, **given):
    """The account page's forms (those passed in keep what was typed and its errors)."""
    forms = {"sub_account_form": given.get("sub_account_form") or SubAccountForm(prefix="new")}
    if account.kind == "personal":
        forms["bind_form"] = given.get("bind_form") or BindingForm(prefix="bind", valid_from=today)
        del forms["bind_form"].sub_account
    if sub_accounts:
        form = given.get("sub_bind_form") or BindingForm(prefix="sub", valid_from=today)
        form.sub_account.choices = [(sub.id, sub.name) for sub in sub_accounts]
        forms["sub_bind_form"] = form
    return forms


def _render_account(account, status=200, error=None, **given):
    scope = current_scope()
    store, company = OrgUnit.get_by_id(account.store_id), OrgUnit.get_by_id(account.company_id)
    can_manage = scope.allows(CS_MANAGE, store)
    subs = services.sub_accounts_of(account)
    today = services.company_today(company)
    context = dict(account=account, store=store, company=company, error=error,
                   sub_accounts=subs, bindings=services.account_bindings(account) if account.kind == "personal"
                   else [], shift_types=services.shift_types_staffing(account), can_manage=can_manage,
                   can_edit_shifts=scope.allows(TIME_ROSTER, company), today=today,
                   confirm_form=ConfirmForm())
    if can_manage and account.archived_at is None:
        context.update(_forms(account, subs, today, **given), suggestions=services.person_suggestions(store))
    for name, form in given.items():  # a form the page does not show (a shared account's binding): its errors on top
        if name not in context and context["error"] is None:
            context["error"] = " ".join(form.form_errors + [e for errors in form.errors.values() for e in errors])
    return render("cs/account.html", "cs/_account.html", status=status, **context)


@blueprint.route("/<int:cs_account_id>")
@require(CS_VIEW)
def account(cs_account_id):
    return _render_account(load_or_404(CsAccount, cs_account_id))


def _person(form):
    """The person the form's employee number names, in scope; None with the error on the field."""
    person = services.find_person(current_scope(), CS_MANAGE, form.number.data)
    if person is None:
        form.number.errors.append(_("Nobody with this number is in your scope."))
    return person


def _bind_from(account, form, form_name, bind, message):
    """Bind the person the form names over its dates with `bind(person, first, last)`;
    on success back to the account, else the account page with the form's errors."""
    if form.validate_on_submit() and (person := _person(form)) is not None:
        try:
            binding = bind(person, form.valid_from.data, form.valid_to.data)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash(message % {"name": binding.employee.display_name, "start": format_date(binding.valid_from)},
                  "success")
            return redirect_after_change(url_for("cs.accounts.account", cs_account_id=account.id))
    return _render_account(account, INVALID, **{form_name: form})


@blueprint.route("/<int:cs_account_id>/sub-accounts", methods=["POST"])
@require(CS_MANAGE)
def new_sub_account(cs_account_id):
    account = load_or_404(CsAccount, cs_account_id, CS_MANAGE)
    form = SubAccountForm(prefix="new")
    if form.validate_on_submit():
        try:
            sub = services.create_sub_account(current_actor(), account, form.name.data)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash(_("The sub-account %(name)s is added.", name=sub.name), "success")
            return redirect_after_change(url_for("cs.accounts.account", cs_account_id=account.id))
    return _render_account(account, INVALID, sub_account_form=form)


@blueprint.route("/<int:cs_account_id>/bindings", methods=["POST"])
@require(CS_MANAGE)
def bind_account(cs_account_id):
    """The personal account held by a person from a day (to a day)."""
    account = load_or_404(CsAccount, cs_account_id, CS_MANAGE)
    form = BindingForm(prefix="bind")
    del form.sub_account
    return _bind_from(account, form, "bind_form",
                      lambda person, first, last: services.bind_personal_account(current_actor(), account, person,
                                                                                 first, last),
                      _("%(name)s holds the account from %(start)s."))


@blueprint.route("/<int:cs_account_id>/sub-bindings", methods=["POST"])
@require(CS_MANAGE)
def bind_sub_account(cs_account_id):
    """One of the account's sub-accounts used by a person from a day (to a day)."""
    account = load_or_404(CsAccount, cs_account_id, CS_MANAGE)
    form = BindingForm(prefix="sub")
    form.sub_account.choices = [(sub.id, sub.name) for sub in services.sub_accounts_of(account)]

    def bind(person, first, last):
        sub = CsSubAccount.get((CsSubAccount.id == form.sub_account.data) & (CsSubAccount.account == account.id))
        return services.bind_sub_account(current_actor(), sub, person, first, last)

    return _bind_from(account, form, "sub_bind_form", bind, _("%(name)s uses the sub-account from %(start)s."))


# --- ending a binding ---------------------------------------------------------------------------------

def _end_binding(binding, account, service, sub_account=None):
    form = EndBindingForm(valid_to=binding.valid_to or services.company_today(OrgUnit.get_by_id(account.company_id)))
    status = 200
    if form.is_submitted():
        if form.validate():
            try:
                saved = service(current_actor(), binding, form.valid_to.data)
            except ServiceError as error:
                apply_service_error(form, error)
            else:
                flash(_("%(name)s holds it until %(end)s.", name=saved.employee.display_name,
                        end=format_date(saved.valid_to)), "success")
                return redirect_after_change(url_for("cs.accounts.account", cs_account_id=account.id))
        status = INVALID
    return render("cs/end_binding.html", "cs/_end_binding_form.html", status=status, form=form, binding=binding,
                  account=account, sub_account=sub_account)


@blueprint.route("/bindings/<int:cs_account_binding_id>/end", methods=["GET", "POST"])
@require(CS_MANAGE)
def end_account_binding(cs_account_binding_id):
    binding = load_or_404(CsAccountBinding, cs_account_binding_id, CS_MANAGE)
    return _end_binding(binding, CsAccount.get_by_id(binding.account_id), services.end_account_binding)


@blueprint.route("/sub-bindings/<int:cs_sub_binding_id>/end", methods=["GET", "POST"])
@require(CS_MANAGE)
def end_sub_binding(cs_sub_binding_id):
    binding = load_or_404(CsSubAccountBinding, cs_sub_binding_id, CS_MANAGE)
    sub = CsSubAccount.get_by_id(binding.sub_account_id)
    return _end_binding(binding, CsAccount.get_by_id(sub.account_id), services.end_sub_account_binding, sub)
