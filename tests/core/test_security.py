"""Security settings that hold on every response and in production."""
import pytest

from portal.config import from_env
from portal.core.crypto import new_key_text


def test_every_page_carries_the_security_headers(hr_de_client):
    response = hr_de_client.get("/")
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cache-Control"] == "no-store"


def test_pages_have_no_inline_script(hr_de_client):
    body = hr_de_client.get("/org").get_data(as_text=True)
    assert "<script>" not in body and " onclick=" not in body and "javascript:" not in body


def test_static_files_may_be_cached(client):
    response = client.get("/static/favicon.svg")
    assert response.headers.get("Cache-Control") != "no-store"
    assert "Content-Security-Policy" in response.headers


def test_error_pages_are_pages_and_say_what_happened(hr_de_client):
    response = hr_de_client.get("/no/such/page")
    assert response.status_code == 404
    assert "There is nothing here, or it is not yours to see." in response.get_data(as_text=True)
    response = hr_de_client.get("/logout")
    assert response.status_code == 405


def test_production_needs_a_secret_key(monkeypatch):
    monkeypatch.setenv("FAIRSHARE_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        from_env()


def test_production_needs_field_encryption_keys(monkeypatch):
    monkeypatch.setenv("FAIRSHARE_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    monkeypatch.delenv("FIELD_KEYS", raising=False)
    with pytest.raises(RuntimeError, match="FIELD_KEYS"):
        from_env()


def test_production_cookies_are_secure(monkeypatch):
    monkeypatch.setenv("FAIRSHARE_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("FIELD_KEYS", f"k1:{new_key_text()}")
    monkeypatch.setenv("FIELD_KEY_CURRENT", "k1")
    monkeypatch.setenv("BLIND_INDEX_KEY", new_key_text())
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    config = from_env()
    assert config["SECRET_KEY"] == "from-the-environment"
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True and config["SESSION_COOKIE_SAMESITE"] == "Lax"
