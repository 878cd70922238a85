"""CS accounts to import into (the demo's CS accounts are not relied on)."""
import itertools

import pytest

from factories import unit_by_code
from portal.cs.models import CsAccount

_numbers = itertools.count(1)


def make_import_account(store="CN-JD", code=None):
    store = unit_by_code(store) if isinstance(store, str) else store
    n = next(_numbers)
    return CsAccount.create(company=store.company_id, store=store.id, code=code or f"IMP-{n}",
                            name=f"Import account {n}")


@pytest.fixture
def jd_account(db):
    return make_import_account("CN-JD", "JD-IMPORT")


@pytest.fixture
def other_account(db):
    """An account of another company's store (Hong Kong's Tmall store)."""
    return make_import_account("HK-TM", "HK-IMPORT")
