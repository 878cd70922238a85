"""The JSON push API (/api/cs/v1) and its tokens: the token pages (created, shown
once, revoked), batches written whole or not at all and idempotent, 401 without a
live token, a token of one company refused another company's accounts."""
import re

import pytest

from factories import unit_by_code
from portal.audit.models import AuditEvent
from portal.core.permissions import Actor
from portal.cs import api_tokens
from portal.cs.models import CsApiToken, CsConversation, CsLoginSession

RECORDS = [
    {"session_id": "API-1", "account": "JD-IMPORT", "sub_account": "京东旗舰店:小王", "started_at": "2025-05-12 09:00:00",
     "first_reply_at": "2025-05-12 09:00:20", "ended_at": "2025-05-12 09:10:00", "rating": 5, "resolved": True},
    {"session_id": "API-2", "account": "JD-IMPORT", "started_at": "2025-05-12 10:00", "ended_at": "2025-05-12 10:04",
     "customer_messages": 3, "agent_messages": 2},
]


@pytest.fixture
def api(app):
    """A bare HTTP client: no session, no CSRF token, as a pushing system."""
    return app.test_client()


@pytest.fixture
def token(hr_cn, excn):
    """(CsApiToken, secret) for the mainland company."""
    return api_tokens.create_token(hr_cn, excn, "ERP sync")


def push(api, secret, records, kind="conversations", **headers):
    if secret is not None:
        headers["Authorization"] = f"Bearer {secret}"
    return api.post(f"/api/cs/v1/{kind}", json={"records": records}, headers=headers)


def conversations_of(account):
    return CsConversation.select().where(CsConversation.account == account.id)


# --- the token pages -----------------------------------------------------------------------------------

@pytest.mark.parametrize("htmx", [False, True])
def test_a_token_is_created_and_its_secret_shown_once(hr_cn_client, excn, htmx):
    page = hr_cn_client.get("/cs/imports/tokens", htmx=htmx).get_data(as_text=True)
    assert ("<html" in page) != htmx and "New token" in page
    response = hr_cn_client.post("/cs/imports/tokens", {"company": str(excn.id), "name": "ERP sync"}, htmx=htmx)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    secret = re.search(r'id="new-token-secret"[^>]*value="(fscs_[^"]+)"', html).group(1)
    token = CsApiToken.get()
    assert api_tokens.token_digest(secret) == token.token_hash and token.company_id == excn.id
    assert token.prefix in html and "shown only this once" in html
    again = hr_cn_client.get("/cs/imports/tokens").get_data(as_text=True)
    assert secret not in again and token.prefix in again and "ERP sync" in again
    assert AuditEvent.select().where(AuditEvent.action == "cs.api_token_created").count() == 1


def test_a_token_needs_a_name(hr_cn_client, excn):
    response = hr_cn_client.post("/cs/imports/tokens", {"company": str(excn.id), "name": ""}, htmx=True)
    assert response.status_code == 422 and 'id="name-error"' in response.get_data(as_text=True)
    assert not CsApiToken.select().exists()


@pytest.mark.parametrize("htmx", [False, True])
def test_a_token_is_revoked_and_then_refused(hr_cn_client, api, token, jd_account, htmx):
    record, secret = token
    page = hr_cn_client.get("/cs/imports/tokens").get_data(as_text=True)
    assert f"/cs/imports/tokens/{record.id}/revoke" in page and "hx-confirm" in page
    response = hr_cn_client.post(f"/cs/imports/tokens/{record.id}/revoke", htmx=htmx)
    if htmx:
        assert response.headers["HX-Redirect"] == "/cs/imports/tokens"
    else:
        assert response.status_code == 302 and response.headers["Location"] == "/cs/imports/tokens"
    assert CsApiToken.get_by_id(record.id).revoked_at is not None
    assert "Revoked" in hr_cn_client.get("/cs/imports/tokens").get_data(as_text=True)
    refused = push(api, secret, RECORDS)
    assert refused.status_code == 401 and refused.get_json()["error"] == "unauthorized"
    assert conversations_of(jd_account).count() == 0
    twice = hr_cn_client.post(f"/cs/imports/tokens/{record.id}/revoke", htmx=True)
    assert twice.status_code == 422 and "already revoked" in twice.get_data(as_text=True)


def test_tokens_of_another_company_are_out_of_reach(hr_de_client, token, excn):
    record, _secret = token
    assert record.prefix not in hr_de_client.get("/cs/imports/tokens").get_data(as_text=True)
    assert hr_de_client.post(f"/cs/imports/tokens/{record.id}/revoke").status_code == 404
    assert hr_de_client.post("/cs/imports/tokens", {"company": str(excn.id), "name": "x"}).status_code == 404
    assert CsApiToken.get_by_id(record.id).revoked_at is None


def test_without_the_manage_permission_the_token_pages_are_refused(lead_client, token):
    assert lead_client.get("/cs/imports/tokens").status_code == 403
    assert lead_client.post(f"/cs/imports/tokens/{token[0].id}/revoke").status_code == 403


# --- pushing -------------------------------------------------------------------------------------------

def test_a_batch_is_written_and_sending_it_again_adds_nothing(api, token, jd_account):
    record, secret = token
    response = push(api, secret, RECORDS)
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"kind": "conversations", "company": "EXCN", "records": 2, "inserted": 2,
                                   "skipped_duplicates": 0, "sub_accounts_created": 1}
    stored = conversations_of(jd_account).where(CsConversation.session_id == "API-1").get()
    assert stored.rating == 5 and stored.sub_account.name == "京东旗舰店:小王" and stored.cs_import is None
    assert CsApiToken.get_by_id(record.id).last_used_at is not None
    again = push(api, secret, RECORDS)
    assert again.status_code == 200
    assert (again.get_json()["inserted"], again.get_json()["skipped_duplicates"]) == (0, 2)
    assert conversations_of(jd_account).count() == 2
    (event,) = AuditEvent.select().where(AuditEvent.action == "cs.logs_imported")
    assert "ERP sync" in event.object_label and event.actor_id is None


def test_logins_are_pushed_too(api, token, jd_account):
    response = push(api, token[1], [{"account": "JD-IMPORT", "session_id": "L-1", "sub_account": "京东旗舰店:小王",
                                     "login_at": "2025-05-12 08:55", "address": "10.0.0.7"}], kind="logins")
    assert response.status_code == 200 and response.get_json()["inserted"] == 1
    assert CsLoginSession.get(CsLoginSession.session_id == "L-1").address == "10.0.0.7"


def test_a_bad_record_refuses_the_whole_batch_with_every_error(api, token, jd_account):
    bad = [*RECORDS, {"session_id": "API-3", "account": "JD-IMPORT", "started_at": "yesterday",
                      "ended_at": "2025-05-12 10:04"},
           {"session_id": "API-1", "account": "JD-IMPORT", "started_at": "2025-05-12 11:00",
            "ended_at": "2025-05-12 10:00", "rating": "超赞"}]
    response = push(api, token[1], bad, **{"Accept-Language": "en"})
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "invalid_records" and "nothing was imported" in body["message"]
    assert [(e["record"], e["field"], e["code"]) for e in body["errors"]] == [
        (3, "started_at", "cs_bad_time"), (4, "rating", "cs_bad_rating")]
    assert "“yesterday” is not a date and time." in body["errors"][0]["message"]
    assert conversations_of(jd_account).count() == 0


def test_a_token_cannot_push_into_another_companys_account(api, token, jd_account, other_account):
    record = {**RECORDS[0], "account": other_account.code}
    response = push(api, token[1], [record])
    assert response.status_code == 422
    assert [e["code"] for e in response.get_json()["errors"]] == ["cs_unknown_account"]
    assert conversations_of(other_account).count() == 0
    _hk_token, hk_secret = api_tokens.create_token(Actor.system(), unit_by_code("EXHK"), "HK")
    assert push(api, hk_secret, [RECORDS[0]]).status_code == 422  # JD-IMPORT is not a Hong Kong account
    assert push(api, hk_secret, [record]).status_code == 200
    assert conversations_of(other_account).count() == 1 and conversations_of(jd_account).count() == 0


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"},
                                     {"Authorization": "Bearer fscs_unknown"}])
def test_without_a_live_token_the_answer_is_401(api, jd_account, headers):
    response = api.post("/api/cs/v1/conversations", json={"records": RECORDS}, headers=headers)
    assert response.status_code == 401 and response.get_json()["error"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert conversations_of(jd_account).count() == 0


def test_a_session_login_is_no_token(hr_cn_client, jd_account):
    response = hr_cn_client.http.post("/api/cs/v1/conversations", json={"records": RECORDS})
    assert response.status_code == 401


@pytest.mark.parametrize("body,status", [
    ({"records": []}, 422), ({"records": "x"}, 400), ([1, 2], 400), ({"records": [1]}, 422),
    ({"records": [{}] * 5001}, 413),
])
def test_a_body_that_is_no_batch_is_refused(api, token, body, status):
    response = api.post("/api/cs/v1/conversations", json=body, headers={"Authorization": f"Bearer {token[1]}"})
    assert response.status_code == status and response.get_json()["message"]


def test_only_the_three_kinds_are_routes(api, token):
    assert api.post("/api/cs/v1/orders", json={"records": RECORDS},
                    headers={"Authorization": f"Bearer {token[1]}"}).status_code == 404
