import datetime as dt

from flask_babel import lazy_gettext as _l

from portal.core.audit import declare_actions
from portal.core.permissions import Permission, declare, register_object_type
from portal.org.models import OrgUnit
from portal.posts.models import Post

POSTS_VIEW, POSTS_MANAGE = declare(
    Permission("posts.view", _l("See posts and job descriptions")),
    Permission("posts.manage", _l("Define posts and job descriptions")),
)


def post_condition(scope, permission, today=None):
    """Posts in scope: those of a company in scope, and those held now or later in a
    unit in scope (a team lead reads the job descriptions of their team's posts)."""
    from portal.people.models import Assignment

    today = today or dt.date.today()
    units = OrgUnit.select(OrgUnit.id).where(scope.unit_condition(permission))
    held = Assignment.select(Assignment.post).where(
        Assignment.unit.in_(units) & (Assignment.end_date.is_null() | (Assignment.end_date >= today)))
    return Post.company.in_(units) | Post.id.in_(held)


register_object_type("post_id", Post, Post.company, POSTS_VIEW, post_condition)

declare_actions({
    "posts.post_created": _l("Post created"),
    "posts.post_updated": _l("Post edited"),
    "posts.post_archived": _l("Post archived"),
    "posts.post_restored": _l("Post restored"),
    "posts.skill_created": _l("Skill added"),
    "people.skills_changed": _l("Skills edited"),
})
