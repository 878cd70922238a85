"""Customer service: CS accounts of stores, their bindings, sub-accounts and
workstations, marketplace imports, conversations, messages and login sessions,
attribution runs and credits, overrides and appeals, daily metrics, API tokens.

Models are frozen copies, independent of the application's; timestamp
defaults are supplied by the application models.
"""
from peewee import *


def up(migrator, db):
    class ApprovalRequest(Model):
        class Meta:
            database = db
            table_name = 'approval_request'

    class Employee(Model):
        class Meta:
            database = db
            table_name = 'employee'

    class OrgUnit(Model):
        class Meta:
            database = db
            table_name = 'org_unit'

    class User(Model):
        class Meta:
            database = db
            table_name = 'user'

    class CsAccount(Model):
        company = ForeignKeyField(OrgUnit, on_delete='CASCADE')
        store = ForeignKeyField(OrgUnit, on_delete='CASCADE')
        code = CharField(max_length=64)
        name = CharField(max_length=120)
        kind = CharField(max_length=16, default='shared')
        split_rule = CharField(max_length=16, default='equal')
        service_start_minute = SmallIntegerField(default=0)
        service_end_minute = SmallIntegerField(default=1440)
        archived_at = DateTimeField(null=True)
        created_at = DateTimeField()
        version = IntegerField(default=1)
        class Meta:
            database = db
            table_name = 'cs_account'
            indexes = ((('company', 'code'), True),)
    db.create_tables([CsAccount])

    class CsAccountBinding(Model):
        account = ForeignKeyField(CsAccount, on_delete='CASCADE')
        employee = ForeignKeyField(Employee, on_delete='CASCADE')
        valid_from = DateField()
        valid_to = DateField(null=True)
        created_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'cs_account_binding'
            indexes = ((('account', 'valid_from'), False),)
    db.create_tables([CsAccountBinding])

    class CsApiToken(Model):
        company = ForeignKeyField(OrgUnit, on_delete='CASCADE')
        name = CharField(max_length=80)
        prefix = CharField(max_length=12)
        token_hash = CharField(unique=True, max_length=64)
        created_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        last_used_at = DateTimeField(null=True)
        revoked_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'cs_api_token'
    db.create_tables([CsApiToken])

    class CsSubAccount(Model):
        account = ForeignKeyField(CsAccount, on_delete='CASCADE')
        name = CharField(max_length=120)
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'cs_sub_account'
            indexes = ((('account', 'name'), True),)
    db.create_tables([CsSubAccount])

    class CsImport(Model):
        id = CharField(primary_key=True, max_length=32)
        company = ForeignKeyField(OrgUnit, on_delete='CASCADE')
        connector = CharField(max_length=32)
        kind = CharField(max_length=16)
        original_name = CharField(max_length=200)
        stored_name = CharField(max_length=64)
        sha256 = CharField(max_length=64)
        state = CharField(max_length=16, default='uploaded')
        mapping = TextField(default='{}')
        row_count = IntegerField(default=0)
        error_count = IntegerField(default=0)
        summary = TextField(default='{}')
        job_id = CharField(null=True, max_length=32)
        created_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'cs_import'
    db.create_tables([CsImport])

    class CsConversation(Model):
        company = ForeignKeyField(OrgUnit, on_delete='CASCADE')
        account = ForeignKeyField(CsAccount, on_delete='CASCADE')
        sub_account = ForeignKeyField(CsSubAccount, null=True, on_delete='SET NULL')
        session_id = CharField(max_length=64)
        customer_ref = CharField(max_length=64, default='')
        started_at = DateTimeField()
        first_reply_at = DateTimeField(null=True)
        ended_at = DateTimeField()
        customer_messages = IntegerField(default=0)
        agent_messages = IntegerField(default=0)
        resolved = BooleanField(null=True)
        reopened = BooleanField(default=False)
        rating = SmallIntegerField(null=True)
        cs_import = ForeignKeyField(CsImport, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'cs_conversation'
            indexes = ((('account', 'session_id'), True), (('account', 'started_at'), False), (('company', 'started_at'), False))
    db.create_tables([CsConversation])

    class CsAppeal(Model):
        conversation = ForeignKeyField(CsConversation, on_delete='CASCADE')
        employee = ForeignKeyField(Employee, on_delete='CASCADE')
        claim = CharField(max_length=8, default='mine')
        reason = TextField()
        state = CharField(max_length=16, default='pending')
        approval = ForeignKeyField(ApprovalRequest, null=True, on_delete='SET NULL')
        created_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        version = IntegerField(default=1)
        class Meta:
            database = db
            table_name = 'cs_appeal'
            indexes = ((('conversation',), False), (('employee', 'created_at'), False))
    db.create_tables([CsAppeal])

    class CsAttributionRun(Model):
        company = ForeignKeyField(OrgUnit, on_delete='CASCADE')
        period_start = DateField()
        period_end = DateField()
        conversations = IntegerField(default=0)
        attributed = IntegerField(default=0)
        unattributed = IntegerField(default=0)
        stale = BooleanField(default=False)
        computed_at = DateTimeField()
        computed_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        class Meta:
            database = db
            table_name = 'cs_attribution_run'
            indexes = ((('company', 'period_start'), True),)
    db.create_tables([CsAttributionRun])

    class CsAttribution(Model):
        run = ForeignKeyField(CsAttributionRun, on_delete='CASCADE')
        conversation = ForeignKeyField(CsConversation, on_delete='CASCADE')
        employee = ForeignKeyField(Employee, on_delete='CASCADE')
        share = DoubleField()
        level = SmallIntegerField()
        confidence = DoubleField()
        evidence = TextField(default='{}')
        class Meta:
            database = db
            table_name = 'cs_attribution'
            indexes = ((('conversation', 'employee'), True), (('employee', 'conversation'), False), (('run',), False))
    db.create_tables([CsAttribution])

    class CsDailyMetric(Model):
        run = ForeignKeyField(CsAttributionRun, on_delete='CASCADE')
        company = ForeignKeyField(OrgUnit, on_delete='CASCADE')
        unit = ForeignKeyField(OrgUnit, on_delete='CASCADE')
        employee = ForeignKeyField(Employee, on_delete='CASCADE')
        account = ForeignKeyField(CsAccount, on_delete='CASCADE')
        day = DateField()
        conversations = IntegerField(default=0)
        workload = DoubleField(default=0)
        answered = DoubleField(default=0)
        unanswered = DoubleField(default=0)
        first_response_seconds = DoubleField(default=0)
        response_seconds = DoubleField(default=0)
        response_count = DoubleField(default=0)
        handling_seconds = DoubleField(default=0)
        resolved = DoubleField(default=0)
        resolution_known = DoubleField(default=0)
        reopened = DoubleField(default=0)
        rated = DoubleField(default=0)
        rated_positive = DoubleField(default=0)
        online_seconds = IntegerField(default=0)
        peak_concurrency = IntegerField(default=0)
        class Meta:
            database = db
            table_name = 'cs_daily_metric'
            indexes = ((('unit', 'day'), False), (('employee', 'day'), False), (('account', 'day'), False), (('run',), False))
    db.create_tables([CsDailyMetric])

    class CsLoginSession(Model):
        company = ForeignKeyField(OrgUnit, on_delete='CASCADE')
        account = ForeignKeyField(CsAccount, on_delete='CASCADE')
        sub_account = ForeignKeyField(CsSubAccount, null=True, on_delete='SET NULL')
        session_id = CharField(max_length=64)
        login_at = DateTimeField()
        logout_at = DateTimeField(null=True)
        address = CharField(max_length=45, default='')
        workstation = CharField(max_length=64, default='')
        cs_import = ForeignKeyField(CsImport, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'cs_login_session'
            indexes = ((('account', 'session_id'), True), (('account', 'login_at'), False))
    db.create_tables([CsLoginSession])

    class CsMessage(Model):
        conversation = ForeignKeyField(CsConversation, on_delete='CASCADE')
        at = DateTimeField()
        sender = CharField(max_length=8)
        sub_account = ForeignKeyField(CsSubAccount, null=True, on_delete='SET NULL')
        cs_import = ForeignKeyField(CsImport, null=True, on_delete='SET NULL')
        class Meta:
            database = db
            table_name = 'cs_message'
            indexes = ((('conversation', 'at', 'sender'), True),)
    db.create_tables([CsMessage])

    class CsOverride(Model):
        conversation = ForeignKeyField(CsConversation, on_delete='CASCADE')
        employee = ForeignKeyField(Employee, null=True, on_delete='CASCADE')
        reason = TextField()
        appeal = ForeignKeyField(ApprovalRequest, null=True, on_delete='SET NULL')
        created_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'cs_override'
            indexes = ((('conversation', 'created_at'), False),)
    db.create_tables([CsOverride])

    class CsSubAccountBinding(Model):
        sub_account = ForeignKeyField(CsSubAccount, on_delete='CASCADE')
        employee = ForeignKeyField(Employee, on_delete='CASCADE')
        valid_from = DateField()
        valid_to = DateField(null=True)
        created_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'cs_sub_account_binding'
            indexes = ((('sub_account', 'valid_from'), False),)
    db.create_tables([CsSubAccountBinding])

    class CsWorkstation(Model):
        company = ForeignKeyField(OrgUnit, on_delete='CASCADE')
        employee = ForeignKeyField(Employee, on_delete='CASCADE')
        kind = CharField(max_length=16, default='ip')
        value = CharField(max_length=64)
        label = CharField(max_length=80, default='')
        valid_from = DateField()
        valid_to = DateField(null=True)
        created_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'cs_workstation'
            indexes = ((('company', 'kind', 'value'), False), (('employee',), False))
    db.create_tables([CsWorkstation])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('cs_workstation'))
    migrator.migrate(migrator.drop_table('cs_sub_account_binding'))
    migrator.migrate(migrator.drop_table('cs_override'))
    migrator.migrate(migrator.drop_table('cs_message'))
    migrator.migrate(migrator.drop_table('cs_login_session'))
    migrator.migrate(migrator.drop_table('cs_daily_metric'))
    migrator.migrate(migrator.drop_table('cs_attribution'))
    migrator.migrate(migrator.drop_table('cs_attribution_run'))
    migrator.migrate(migrator.drop_table('cs_appeal'))
    migrator.migrate(migrator.drop_table('cs_conversation'))
    migrator.migrate(migrator.drop_table('cs_import'))
    migrator.migrate(migrator.drop_table('cs_sub_account'))
    migrator.migrate(migrator.drop_table('cs_api_token'))
    migrator.migrate(migrator.drop_table('cs_account_binding'))
    migrator.migrate(migrator.drop_table('cs_account'))
