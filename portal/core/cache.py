"""Data-versioned cache of rendered fragments (and of the data behind them).

Why: the org tree, the audit list and the dashboard show the same HTML to
everyone with the same scope until something in the portal changes, but
building it (scoped queries over thousands of units and events, Babel
formatting of every row) costs many times what serving it does.

Why it is correct: every write in the portal records an audit event in the
same transaction, so `AuditChainHead.last_event_id` is a version of all the
data these fragments show. An entry is keyed by

    (fragment name, data version, the user's scope signature, locale,
     time zone, the fragment's own arguments — unit id, query string …)

and the version is read *before* the fragment's data, so an entry can hold
data newer than its version (harmless: the next request sees a new version and
misses) but never older. Two users share an entry only when they hold exactly
the same grants; each language and time zone has its own entries.

What must never go in: anything per user or per session beyond the scope —
CSRF tokens, the user's name, flash messages — and anything that changes
without an audit event (job progress, session rows). Callers render those
around the cached fragment.

The cache lives in each worker's memory (an LRU of `FRAGMENT_CACHE_SIZE`
entries; 0 turns it off); workers agree because each request reads the
version from the database.
"""
import hashlib
import threading
from collections import OrderedDict

from flask import current_app
from flask_babel import get_locale, get_timezone
from markupsafe import Markup

DEFAULT_SIZE = 256


class LRU:
    def __init__(self, size):
        self.size = size
        self._entries = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key, value):
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self):
        with self._lock:
            self._entries.clear()

    def __len__(self):
        return len(self._entries)


def _store():
    store = current_app.extensions.get("fragment_cache")
    if store is None:
        store = current_app.extensions.setdefault(
            "fragment_cache", LRU(current_app.config.get("FRAGMENT_CACHE_SIZE", DEFAULT_SIZE)))
    return store


def data_version():
    """The id of the newest audit event: it changes with every write."""
    from portal.audit.models import AuditChainHead
    from portal.core.db import database

    # Plain SQL: this runs on every cached page, and the query never changes.
    meta = AuditChainHead._meta
    row = database.execute_sql(
        f"SELECT {meta.fields['last_event_id'].column_name} FROM {meta.table_name} WHERE id = 1").fetchone()
    return row[0] if row else None


def cache_key(name, scope, *parts):
    """See the module docstring. `scope.signature()` is a digest of the user's grants."""
    return (name, data_version(), scope.signature(), str(get_locale()), str(get_timezone()), parts)


def cached(name, scope, build, *parts):
    """`build()`'s result, from the cache when the key (see the module docstring)
    matches. `parts` are what else the result depends on (ids, query args)."""
    store = _store()
    if not store.size:
        return build()
    key = cache_key(name, scope, *parts)  # the version first, then the data
    value = store.get(key)
    if value is None:
        value = build()
        store.put(key, value)
    return value


def cached_fragment(name, scope, render, *parts):
    """Like `cached`, for rendered HTML (kept as Markup)."""
    return cached(name, scope, lambda: Markup(render()), *parts)


def digest(*values):
    return hashlib.blake2b(repr(values).encode(), digest_size=16).hexdigest()
