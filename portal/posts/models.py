import peewee as pw

from portal.core.db import BaseModel, utcnow
from portal.org.models import OrgUnit

SKILL_LEVELS = (1, 2, 3, 4, 5)


class Skill(BaseModel):
    """A skill the group names once (e.g. "JD after-sales", "German"); people and posts refer to it."""

    name = pw.CharField(max_length=80, unique=True)
    created_at = pw.DateTimeField(default=utcnow)


class Post(BaseModel):
    """A post (岗位) of a company: what the job is, how many people it plans for,
    and the capacity share (percent of a full-time person) an assignment to it takes by default."""

    company = pw.ForeignKeyField(OrgUnit, backref="posts", on_delete="RESTRICT")
    code = pw.CharField(max_length=32)
    title = pw.CharField(max_length=120)
    duties = pw.TextField(default="")
    growth_path = pw.TextField(default="")
    headcount_plan = pw.IntegerField(default=0)
    capacity = pw.IntegerField(default=100)
    archived_at = pw.DateTimeField(null=True)
    created_at = pw.DateTimeField(default=utcnow)
    version = pw.IntegerField(default=1)

    class Meta:
        indexes = ((("company", "code"), True),)


class PostSkill(BaseModel):
    """A skill a post requires, and the level (1–5) it requires."""

    post = pw.ForeignKeyField(Post, backref="skills", on_delete="CASCADE")
    skill = pw.ForeignKeyField(Skill, on_delete="RESTRICT")
    level = pw.SmallIntegerField(default=1)

    class Meta:
        indexes = ((("post", "skill"), True),)
