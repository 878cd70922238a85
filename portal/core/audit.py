"""The audit trail: record every write, hash-chained; verify the chain.

`record_event` must run inside the service's `database.atomic()`, so the
event and the change it describes commit or roll back together.
"""
import hashlib
import json

from flask import has_request_context, request
from flask_login import current_user

from portal.audit.models import AuditChainHead, AuditEvent
from portal.core.db import database, is_sqlite, utcnow

GENESIS_HASH = "0" * 64
# Action code → a lazy label; each domain declares its own actions next to its permissions.
ACTION_LABELS = {}
MASK = "***"
# Keys whose values never enter the trail in clear, at any depth.
SENSITIVE_KEYS = frozenset({
    "password", "password_hash", "new_password", "token", "token_hash", "secret",
    "national_id", "bank_account", "salary",
})


def declare_actions(labels):
    """Register how the audit trail names a domain's actions ({"org.unit_moved": _l("Unit moved")})."""
    ACTION_LABELS.update(labels)


def action_label(action):
    """The action in the reader's language; its code when none is declared."""
    return ACTION_LABELS.get(action, action)


def mask(values):
    if isinstance(values, dict):
        return {k: (MASK if k in SENSITIVE_KEYS and v not in (None, "") else mask(v)) for k, v in values.items()}
    if isinstance(values, list):
        return [mask(v) for v in values]
    return values


def _dump(values):
    return None if values is None else json.dumps(mask(values), sort_keys=True, ensure_ascii=False, default=str)


def event_hash(prev_hash, event):
    payload = json.dumps(
        [
            prev_hash,
            event.occurred_at.isoformat(timespec="microseconds"),
            event.actor_id, event.actor_name, event.action, event.object_type,
            event.object_id, event.object_label, event.unit_id, event.before, event.after, event.ip_address,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _request_actor():
    if has_request_context() and current_user.is_authenticated:
        return current_user._get_current_object()
    return None


def record_event(action, obj=None, *, object_type=None, object_id=None, label=None, unit=None,
                 before=None, after=None, actor=None):
    """Append one event. `obj` (a model row) supplies type, id and label
    unless they are given; `unit` is the org unit the event belongs to."""
    actor = actor or _request_actor()
    if obj is not None:
        object_type = object_type or obj._meta.table_name
        object_id = obj.get_id() if object_id is None else object_id
        label = label if label is not None else (getattr(obj, "name", None) or getattr(obj, "username", None))
    event = AuditEvent(
        occurred_at=utcnow(),
        actor_id=actor.id if actor else None,
        actor_name=actor.username if actor else None,
        action=action,
        object_type=object_type or "system",
        object_id=None if object_id is None else str(object_id),
        object_label=None if label is None else str(label)[:200],
        unit_id=getattr(unit, "id", unit),
        before=_dump(before),
        after=_dump(after),
        ip_address=request.remote_addr if has_request_context() else None,
    )
    with database.atomic():
        head_query = AuditChainHead.select().where(AuditChainHead.id == 1)
        if not is_sqlite():  # SQLite's BEGIN IMMEDIATE already holds the write lock
            head_query = head_query.for_update()
        head = head_query.get()
        event.prev_hash = head.last_hash
        event.hash = event_hash(head.last_hash, event)
        event.save(force_insert=True)
        AuditChainHead.update(last_event_id=event.id, last_hash=event.hash).where(AuditChainHead.id == 1).execute()
    return event


def changes(row, fields):
    """{field: value} of `row` for the named fields, for before/after snapshots."""
    snapshot = {}
    for name in fields:
        value = getattr(row, name)
        snapshot[name] = value.get_id() if hasattr(value, "get_id") else value
    return snapshot


def verify_chain(batch_size=5000, on_progress=None):
    """Walk the chain in id order. Returns (ok, checked, first_bad_event_id, reason).

    `on_progress(done, total)` is called after every batch."""
    total = AuditEvent.select().count()
    prev_hash, last_id, checked = GENESIS_HASH, 0, 0
    while True:
        batch = list(AuditEvent.select().where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch_size))
        if not batch:
            break
        for event in batch:
            if event.prev_hash != prev_hash:
                return False, checked, event.id, "previous-hash mismatch (a row before it was altered or removed)"
            if event_hash(event.prev_hash, event) != event.hash:
                return False, checked, event.id, "content does not match its hash (this row was altered)"
            prev_hash, last_id = event.hash, event.id
            checked += 1
        if on_progress:
            on_progress(checked, total)
    head = AuditChainHead.get_or_none(AuditChainHead.id == 1)
    if head is not None and head.last_hash != prev_hash:
        return False, checked, head.last_event_id, "the newest events were removed"
    return True, checked, None, None
