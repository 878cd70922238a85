"""These tests read pages in English: the demo group's own default language is
Chinese, which the logged-in clients would otherwise get (tests/i18n covers that)."""
import pytest


@pytest.fixture
def client_for(client_for):
    def make(username):
        client = client_for(username)
        client.http.set_cookie("locale", "en")
        return client

    return make
