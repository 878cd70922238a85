"""Log in and out, one's own account, and the administration of users,
roles and grants."""
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, make_response, redirect, request, session, url_for
from flask_babel import gettext as _, refresh as refresh_locale
from flask_login import current_user, login_user, logout_user

from portal.accounts import services
from portal.accounts.forms import ChangePasswordForm, GrantForm, LoginForm, PreferencesForm, ResetPasswordForm, \
    RoleForm, UserForm
from portal.accounts.models import Grant, Role, User
from portal.accounts.permissions import ROLES_MANAGE, USERS_MANAGE, USERS_VIEW
from portal.core.auth import LoggedInUser
from portal.core.errors import ServiceError
from portal.core.forms import LocaleForm, apply_service_error, parse_page
from portal.core.htmx import redirect_for_htmx, render
from portal.core.i18n import LOCALE_COOKIE, TIMEZONE_CHOICES, language_choices
from portal.extensions import htmx
from portal.core.permissions import PERMISSIONS, current_actor, current_scope, load_or_404, login_only, public, \
    require
from portal.org.models import OrgUnit
from portal.org.services import unit_choices

blueprint = Blueprint("accounts", __name__)
blueprint.add_app_template_filter(services.role_label, "role_label")
blueprint.add_app_template_filter(services.role_description, "role_description")
INVALID = 422


def _safe_next(target):
    """Only same-site paths: never redirect a login to another host."""
    if not target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc and target.startswith("/") else None


def _locale_choices():
    return language_choices(current_app.config["LANGUAGES"])


def _throttle_limits():
    config = current_app.config
    return (config["LOGIN_MAX_FAILURES_PER_ACCOUNT"], config["LOGIN_MAX_FAILURES_PER_ADDRESS"],
            config["LOGIN_THROTTLE_WINDOW_SECONDS"])


@blueprint.route("/login", methods=["GET", "POST"])
@public
def login():
    form = LoginForm(next=request.args.get("next", ""))
    if current_user.is_authenticated:
        return redirect(url_for("home.dashboard"))
    status = 200
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.username.data, form.password.data, request.remote_addr,
                                         _throttle_limits())
        except ServiceError as error:
            form.form_errors.append(str(error.message))
            status = INVALID
        else:
            # Rotate: nothing of the anonymous session survives into the logged-in one.
            session.clear()
            token = services.start_session(user, request.remote_addr, request.user_agent.string)
            session.permanent = True
            login_user(LoggedInUser(user, None, token))
            return redirect(_safe_next(form.next.data) or url_for("home.dashboard"))
    elif form.is_submitted():
        status = INVALID
    return render("accounts/login.html", "accounts/_login_form.html", form=form, status=status)


@blueprint.route("/logout", methods=["POST"])
@login_only
def logout():
    session_row = current_user.session_row
    message = _("You have logged out.")  # in the user's language, while they are still logged in
    services.end_session(current_user.account, session_row.id, current_session_id=session_row.id)
    logout_user()
    session.clear()
    flash(message, "info")
    target = url_for("accounts.login")
    return redirect_for_htmx(target) or redirect(target)


@blueprint.route("/locale", methods=["POST"])
@public
def switch_locale():
    form = LocaleForm()
    form.locale.choices = _locale_choices()
    if not form.validate_on_submit():
        abort(400)
    if current_user.is_authenticated:
        services.set_preferences(current_user.account, locale=form.locale.data)
    if htmx:
        response = make_response("", 204)
        response.headers["HX-Refresh"] = "true"
    else:
        response = redirect(_safe_next(form.next.data) or url_for("home.dashboard"))
    response.set_cookie(LOCALE_COOKIE, form.locale.data, max_age=365 * 24 * 3600, httponly=True, samesite="Lax",
                        secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


# --- my account ---------------------------------------------------------------

def _account_forms():
    preferences = PreferencesForm(prefix="pref", locale=current_user.locale or "",
                                  timezone=current_user.timezone or "")
    preferences.locale.choices = [("", _("Automatic"))] + _locale_choices()
    preferences.timezone.choices = [("", _("My company's time zone"))] + TIMEZONE_CHOICES
    return preferences, ChangePasswordForm(prefix="pw")


def _render_account(preferences, password_form, status=200):
    return render(
        "accounts/account.html", "accounts/_account.html", status=status,
        preferences=preferences, password_form=password_form,
        sessions=services.list_sessions(current_user.account),
        current_session_id=current_user.session_row.id,
        grants=_grants_of(current_user.account),
    )


def _grants_of(user):
    return list(Grant.select(Grant, Role, OrgUnit).join(Role).switch(Grant).join(OrgUnit)
                .where(Grant.user == user.id).order_by(OrgUnit.path))


@blueprint.route("/account")
@login_only
def account():
    return _render_account(*_account_forms())


@blueprint.route("/account/preferences", methods=["POST"])
@login_only
def update_preferences():
    preferences, password_form = _account_forms()
    if not preferences.validate_on_submit():
        return _render_account(preferences, password_form, INVALID)
    services.set_preferences(current_user.account, locale=preferences.locale.data or "",
                             timezone=preferences.timezone.data or "")
    refresh_locale()  # confirm in the language just chosen
    flash(_("Your preferences are saved."), "success")
    return redirect(url_for("accounts.account"))


@blueprint.route("/account/password", methods=["POST"])
@login_only
def change_password():
    preferences, password_form = _account_forms()
    if password_form.validate_on_submit():
        try:
            services.change_password(current_user.account, password_form.current_password.data,
                                     password_form.new_password.data, current_user.session_row.id)
        except ServiceError as error:
            apply_service_error(password_form, error)
        else:
            flash(_("Your password is changed. Your other sessions have been ended."), "success")
            return redirect(url_for("accounts.account"))
    return _render_account(preferences, password_form, INVALID)


@blueprint.route("/account/sessions/<int:session_id>/end", methods=["POST"])
@login_only
def end_session(session_id):
    services.end_session(current_user.account, session_id, current_session_id=current_user.session_row.id)
    if session_id == current_user.session_row.id:
        logout_user()
        return redirect(url_for("accounts.login"))
    flash(_("The session has been ended."), "success")
    return redirect(url_for("accounts.account"))


# --- users ----------------------------------------------------------------------

@blueprint.route("/users")
@require(USERS_VIEW)
def users():
    query_text = request.args.get("q", "").strip()[:64]
    page = parse_page(request.args)
    rows, has_next = services.list_users(current_scope(), query_text, page, current_app.config["PAGE_SIZE"])
    return render("accounts/users.html", "accounts/_user_rows.html", users=rows, q=query_text, page=page,
                  has_next=has_next)


def _user_form(**kwargs):
    form = UserForm(**kwargs)
    form.unit.choices = unit_choices(current_scope(), USERS_MANAGE)
    form.locale.choices = [("", _("Automatic"))] + _locale_choices()
    user = kwargs.get("obj")
    if user is not None and form.unit.data is None:
        # WTForms reads `obj` before keyword arguments, and obj.unit is a row the int
        # select cannot take: without this no unit is selected, and saving the form
        # would move the user to the first unit of the list.
        form.unit.data = user.unit_id
    return form


@blueprint.route("/users/new", methods=["GET", "POST"])
@require(USERS_MANAGE)
def new_user():
    form = _user_form()
    if form.validate_on_submit():
        unit = load_or_404(OrgUnit, form.unit.data, USERS_MANAGE)
        try:
            user = services.create_user(current_actor(), unit, form.username.data, form.display_name.data,
                                        form.password.data or "", email=form.email.data, locale=form.locale.data)
        except ServiceError as error:
            if error.field == "new_password":
                error.field = "password"
            apply_service_error(form, error)
        else:
            flash(_("The user %(name)s is created.", name=user.username), "success")
            return redirect(url_for("accounts.user", user_id=user.id))
    status = INVALID if form.is_submitted() else 200
    return render("accounts/user_new.html", "accounts/_user_form.html", form=form, status=status)


@blueprint.route("/users/<int:user_id>", methods=["GET", "POST"])
@require(USERS_VIEW)
def user(user_id):
    user = load_or_404(User, user_id)
    can_manage = current_scope().allows(USERS_MANAGE, user.unit)
    form = _user_form(obj=user, unit=user.unit_id, locale=user.locale or "")
    status = 200
    if request.method == "POST":
        if not can_manage:
            abort(403)
        if form.validate_on_submit():
            unit = load_or_404(OrgUnit, form.unit.data, USERS_MANAGE)
            try:
                services.update_user(current_actor(), user, unit, form.display_name.data, form.email.data,
                                     form.is_active.data, locale=form.locale.data)
            except ServiceError as error:
                apply_service_error(form, error)
            else:
                flash(_("Saved."), "success")
                return redirect(url_for("accounts.user", user_id=user.id))
        status = INVALID
    return _render_user(user, form, status=status)


def _render_user(user, form, grant_form=None, reset_form=None, status=200):
    scope = current_scope()
    grant_form = grant_form or _grant_form()
    return render(
        "accounts/user.html", "accounts/_user_detail.html", status=status, user=user, form=form,
        can_manage=scope.allows(USERS_MANAGE, user.unit), can_grant=scope.has_any(ROLES_MANAGE),
        grants=_grants_of(user), grant_form=grant_form, reset_form=reset_form or ResetPasswordForm(prefix="reset"),
    )


def _grant_form():
    form = GrantForm(prefix="grant")
    scope = current_scope()
    form.role.choices = [(r.id, str(services.role_label(r))) for r in services.usable_roles(scope)]
    form.unit.choices = unit_choices(scope, ROLES_MANAGE)
    return form


@blueprint.route("/users/<int:user_id>/password", methods=["POST"])
@require(USERS_MANAGE)
def reset_password(user_id):
    user = load_or_404(User, user_id, USERS_MANAGE)
    reset_form = ResetPasswordForm(prefix="reset")
    if reset_form.validate_on_submit():
        try:
            services.reset_password(current_actor(), user, reset_form.new_password.data)
        except ServiceError as error:
            error.field = "new_password"
            apply_service_error(reset_form, error)
        else:
            flash(_("The password is reset and the user's sessions are ended."), "success")
            return redirect(url_for("accounts.user", user_id=user.id))
    return _render_user(user, _user_form(obj=user, unit=user.unit_id), reset_form=reset_form, status=INVALID)


@blueprint.route("/users/<int:user_id>/grants", methods=["POST"])
@require(ROLES_MANAGE)
def add_grant(user_id):
    user = load_or_404(User, user_id)
    grant_form = _grant_form()
    if grant_form.validate_on_submit():
        role = services.load_usable_role(current_scope(), grant_form.role.data)
        unit = load_or_404(OrgUnit, grant_form.unit.data, ROLES_MANAGE)
        try:
            services.grant_role(current_actor(), user, role, unit, grant_form.include_descendants.data)
        except ServiceError as error:
            apply_service_error(grant_form, error)
        else:
            flash(_("The role is granted."), "success")
            return redirect(url_for("accounts.user", user_id=user.id))
    return _render_user(user, _user_form(obj=user, unit=user.unit_id), grant_form=grant_form, status=INVALID)


@blueprint.route("/grants/<int:grant_id>/revoke", methods=["POST"])
@require(ROLES_MANAGE)
def revoke_grant(grant_id):
    grant = load_or_404(Grant, grant_id)
    services.revoke_grant(current_actor(), grant)
    flash(_("The grant is revoked."), "success")
    return redirect(url_for("accounts.user", user_id=grant.user_id))


# --- roles ----------------------------------------------------------------------

@blueprint.route("/roles")
@require(ROLES_MANAGE)
def roles():
    scope = current_scope()
    return render("accounts/roles.html", "accounts/_role_list.html", roles=services.usable_roles(scope),
                  permissions_of=services.permissions_by_role(services.usable_roles(scope)),
                  PERMISSIONS=PERMISSIONS)


def _role_form(**kwargs):
    form = RoleForm(**kwargs)
    form.unit.choices = unit_choices(current_scope(), ROLES_MANAGE)
    form.permissions.choices = [(p.name, f"{p.label} ({p.name})") for p in PERMISSIONS.values()]
    return form


@blueprint.route("/roles/new", methods=["GET", "POST"])
@require(ROLES_MANAGE)
def new_role():
    form = _role_form()
    if form.validate_on_submit():
        unit = load_or_404(OrgUnit, form.unit.data, ROLES_MANAGE)
        try:
            role = services.create_role(current_actor(), unit, form.name.data, form.description.data or "",
                                        form.permissions.data)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash(_("The role %(name)s is created.", name=role.name), "success")
            return redirect(url_for("accounts.roles"))
    status = INVALID if form.is_submitted() else 200
    return render("accounts/role_form.html", "accounts/_role_form.html", form=form, role=None, status=status)


@blueprint.route("/roles/<int:role_id>", methods=["GET", "POST"])
@require(ROLES_MANAGE)
def role(role_id):
    role = load_or_404(Role, role_id)
    form = _role_form(obj=role, permissions=services.role_permissions(role))
    del form.unit  # a role stays where it was defined
    if form.validate_on_submit():
        try:
            services.update_role(current_actor(), role, form.name.data, form.description.data or "",
                                 form.permissions.data, form.version.data)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("accounts.roles"))
    status = INVALID if form.is_submitted() else 200
    return render("accounts/role_form.html", "accounts/_role_form.html", form=form, role=role, status=status)
