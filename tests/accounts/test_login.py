from portal.accounts.models import LoginAttempt, UserSession


def test_login_rotates_session_and_lands_on_dashboard(client):
    client.get("/login")
    before = client.http.get_cookie("session")
    response = client.post("/login", {"username": "admin", "password": "demo1234"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.http.get_cookie("session").value != before.value
    page = client.get("/")
    assert page.status_code == 200
    assert "Group Administrator" in page.get_data(as_text=True)
    assert UserSession.select().where(UserSession.ended_at.is_null()).count() == 1


def test_wrong_password_is_refused_and_recorded(client):
    response = client.post("/login", {"username": "admin", "password": "nope-nope"})
    assert response.status_code == 422
    assert "Wrong username or password." in response.get_data(as_text=True)
    assert LoginAttempt.get(LoginAttempt.username == "admin").succeeded is False
