"""Posts and job descriptions, assignments to posts, people's skills, the group talent pool."""
import datetime as dt

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date, gettext as _

from portal.core.errors import ServiceError
from portal.core.forms import ConfirmForm, apply_service_error, parse_page
from portal.core.htmx import redirect_for_htmx, render
from portal.core.permissions import current_actor, current_scope, load_or_404, login_only, require, scoped_select
from portal.org.models import OrgUnit
from portal.people import assignments
from portal.people.models import Assignment, Employee
from portal.people.permissions import PEOPLE_MANAGE, PEOPLE_VIEW
from portal.posts import services
from portal.posts.forms import (LEVEL_LABELS, AssignForm, EmployeeSkillsForm, EndAssignmentForm, PostFilterForm,
                                PostForm, SkillLevelForm, TalentFilterForm, skill_rows, submitted_skills)
from portal.posts.models import Post
from portal.posts.permissions import POSTS_MANAGE, POSTS_VIEW

blueprint = Blueprint("posts", __name__, url_prefix="/posts")
blueprint.add_app_template_global(LEVEL_LABELS, "LEVEL_LABELS")
INVALID = 422


@blueprint.app_template_global()
def person_url(employee_id):
    """The person's profile page, once the people pages provide one."""
    if "people.employee" not in current_app.view_functions:
        return None
    return url_for("people.employee", employee_id=employee_id)


def _query_args():
    """The filters of a list page, for its pager and links (page left out)."""
    return {key: value for key, value in request.args.items() if key != "page" and value}


def _page_size():
    return current_app.config["PAGE_SIZE"]


# --- posts -----------------------------------------------------------------------------

@blueprint.route("")
@require(POSTS_VIEW)
def posts():
    scope = current_scope()
    form = PostFilterForm(request.args)
    form.company.choices = [(0, _("All companies"))] + services.company_choices(scope, POSTS_VIEW)
    filters, status = services.PostFilters(), INVALID
    if form.validate():
        filters, status = services.PostFilters(company_id=form.company.data or None, q=(form.q.data or "").strip(),
                                               archived=form.archived.data), 200
    page = parse_page(request.args)
    rows, has_next = services.list_posts(scope, filters, page, _page_size())
    return render("posts/posts.html", "posts/_post_rows.html", status=status, form=form, posts=rows, page=page,
                  has_next=has_next, query_args=_query_args(), can_create=scope.has_any(POSTS_MANAGE))


@blueprint.route("/<int:post_id>")
@require(POSTS_VIEW)
def post(post_id):
    post = load_or_404(Post, post_id)
    return _render_post(post)


def _render_post(post, status=200, error=None):
    scope = current_scope()
    current, coming, hidden = services.post_holders(post, scope)
    return render("posts/post.html", "posts/_post.html", status=status, post=post, error=error,
                  skills=services.post_skills(post), current=current, coming=coming,
                  staffing=services.staffing(post, current, hidden),
                  can_manage=scope.allows(POSTS_MANAGE, post.company), can_assign=scope.has_any(PEOPLE_MANAGE))


def _render_post_form(form, post=None, status=200):
    return render("posts/post_form.html", "posts/_post_form.html", form=form, post=post, status=status,
                  skill_names=[name for _id, name in services.skill_choices()])


@blueprint.route("/new", methods=["GET", "POST"])
@require(POSTS_MANAGE)
def new_post():
    form = PostForm()
    form.company.choices = services.company_choices(current_scope(), POSTS_MANAGE)
    del form.version
    if not form.is_submitted():
        skill_rows(form, [])
    elif form.validate():
        company = load_or_404(OrgUnit, form.company.data, POSTS_MANAGE)
        try:
            post = services.create_post(current_actor(), company, form.code.data, form.title.data, form.duties.data,
                                        form.growth_path.data, form.headcount_plan.data, form.capacity.data,
                                        submitted_skills(form))
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash(_("The post %(title)s is created.", title=post.title), "success")
            return redirect(url_for("posts.post", post_id=post.id))
    return _render_post_form(form, status=INVALID if form.is_submitted() else 200)


@blueprint.route("/<int:post_id>/edit", methods=["GET", "POST"])
@require(POSTS_MANAGE)
def edit_post(post_id):
    post = load_or_404(Post, post_id, POSTS_MANAGE)
    form = PostForm(obj=post)
    del form.company
    if not form.is_submitted():
        skill_rows(form, [(row.skill.name, row.level) for row in services.post_skills(post)])
    elif form.validate():
        try:
            post = services.update_post(current_actor(), post, form.version.data, form.code.data, form.title.data,
                                        form.duties.data, form.growth_path.data, form.headcount_plan.data,
                                        form.capacity.data, submitted_skills(form))
        except ServiceError as error:
            apply_service_error(form, error)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("posts.post", post_id=post.id))
    return _render_post_form(form, post, status=INVALID if form.is_submitted() else 200)


@blueprint.route("/<int:post_id>/archive", methods=["POST"])
@require(POSTS_MANAGE)
def archive_post(post_id):
    return _change_state(post_id, services.archive_post, _("%(title)s is archived."))


@blueprint.route("/<int:post_id>/restore", methods=["POST"])
@require(POSTS_MANAGE)
def restore_post(post_id):
    return _change_state(post_id, services.restore_post, _("%(title)s is restored."))


def _change_state(post_id, service, message):
    post = load_or_404(Post, post_id, POSTS_MANAGE)
    if not ConfirmForm().validate_on_submit():
        return _render_post(post, INVALID, _("The form expired. Reload the page and try again."))
    try:
        post = service(current_actor(), post)
    except ServiceError as error:
        return _render_post(post, INVALID, str(error.message))
    flash(message % {"title": post.title}, "success")
    target = url_for("posts.post", post_id=post.id)
    return redirect_for_htmx(target) or redirect(target)


@blueprint.route("/skill-row")
@login_only
def skill_row():
    """One more blank row for a skill list (the "add a skill" button of the post and skills forms)."""
    try:
        index = min(max(int(request.args.get("index", 0)), 0), 200)
    except ValueError:
        abort(400)
    return render_template("posts/_skill_row.html", row=SkillLevelForm(prefix=f"skills-{index}"), next_index=index + 1,
                           oob=True)


# --- assignments -----------------------------------------------------------------------

def _int_arg(name):
    try:
        return int(request.args.get(name) or 0) or None
    except ValueError:
        abort(404)


def _assign_form(chosen_post, formdata=None, **defaults):
    """The form with its choices; `formdata` replaces the request's (a GET that reloads the form)."""
    scope = current_scope()
    form = AssignForm(**defaults) if formdata is None else AssignForm(formdata=formdata, **defaults)
    form.post.choices = [(0, _("Choose a post"))] + services.assignable_post_choices(scope)
    form.unit.choices = services.unit_choices_for(scope, PEOPLE_MANAGE, chosen_post.company_id if chosen_post else None)
    return form


@blueprint.route("/assign", methods=["GET", "POST"])
@require(PEOPLE_MANAGE)
def assign():
    """Give someone a post: opened from a person (?employee=<id>) or from a post (?post=<id>)."""
    scope = current_scope()
    employee_id, post_id = _int_arg("employee"), _int_arg("post")
    employee = load_or_404(Employee, employee_id, PEOPLE_MANAGE) if employee_id else None
    if request.method == "POST":
        post_id = request.form.get("post", type=int) or None
    post = services.load_assignable_post(scope, post_id) if post_id else None
    if request.method == "GET":
        # Choosing the post reloads the form (htmx): what was typed stays, the post's units and share come with it.
        typed = None
        if "number" in request.args:
            typed = request.args.copy()
            typed.poplist("share")
            typed.poplist("unit")
        form = _assign_form(post, formdata=typed, number=employee.number if employee else "", post=post_id or 0,
                            share=post.capacity if post else 100, start_date=dt.date.today(),
                            unit=services.default_unit(employee, post))
        return render("posts/assign.html", "posts/_assign_form.html", form=form, employee=employee, post=post)
    form = _assign_form(post)
    if form.validate_on_submit():
        person = scoped_select(Employee, PEOPLE_MANAGE).where(Employee.number == form.number.data.strip()).first()
        if person is None:
            form.number.errors.append(_("Nobody with this number is in your scope."))
        elif post is None:
            form.post.errors.append(_("Choose a post."))
        else:
            unit = load_or_404(OrgUnit, form.unit.data, PEOPLE_MANAGE)
            try:
                assignments.assign_post(current_actor(), person, post, unit, form.share.data, form.start_date.data,
                                        form.end_date.data, form.is_primary.data)
            except ServiceError as error:
                apply_service_error(form, error)
            else:
                flash(_("%(name)s holds %(post)s from %(date)s.", name=person.display_name, post=post.title,
                        date=format_date(form.start_date.data)), "success")
                # Back where the form was opened from: the person's profile, or the post.
                return redirect((employee and person_url(employee.id)) or url_for("posts.post", post_id=post.id))
    return render("posts/assign.html", "posts/_assign_form.html", form=form, employee=employee, post=post,
                  status=INVALID)


@blueprint.route("/assignments/<int:assignment_id>/end", methods=["GET", "POST"])
@require(PEOPLE_MANAGE)
def end_assignment(assignment_id):
    assignment = load_or_404(Assignment, assignment_id, PEOPLE_MANAGE)
    if not current_scope().allows(PEOPLE_MANAGE, assignment.unit):
        abort(404)
    form = EndAssignmentForm(end_date=dt.date.today())
    status = 200
    if form.is_submitted():
        if form.validate():
            try:
                assignment = assignments.end_assignment(current_actor(), assignment, form.end_date.data)
            except ServiceError as error:
                apply_service_error(form, error)
            else:
                flash(_("%(name)s holds %(post)s until %(date)s.", name=assignment.employee.display_name,
                        post=assignment.post.title, date=format_date(assignment.end_date)), "success")
                return redirect(url_for("posts.post", post_id=assignment.post_id))
        status = INVALID
    return render("posts/end_assignment.html", "posts/_end_form.html", form=form, assignment=assignment,
                  status=status)


# --- people's skills -------------------------------------------------------------------

@blueprint.route("/people/<int:employee_id>/skills", methods=["GET", "POST"])
@require(PEOPLE_MANAGE)
def employee_skills(employee_id):
    employee = load_or_404(Employee, employee_id, PEOPLE_MANAGE)
    form = EmployeeSkillsForm()
    status = 200
    if not form.is_submitted():
        skill_rows(form, [(row.skill.name, row.level) for row in services.employee_skills(employee)])
    elif form.validate():
        try:
            services.set_employee_skills(current_actor(), employee, submitted_skills(form))
        except ServiceError as error:
            apply_service_error(form, error)
            status = INVALID
        else:
            flash(_("The skills of %(name)s are saved.", name=employee.display_name), "success")
            return redirect(url_for("posts.employee_skills", employee_id=employee.id))
    else:
        status = INVALID
    held = assignments.current_assignments(employee)
    return render("posts/employee_skills.html", "posts/_employee_skills_form.html", status=status, form=form,
                  employee=employee, held=held, required=services.required_skills([a.post_id for a in held]),
                  levels={row.skill_id: row.level for row in services.employee_skills(employee)},
                  skill_names=[name for _id, name in services.skill_choices()])


# --- the talent pool -------------------------------------------------------------------

@blueprint.route("/talent")
@require(PEOPLE_VIEW)
def talent():
    scope = current_scope()
    form = TalentFilterForm(request.args)
    form.skill.choices = [(0, _("Any skill"))] + services.skill_choices()
    form.post.choices = [(0, _("Any post"))] + services.post_choices(scope, POSTS_VIEW)
    filters, status = services.TalentFilters(), INVALID
    if form.validate():
        filters, status = services.TalentFilters(
            skill_id=form.skill.data or None, min_level=form.min_level.data or 1, post_id=form.post.data or None,
            min_spare=form.min_spare.data or 0, q=(form.q.data or "").strip()), 200
    page = parse_page(request.args)
    rows, has_next = services.talent_pool(scope, filters, page, _page_size())
    return render("posts/talent.html", "posts/_talent_rows.html", status=status, form=form, people=rows,
                  filters=filters, page=page, has_next=has_next, query_args=_query_args())
