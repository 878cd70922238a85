"""One database for the whole portal, chosen at start-up from `DATABASE_URL`.

Models bind to `database`, a `DatabaseProxy`; `init_database` points it at
SQLite (the embedded default) or PostgreSQL, both pooled. Requests connect
lazily and close at teardown, which returns the connection to the pool: a
SQLite connection kept open keeps its page cache and skips the pragmas that a
fresh one runs, several milliseconds on every request.
"""
import datetime as dt
from urllib.parse import parse_qs, unquote, urlparse

import peewee as pw
from playhouse.pool import PooledPostgresqlDatabase, PooledSqliteDatabase

database = pw.DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "synchronous": "normal",
    "cache_size": -64 * 1024,
    "temp_store": "memory",
}
SQLITE_BUSY_TIMEOUT_SECONDS = 10


def utcnow():
    """Naive UTC, the form every timestamp is stored in."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class BaseModel(pw.Model):
    class Meta:
        database = database
        legacy_table_names = False


def open_database(url, pool_size=10):
    """A peewee Database for `url`: sqlite:///path or postgresql://user@host:port/name."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        # sqlite:///relative/path and sqlite:////absolute/path, as SQLAlchemy reads them.
        path = unquote(url[len("sqlite:///"):].split("?", 1)[0])
        # BEGIN IMMEDIATE takes the write lock up front, so concurrent writers wait
        # for it (busy timeout) instead of failing half-way with SQLITE_BUSY.
        if not path or path == ":memory:":  # one database per connection: nothing to pool
            return pw.SqliteDatabase(
                ":memory:",
                pragmas=SQLITE_PRAGMAS,
                timeout=SQLITE_BUSY_TIMEOUT_SECONDS,
                lock_type="IMMEDIATE",
                check_same_thread=False,
            )
        # No cap on connections (each is only an open file), and the busy timeout
        # is a pragma, in milliseconds: the pool keeps `timeout` for itself.
        return PooledSqliteDatabase(
            path,
            pragmas={**SQLITE_PRAGMAS, "busy_timeout": SQLITE_BUSY_TIMEOUT_SECONDS * 1000},
            lock_type="IMMEDIATE",
            check_same_thread=False,
            max_connections=None,
            stale_timeout=300,
        )
    if parsed.scheme in {"postgres", "postgresql"}:
        options = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        return PooledPostgresqlDatabase(
            unquote(parsed.path.lstrip("/")),
            user=unquote(parsed.username) if parsed.username else None,
            password=unquote(parsed.password) if parsed.password else None,
            host=parsed.hostname,
            port=parsed.port or 5432,
            max_connections=pool_size,
            stale_timeout=300,
            timeout=30,
            **options,
        )
    raise ValueError(f"Unsupported DATABASE_URL scheme: {parsed.scheme!r}")


def init_database(url, pool_size=10):
    db = open_database(url, pool_size)
    database.initialize(db)
    return db


def is_sqlite():
    return isinstance(database.obj, pw.SqliteDatabase)


def init_app(app):
    init_database(app.config["DATABASE_URL"], app.config["DATABASE_POOL_SIZE"])

    @app.teardown_appcontext
    def close_connection(_exc):
        if not database.is_closed():
            database.close()


def update_at_version(model, row_id, version, updates, conflict):
    """Optimistic save: write `updates` and the next version only if the row is still
    at `version`; when someone saved it meanwhile, their save stands and this one is
    refused with `conflict` (a translated message). Returns the row as saved."""
    from portal.core.errors import ServiceError

    changed = (model.update(version=model.version + 1, **updates)
               .where((model._meta.primary_key == row_id) & (model.version == version)).execute())
    if not changed:
        raise ServiceError(conflict)
    return model.get_by_id(row_id)


def chunked_insert(model, rows, size=500):
    """insert_many in chunks that stay under SQLite's bound-parameter limit."""
    for start in range(0, len(rows), size):
        model.insert_many(rows[start:start + size]).execute()


class PreparedSelect:
    """A peewee SELECT whose SQL text is built once and then run with new values.

    Peewee writes a query's SQL afresh every time it runs; for a join over four
    tables that costs several times what the database takes to answer it. The
    session lookup and the scope query run on every request, so they keep their
    SQL here (one text per database: SQLite and PostgreSQL differ) and only swap
    in the parameter values. Rows come back as the query itself would give them
    (model instances with their joined models attached).

    `build(*placeholders)` returns the query; it is called once per database
    with `placeholders`, distinctive values of the same types as the real ones,
    which mark where each value goes among the query's parameters. Values are
    passed as the database takes them (str, int, naive UTC datetime): no
    field conversion is applied.
    """

    def __init__(self, build, *placeholders):
        self._build = build
        self._placeholders = placeholders
        self._compiled = {}

    def _compile(self, db):
        query = self._build(*self._placeholders)
        sql, params = query.sql()
        slots = []
        for index, placeholder in enumerate(self._placeholders):
            found = [i for i, value in enumerate(params) if value == placeholder]
            if len(found) != 1:
                raise ValueError(f"placeholder {placeholder!r} must appear exactly once in the query's parameters")
            slots.append((found[0], index))
        compiled = self._compiled[type(db)] = (query, sql, tuple(params), tuple(slots))
        return compiled

    def rows(self, *values):
        db = database.obj
        compiled = self._compiled.get(type(db)) or self._compile(db)
        query, sql, params, slots = compiled
        params = list(params)
        for param_index, value_index in slots:
            params[param_index] = values[value_index]
        return query._get_cursor_wrapper(database.execute_sql(sql, params))

    def first(self, *values):
        for row in self.rows(*values):
            return row
        return None


_SQL_MEMO = {}
_SQL_MEMO_SIZE = 1024


def memoized_rows(key, query):
    """Run `query`, its SQL text written once per `key` (and database kind).

    For queries that differ per user but repeat on every page view, such as
    those holding a user's scope (see PreparedSelect for why). `key` must
    determine the SQL and its parameters entirely — for a scope, its
    signature. Rows come back as the query itself would give them."""
    memo_key = (type(database.obj), key)
    compiled = _SQL_MEMO.get(memo_key)
    if compiled is None:
        if len(_SQL_MEMO) >= _SQL_MEMO_SIZE:
            _SQL_MEMO.clear()
        compiled = _SQL_MEMO[memo_key] = query.sql()
    sql, params = compiled
    return query._get_cursor_wrapper(database.execute_sql(sql, params))
