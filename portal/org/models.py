import peewee as pw

from portal.core.db import BaseModel, utcnow

UNIT_KINDS = ("group", "company", "store", "department", "team")
# Which kinds may sit directly under which: group → company → store/department → team.
ALLOWED_CHILDREN = {
    "group": ("company",),
    "company": ("store", "department"),
    "store": ("team",),
    "department": ("team",),
    "team": ("team",),
}
PLATFORMS = ("jd", "vipshop", "tmall", "taobao", "douyin", "pinduoduo", "other")


class OrgUnit(BaseModel):
    """A node of the org tree.

    `path` is the materialised path of ids ("/1/4/17/"), so a subtree is one
    indexed prefix match; `company` is the nearest company at or above the
    unit (null for the group), which is where country, currency, time zone
    and locale live and what scoped data is usually filtered by.
    """

    parent = pw.ForeignKeyField("self", null=True, backref="children", on_delete="RESTRICT")
    company = pw.ForeignKeyField("self", null=True, on_delete="RESTRICT")
    kind = pw.CharField(max_length=16)
    code = pw.CharField(max_length=32, unique=True)
    name = pw.CharField(max_length=120)
    path = pw.CharField(max_length=500, index=True)
    depth = pw.IntegerField(default=0)
    platform = pw.CharField(max_length=16, null=True)
    country = pw.CharField(max_length=2, null=True)
    currency = pw.CharField(max_length=3, null=True)
    timezone = pw.CharField(max_length=64, null=True)
    default_locale = pw.CharField(max_length=16, null=True)
    archived_at = pw.DateTimeField(null=True)
    created_at = pw.DateTimeField(default=utcnow)
    version = pw.IntegerField(default=1)

    class Meta:
        indexes = ((("parent", "name"), False),)

    @property
    def is_archived(self):
        return self.archived_at is not None

    @property
    def ancestor_ids(self):
        return [int(part) for part in self.path.strip("/").split("/") if part][:-1]

    def is_descendant_of(self, other):
        return self.path.startswith(other.path) and self.id != other.id
