import peewee as pw

from portal.core.db import BaseModel, utcnow


class AuditEvent(BaseModel):
    """One write, as it happened. Rows are hash-chained: `hash` covers this
    row's content and `prev_hash`, so altering or deleting any row breaks
    every link after it (`flask audit verify`).

    Actor and unit are kept as plain ids and names, not foreign keys, so the
    trail outlives what it describes.
    """

    occurred_at = pw.DateTimeField(default=utcnow, index=True)
    actor_id = pw.IntegerField(null=True)
    actor_name = pw.CharField(max_length=120, null=True)
    action = pw.CharField(max_length=64, index=True)
    object_type = pw.CharField(max_length=64)
    object_id = pw.CharField(max_length=64, null=True)
    object_label = pw.CharField(max_length=200, null=True)
    unit_id = pw.IntegerField(null=True, index=True)
    before = pw.TextField(null=True)
    after = pw.TextField(null=True)
    ip_address = pw.CharField(max_length=64, null=True)
    prev_hash = pw.CharField(max_length=64)
    hash = pw.CharField(max_length=64, unique=True)

    class Meta:
        indexes = ((("object_type", "object_id"), False),)


class AuditChainHead(BaseModel):
    """A single row naming the newest event. Writers lock it (FOR UPDATE on
    PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises them), so the
    chain stays a line even with several workers."""

    id = pw.IntegerField(primary_key=True)
    last_event_id = pw.IntegerField(null=True)
    last_hash = pw.CharField(max_length=64)
