"""The org tree: create, edit, move, archive units; read subtrees in scope."""
import zoneinfo

import peewee as pw
from babel import Locale, UnknownLocaleError
from babel.numbers import list_currencies
from flask_babel import gettext as _

from portal.core.audit import record_event
from portal.core.db import database, update_at_version, utcnow
from portal.core.errors import ServiceError
from portal.org.models import ALLOWED_CHILDREN, OrgUnit
from portal.org.permissions import ORG_MANAGE, ORG_VIEW

SETTING_FIELDS = ("country", "currency", "timezone", "default_locale")
UNIT_FIELDS = ("name", "code", "kind", "parent", "platform") + SETTING_FIELDS
CARRIES_SETTINGS = ("group", "company")
ISO_CURRENCIES = frozenset(list_currencies())


def effective_settings(unit):
    """Country, currency, time zone and locale of `unit`: its company's (or,
    for the group itself, its own). Units below a company inherit them."""
    source = unit if unit.kind in CARRIES_SETTINGS else unit.company
    return {name: getattr(source, name) for name in SETTING_FIELDS}


def _snapshot(unit):
    return {name: (getattr(unit, name + "_id") if name == "parent" else getattr(unit, name)) for name in UNIT_FIELDS}


def _validate_settings(settings):
    country = (settings.get("country") or "").upper()
    currency = (settings.get("currency") or "").upper()
    timezone = settings.get("timezone") or ""
    locale = settings.get("default_locale") or ""
    if len(country) != 2 or not country.isalpha():
        raise ServiceError(_("Enter a two-letter country code, such as CN or DE."), field="country")
    if currency not in ISO_CURRENCIES:
        raise ServiceError(_("Enter an ISO 4217 currency code, such as CNY or EUR."), field="currency")
    if timezone not in zoneinfo.available_timezones():
        raise ServiceError(_("Choose a time zone from the list, such as Asia/Shanghai."), field="timezone")
    try:
        Locale.parse(locale)
    except (ValueError, UnknownLocaleError):
        raise ServiceError(_("Choose a language from the list."), field="default_locale") from None
    return {"country": country, "currency": currency, "timezone": timezone, "default_locale": locale}


def _check_code(code, unit_id=None):
    code = (code or "").strip().upper()
    if not code or len(code) > 32 or not all(c.isalnum() or c in "-_." for c in code):
        raise ServiceError(_("Use up to 32 letters, digits, dots, dashes or underscores."), field="code")
    if OrgUnit.select().where((OrgUnit.code == code) & (OrgUnit.id != (unit_id or 0))).exists():
        raise ServiceError(_("Another unit already uses this code."), field="code")
    return code


def _check_name(name):
    name = (name or "").strip()
    if not name:
        raise ServiceError(_("Enter a name."), field="name")
    if len(name) > 120:
        raise ServiceError(_("Use at most 120 characters."), field="name")
    return name


def _check_child_kind(parent, kind):
    allowed = ALLOWED_CHILDREN.get(parent.kind, ()) if parent is not None else ("group",)
    if kind not in allowed:
        raise ServiceError(_("A unit of this kind cannot be placed there."), field="kind")
    if parent is not None and parent.is_archived:
        raise ServiceError(_("The parent unit is archived."), field="parent")


def create_unit(actor, parent, kind, code, name, platform=None, settings=None):
    """Add a unit under `parent` (None only for the group itself)."""
    if parent is None:
        if actor.user is not None:
            raise ServiceError(_("Only one group exists; add units under it."), field="parent")
    else:
        actor.require(ORG_MANAGE, parent)
    _check_child_kind(parent, kind)
    values = {"kind": kind, "code": _check_code(code), "name": _check_name(name)}
    if kind in CARRIES_SETTINGS:
        values.update(_validate_settings(settings or (effective_settings(parent) if parent else {})))
    if kind == "store":
        values["platform"] = platform or "other"
    with database.atomic():
        unit = OrgUnit.create(parent=parent, path="", depth=(parent.depth + 1) if parent else 0, **values)
        unit.path = f"{parent.path if parent else '/'}{unit.id}/"
        unit.company = unit.id if kind == "company" else (parent.company_id if parent else None)
        unit.save(only=[OrgUnit.path, OrgUnit.company])
        record_event("org.unit_created", unit, unit=unit, actor=actor.user, after=_snapshot(unit))
    return unit


def update_unit(actor, unit, version, name, code, platform=None, settings=None):
    """Rename a unit, change its code, and (for the group or a company) its settings."""
    actor.require(ORG_MANAGE, unit)
    before = _snapshot(unit)
    values = {"name": _check_name(name), "code": _check_code(code, unit.id)}
    if unit.kind in CARRIES_SETTINGS:
        values.update(_validate_settings(settings or {}))
    if unit.kind == "store":
        values["platform"] = platform or "other"
    with database.atomic():
        unit = update_at_version(OrgUnit, unit.id, version, values,
                                 _("Someone else changed this unit meanwhile. Reload the page and try again."))
        record_event("org.unit_updated", unit, unit=unit, actor=actor.user, before=before, after=_snapshot(unit))
    return unit


def move_unit(actor, unit, new_parent):
    """Put `unit` and its whole subtree under `new_parent`, refusing cycles."""
    actor.require(ORG_MANAGE, unit)
    actor.require(ORG_MANAGE, new_parent)
    if new_parent.id == unit.id or new_parent.path.startswith(unit.path):
        raise ServiceError(_("A unit cannot be moved under itself or one of its own units."), field="parent")
    _check_child_kind(new_parent, unit.kind)
    if new_parent.id == unit.parent_id:
        return unit
    before = _snapshot(unit)
    old_path, new_path = unit.path, f"{new_parent.path}{unit.id}/"
    depth_change = new_parent.depth + 1 - unit.depth
    with database.atomic():
        subtree = OrgUnit.path.startswith(old_path)
        # One UPDATE rewrites the prefix of every path in the subtree.
        OrgUnit.update(
            path=pw.Value(new_path).concat(pw.fn.SUBSTR(OrgUnit.path, len(old_path) + 1)),
            depth=OrgUnit.depth + depth_change,
            version=OrgUnit.version + 1,
        ).where(subtree).execute()
        if unit.kind != "company":
            OrgUnit.update(company=new_parent.company_id).where(OrgUnit.path.startswith(new_path)).execute()
        OrgUnit.update(parent=new_parent).where(OrgUnit.id == unit.id).execute()
        unit = OrgUnit.get_by_id(unit.id)
        record_event("org.unit_moved", unit, unit=unit, actor=actor.user, before=before, after=_snapshot(unit))
    return unit


def archive_unit(actor, unit):
    actor.require(ORG_MANAGE, unit)
    if unit.parent_id is None:
        raise ServiceError(_("The group itself cannot be archived."))
    if OrgUnit.select().where((OrgUnit.parent == unit) & OrgUnit.archived_at.is_null()).exists():
        raise ServiceError(_("Archive or move the units below it first."))
    with database.atomic():
        OrgUnit.update(archived_at=utcnow(), version=OrgUnit.version + 1).where(OrgUnit.id == unit.id).execute()
        record_event("org.unit_archived", unit, unit=unit, actor=actor.user)
    return OrgUnit.get_by_id(unit.id)


def restore_unit(actor, unit):
    actor.require(ORG_MANAGE, unit)
    if unit.parent is not None and unit.parent.is_archived:
        raise ServiceError(_("Restore the unit above it first."))
    with database.atomic():
        OrgUnit.update(archived_at=None, version=OrgUnit.version + 1).where(OrgUnit.id == unit.id).execute()
        record_event("org.unit_restored", unit, unit=unit, actor=actor.user)
    return OrgUnit.get_by_id(unit.id)


# --- reading -----------------------------------------------------------------

def visible_units(scope, permission=ORG_VIEW):
    return OrgUnit.select().where(scope.unit_condition(permission))


def tree_roots(scope, include_archived=False):
    """The top-most units the user may see: those whose parent is out of scope."""
    # A scope may hold thousands of units, but a root is always a unit the
    # permission is granted on (below one, the parent is in scope too), whose
    # parent is one of its ancestors; or, without the archived units, a unit
    # whose parent is archived. Looking at those few units is enough.
    candidates = OrgUnit.id.in_(scope.anchor_ids(ORG_VIEW) or [0])
    condition = scope.unit_condition(ORG_VIEW)
    if not include_archived:
        archived_ids = OrgUnit.select(OrgUnit.id).where(OrgUnit.archived_at.is_null(False))
        candidates |= OrgUnit.parent.in_(archived_ids)
        condition &= OrgUnit.archived_at.is_null()
    condition &= candidates
    visible_ids = OrgUnit.select(OrgUnit.id).where(condition)
    roots = OrgUnit.select().where(condition & (OrgUnit.parent.is_null() | OrgUnit.parent.not_in(visible_ids)))
    return list(roots.order_by(OrgUnit.path))


def children_of(unit, include_archived=False):
    """`unit`'s children with the number of children each has (for the expand arrow)."""
    Child = OrgUnit.alias()
    query = (
        OrgUnit.select(OrgUnit, pw.fn.COUNT(Child.id).alias("child_count"))
        .join(Child, pw.JOIN.LEFT_OUTER, on=((Child.parent == OrgUnit.id) & (
            Child.archived_at.is_null() if not include_archived else pw.SQL("1 = 1"))))
        .where(OrgUnit.parent == unit.id)
        .group_by(OrgUnit.id)
        .order_by(OrgUnit.kind, OrgUnit.name)
    )
    if not include_archived:
        query = query.where(OrgUnit.archived_at.is_null())
    return list(query)


def ancestors_of(unit):
    ids = unit.ancestor_ids
    if not ids:
        return []
    by_id = {u.id: u for u in OrgUnit.select().where(OrgUnit.id.in_(ids))}
    return [by_id[i] for i in ids]


def unit_choices(scope, permission, kinds=None):
    """(id, label) of the active units where `permission` holds, in tree order."""
    query = (visible_units(scope, permission).select(OrgUnit.id, OrgUnit.depth, OrgUnit.name)
             .where(OrgUnit.archived_at.is_null()))
    if kinds:
        query = query.where(OrgUnit.kind.in_(kinds))
    # Plain ints and strings straight from the cursor: the list may run to
    # thousands of units, and peewee's per-value conversion would double its cost.
    rows = database.execute(query.order_by(OrgUnit.path)).fetchall()
    return [(unit_id, "\u2003" * depth + name) for unit_id, depth, name in rows]


def count_units(scope):
    rows = (visible_units(scope).select(OrgUnit.kind, pw.fn.COUNT(OrgUnit.id))
            .where(OrgUnit.archived_at.is_null()).group_by(OrgUnit.kind).tuples())
    return dict(rows)
