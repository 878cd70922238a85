from flask_babel import lazy_gettext as _l

from portal.core.audit import declare_actions
from portal.core.permissions import Permission, declare, register_object_type
from portal.posts.models import Post

POSTS_VIEW, POSTS_MANAGE = declare(
    Permission("posts.view", _l("See posts and job descriptions")),
    Permission("posts.manage", _l("Define posts and job descriptions")),
)

register_object_type("post_id", Post, Post.company, POSTS_VIEW)

declare_actions({
    "posts.post_created": _l("Post created"),
    "posts.post_updated": _l("Post edited"),
    "posts.post_archived": _l("Post archived"),
    "posts.skill_created": _l("Skill added"),
})
