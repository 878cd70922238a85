"""Posts (岗位) and their job descriptions, the group's skills, people's skill levels,
and the group talent pool."""
import datetime as dt
from dataclasses import dataclass

import peewee as pw
from flask_babel import gettext as _

from portal.core.audit import changes, record_event
from portal.core.db import database, update_at_version, utcnow
from portal.core.errors import NotInScope, ServiceError
from portal.org.models import OrgUnit
from portal.people.assignments import assignments_in_force, in_force_on, require_person_in_scope
from portal.people.models import Assignment, Employee, EmployeeSkill
from portal.people.permissions import PEOPLE_MANAGE, PEOPLE_VIEW, employee_condition
from portal.posts.models import SKILL_LEVELS, Post, PostSkill, Skill
from portal.posts.permissions import POSTS_MANAGE, post_condition

POST_FIELDS = ("company", "code", "title", "duties", "growth_path", "headcount_plan", "capacity")
MAX_HEADCOUNT_PLAN = 100_000


# --- skills ----------------------------------------------------------------------------

def skill_choices():
    """(id, name) of every skill of the group, by name."""
    return list(Skill.select(Skill.id, Skill.name).order_by(Skill.name).tuples())


def _skill_name(name):
    name = " ".join((name or "").split())
    if len(name) > 80:
        raise ServiceError(_("A skill name has at most 80 characters."), field="skills")
    return name


def _resolve_skills(actor, levels):
    """[(skill name, level)] → {Skill: level}, adding the skills the group does not name yet
    (audited). Blank names are ignored; a name listed twice is refused."""
    wanted = {}
    for name, level in levels:
        name = _skill_name(name)
        if not name:
            continue
        if level not in SKILL_LEVELS:
            raise ServiceError(_("Choose a level from 1 to 5 for %(skill)s.", skill=name), field="skills")
        if name.casefold() in {n.casefold() for n in wanted}:
            raise ServiceError(_("%(skill)s is listed twice.", skill=name), field="skills")
        wanted[name] = level
    if not wanted:
        return {}
    known = {skill.name.casefold(): skill for skill in Skill.select()}  # the group names a few hundred at most
    resolved = {}
    for name, level in wanted.items():
        skill = known.get(name.casefold())
        if skill is None:
            skill = Skill.create(name=name)
            record_event("posts.skill_created", skill, actor=actor.user, after={"name": name})
        resolved[skill] = level
    return resolved


def _skill_levels(rows):
    return sorted((skill.name, level) for skill, level in rows)


def set_employee_skills(actor, employee, levels):
    """Replace `employee`'s skills with `levels` ([(skill name, level 1–5)]); new skill
    names join the group's list."""
    require_person_in_scope(actor, employee, PEOPLE_MANAGE)
    before = _skill_levels((row.skill, row.level) for row in employee_skills(employee))
    with database.atomic():
        resolved = _resolve_skills(actor, levels)
        EmployeeSkill.delete().where(EmployeeSkill.employee == employee).execute()
        if resolved:
            EmployeeSkill.insert_many([{"employee": employee.id, "skill": skill.id, "level": level}
                                       for skill, level in resolved.items()]).execute()
        after = _skill_levels(resolved.items())
        if after != before:
            record_event("people.skills_changed", employee, label=employee.display_name, unit=employee.unit_id,
                         actor=actor.user, before={"skills": before}, after={"skills": after})
    return employee_skills(employee)


def employee_skills(employee):
    return list(EmployeeSkill.select(EmployeeSkill, Skill).join(Skill)
                .where(EmployeeSkill.employee == employee).order_by(Skill.name))


def post_skills(post):
    return list(PostSkill.select(PostSkill, Skill).join(Skill).where(PostSkill.post == post).order_by(Skill.name))


# --- posts -----------------------------------------------------------------------------

def _check_code(company, code, post_id=None):
    code = (code or "").strip().upper()
    if not code or len(code) > 32 or not all(c.isalnum() or c in "-_." for c in code):
        raise ServiceError(_("Use up to 32 letters, digits, dots, dashes or underscores."), field="code")
    taken = Post.select().where((Post.company == company) & (Post.code == code) & (Post.id != (post_id or 0)))
    if taken.exists():
        raise ServiceError(_("Another post of this company already uses this code."), field="code")
    return code


def _post_values(company, code, title, duties, growth_path, headcount_plan, capacity, post_id=None):
    title = (title or "").strip()
    if not title:
        raise ServiceError(_("Enter a title."), field="title")
    if len(title) > 120:
        raise ServiceError(_("Use at most 120 characters."), field="title")
    if not isinstance(headcount_plan, int) or not 0 <= headcount_plan <= MAX_HEADCOUNT_PLAN:
        raise ServiceError(_("Enter how many people the post is planned for (0 or more)."), field="headcount_plan")
    if not isinstance(capacity, int) or not 1 <= capacity <= 100:
        raise ServiceError(_("Enter a share from 1 to 100 percent."), field="capacity")
    return {"code": _check_code(company, code, post_id), "title": title, "duties": (duties or "").strip(),
            "growth_path": (growth_path or "").strip(), "headcount_plan": headcount_plan, "capacity": capacity}


def _snapshot(post, skills):
    return {**changes(post, POST_FIELDS), "skills": _skill_levels(skills)}


def _save_skills(post, resolved):
    PostSkill.delete().where(PostSkill.post == post).execute()
    if resolved:
        PostSkill.insert_many([{"post": post.id, "skill": skill.id, "level": level}
                               for skill, level in resolved.items()]).execute()


def create_post(actor, company, code, title, duties="", growth_path="", headcount_plan=0, capacity=100, skills=()):
    """A new post of `company` (a company unit); `skills` is [(skill name, level)]."""
    actor.require(POSTS_MANAGE, company)
    if company.kind != "company":
        raise ServiceError(_("Posts belong to a company."), field="company")
    values = _post_values(company, code, title, duties, growth_path, headcount_plan, capacity)
    with database.atomic():
        resolved = _resolve_skills(actor, skills)
        post = Post.create(company=company, **values)
        _save_skills(post, resolved)
        record_event("posts.post_created", post, label=post.title, unit=company, actor=actor.user,
                     after=_snapshot(post, resolved.items()))
    return post


def update_post(actor, post, version, code, title, duties, growth_path, headcount_plan, capacity, skills):
    """Edit a post and its required skills; refused when someone saved it since `version`."""
    actor.require(POSTS_MANAGE, post.company)
    before = _snapshot(post, ((row.skill, row.level) for row in post_skills(post)))
    values = _post_values(post.company, code, title, duties, growth_path, headcount_plan, capacity, post.id)
    with database.atomic():
        post = update_at_version(Post, post.id, version, values,
                                 _("Someone else changed this post meanwhile. Reload the page and try again."))
        resolved = _resolve_skills(actor, skills)
        _save_skills(post, resolved)
        record_event("posts.post_updated", post, label=post.title, unit=post.company_id, actor=actor.user,
                     before=before, after=_snapshot(post, resolved.items()))
    return post


def archive_post(actor, post, today=None):
    """Retire a post nobody holds now or later; its history stays."""
    actor.require(POSTS_MANAGE, post.company)
    today = today or dt.date.today()
    held = Assignment.select().where((Assignment.post == post)
                                     & (Assignment.end_date.is_null() | (Assignment.end_date >= today)))
    if held.exists():
        raise ServiceError(_("People hold this post now or from a later date: end their assignments first."))
    with database.atomic():
        Post.update(archived_at=utcnow(), version=Post.version + 1).where(Post.id == post.id).execute()
        record_event("posts.post_archived", post, label=post.title, unit=post.company_id, actor=actor.user)
    return Post.get_by_id(post.id)


def restore_post(actor, post):
    actor.require(POSTS_MANAGE, post.company)
    with database.atomic():
        Post.update(archived_at=None, version=Post.version + 1).where(Post.id == post.id).execute()
        record_event("posts.post_restored", post, label=post.title, unit=post.company_id, actor=actor.user)
    return Post.get_by_id(post.id)


# --- reading posts -------------------------------------------------------------------

@dataclass(frozen=True)
class PostFilters:
    company_id: int | None = None
    q: str = ""
    archived: bool = False


def list_posts(scope, filters, page=1, per_page=50, today=None):
    """Posts in scope matching `filters`, by company and code, each with `holders` (people
    holding it today) and `filled` (their shares, in percent); and whether a next page exists."""
    today = today or dt.date.today()
    held = (Assignment.select(Assignment.post, pw.fn.COUNT(Assignment.id).alias("holders"),
                              pw.fn.SUM(Assignment.share).alias("filled"))
            .where(in_force_on(today)).group_by(Assignment.post).alias("held"))
    query = (Post.select(Post, OrgUnit.id, OrgUnit.name, pw.fn.COALESCE(held.c.holders, 0).alias("holders"),
                         pw.fn.COALESCE(held.c.filled, 0).alias("filled"))
             .join(OrgUnit, on=(Post.company == OrgUnit.id))
             .switch(Post).join(held, pw.JOIN.LEFT_OUTER, on=(held.c.post_id == Post.id))
             .where(post_condition(scope, "posts.view", today)))
    query = query.where(Post.archived_at.is_null(False) if filters.archived else Post.archived_at.is_null())
    if filters.company_id:
        query = query.where(Post.company == filters.company_id)
    if filters.q:
        query = query.where(Post.code.contains(filters.q) | Post.title.contains(filters.q))
    rows = list(query.order_by(OrgUnit.name, Post.code).paginate(page, per_page + 1))
    return rows[:per_page], len(rows) > per_page


def company_choices(scope, permission):
    """(id, name) of the companies where `permission` holds on the company itself."""
    return list(OrgUnit.select(OrgUnit.id, OrgUnit.name)
                .where((OrgUnit.kind == "company") & OrgUnit.archived_at.is_null() & scope.unit_condition(permission))
                .order_by(OrgUnit.name).tuples())


def _post_choices(condition):
    query = (Post.select(Post.id, Post.code, Post.title, OrgUnit.name).join(OrgUnit, on=(Post.company == OrgUnit.id))
             .where(Post.archived_at.is_null() & condition))
    return [(post_id, f"{title} · {code} · {company}")
            for post_id, code, title, company in query.order_by(OrgUnit.name, Post.title).tuples()]


def post_choices(scope, permission):
    """(id, label) of the active posts in scope."""
    return _post_choices(post_condition(scope, permission))


def _assignable(scope):
    """Posts of the companies where the scope may manage people in some unit."""
    return Post.company.in_(OrgUnit.select(OrgUnit.company).where(scope.unit_condition(PEOPLE_MANAGE)))


def assignable_post_choices(scope):
    return _post_choices(_assignable(scope))


def load_assignable_post(scope, post_id):
    """An active post the scope may give people, or NotInScope (answered 404)."""
    post = Post.select().where(_assignable(scope) & (Post.id == post_id) & Post.archived_at.is_null()).first()
    if post is None:
        raise NotInScope(PEOPLE_MANAGE)
    return post


def unit_choices_for(scope, permission, company_id=None):
    """(id, label) of the active units below the group where `permission` holds, in
    tree order; only those of one company when `company_id` is given."""
    query = (OrgUnit.select(OrgUnit.id, OrgUnit.depth, OrgUnit.name)
             .where(scope.unit_condition(permission) & OrgUnit.archived_at.is_null() & OrgUnit.company.is_null(False)))
    if company_id:
        query = query.where(OrgUnit.company == company_id)
    return [(unit_id, "\u2003" * max(depth - 1, 0) + name)
            for unit_id, depth, name in query.order_by(OrgUnit.path).tuples()]


def default_unit(employee, post):
    """Where a new assignment most likely goes: the person's unit if it belongs to the
    post's company, else the company itself."""
    if post is None:
        return None
    if employee is not None and employee.unit.company_id == post.company_id:
        return employee.unit_id
    return post.company_id


def required_skills(post_ids):
    """{post id: [PostSkill with .skill]} of the given posts."""
    found = {}
    for row in (PostSkill.select(PostSkill, Skill).join(Skill).where(PostSkill.post.in_(list(post_ids) or [0]))
                .order_by(Skill.name)):
        found.setdefault(row.post_id, []).append(row)
    return found


def post_holders(post, scope, today=None):
    """The people holding `post` today and from a later date, as two lists of
    Assignment (with .employee and .unit), those the scope may see by name; and the
    number of holders today it may not see."""
    today = today or dt.date.today()
    rows = list(Assignment.select(Assignment, Employee, OrgUnit)
                .join(Employee).switch(Assignment).join(OrgUnit, on=(Assignment.unit == OrgUnit.id))
                .where((Assignment.post == post) & (Assignment.end_date.is_null() | (Assignment.end_date >= today)))
                .order_by(Assignment.start_date, Employee.legal_name))
    visible = {employee_id for (employee_id,) in Employee.select(Employee.id).where(
        Employee.id.in_([a.employee_id for a in rows] or [0]) & employee_condition(scope, PEOPLE_VIEW)).tuples()}
    current = [a for a in rows if a.start_date <= today]
    coming = [a for a in rows if a.start_date > today and a.employee_id in visible]
    return ([a for a in current if a.employee_id in visible], coming,
            sum(1 for a in current if a.employee_id not in visible))


def staffing(post, holders, hidden=0):
    """The post against its plan: people holding it, their shares as full-time
    equivalents (percent), and the plan."""
    return {"people": len(holders) + hidden, "filled": sum(a.share for a in holders),
            "plan": post.headcount_plan}


# --- the talent pool -------------------------------------------------------------------

@dataclass(frozen=True)
class TalentFilters:
    skill_id: int | None = None
    min_level: int = 1
    post_id: int | None = None
    min_spare: int = 0
    q: str = ""


def talent_pool(scope, filters, page=1, per_page=50, today=None):
    """People the scope may see (people.view), in every company, who are not gone and
    match `filters`: a skill at a level or above, holding a post today, spare capacity
    (100 − the shares they hold today) of at least `min_spare` percent. Rows carry
    `load` (their shares today); `assignments` and `skills` of the page's people come
    with them (a query each). Returns (rows, has_next)."""
    today = today or dt.date.today()
    load = pw.fn.COALESCE(
        Assignment.select(pw.fn.SUM(Assignment.share))
        .where((Assignment.employee == Employee.id) & in_force_on(today)), 0)
    query = (Employee.select(Employee, OrgUnit, load.alias("load"))
             .join(OrgUnit, on=(Employee.company == OrgUnit.id))
             .where(employee_condition(scope, PEOPLE_VIEW, today) & (Employee.status != "left")))
    if filters.skill_id:
        query = query.where(Employee.id.in_(EmployeeSkill.select(EmployeeSkill.employee).where(
            (EmployeeSkill.skill == filters.skill_id) & (EmployeeSkill.level >= filters.min_level))))
    if filters.post_id:
        query = query.where(Employee.id.in_(Assignment.select(Assignment.employee).where(
            (Assignment.post == filters.post_id) & in_force_on(today))))
    if filters.min_spare:
        query = query.where(load <= 100 - filters.min_spare)
    if filters.q:
        query = query.where(Employee.search_text.contains(filters.q.lower()))
    rows = list(query.order_by(Employee.legal_name, Employee.id).paginate(page, per_page + 1))
    rows, has_next = rows[:per_page], len(rows) > per_page
    ids = [row.id for row in rows]
    held = assignments_in_force(ids, today)
    skills = {}
    for row in (EmployeeSkill.select(EmployeeSkill, Skill).join(Skill)
                .where(EmployeeSkill.employee.in_(ids or [0])).order_by(EmployeeSkill.level.desc(), Skill.name)):
        skills.setdefault(row.employee_id, []).append(row)
    for row in rows:
        row.assignments = held.get(row.id, [])
        # The skill searched for first, then the strongest.
        row.skill_levels = sorted(skills.get(row.id, []), key=lambda s: s.skill_id != filters.skill_id)
    return rows, has_next
