"""National ID and bank account: encrypted at rest, bound to their row and
company, found through the blind index, revealed only with the permission
(and audited), re-encrypted by key rotation."""
import pytest

from factories import SYSTEM, make_assignment, make_employee, make_post, make_role, make_user, unit_by_code
from portal.accounts.services import grant_role
from portal.audit.models import AuditEvent
from portal.core.crypto import DecryptionError, cipher, new_key_text
from portal.core.db import database, is_sqlite
from portal.core.errors import NotInScope
from portal.core.permissions import Actor
from portal.people import services
from portal.people.models import Employee

NATIONAL_ID = "530102198807154321"
BANK_ACCOUNT = "6217 0033 1234 5678 901"


@pytest.fixture
def person(db):
    return make_employee("EXCN", legal_name="杨洋", national_id=NATIONAL_ID, bank_account=BANK_ACCOUNT)


@pytest.fixture
def namesake(db):
    """Someone in Germany whose (foreign) ID number happens to be the same."""
    return make_employee("EXDE", legal_name="Yang Yang", national_id=NATIONAL_ID)


def search(actor, text):
    rows, _more = services.list_employees(actor.scope, services.EmployeeFilters(q=text))
    return {row.id for row in rows}


# --- at rest ---------------------------------------------------------------------------

def test_no_plaintext_reaches_the_database(person, database_url):
    plaintexts = [NATIONAL_ID, BANK_ACCOUNT, BANK_ACCOUNT.replace(" ", "")]
    if is_sqlite():
        database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        path = database_url[len("sqlite:///"):]
        raw = open(path, "rb").read()
        assert len(raw) > 100_000  # really the database file
        for text in plaintexts:
            assert text.encode() not in raw
    else:  # every text column of the tables that could hold them
        for table in ("employee", "audit_event"):
            columns = [c.name for c in database.get_columns(table)]
            dump = " ".join(str(value) for row in database.execute_sql(
                f'SELECT {", ".join(f"CAST({c} AS TEXT)" for c in columns)} FROM "{table}"').fetchall()
                for value in row)
            assert person.legal_name in dump or table == "audit_event"
            for text in plaintexts:
                assert text not in dump
    stored = Employee.get_by_id(person.id)
    assert stored.national_id.startswith(cipher().current_key_id + "$")
    assert services.read_sensitive(stored, "national_id") == NATIONAL_ID


def test_the_trail_names_the_change_but_never_the_value(person):
    services.change_sensitive(SYSTEM, person, "bank_account", "DE89 3704 0044 0532 0130 00")
    trail = " ".join(f"{e.before} {e.after}" for e in AuditEvent.select())
    assert NATIONAL_ID not in trail and "3704" not in trail and BANK_ACCOUNT not in trail
    event = AuditEvent.select().where(AuditEvent.action == "people.sensitive_changed").get()
    assert "bank_account" in event.after


def test_a_ciphertext_moved_to_another_row_column_or_company_does_not_decrypt(person):
    other = make_employee("EXCN", legal_name="其他人")
    Employee.update(national_id=person.national_id).where(Employee.id == other.id).execute()
    with pytest.raises(DecryptionError):
        services.read_sensitive(Employee.get_by_id(other.id), "national_id")  # another row
    Employee.update(bank_account=person.national_id).where(Employee.id == person.id).execute()
    with pytest.raises(DecryptionError):
        services.read_sensitive(Employee.get_by_id(person.id), "bank_account")  # another column
    Employee.update(company=unit_by_code("EXHK")).where(Employee.id == person.id).execute()
    with pytest.raises(DecryptionError):
        services.read_sensitive(Employee.get_by_id(person.id), "national_id")  # another company
    assert services.masked_sensitive(Employee.get_by_id(other.id))["national_id"] is None


def test_values_show_masked(person):
    assert services.masked_sensitive(person) == {"national_id": "****4321", "bank_account": "****8901"}


# --- blind index ---------------------------------------------------------------------------

def test_the_blind_index_differs_per_company(person, namesake):
    assert person.national_id_index != namesake.national_id_index


def test_search_by_national_id_finds_exactly_the_person_across_companies_in_scope(person, namesake, hr_cn, hr_de,
                                                                                   actor_of):
    admin = actor_of("admin")
    assert search(admin, NATIONAL_ID) == {person.id, namesake.id}
    assert search(hr_cn, "530102-19880715-4321") == {person.id}  # written differently, same number
    assert search(hr_de, NATIONAL_ID.lower()) == {namesake.id}
    assert search(hr_cn, NATIONAL_ID[:-1]) == set()  # exact, never a prefix of an encrypted value


# --- reveal ------------------------------------------------------------------------------------

def test_reveal_gives_the_value_and_is_audited_without_it(person, hr_cn):
    assert services.reveal_sensitive(hr_cn, person, "national_id") == NATIONAL_ID
    event = AuditEvent.select().where(AuditEvent.action == "people.sensitive_revealed").get()
    assert (event.actor_name, event.object_id) == ("hr.cn", str(person.id))
    assert "national_id" in event.after and NATIONAL_ID not in event.after


def test_reveal_is_refused_outside_the_record_and_without_the_permission(person, hr_de, lead):
    for actor in (hr_de, lead):
        with pytest.raises(NotInScope):
            services.reveal_sensitive(actor, person, "national_id")
    assert not AuditEvent.select().where(AuditEvent.action == "people.sensitive_revealed").exists()


def test_a_secondary_post_does_not_open_the_sensitive_fields(person):
    """HR of the unit where the person merely holds a second post sees them, but
    cannot reveal their numbers: those belong to the employing company."""
    store = unit_by_code("HK-TM")
    make_assignment(person, make_post("EXHK"), "HK-TM-CS", share=20)
    reviewer = make_user(store, username="hk.reviewer")
    grant_role(SYSTEM, reviewer, make_role(unit_by_code("EXHK"), ["people.view", "people.view_sensitive"]), store)
    actor = Actor.for_user(reviewer)
    assert search(actor, "杨洋") == {person.id}
    with pytest.raises(NotInScope):
        services.reveal_sensitive(actor, person, "bank_account")


def test_reveal_over_http_is_a_post_answered_in_place(person, hr_cn_client):
    url = f"/people/{person.id}/reveal"
    assert hr_cn_client.get(url).status_code == 405
    response = hr_cn_client.post(url, {"field": "bank_account"}, htmx=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<div class="sensitive" id="sensitive-bank_account">')
    assert BANK_ACCOUNT in body and NATIONAL_ID not in body
    full = hr_cn_client.post(url, {"field": "national_id"})
    assert full.status_code == 200 and "<!doctype html>" in full.get_data(as_text=True).lower()
    assert NATIONAL_ID in full.get_data(as_text=True)


def test_reveal_over_http_is_refused_to_others(person, hr_de_client, lead_client):
    assert hr_de_client.post(f"/people/{person.id}/reveal", {"field": "national_id"}).status_code == 404
    assert lead_client.post(f"/people/{person.id}/reveal", {"field": "national_id"}).status_code == 403
    assert not AuditEvent.select().where(AuditEvent.action == "people.sensitive_revealed").exists()


def test_the_profile_never_carries_the_plain_values(person, hr_cn_client):
    body = hr_cn_client.get(f"/people/{person.id}").get_data(as_text=True)
    assert "****4321" in body and "****8901" in body
    assert NATIONAL_ID not in body and BANK_ACCOUNT not in body


def test_changing_a_value_over_http(person, hr_cn_client, hr_de_client):
    url = f"/people/{person.id}/sensitive"
    assert hr_de_client.post(url, {"field": "national_id", "value": "1"}).status_code == 404
    response = hr_cn_client.post(url, {"field": "national_id", "value": "12"}, htmx=True)
    assert response.status_code == 422 and "Enter the whole number." in response.get_data(as_text=True)
    response = hr_cn_client.post(url, {"field": "national_id", "value": "110101200001011234"}, htmx=True)
    assert response.status_code == 200 and "****1234" in response.get_data(as_text=True)
    assert services.read_sensitive(Employee.get_by_id(person.id), "national_id") == "110101200001011234"
    hr_cn_client.post(url, {"field": "bank_account", "value": ""})
    stored = Employee.get_by_id(person.id)
    assert stored.bank_account is None and stored.national_id_index == cipher().blind_index(
        stored.company_id, "110101200001011234")


# --- key rotation ---------------------------------------------------------------------------

@pytest.fixture
def new_key(app):
    """A second key made current; the old one stays configured so old values remain readable."""
    old_keys, old_current = app.config["FIELD_KEYS"], app.config["FIELD_KEY_CURRENT"]
    app.config.update(FIELD_KEYS=f"{old_keys},rotated2:{new_key_text()}", FIELD_KEY_CURRENT="rotated2")
    app.extensions.pop("field_cipher", None)
    yield "rotated2"
    app.config.update(FIELD_KEYS=old_keys, FIELD_KEY_CURRENT=old_current)
    app.extensions.pop("field_cipher", None)


@pytest.fixture
def encrypted_people(db):
    return [make_employee("EXCN", national_id=f"11010119900101{n:04d}", bank_account=f"6222{n:012d}")
            for n in range(5)]


def test_rotation_re_encrypts_in_batches_and_old_values_stay_readable(app, encrypted_people, new_key):
    seen_during = []

    def check_midway(done, total):
        # Rows not yet rotated still decrypt under the old key.
        seen_during.append((done, total, [services.read_sensitive(Employee.get_by_id(p.id), "national_id")
                                          for p in encrypted_people]))

    total = services.people_to_rotate()
    assert total >= len(encrypted_people)
    counts = services.rotate_field_keys(batch_size=2, on_progress=check_midway)
    assert counts["people"] == total and counts["values"] >= 2 * len(encrypted_people)
    assert seen_during[0][0] == 2 and seen_during[-1][0] == total
    assert all(ids == [f"11010119900101{n:04d}" for n in range(5)] for _d, _t, ids in seen_during)
    for person in encrypted_people:
        stored = Employee.get_by_id(person.id)
        assert stored.national_id.startswith("rotated2$") and stored.bank_account.startswith("rotated2$")
    assert services.people_to_rotate() == 0
    assert AuditEvent.select().where(AuditEvent.action == "people.keys_rotated").count() == 1
    # Only the new key now: everything still reads.
    app.config["FIELD_KEYS"] = app.config["FIELD_KEYS"].split(",")[-1]
    app.extensions.pop("field_cipher", None)
    assert services.read_sensitive(Employee.get_by_id(encrypted_people[0].id), "bank_account") == "6222000000000000"


def test_rotate_keys_command(app, encrypted_people, new_key):
    result = app.test_cli_runner().invoke(args=["people", "rotate-keys", "--batch-size", "3"])
    assert result.exit_code == 0, result.output
    assert "Re-encrypted" in result.output and "rotated2" in result.output
    assert services.people_to_rotate() == 0


def test_rotation_skips_an_unreadable_value_and_says_so(app, encrypted_people, new_key):
    broken = encrypted_people[0]
    Employee.update(bank_account=encrypted_people[1].bank_account).where(Employee.id == broken.id).execute()
    result = app.test_cli_runner().invoke(args=["people", "rotate-keys"])
    assert result.exit_code == 1 and "could not be decrypted" in result.output
    assert Employee.get_by_id(encrypted_people[2].id).national_id.startswith("rotated2$")
