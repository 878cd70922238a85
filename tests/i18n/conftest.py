import pytest


@pytest.fixture
def page_locale():
    """Here the locale is what the app chooses: no cookie is preset."""
    return None
