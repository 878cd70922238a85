import peewee as pw

from portal.accounts.models import User
from portal.core.db import BaseModel, utcnow
from portal.org.models import OrgUnit
from portal.posts.models import Post, Skill

EMPLOYEE_STATUSES = ("probation", "active", "on_leave", "left")
CONTRACT_TYPES = ("permanent", "fixed_term", "part_time", "internship", "service")
DOCUMENT_CATEGORIES = ("contract", "identity", "certificate", "photo", "other")
TRAINING_RESULTS = ("passed", "failed", "attended", "in_progress")
IMPORT_KINDS = ("employees", "posts", "assignments")


class Employee(BaseModel):
    """One person employed by a company of the group.

    `unit` is the unit of the person's current primary post (their company
    until they hold one), kept by the assignment services; scope reaches a
    person through their employing company and through every current
    assignment (see people.permissions). `search_text` is the lower-cased
    number and names that the active search matches.

    National ID and bank account are AES-GCM ciphertexts (core/crypto.py);
    `national_id_index` is the per-company blind index of the national ID.
    """

    number = pw.CharField(max_length=32, unique=True)
    legal_name = pw.CharField(max_length=120)
    preferred_name = pw.CharField(max_length=120, default="")
    search_text = pw.CharField(max_length=400, default="")
    company = pw.ForeignKeyField(OrgUnit, backref="employees", on_delete="RESTRICT")
    unit = pw.ForeignKeyField(OrgUnit, backref="home_employees", on_delete="RESTRICT")
    user = pw.ForeignKeyField(User, backref="employee", null=True, unique=True, on_delete="SET NULL")
    email = pw.CharField(max_length=254, default="")
    phone = pw.CharField(max_length=40, default="")
    address = pw.TextField(default="")
    emergency_contact_name = pw.CharField(max_length=120, default="")
    emergency_contact_relation = pw.CharField(max_length=60, default="")
    emergency_contact_phone = pw.CharField(max_length=40, default="")
    hire_date = pw.DateField()
    status = pw.CharField(max_length=16, default="active")
    leaving_date = pw.DateField(null=True)
    leaving_reason = pw.TextField(default="")
    nationality = pw.CharField(max_length=2, default="")
    national_id = pw.TextField(null=True)
    national_id_index = pw.CharField(max_length=64, null=True, index=True)
    bank_account = pw.TextField(null=True)
    created_at = pw.DateTimeField(default=utcnow)
    updated_at = pw.DateTimeField(default=utcnow)
    version = pw.IntegerField(default=1)

    class Meta:
        indexes = (
            (("company", "status", "legal_name"), False),
            (("unit", "status", "legal_name"), False),
            # The list's orders, read in index order a page at a time (migration 0004). The
            # company and search text in the name index let the scope test and the active
            # search skip rows without reading them; the search also scans it, not the table.
            (("legal_name", "company", "search_text"), False),
            (("hire_date",), False),
            (("status", "legal_name", "company"), False),
        )

    @property
    def display_name(self):
        return self.preferred_name or self.legal_name


class EmployeeSkill(BaseModel):
    employee = pw.ForeignKeyField(Employee, backref="skills", on_delete="CASCADE")
    skill = pw.ForeignKeyField(Skill, on_delete="RESTRICT")
    level = pw.SmallIntegerField(default=1)

    class Meta:
        indexes = ((("employee", "skill"), True), (("skill", "level"), False))


class Assignment(BaseModel):
    """A person holds `post` in `unit` from `start_date` to `end_date` (open when
    None) with a capacity share in percent. One primary assignment at a time;
    the shares of concurrent assignments add up to at most 100."""

    employee = pw.ForeignKeyField(Employee, backref="assignments", on_delete="CASCADE")
    post = pw.ForeignKeyField(Post, backref="assignments", on_delete="RESTRICT")
    unit = pw.ForeignKeyField(OrgUnit, backref="assignments", on_delete="RESTRICT")
    is_primary = pw.BooleanField(default=False)
    share = pw.SmallIntegerField(default=100)
    start_date = pw.DateField()
    end_date = pw.DateField(null=True)
    created_at = pw.DateTimeField(default=utcnow)
    version = pw.IntegerField(default=1)

    class Meta:
        indexes = (
            (("unit", "end_date"), False),
            (("employee", "start_date"), False),
            (("post",), False),
        )


class Contract(BaseModel):
    """An employment contract. Base pay in minor units of `currency`."""

    employee = pw.ForeignKeyField(Employee, backref="contracts", on_delete="CASCADE")
    contract_type = pw.CharField(max_length=16)
    start_date = pw.DateField()
    end_date = pw.DateField(null=True, index=True)
    probation_end = pw.DateField(null=True)
    weekly_hours = pw.DecimalField(max_digits=5, decimal_places=2, default=40)
    base_pay_minor = pw.BigIntegerField(default=0)
    currency = pw.CharField(max_length=3)
    notes = pw.TextField(default="")
    expiry_reminded_at = pw.DateTimeField(null=True)
    created_at = pw.DateTimeField(default=utcnow)
    version = pw.IntegerField(default=1)


class Document(BaseModel):
    """A file kept for a person, stored outside the web root as `stored_name`
    under UPLOAD_DIR; `content_type` was detected from the file's bytes."""

    employee = pw.ForeignKeyField(Employee, backref="documents", on_delete="CASCADE")
    category = pw.CharField(max_length=16, default="other")
    title = pw.CharField(max_length=200)
    original_name = pw.CharField(max_length=200)
    stored_name = pw.CharField(max_length=64, unique=True)
    content_type = pw.CharField(max_length=100)
    size = pw.IntegerField()
    sha256 = pw.CharField(max_length=64)
    uploaded_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    uploaded_at = pw.DateTimeField(default=utcnow)
    archived_at = pw.DateTimeField(null=True)


class TrainingRecord(BaseModel):
    employee = pw.ForeignKeyField(Employee, backref="training_records", on_delete="CASCADE")
    course = pw.CharField(max_length=200)
    provider = pw.CharField(max_length=120, default="")
    completed_on = pw.DateField()
    hours = pw.DecimalField(max_digits=6, decimal_places=2, default=0)
    result = pw.CharField(max_length=16, default="attended")
    score = pw.CharField(max_length=20, default="")
    certificate = pw.ForeignKeyField(Document, null=True, on_delete="SET NULL")
    created_at = pw.DateTimeField(default=utcnow)


class ImportMapping(BaseModel):
    """The column mapping last used for a company and import kind, offered again next time."""

    company = pw.ForeignKeyField(OrgUnit, on_delete="CASCADE")
    kind = pw.CharField(max_length=16)
    mapping = pw.TextField()  # JSON: {field: column header}
    updated_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    updated_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("company", "kind"), True),)


class PeopleImport(BaseModel):
    """One uploaded import file on its way: uploaded → mapped → validated → imported (or failed)."""

    id = pw.CharField(max_length=32, primary_key=True)
    company = pw.ForeignKeyField(OrgUnit, on_delete="CASCADE")
    kind = pw.CharField(max_length=16)
    original_name = pw.CharField(max_length=200)
    stored_name = pw.CharField(max_length=64)
    sha256 = pw.CharField(max_length=64)
    state = pw.CharField(max_length=16, default="uploaded")
    mapping = pw.TextField(default="{}")
    row_count = pw.IntegerField(default=0)
    error_count = pw.IntegerField(default=0)
    summary = pw.TextField(default="{}")  # JSON: created / updated / unchanged counts
    job_id = pw.CharField(max_length=32, null=True)
    created_by = pw.ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = pw.DateTimeField(default=utcnow)
