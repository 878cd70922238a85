import peewee as pw

from portal.accounts.models import Role, User
from portal.core.db import BaseModel, utcnow
from portal.org.models import OrgUnit

REQUEST_STATES = ("pending", "approved", "rejected", "withdrawn")
STEP_STATES = ("waiting", "pending", "approved", "rejected", "skipped")


class ApprovalChain(BaseModel):
    """Who approves requests of `kind` raised in `unit` and below: `steps` is a
    JSON list of role ids, in order. The nearest chain above a request's unit
    applies; without one, the kind's default chain (declared in code)."""

    kind = pw.CharField(max_length=48)
    unit = pw.ForeignKeyField(OrgUnit, on_delete="CASCADE")
    steps = pw.TextField()
    updated_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    updated_at = pw.DateTimeField(default=utcnow)
    version = pw.IntegerField(default=1)

    class Meta:
        indexes = ((("kind", "unit"), True),)


class ApprovalRequest(BaseModel):
    """A request of a declared kind moving through its chain. `version` rises with
    every decision: a decision made on an older version loses (optimistic check)."""

    kind = pw.CharField(max_length=48)
    unit = pw.ForeignKeyField(OrgUnit, on_delete="RESTRICT")
    requester = pw.ForeignKeyField(User, null=True, backref="approval_requests", on_delete="SET NULL")
    subject_type = pw.CharField(max_length=32, default="")
    subject_id = pw.IntegerField(null=True)
    title = pw.CharField(max_length=200)
    payload = pw.TextField(default="{}")
    reason = pw.TextField(default="")
    state = pw.CharField(max_length=16, default="pending")
    step_position = pw.SmallIntegerField(default=0)
    effective_date = pw.DateField(null=True)
    created_at = pw.DateTimeField(default=utcnow)
    decided_at = pw.DateTimeField(null=True)
    applied_at = pw.DateTimeField(null=True)
    version = pw.IntegerField(default=1)

    class Meta:
        indexes = (
            (("state", "unit"), False),
            (("requester", "created_at"), False),
            (("subject_type", "subject_id"), False),
        )


class ApprovalStep(BaseModel):
    """One step of a request's chain: anyone holding `role` on the request's unit
    (or on a unit above it, with descendants) decides it, or their delegate."""

    request = pw.ForeignKeyField(ApprovalRequest, backref="steps", on_delete="CASCADE")
    position = pw.SmallIntegerField()
    role = pw.ForeignKeyField(Role, on_delete="RESTRICT")
    state = pw.CharField(max_length=16, default="waiting")
    decided_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    on_behalf_of = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    decided_at = pw.DateTimeField(null=True)
    comment = pw.TextField(default="")

    class Meta:
        indexes = ((("request", "position"), True), (("state", "role"), False))


class Delegation(BaseModel):
    """While `delegator` is away (start..end dates, inclusive), `delegate` may decide their steps."""

    delegator = pw.ForeignKeyField(User, backref="delegations_given", on_delete="CASCADE")
    delegate = pw.ForeignKeyField(User, backref="delegations_received", on_delete="CASCADE")
    start_date = pw.DateField()
    end_date = pw.DateField()
    created_at = pw.DateTimeField(default=utcnow)
    revoked_at = pw.DateTimeField(null=True)

    class Meta:
        indexes = ((("delegate", "end_date"), False),)


class Notification(BaseModel):
    """An in-app notification. `message` is a message key translated when shown
    (approvals.services.NOTIFICATION_MESSAGES), `params` its JSON arguments."""

    user = pw.ForeignKeyField(User, backref="notifications", on_delete="CASCADE")
    message = pw.CharField(max_length=64)
    params = pw.TextField(default="{}")
    link = pw.CharField(max_length=300, default="")
    created_at = pw.DateTimeField(default=utcnow)
    read_at = pw.DateTimeField(null=True)

    class Meta:
        indexes = ((("user", "read_at", "created_at"), False),)
