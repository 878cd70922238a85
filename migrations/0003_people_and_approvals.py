"""People (employees, posts, skills, assignments, contracts, documents, training,
imports) and the approval engine (chains, requests, steps, delegations,
notifications).

Models are frozen copies, independent of the application's; timestamp
defaults are supplied by the application models.
"""
from peewee import *


def up(migrator, db):
    class OrgUnit(Model):
        class Meta:
            database = db
            table_name = 'org_unit'

    class Role(Model):
        class Meta:
            database = db
            table_name = 'role'

    class User(Model):
        class Meta:
            database = db
            table_name = 'user'

    class ApprovalChain(Model):
        kind = CharField(max_length=48)
        unit = ForeignKeyField(OrgUnit, on_delete='CASCADE')
        steps = TextField()
        updated_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        updated_at = DateTimeField()
        version = IntegerField(default=1)
        class Meta:
            database = db
            table_name = 'approval_chain'
            indexes = ((('kind', 'unit'), True),)
    db.create_tables([ApprovalChain])

    class ApprovalRequest(Model):
        kind = CharField(max_length=48)
        unit = ForeignKeyField(OrgUnit, on_delete='RESTRICT')
        requester = ForeignKeyField(User, null=True, on_delete='SET NULL')
        subject_type = CharField(max_length=32, default='')
        subject_id = IntegerField(null=True)
        title = CharField(max_length=200)
        payload = TextField(default='{}')
        reason = TextField(default='')
        state = CharField(max_length=16, default='pending')
        step_position = SmallIntegerField(default=0)
        effective_date = DateField(null=True)
        created_at = DateTimeField()
        decided_at = DateTimeField(null=True)
        applied_at = DateTimeField(null=True)
        version = IntegerField(default=1)
        class Meta:
            database = db
            table_name = 'approval_request'
            indexes = ((('state', 'unit'), False), (('requester', 'created_at'), False), (('subject_type', 'subject_id'), False))
    db.create_tables([ApprovalRequest])

    class ApprovalStep(Model):
        request = ForeignKeyField(ApprovalRequest, on_delete='CASCADE')
        position = SmallIntegerField()
        role = ForeignKeyField(Role, on_delete='RESTRICT')
        state = CharField(max_length=16, default='waiting')
        decided_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        on_behalf_of = ForeignKeyField(User, null=True, on_delete='SET NULL')
        decided_at = DateTimeField(null=True)
        comment = TextField(default='')
        class Meta:
            database = db
            table_name = 'approval_step'
            indexes = ((('request', 'position'), True), (('state', 'role'), False))
    db.create_tables([ApprovalStep])

    class Employee(Model):
        number = CharField(unique=True, max_length=32)
        legal_name = CharField(max_length=120)
        preferred_name = CharField(max_length=120, default='')
        search_text = CharField(max_length=400, default='')
        company = ForeignKeyField(OrgUnit, on_delete='RESTRICT')
        unit = ForeignKeyField(OrgUnit, on_delete='RESTRICT')
        user = ForeignKeyField(User, unique=True, null=True, on_delete='SET NULL')
        email = CharField(max_length=254, default='')
        phone = CharField(max_length=40, default='')
        address = TextField(default='')
        emergency_contact_name = CharField(max_length=120, default='')
        emergency_contact_relation = CharField(max_length=60, default='')
        emergency_contact_phone = CharField(max_length=40, default='')
        hire_date = DateField()
        status = CharField(max_length=16, default='active')
        leaving_date = DateField(null=True)
        leaving_reason = TextField(default='')
        nationality = CharField(max_length=2, default='')
        national_id = TextField(null=True)
        national_id_index = CharField(index=True, null=True, max_length=64)
        bank_account = TextField(null=True)
        created_at = DateTimeField()
        updated_at = DateTimeField()
        version = IntegerField(default=1)
        class Meta:
            database = db
            table_name = 'employee'
            indexes = ((('company', 'status', 'legal_name'), False), (('unit', 'status', 'legal_name'), False), (('legal_name',), False))
    db.create_tables([Employee])

    class Post(Model):
        company = ForeignKeyField(OrgUnit, on_delete='RESTRICT')
        code = CharField(max_length=32)
        title = CharField(max_length=120)
        duties = TextField(default='')
        growth_path = TextField(default='')
        headcount_plan = IntegerField(default=0)
        capacity = IntegerField(default=100)
        archived_at = DateTimeField(null=True)
        created_at = DateTimeField()
        version = IntegerField(default=1)
        class Meta:
            database = db
            table_name = 'post'
            indexes = ((('company', 'code'), True),)
    db.create_tables([Post])

    class Assignment(Model):
        employee = ForeignKeyField(Employee, on_delete='CASCADE')
        post = ForeignKeyField(Post, on_delete='RESTRICT')
        unit = ForeignKeyField(OrgUnit, on_delete='RESTRICT')
        is_primary = BooleanField(default=False)
        share = SmallIntegerField(default=100)
        start_date = DateField()
        end_date = DateField(null=True)
        created_at = DateTimeField()
        version = IntegerField(default=1)
        class Meta:
            database = db
            table_name = 'assignment'
            indexes = ((('unit', 'end_date'), False), (('employee', 'start_date'), False), (('post',), False))
    db.create_tables([Assignment])

    class Contract(Model):
        employee = ForeignKeyField(Employee, on_delete='CASCADE')
        contract_type = CharField(max_length=16)
        start_date = DateField()
        end_date = DateField(index=True, null=True)
        probation_end = DateField(null=True)
        weekly_hours = DecimalField(max_digits=5, decimal_places=2, default=40)
        base_pay_minor = BigIntegerField(default=0)
        currency = CharField(max_length=3)
        notes = TextField(default='')
        expiry_reminded_at = DateTimeField(null=True)
        created_at = DateTimeField()
        version = IntegerField(default=1)
        class Meta:
            database = db
            table_name = 'contract'
    db.create_tables([Contract])

    class Delegation(Model):
        delegator = ForeignKeyField(User, on_delete='CASCADE')
        delegate = ForeignKeyField(User, on_delete='CASCADE')
        start_date = DateField()
        end_date = DateField()
        created_at = DateTimeField()
        revoked_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'delegation'
            indexes = ((('delegate', 'end_date'), False),)
    db.create_tables([Delegation])

    class Document(Model):
        employee = ForeignKeyField(Employee, on_delete='CASCADE')
        category = CharField(max_length=16, default='other')
        title = CharField(max_length=200)
        original_name = CharField(max_length=200)
        stored_name = CharField(unique=True, max_length=64)
        content_type = CharField(max_length=100)
        size = IntegerField()
        sha256 = CharField(max_length=64)
        uploaded_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        uploaded_at = DateTimeField()
        archived_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'document'
    db.create_tables([Document])

    class Skill(Model):
        name = CharField(unique=True, max_length=80)
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'skill'
    db.create_tables([Skill])

    class EmployeeSkill(Model):
        employee = ForeignKeyField(Employee, on_delete='CASCADE')
        skill = ForeignKeyField(Skill, on_delete='RESTRICT')
        level = SmallIntegerField(default=1)
        class Meta:
            database = db
            table_name = 'employee_skill'
            indexes = ((('employee', 'skill'), True), (('skill', 'level'), False))
    db.create_tables([EmployeeSkill])

    class ImportMapping(Model):
        company = ForeignKeyField(OrgUnit, on_delete='CASCADE')
        kind = CharField(max_length=16)
        mapping = TextField()
        updated_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        updated_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'import_mapping'
            indexes = ((('company', 'kind'), True),)
    db.create_tables([ImportMapping])

    class Notification(Model):
        user = ForeignKeyField(User, on_delete='CASCADE')
        message = CharField(max_length=64)
        params = TextField(default='{}')
        link = CharField(max_length=300, default='')
        created_at = DateTimeField()
        read_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'notification'
            indexes = ((('user', 'read_at', 'created_at'), False),)
    db.create_tables([Notification])

    class PeopleImport(Model):
        id = CharField(primary_key=True, max_length=32)
        company = ForeignKeyField(OrgUnit, on_delete='CASCADE')
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
            table_name = 'people_import'
    db.create_tables([PeopleImport])

    class PostSkill(Model):
        post = ForeignKeyField(Post, on_delete='CASCADE')
        skill = ForeignKeyField(Skill, on_delete='RESTRICT')
        level = SmallIntegerField(default=1)
        class Meta:
            database = db
            table_name = 'post_skill'
            indexes = ((('post', 'skill'), True),)
    db.create_tables([PostSkill])

    class TrainingRecord(Model):
        employee = ForeignKeyField(Employee, on_delete='CASCADE')
        course = CharField(max_length=200)
        provider = CharField(max_length=120, default='')
        completed_on = DateField()
        hours = DecimalField(max_digits=6, decimal_places=2, default=0)
        result = CharField(max_length=16, default='attended')
        score = CharField(max_length=20, default='')
        certificate = ForeignKeyField(Document, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'training_record'
    db.create_tables([TrainingRecord])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('training_record'))
    migrator.migrate(migrator.drop_table('post_skill'))
    migrator.migrate(migrator.drop_table('people_import'))
    migrator.migrate(migrator.drop_table('notification'))
    migrator.migrate(migrator.drop_table('import_mapping'))
    migrator.migrate(migrator.drop_table('employee_skill'))
    migrator.migrate(migrator.drop_table('skill'))
    migrator.migrate(migrator.drop_table('document'))
    migrator.migrate(migrator.drop_table('delegation'))
    migrator.migrate(migrator.drop_table('contract'))
    migrator.migrate(migrator.drop_table('assignment'))
    migrator.migrate(migrator.drop_table('post'))
    migrator.migrate(migrator.drop_table('employee'))
    migrator.migrate(migrator.drop_table('approval_step'))
    migrator.migrate(migrator.drop_table('approval_request'))
    migrator.migrate(migrator.drop_table('approval_chain'))
