"""The foundation: org tree, accounts, roles and grants, audit trail, jobs.

Models are frozen copies, independent of the application's (see playhouse.migrations).
Timestamp defaults are supplied by the application models.
"""
from peewee import *


def up(migrator, db):
    class AuditChainHead(Model):
        id = IntegerField(primary_key=True)
        last_event_id = IntegerField(null=True)
        last_hash = CharField(max_length=64)
        class Meta:
            database = db
            table_name = 'audit_chain_head'
    db.create_tables([AuditChainHead])

    class AuditEvent(Model):
        occurred_at = DateTimeField(index=True)
        actor_id = IntegerField(null=True)
        actor_name = CharField(null=True, max_length=120)
        action = CharField(index=True, max_length=64)
        object_type = CharField(max_length=64)
        object_id = CharField(null=True, max_length=64)
        object_label = CharField(null=True, max_length=200)
        unit_id = IntegerField(index=True, null=True)
        before = TextField(null=True)
        after = TextField(null=True)
        ip_address = CharField(null=True, max_length=64)
        prev_hash = CharField(max_length=64)
        hash = CharField(unique=True, max_length=64)
        class Meta:
            database = db
            table_name = 'audit_event'
            indexes = ((('object_type', 'object_id'), False),)
    db.create_tables([AuditEvent])

    class OrgUnit(Model):
        parent = ForeignKeyField('self', null=True, on_delete='RESTRICT')
        company = ForeignKeyField('self', null=True, on_delete='RESTRICT')
        kind = CharField(max_length=16)
        code = CharField(unique=True, max_length=32)
        name = CharField(max_length=120)
        path = CharField(index=True, max_length=500)
        depth = IntegerField(default=0)
        platform = CharField(null=True, max_length=16)
        country = CharField(null=True, max_length=2)
        currency = CharField(null=True, max_length=3)
        timezone = CharField(null=True, max_length=64)
        default_locale = CharField(null=True, max_length=16)
        archived_at = DateTimeField(null=True)
        created_at = DateTimeField()
        version = IntegerField(default=1)
        class Meta:
            database = db
            table_name = 'org_unit'
            indexes = ((('parent', 'name'), False),)
    db.create_tables([OrgUnit])

    class User(Model):
        username = CharField(unique=True, max_length=64)
        display_name = CharField(max_length=120)
        email = CharField(null=True, max_length=254)
        password_hash = CharField()
        unit = ForeignKeyField(OrgUnit, on_delete='RESTRICT')
        locale = CharField(null=True, max_length=16)
        timezone = CharField(null=True, max_length=64)
        is_active = BooleanField(default=True)
        password_changed_at = DateTimeField()
        last_login_at = DateTimeField(null=True)
        created_at = DateTimeField()
        version = IntegerField(default=1)
        class Meta:
            database = db
            table_name = 'user'
    db.create_tables([User])

    class Role(Model):
        name = CharField(max_length=80)
        description = TextField(default='')
        builtin_key = CharField(unique=True, null=True, max_length=32)
        unit = ForeignKeyField(OrgUnit, on_delete='RESTRICT')
        created_at = DateTimeField()
        version = IntegerField(default=1)
        class Meta:
            database = db
            table_name = 'role'
            indexes = ((('unit', 'name'), True),)
    db.create_tables([Role])

    class Grant(Model):
        user = ForeignKeyField(User, on_delete='CASCADE')
        role = ForeignKeyField(Role, on_delete='RESTRICT')
        unit = ForeignKeyField(OrgUnit, on_delete='RESTRICT')
        include_descendants = BooleanField(default=True)
        granted_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'grant'
            indexes = ((('user', 'role', 'unit'), True),)
    db.create_tables([Grant])

    class Job(Model):
        id = CharField(primary_key=True, max_length=32)
        kind = CharField(max_length=64)
        state = CharField(max_length=16, default='queued')
        done = IntegerField(default=0)
        total = IntegerField(default=0)
        message = TextField(default='')
        result = TextField(null=True)
        created_by = IntegerField(null=True)
        unit_id = IntegerField(null=True)
        created_at = DateTimeField()
        started_at = DateTimeField(null=True)
        finished_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'job'
    db.create_tables([Job])

    class LoginAttempt(Model):
        username = CharField(index=True, max_length=64)
        ip_address = CharField(index=True, max_length=64)
        succeeded = BooleanField()
        attempted_at = DateTimeField(index=True)
        class Meta:
            database = db
            table_name = 'login_attempt'
    db.create_tables([LoginAttempt])

    class RolePermission(Model):
        role = ForeignKeyField(Role, on_delete='CASCADE')
        permission = CharField(max_length=64)
        class Meta:
            database = db
            table_name = 'role_permission'
            indexes = ((('role', 'permission'), True),)
    db.create_tables([RolePermission])

    class UserSession(Model):
        user = ForeignKeyField(User, on_delete='CASCADE')
        token_hash = CharField(unique=True, max_length=64)
        created_at = DateTimeField()
        last_seen_at = DateTimeField()
        ip_address = CharField(null=True, max_length=64)
        user_agent = CharField(null=True)
        ended_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'user_session'
    db.create_tables([UserSession])

    # The audit chain starts from a fixed genesis hash.
    AuditChainHead.create(id=1, last_event_id=None, last_hash='0' * 64)


def down(migrator, db):
    migrator.migrate(migrator.drop_table('user_session'))
    migrator.migrate(migrator.drop_table('role_permission'))
    migrator.migrate(migrator.drop_table('login_attempt'))
    migrator.migrate(migrator.drop_table('job'))
    migrator.migrate(migrator.drop_table('grant'))
    migrator.migrate(migrator.drop_table('role'))
    migrator.migrate(migrator.drop_table('user'))
    migrator.migrate(migrator.drop_table('org_unit'))
    migrator.migrate(migrator.drop_table('audit_event'))
    migrator.migrate(migrator.drop_table('audit_chain_head'))
