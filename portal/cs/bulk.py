"""Writing many rows at once (imported logs, attribution credits, daily metrics, the
demo's conversations) straight through the driver.

peewee's insert_many turns every value into a query node and writes the SQL text
afresh for each chunk: for a million cells that costs many times what the
database takes to store them. Here the INSERT is written once and the rows go to
the driver as tuples: sqlite3 runs one prepared statement for every row
(executemany); on PostgreSQL psycopg2 sends pages of multi-row VALUES
(execute_values), since its executemany is one round trip per row.

Values must already be what the driver takes: int, float, str, None, bool,
date and naive-UTC datetime — ids, not model instances. The caller holds the
transaction (`with database.atomic():`), so a failure half-way leaves nothing.
"""
from portal.core.db import database, is_sqlite

CHUNK_ROWS = 20_000  # rows handed to the driver at a time (and between progress calls)
PG_PAGE_ROWS = 1000  # rows per multi-row INSERT on PostgreSQL


def insert_sql(model, columns, values="({})"):
    """INSERT INTO table (columns) VALUES …: one placeholder row, or `values` as given."""
    fields = [model._meta.fields[name] for name in columns]
    names = ", ".join(f'"{field.column_name}"' for field in fields)
    return 'INSERT INTO "{}" ({}) VALUES {}'.format(
        model._meta.table_name, names, values.format(", ".join([database.param] * len(fields))))


def insert_rows(model, columns, rows, chunk=CHUNK_ROWS, on_progress=None):
    """INSERT `rows` (sequences in `columns` order) in chunks of `chunk` rows,
    calling on_progress(rows written) after each. Returns how many were written."""
    if is_sqlite():
        sql = insert_sql(model, columns)

        def write(cursor, part):
            cursor.executemany(sql, part)
    else:
        from psycopg2.extras import execute_values

        sql = insert_sql(model, columns, "%s")

        def write(cursor, part):
            execute_values(cursor, sql, part, page_size=PG_PAGE_ROWS)
    cursor = database.cursor()
    total = len(rows)
    for start in range(0, total, chunk):
        part = rows[start:start + chunk]
        write(cursor, part)
        if on_progress is not None:
            on_progress(len(part))
    return total
