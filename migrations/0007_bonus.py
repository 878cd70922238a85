"""Bonus pools: allocation rules and their versions, support points, pools of a
team and period, their members, adjustments and computed lines.

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

    class BonusRule(Model):
        company = ForeignKeyField(OrgUnit, on_delete='CASCADE')
        name = CharField(max_length=120)
        description = TextField(default='')
        archived_at = DateTimeField(null=True)
        created_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        version = IntegerField(default=1)
        class Meta:
            database = db
            table_name = 'bonus_rule'
            indexes = ((('company', 'name'), True),)
    db.create_tables([BonusRule])

    class BonusRuleVersion(Model):
        rule = ForeignKeyField(BonusRule, on_delete='CASCADE')
        number = IntegerField()
        definition = TextField()
        note = TextField(default='')
        published_at = DateTimeField(null=True)
        published_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'bonus_rule_version'
            indexes = ((('rule', 'number'), True),)
    db.create_tables([BonusRuleVersion])

    class BonusSupportPoint(Model):
        employee = ForeignKeyField(Employee, on_delete='CASCADE')
        unit = ForeignKeyField(OrgUnit, on_delete='CASCADE')
        period_start = DateField()
        points = IntegerField()
        reason = TextField()
        entered_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'bonus_support_point'
            indexes = ((('unit', 'period_start'), False), (('employee', 'period_start'), False))
    db.create_tables([BonusSupportPoint])

    class BonusPool(Model):
        company = ForeignKeyField(OrgUnit, on_delete='CASCADE')
        unit = ForeignKeyField(OrgUnit, on_delete='CASCADE')
        period_start = DateField()
        period_end = DateField()
        amount_minor = BigIntegerField()
        currency = CharField(max_length=3)
        rule_version = ForeignKeyField(BonusRuleVersion, on_delete='RESTRICT')
        state = CharField(max_length=16, default='draft')
        number = IntegerField(default=1)
        corrects = ForeignKeyField('self', null=True, on_delete='RESTRICT')
        correction_reason = TextField(default='')
        approval = ForeignKeyField(ApprovalRequest, null=True, on_delete='SET NULL')
        target_met = BooleanField(null=True)
        multiplier_bp = IntegerField(default=10000)
        effective_minor = BigIntegerField(null=True)
        leftover_minor = BigIntegerField(default=0)
        computed_at = DateTimeField(null=True)
        computed_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        submitted_at = DateTimeField(null=True)
        approved_at = DateTimeField(null=True)
        locked_at = DateTimeField(null=True)
        locked_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        version = IntegerField(default=1)
        class Meta:
            database = db
            table_name = 'bonus_pool'
            indexes = ((('unit', 'period_start', 'number'), True), (('company', 'period_start'), False))
    db.create_tables([BonusPool])

    class BonusPoolMember(Model):
        pool = ForeignKeyField(BonusPool, on_delete='CASCADE')
        employee = ForeignKeyField(Employee, on_delete='CASCADE')
        participation = DoubleField(default=1.0)
        assignments = TextField(default='[]')
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'bonus_pool_member'
            indexes = ((('pool', 'employee'), True), (('employee',), False))
    db.create_tables([BonusPoolMember])

    class BonusAdjustment(Model):
        pool = ForeignKeyField(BonusPool, on_delete='CASCADE')
        member = ForeignKeyField(BonusPoolMember, on_delete='CASCADE')
        amount_minor = BigIntegerField()
        reason = TextField()
        created_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'bonus_adjustment'
            indexes = ((('pool',), False), (('member',), False))
    db.create_tables([BonusAdjustment])

    class BonusLine(Model):
        pool = ForeignKeyField(BonusPool, on_delete='CASCADE')
        member = ForeignKeyField(BonusPoolMember, on_delete='CASCADE')
        employee = ForeignKeyField(Employee, on_delete='CASCADE')
        raw = TextField(default='{}')
        normalised = TextField(default='{}')
        contributions = TextField(default='{}')
        score = DoubleField(default=0)
        weight = DoubleField(default=0)
        eligibility_scale = DoubleField(default=1.0)
        participation = DoubleField(default=1.0)
        ineligible_reason = CharField(max_length=32, default='')
        days_worked = IntegerField(default=0)
        floor_minor = BigIntegerField(default=0)
        cap_minor = BigIntegerField(null=True)
        at_floor = BooleanField(default=False)
        at_cap = BooleanField(default=False)
        rule_amount_minor = BigIntegerField(default=0)
        adjustment_minor = BigIntegerField(default=0)
        amount_minor = BigIntegerField(default=0)
        currency = CharField(max_length=3)
        rank = IntegerField(default=0)
        pay_amount_minor = BigIntegerField(default=0)
        pay_currency = CharField(max_length=3)
        rate = CharField(max_length=40, default='1')
        rate_date = DateField(null=True)
        rate_source = CharField(max_length=120, default='')
        class Meta:
            database = db
            table_name = 'bonus_line'
            indexes = ((('pool', 'member'), True), (('employee',), False))
    db.create_tables([BonusLine])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('bonus_line'))
    migrator.migrate(migrator.drop_table('bonus_adjustment'))
    migrator.migrate(migrator.drop_table('bonus_pool_member'))
    migrator.migrate(migrator.drop_table('bonus_pool'))
    migrator.migrate(migrator.drop_table('bonus_support_point'))
    migrator.migrate(migrator.drop_table('bonus_rule_version'))
    migrator.migrate(migrator.drop_table('bonus_rule'))
