"""The migrated schema is the schema the models describe: a model change
without its migration fails here (on SQLite and on PostgreSQL)."""
import importlib
import importlib.util

import pytest
from playhouse.schema_diff import diff_models

from portal import DOMAINS
from portal.core.db import BaseModel

# Every domain's models, imported now: the tests below are made one per model.
for _domain in DOMAINS:
    if importlib.util.find_spec(f"portal.{_domain}.models"):
        importlib.import_module(f"portal.{_domain}.models")


def all_models():
    found, todo = [], list(BaseModel.__subclasses__())
    while todo:
        model = todo.pop()
        found.append(model)
        todo.extend(model.__subclasses__())
    return sorted(found, key=lambda m: m._meta.table_name)


def test_every_domain_has_its_models_here(app):
    tables = {m._meta.table_name for m in all_models()}
    assert {"org_unit", "user", "user_session", "login_attempt", "role", "role_permission", "grant",
            "audit_event", "audit_chain_head", "job"} <= tables


def test_migrations_create_exactly_the_models_tables_columns_and_indexes(db):
    diff = diff_models(db.obj, all_models())
    assert not diff, f"the migrations and the models differ:\n{diff}"


@pytest.mark.parametrize("model", all_models(), ids=lambda m: m._meta.table_name)
def test_columns_and_nullability_match_the_model(db, model):
    columns = {c.name: c for c in db.get_columns(model._meta.table_name)}
    fields = {f.column_name: f for f in model._meta.sorted_fields}
    assert set(columns) == set(fields)
    for name, field in fields.items():
        assert columns[name].null == field.null, f"{model._meta.table_name}.{name}"
        assert columns[name].primary_key == field.primary_key, f"{model._meta.table_name}.{name}"


@pytest.mark.parametrize("model", all_models(), ids=lambda m: m._meta.table_name)
def test_foreign_keys_match_the_model(db, model):
    in_database = {(fk.column, fk.dest_table, fk.dest_column) for fk in db.get_foreign_keys(model._meta.table_name)}
    declared = {(f.column_name, f.rel_model._meta.table_name, f.rel_field.column_name)
                for f in model._meta.sorted_fields if hasattr(f, "rel_model")}
    assert in_database == declared


def test_the_audit_chain_has_its_head(db):
    from portal.audit.models import AuditChainHead

    assert AuditChainHead.select().count() == 1
