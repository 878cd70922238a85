"""Time: company time rules, shift types, rotations and rosters, handover notes,
clock events and their imports, company calendar days, leave types, requests and
the leave ledger.

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

    class CalendarDay(Model):
        company = ForeignKeyField(OrgUnit, on_delete='CASCADE')
        day = DateField()
        kind = CharField(max_length=8)
        name = CharField(max_length=80)
        created_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'calendar_day'
            indexes = ((('company', 'day'), True),)
    db.create_tables([CalendarDay])

    class ClockImport(Model):
        id = CharField(primary_key=True, max_length=32)
        company = ForeignKeyField(OrgUnit, on_delete='CASCADE')
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
            table_name = 'clock_import'
    db.create_tables([ClockImport])

    class ClockEvent(Model):
        employee = ForeignKeyField(Employee, on_delete='CASCADE')
        at = DateTimeField()
        kind = CharField(max_length=3)
        source = CharField(max_length=16, default='portal')
        address = CharField(max_length=45, default='')
        device = CharField(max_length=64, default='')
        clock_import = ForeignKeyField(ClockImport, null=True, on_delete='SET NULL')
        request = ForeignKeyField(ApprovalRequest, null=True, on_delete='SET NULL')
        voided_by = ForeignKeyField(ApprovalRequest, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'clock_event'
            indexes = ((('employee', 'at', 'kind'), True),)
    db.create_tables([ClockEvent])

    class ShiftType(Model):
        company = ForeignKeyField(OrgUnit, on_delete='CASCADE')
        code = CharField(max_length=16)
        name = CharField(max_length=80)
        start_minute = SmallIntegerField()
        end_minute = SmallIntegerField()
        break_minutes = SmallIntegerField(default=0)
        grace_minutes = SmallIntegerField(default=5)
        color = CharField(max_length=7, default='#4c7bd9')
        cs_accounts = TextField(default='[]')
        archived_at = DateTimeField(null=True)
        created_at = DateTimeField()
        version = IntegerField(default=1)
        class Meta:
            database = db
            table_name = 'shift_type'
            indexes = ((('company', 'code'), True),)
    db.create_tables([ShiftType])

    class HandoverNote(Model):
        unit = ForeignKeyField(OrgUnit, on_delete='CASCADE')
        day = DateField()
        shift_type = ForeignKeyField(ShiftType, null=True, on_delete='SET NULL')
        author = ForeignKeyField(User, null=True, on_delete='SET NULL')
        body = TextField()
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'handover_note'
            indexes = ((('unit', 'created_at'), False),)
    db.create_tables([HandoverNote])

    class LeaveType(Model):
        company = ForeignKeyField(OrgUnit, on_delete='CASCADE')
        code = CharField(max_length=16)
        name = CharField(max_length=80)
        paid = BooleanField(default=True)
        unit = CharField(max_length=4, default='day')
        accrual = CharField(max_length=8, default='none')
        accrual_amount = IntegerField(default=0)
        carry_over_cap = IntegerField(null=True)
        needs_balance = BooleanField(default=True)
        color = CharField(max_length=7, default='#2e9d6a')
        archived_at = DateTimeField(null=True)
        created_at = DateTimeField()
        version = IntegerField(default=1)
        class Meta:
            database = db
            table_name = 'leave_type'
            indexes = ((('company', 'code'), True),)
    db.create_tables([LeaveType])

    class LeaveRequest(Model):
        employee = ForeignKeyField(Employee, on_delete='CASCADE')
        leave_type = ForeignKeyField(LeaveType, on_delete='RESTRICT')
        start_date = DateField()
        end_date = DateField()
        start_minute = SmallIntegerField(null=True)
        end_minute = SmallIntegerField(null=True)
        amount = IntegerField()
        reason = TextField(default='')
        state = CharField(max_length=16, default='pending')
        approval = ForeignKeyField(ApprovalRequest, null=True, on_delete='SET NULL')
        created_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        version = IntegerField(default=1)
        class Meta:
            database = db
            table_name = 'leave_request'
            indexes = ((('employee', 'start_date'), False), (('state', 'start_date'), False))
    db.create_tables([LeaveRequest])

    class LeaveLedger(Model):
        employee = ForeignKeyField(Employee, on_delete='CASCADE')
        leave_type = ForeignKeyField(LeaveType, on_delete='CASCADE')
        day = DateField()
        amount = IntegerField()
        kind = CharField(max_length=12)
        period = CharField(max_length=7, default='')
        request = ForeignKeyField(LeaveRequest, null=True, on_delete='SET NULL')
        note = CharField(max_length=200, default='')
        created_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'leave_ledger'
            indexes = ((('employee', 'leave_type', 'kind', 'period'), False),)
    db.create_tables([LeaveLedger])

    class Rotation(Model):
        company = ForeignKeyField(OrgUnit, on_delete='CASCADE')
        unit = ForeignKeyField(OrgUnit, on_delete='CASCADE')
        name = CharField(max_length=80)
        pattern = TextField(default='[]')
        anchor_date = DateField()
        follows_calendar = BooleanField(default=False)
        created_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        archived_at = DateTimeField(null=True)
        version = IntegerField(default=1)
        class Meta:
            database = db
            table_name = 'rotation'
    db.create_tables([Rotation])

    class RosterEntry(Model):
        employee = ForeignKeyField(Employee, on_delete='CASCADE')
        unit = ForeignKeyField(OrgUnit, on_delete='CASCADE')
        company = ForeignKeyField(OrgUnit, on_delete='CASCADE')
        day = DateField()
        shift_type = ForeignKeyField(ShiftType, on_delete='RESTRICT')
        starts_at = DateTimeField()
        ends_at = DateTimeField()
        break_minutes = SmallIntegerField(default=0)
        source = CharField(max_length=16, default='manual')
        rotation = ForeignKeyField(Rotation, null=True, on_delete='SET NULL')
        created_by = ForeignKeyField(User, null=True, on_delete='SET NULL')
        created_at = DateTimeField()
        version = IntegerField(default=1)
        class Meta:
            database = db
            table_name = 'roster_entry'
            indexes = ((('unit', 'day'), False), (('employee', 'starts_at'), False), (('employee', 'day', 'shift_type'), True))
    db.create_tables([RosterEntry])

    class RotationMember(Model):
        rotation = ForeignKeyField(Rotation, on_delete='CASCADE')
        employee = ForeignKeyField(Employee, on_delete='CASCADE')
        offset = SmallIntegerField(default=0)
        label = CharField(max_length=16, default='')
        class Meta:
            database = db
            table_name = 'rotation_member'
            indexes = ((('rotation', 'employee'), True),)
    db.create_tables([RotationMember])

    class TimePolicy(Model):
        company = ForeignKeyField(OrgUnit, unique=True, on_delete='CASCADE')
        min_rest_minutes = IntegerField(default=660)
        rounding_minutes = IntegerField(default=1)
        overtime_after_minutes = IntegerField(default=30)
        clock_window_minutes = IntegerField(default=120)
        allowed_networks = TextField(default='')
        weekend_days = CharField(max_length=20, default='6,7')
        workday_minutes = IntegerField(default=480)
        updated_at = DateTimeField()
        version = IntegerField(default=1)
        class Meta:
            database = db
            table_name = 'time_policy'
    db.create_tables([TimePolicy])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('time_policy'))
    migrator.migrate(migrator.drop_table('rotation_member'))
    migrator.migrate(migrator.drop_table('roster_entry'))
    migrator.migrate(migrator.drop_table('rotation'))
    migrator.migrate(migrator.drop_table('leave_ledger'))
    migrator.migrate(migrator.drop_table('leave_request'))
    migrator.migrate(migrator.drop_table('leave_type'))
    migrator.migrate(migrator.drop_table('handover_note'))
    migrator.migrate(migrator.drop_table('shift_type'))
    migrator.migrate(migrator.drop_table('clock_event'))
    migrator.migrate(migrator.drop_table('clock_import'))
    migrator.migrate(migrator.drop_table('calendar_day'))

