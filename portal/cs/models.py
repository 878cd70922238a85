"""Customer service: marketplace accounts and who may stand behind them, the
conversations and login sessions imported from the marketplaces, and what the
attribution engine made of them.

A CS account (the marketplace's customer-service login, 公共账号 when shared)
belongs to a store (an org unit of kind "store", whose `platform` names the
marketplace). A personal account is bound to one person over date ranges; a
shared one is staffed by the shifts whose shift type lists it. Sub-accounts (the
marketplaces' "waiter", 子账号) are bound to people over date ranges too.

Every instant is naive UTC. Attribution shares are floats that add up to 1 per
attributed conversation: they measure work, not money (bonus amounts are
rounded in minor units by the bonus engine).
"""
import peewee as pw

from portal.accounts.models import User
from portal.approvals.models import ApprovalRequest
from portal.core.db import BaseModel, utcnow
from portal.org.models import OrgUnit
from portal.people.models import Employee

ACCOUNT_KINDS = ("shared", "personal")
# How a conversation is split among people qualifying at the same evidence level.
SPLIT_RULES = ("equal", "presence", "capacity")
IMPORT_KINDS = ("conversations", "messages", "logins")
IMPORT_STATES = ("uploaded", "mapped", "validated", "importing", "imported", "failed")
WORKSTATION_KINDS = ("ip", "workstation")
MESSAGE_SENDERS = ("customer", "agent")
# Evidence levels, strongest first (DESIGN.md "Shared-account attribution"); 0 is a
# lead's override, which outranks every level the engine finds.
LEVEL_OVERRIDE, LEVEL_BOUND, LEVEL_LOGIN, LEVEL_CLOCKED_ROSTERED, LEVEL_ROSTERED = 0, 1, 2, 3, 4
APPEAL_STATES = ("pending", "accepted", "rejected", "withdrawn")


class CsAccount(BaseModel):
    """A marketplace customer-service account of a store. `code` is unique in its
    company (shift types name the accounts they staff by code). Service hours are
    local minutes after midnight in the store's time zone; an end of 1440 is
    midnight. `split_rule` decides how a conversation is shared among people who
    qualify at the same evidence level."""

    company = pw.ForeignKeyField(OrgUnit, on_delete="CASCADE")
    store = pw.ForeignKeyField(OrgUnit, on_delete="CASCADE")
    code = pw.CharField(max_length=64)
    name = pw.CharField(max_length=120)
    kind = pw.CharField(max_length=16, default="shared")
    split_rule = pw.CharField(max_length=16, default="equal")
    service_start_minute = pw.SmallIntegerField(default=0)
    service_end_minute = pw.SmallIntegerField(default=1440)
    archived_at = pw.DateTimeField(null=True)
    created_at = pw.DateTimeField(default=utcnow)
    version = pw.IntegerField(default=1)

    class Meta:
        indexes = ((("company", "code"), True),)


class CsAccountBinding(BaseModel):
    """A personal account held by one person from `valid_from` to `valid_to`
    (inclusive local dates; open-ended when null)."""

    account = pw.ForeignKeyField(CsAccount, backref="bindings", on_delete="CASCADE")
    employee = pw.ForeignKeyField(Employee, on_delete="CASCADE")
    valid_from = pw.DateField()
    valid_to = pw.DateField(null=True)
    created_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("account", "valid_from"), False),)


class CsSubAccount(BaseModel):
    """A sub-account (waiter) of an account, named as the marketplace's exports
    name it ("京东旗舰店:小王")."""

    account = pw.ForeignKeyField(CsAccount, backref="sub_accounts", on_delete="CASCADE")
    name = pw.CharField(max_length=120)
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("account", "name"), True),)


class CsSubAccountBinding(BaseModel):
    """A sub-account used by one person from `valid_from` to `valid_to` (inclusive)."""

    sub_account = pw.ForeignKeyField(CsSubAccount, backref="bindings", on_delete="CASCADE")
    employee = pw.ForeignKeyField(Employee, on_delete="CASCADE")
    valid_from = pw.DateField()
    valid_to = pw.DateField(null=True)
    created_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("sub_account", "valid_from"), False),)


class CsWorkstation(BaseModel):
    """An IP address or a workstation name a person works from, so that a platform
    login from it can be matched to them."""

    company = pw.ForeignKeyField(OrgUnit, on_delete="CASCADE")
    employee = pw.ForeignKeyField(Employee, on_delete="CASCADE")
    kind = pw.CharField(max_length=16, default="ip")
    value = pw.CharField(max_length=64)
    label = pw.CharField(max_length=80, default="")
    valid_from = pw.DateField()
    valid_to = pw.DateField(null=True)
    created_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("company", "kind", "value"), False), (("employee",), False))


class CsImport(BaseModel):
    """One marketplace export on its way through the import pipeline (see
    core.import_runs): `connector` names the format (portal.connectors), `kind`
    what it holds. `report` rows live in `summary` as for every import."""

    id = pw.CharField(max_length=32, primary_key=True)
    company = pw.ForeignKeyField(OrgUnit, on_delete="CASCADE")
    connector = pw.CharField(max_length=32)
    kind = pw.CharField(max_length=16)
    original_name = pw.CharField(max_length=200)
    stored_name = pw.CharField(max_length=64)
    sha256 = pw.CharField(max_length=64)
    state = pw.CharField(max_length=16, default="uploaded")
    mapping = pw.TextField(default="{}")
    row_count = pw.IntegerField(default=0)
    error_count = pw.IntegerField(default=0)
    summary = pw.TextField(default="{}")
    job_id = pw.CharField(max_length=32, null=True)
    created_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = pw.DateTimeField(default=utcnow)


class CsConversation(BaseModel):
    """One marketplace conversation (session), unique by (account, session_id): the
    platform is the account's store's. `started_at` is the first customer message,
    `first_reply_at` the first agent reply (null: never answered). `rating` is 1–5
    (4 and 5 count as positive), null when the customer did not rate."""

    company = pw.ForeignKeyField(OrgUnit, on_delete="CASCADE")
    account = pw.ForeignKeyField(CsAccount, on_delete="CASCADE")
    sub_account = pw.ForeignKeyField(CsSubAccount, null=True, on_delete="SET NULL")
    session_id = pw.CharField(max_length=64)
    customer_ref = pw.CharField(max_length=64, default="")
    started_at = pw.DateTimeField()
    first_reply_at = pw.DateTimeField(null=True)
    ended_at = pw.DateTimeField()
    customer_messages = pw.IntegerField(default=0)
    agent_messages = pw.IntegerField(default=0)
    resolved = pw.BooleanField(null=True)
    reopened = pw.BooleanField(default=False)
    rating = pw.SmallIntegerField(null=True)
    cs_import = pw.ForeignKeyField(CsImport, null=True, on_delete="SET NULL")
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = (
            (("account", "session_id"), True),
            (("account", "started_at"), False),
            (("company", "started_at"), False),
        )


class CsMessage(BaseModel):
    """One message of a conversation, where the marketplace exports them."""

    conversation = pw.ForeignKeyField(CsConversation, backref="messages", on_delete="CASCADE")
    at = pw.DateTimeField()
    sender = pw.CharField(max_length=8)
    sub_account = pw.ForeignKeyField(CsSubAccount, null=True, on_delete="SET NULL")
    cs_import = pw.ForeignKeyField(CsImport, null=True, on_delete="SET NULL")

    class Meta:
        indexes = ((("conversation", "at", "sender"), True),)


class CsLoginSession(BaseModel):
    """A platform login (JD's shape: sub-account, login, logout, IP, session id),
    unique by (account, session_id). `logout_at` null: still logged in, or the
    platform lost the logout (the engine then closes it at the end of the period)."""

    company = pw.ForeignKeyField(OrgUnit, on_delete="CASCADE")
    account = pw.ForeignKeyField(CsAccount, on_delete="CASCADE")
    sub_account = pw.ForeignKeyField(CsSubAccount, null=True, on_delete="SET NULL")
    session_id = pw.CharField(max_length=64)
    login_at = pw.DateTimeField()
    logout_at = pw.DateTimeField(null=True)
    address = pw.CharField(max_length=45, default="")
    workstation = pw.CharField(max_length=64, default="")
    cs_import = pw.ForeignKeyField(CsImport, null=True, on_delete="SET NULL")
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("account", "session_id"), True), (("account", "login_at"), False))


class CsAttributionRun(BaseModel):
    """The attribution of one company's conversations over local dates
    `period_start`…`period_end` (inclusive). `stale` is set when data or
    corrections arrive for the period, so the recompute job redoes it."""

    company = pw.ForeignKeyField(OrgUnit, on_delete="CASCADE")
    period_start = pw.DateField()
    period_end = pw.DateField()
    conversations = pw.IntegerField(default=0)
    attributed = pw.IntegerField(default=0)
    unattributed = pw.IntegerField(default=0)
    stale = pw.BooleanField(default=False)
    computed_at = pw.DateTimeField(default=utcnow)
    computed_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")

    class Meta:
        indexes = ((("company", "period_start"), True),)


class CsAttribution(BaseModel):
    """One person's credit for one conversation: a share (the shares of an
    attributed conversation add up to 1), the evidence level it rests on
    (LEVEL_*), a confidence in [0, 1] and the evidence itself (JSON: which
    binding, login session, roster entry or override). A conversation with no
    row after its period was computed is unattributed."""

    run = pw.ForeignKeyField(CsAttributionRun, on_delete="CASCADE")
    conversation = pw.ForeignKeyField(CsConversation, on_delete="CASCADE")
    employee = pw.ForeignKeyField(Employee, on_delete="CASCADE")
    share = pw.DoubleField()
    level = pw.SmallIntegerField()
    confidence = pw.DoubleField()
    evidence = pw.TextField(default="{}")

    class Meta:
        indexes = ((("conversation", "employee"), True), (("employee", "conversation"), False),
                   (("run",), False))


class CsOverride(BaseModel):
    """A lead's decision on who handled a conversation, with the reason: it replaces
    whatever the engine found. `appeal` is the agent's appeal it answers, if any.
    The latest override of a conversation counts."""

    conversation = pw.ForeignKeyField(CsConversation, on_delete="CASCADE")
    employee = pw.ForeignKeyField(Employee, null=True, on_delete="CASCADE")  # null: nobody (unattributed)
    reason = pw.TextField()
    appeal = pw.ForeignKeyField(ApprovalRequest, null=True, on_delete="SET NULL")
    created_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("conversation", "created_at"), False),)


class CsAppeal(BaseModel):
    """An agent's appeal against how a conversation was credited: the agent claims
    it (or disowns it) with a reason; it runs through the approval engine
    (`approval`) to the team lead, whose acceptance records a CsOverride."""

    conversation = pw.ForeignKeyField(CsConversation, on_delete="CASCADE")
    employee = pw.ForeignKeyField(Employee, on_delete="CASCADE")
    claim = pw.CharField(max_length=8, default="mine")  # "mine" or "not_mine"
    reason = pw.TextField()
    state = pw.CharField(max_length=16, default="pending")
    approval = pw.ForeignKeyField(ApprovalRequest, null=True, on_delete="SET NULL")
    created_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = pw.DateTimeField(default=utcnow)
    version = pw.IntegerField(default=1)

    class Meta:
        indexes = ((("conversation",), False), (("employee", "created_at"), False))


class CsDailyMetric(BaseModel):
    """One person's figures on one account for one local day, written by the
    metrics engine when a period is computed. Every column is a sum (weighted by
    attribution share where a conversation is involved), so teams, accounts,
    stores and companies roll up by adding rows; rates are formed when shown.
    `unit` is the person's team (home unit) when computed, for scope."""

    run = pw.ForeignKeyField(CsAttributionRun, on_delete="CASCADE")
    company = pw.ForeignKeyField(OrgUnit, on_delete="CASCADE")
    unit = pw.ForeignKeyField(OrgUnit, on_delete="CASCADE")
    employee = pw.ForeignKeyField(Employee, on_delete="CASCADE")
    account = pw.ForeignKeyField(CsAccount, on_delete="CASCADE")
    day = pw.DateField()
    conversations = pw.IntegerField(default=0)      # conversations with any share
    workload = pw.DoubleField(default=0)             # Σ shares
    answered = pw.DoubleField(default=0)             # Σ shares of answered conversations
    unanswered = pw.DoubleField(default=0)
    first_response_seconds = pw.DoubleField(default=0)  # Σ share × service-hours first response time
    response_seconds = pw.DoubleField(default=0)     # Σ share × mean reply gap, where messages exist
    response_count = pw.DoubleField(default=0)       # Σ shares of conversations with message data
    handling_seconds = pw.DoubleField(default=0)     # Σ share × (end − first reply)
    resolved = pw.DoubleField(default=0)
    resolution_known = pw.DoubleField(default=0)     # Σ shares of conversations with a resolved flag
    reopened = pw.DoubleField(default=0)
    rated = pw.DoubleField(default=0)
    rated_positive = pw.DoubleField(default=0)
    online_seconds = pw.IntegerField(default=0)      # from login sessions matched to the person
    peak_concurrency = pw.IntegerField(default=0)    # most conversations open at once

    class Meta:
        indexes = ((("unit", "day"), False), (("employee", "day"), False), (("account", "day"), False),
                   (("run",), False))


class CsApiToken(BaseModel):
    """A token a pushing system uses for the JSON import endpoint, scoped to one
    company. Only its SHA-256 is kept; `prefix` lets people tell tokens apart."""

    company = pw.ForeignKeyField(OrgUnit, on_delete="CASCADE")
    name = pw.CharField(max_length=80)
    prefix = pw.CharField(max_length=12)
    token_hash = pw.CharField(max_length=64, unique=True)
    created_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = pw.DateTimeField(default=utcnow)
    last_used_at = pw.DateTimeField(null=True)
    revoked_at = pw.DateTimeField(null=True)


MODELS = (CsAccount, CsAccountBinding, CsSubAccount, CsSubAccountBinding, CsWorkstation, CsImport, CsConversation,
          CsMessage, CsLoginSession, CsAttributionRun, CsAttribution, CsOverride, CsAppeal, CsDailyMetric,
          CsApiToken)
