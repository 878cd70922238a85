"""The org tree: browse it, and create, edit, move and archive units."""
from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from portal.core.cache import cached, cached_fragment
from portal.core.errors import ServiceError
from portal.core.forms import ConfirmForm, apply_service_error
from portal.core.htmx import render, wants_fragment
from portal.core.i18n import LOCALE_LABELS, TIMEZONE_CHOICES, language_choices
from portal.core.permissions import current_actor, current_scope, load_or_404, require
from portal.org import services
from portal.org.forms import KIND_LABELS, PLATFORM_LABELS, MoveForm, UnitCreateForm, UnitEditForm
from portal.org.models import ALLOWED_CHILDREN, OrgUnit
from portal.org.permissions import ORG_MANAGE, ORG_VIEW

blueprint = Blueprint("org", __name__, url_prefix="/org")
blueprint.add_app_template_global(KIND_LABELS, "KIND_LABELS")
blueprint.add_app_template_global(PLATFORM_LABELS, "PLATFORM_LABELS")
INVALID = 422


def _with_setting_choices(form):
    form.timezone.choices = TIMEZONE_CHOICES
    form.default_locale.choices = language_choices(_known_locales())
    return form


def _known_locales():
    # Units may default to any locale the group works in, not only the translated ones.
    return list(dict.fromkeys(current_app.config["LANGUAGES"] + list(LOCALE_LABELS)))


def _create_form(unit, formdata=None):
    form = _with_setting_choices(UnitCreateForm(formdata=formdata, prefix="new", **services.effective_settings(unit)))
    form.kind.choices = [(kind, KIND_LABELS[kind]) for kind in ALLOWED_CHILDREN.get(unit.kind, ())]
    return form


def _edit_form(unit, formdata=None):
    form = _with_setting_choices(UnitEditForm(formdata=formdata, prefix="edit", obj=unit))
    # Only the fields the panel shows for this kind: one it does not send would fail validation unseen.
    if unit.kind != "store":
        del form.platform
    if unit.kind not in services.CARRIES_SETTINGS:
        for name in services.SETTING_FIELDS:
            del form[name]
    return form


def _move_form(unit, formdata=None):
    form = MoveForm(formdata=formdata, prefix="move", parent=unit.parent_id)
    parent_kinds = [kind for kind, children in ALLOWED_CHILDREN.items() if unit.kind in children]
    form.parent.choices = [
        (unit_id, label) for unit_id, label in services.unit_choices(current_scope(), ORG_MANAGE, parent_kinds)
    ]
    return form


def _panel_context(unit, create_form=None, edit_form=None, move_form=None, show_archived=False, panel_error=None,
                   open_form=None):
    """The unit panel. Its forms are built only when given (a failed POST, or the
    form's own URL): otherwise each loads when its <details> opens (`*_form` views)."""
    scope = current_scope()
    can_manage = scope.allows(ORG_MANAGE, unit)

    def render_summary():
        context = dict(
            unit=unit,
            settings=services.effective_settings(unit),
            # Only ancestors the user may open: the others would be links to a 404.
            ancestors=[a for a in services.ancestors_of(unit) if scope.allows(ORG_VIEW, a)],
            children=services.children_of(unit, include_archived=show_archived),
        )
        return (Markup(render_template("org/_unit_head.html", **context)),
                Markup(render_template("org/_unit_facts.html", **context)))

    # Heading, facts and the units below hold no per-user secret: cached by data
    # version and scope (core/cache.py). `unit` was read before the version, so its
    # own version is in the key (every change to a unit, a move included, bumps it).
    head_html, facts_html = cached("org.panel", scope, render_summary, unit.id, unit.version, show_archived)
    return dict(
        unit=unit,
        head_html=head_html,
        facts_html=facts_html,
        can_manage=can_manage,
        can_add=bool(ALLOWED_CHILDREN.get(unit.kind)),
        create_form=create_form,
        edit_form=edit_form,
        move_form=move_form,
        open_form=open_form,
        panel_error=panel_error,
    )


def _tree_roots(scope):
    return cached("org.tree_roots", scope, lambda: services.tree_roots(scope))


def _tree_context(selected):
    scope = current_scope()

    def render_tree():
        roots = _tree_roots(scope)
        return render_template("org/_tree.html", roots=roots, selected=selected,
                               root_children={root.id: services.children_of(root) for root in roots})

    # The same for everyone with the same scope: cached by data version (core/cache.py).
    return dict(tree_html=cached_fragment("org.tree", scope, render_tree, selected.id if selected else None),
                selected=selected)


def _render_panel(unit, status=200, **forms):
    """The unit panel as a fragment, or the whole tree page with it selected."""
    context = _panel_context(unit, **forms)
    if wants_fragment():
        return render_template("org/_unit_panel.html", **context), status
    return render_template("org/tree.html", **_tree_context(unit), **context), status


@blueprint.route("")
@require(ORG_VIEW)
def tree():
    roots = _tree_roots(current_scope())
    if not roots:
        return render("org/tree.html", "org/_tree.html", roots=roots, **_tree_context(None))
    return _render_panel(roots[0])


@blueprint.route("/units/<int:unit_id>")
@require(ORG_VIEW)
def unit(unit_id):
    unit = load_or_404(OrgUnit, unit_id)
    return _render_panel(unit)


@blueprint.route("/units/<int:unit_id>/children")
@require(ORG_VIEW)
def children(unit_id):
    unit = load_or_404(OrgUnit, unit_id)
    if not wants_fragment():
        return _render_panel(unit)
    return render_template("org/_children.html", parent=unit, children=services.children_of(unit))


def _render_form(unit, name, form):
    """One of the panel's forms: alone for htmx (into its <details>), else the
    whole page with the form open."""
    if wants_fragment():
        return render_template(f"org/_form_{name}.html", unit=unit, **{f"{name}_form": form})
    return _render_panel(unit, open_form=name, **{f"{name}_form": form})


# The panel's forms, loaded when opened: how to build each, and when a unit offers it.
PANEL_FORMS = {
    "create": (_create_form, lambda unit: bool(ALLOWED_CHILDREN.get(unit.kind))),
    "edit": (_edit_form, lambda unit: True),
    "move": (_move_form, lambda unit: unit.parent_id is not None),  # the group stays on top
}


@blueprint.route("/units/<int:unit_id>/forms/<form_name>")
@require(ORG_MANAGE)
def panel_form(unit_id, form_name):
    unit = load_or_404(OrgUnit, unit_id, ORG_MANAGE)
    build, offered = PANEL_FORMS.get(form_name, (None, None))
    if build is None or unit.is_archived or not offered(unit):
        abort(404)
    return _render_form(unit, form_name, build(unit))


@blueprint.route("/units/<int:unit_id>", methods=["POST"])
@require(ORG_MANAGE)
def update_unit(unit_id):
    unit = load_or_404(OrgUnit, unit_id)
    form = _edit_form(unit, formdata=request.form)
    if form.validate_on_submit():
        try:
            unit = services.update_unit(
                current_actor(), unit, form.version.data, form.name.data, form.code.data,
                platform=form.platform.data if "platform" in form else None,
                settings={name: form[name].data for name in services.SETTING_FIELDS if name in form})
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            return _saved(unit, _("Saved."))
    return _render_panel(unit, INVALID, edit_form=form)


@blueprint.route("/units/<int:unit_id>/children", methods=["POST"])
@require(ORG_MANAGE)
def create_child(unit_id):
    parent = load_or_404(OrgUnit, unit_id)
    form = _create_form(parent, formdata=request.form)
    if form.validate_on_submit():
        try:
            child = services.create_unit(
                current_actor(), parent, form.kind.data, form.code.data, form.name.data,
                platform=form.platform.data,
                settings={name: getattr(form, name).data for name in services.SETTING_FIELDS})
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            return _saved(parent, _("%(name)s is added.", name=child.name))
    return _render_panel(parent, INVALID, create_form=form)


@blueprint.route("/units/<int:unit_id>/move", methods=["POST"])
@require(ORG_MANAGE)
def move_unit(unit_id):
    unit = load_or_404(OrgUnit, unit_id)
    form = _move_form(unit, formdata=request.form)
    if form.validate_on_submit():
        new_parent = load_or_404(OrgUnit, form.parent.data, ORG_MANAGE)
        try:
            unit = services.move_unit(current_actor(), unit, new_parent)
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            return _saved(unit, _("%(name)s is moved.", name=unit.name))
    return _render_panel(unit, INVALID, move_form=form)


@blueprint.route("/units/<int:unit_id>/archive", methods=["POST"])
@require(ORG_MANAGE)
def archive_unit(unit_id):
    return _change_state(unit_id, services.archive_unit, _("%(name)s is archived."))


@blueprint.route("/units/<int:unit_id>/restore", methods=["POST"])
@require(ORG_MANAGE)
def restore_unit(unit_id):
    return _change_state(unit_id, services.restore_unit, _("%(name)s is restored."))


def _change_state(unit_id, service, message):
    unit = load_or_404(OrgUnit, unit_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return _render_panel(unit, INVALID)
    try:
        unit = service(current_actor(), unit)
    except ServiceError as error:
        return _render_panel(unit, INVALID, panel_error=str(error.message))
    return _saved(unit, message % {"name": unit.name})


def _saved(unit, message):
    """After a change: for htmx, the fresh panel with a notice, and the tree
    reloads its open branches on the `org-tree-changed` event; otherwise
    redirect to the unit's page (post/redirect/get)."""
    if not wants_fragment():
        flash(message, "success")
        return redirect(url_for("org.unit", unit_id=unit.id))
    context = _panel_context(OrgUnit.get_by_id(unit.id))
    context["notice"] = message
    response = make_response(render_template("org/_unit_panel.html", **context))
    response.headers["HX-Trigger"] = "org-tree-changed"
    return response
