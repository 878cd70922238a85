"""Passwords (Argon2id) and login sessions tied to server-side records.

Flask-Login's "alternative token" pattern: the id it keeps in the signed
session cookie is a random per-login token, and the user loader resolves it
through `UserSession`. Ending that row (logout, "end this session", password
change) logs that browser out on its next request, on every worker.
"""
import datetime as dt
import hashlib
import secrets

import peewee as pw
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_login import UserMixin

from portal.core.db import PreparedSelect, utcnow

password_hasher = PasswordHasher()  # argon2id with the library's current recommended cost
# Verifying against this keeps the timing of "no such user" equal to "wrong password".
_DUMMY_HASH = password_hasher.hash(secrets.token_hex(16))
SESSION_TOUCH_INTERVAL = dt.timedelta(minutes=5)


def hash_password(password):
    return password_hasher.hash(password)


def verify_password(password_hash, password):
    try:
        return password_hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash):
    return password_hasher.check_needs_rehash(password_hash)


def new_session_token():
    return secrets.token_urlsafe(32)


def token_digest(token):
    return hashlib.sha256(token.encode("ascii")).hexdigest()


class LoggedInUser(UserMixin):
    """The request's user: the account row plus the session it came in on."""

    def __init__(self, user, session_row, token):
        self.account = user
        self.session_row = session_row
        self._token = token

    def __getattr__(self, name):
        return getattr(self.account, name)

    def get_id(self):
        return self._token

    @property
    def is_active(self):
        return self.account.is_active


def _session_query(token_hash, oldest_start):
    from portal.accounts.models import User, UserSession
    from portal.org.models import OrgUnit

    # The user's unit and its company come along in the same query: every page
    # needs them for the locale and time zone (core.i18n._home_settings), and
    # this saves the two lazy foreign-key loads per request.
    Company = OrgUnit.alias()
    return (
        UserSession.select(UserSession, User, OrgUnit, Company)
        .join(User)
        .join(OrgUnit, on=(User.unit == OrgUnit.id))
        .join(Company, pw.JOIN.LEFT_OUTER, on=(OrgUnit.company == Company.id), attr="company")
        .where(
            (UserSession.token_hash == token_hash)
            & UserSession.ended_at.is_null()
            & (UserSession.created_at > oldest_start)
        )
        .limit(1)
    )


# Run on every request: its SQL is written once (core.db.PreparedSelect). The
# session row itself is read afresh each time, never cached, so an ended
# session is refused on its very next request, on every worker.
_SESSION_LOOKUP = PreparedSelect(_session_query, "\0token-hash", dt.datetime(1, 2, 3, 4, 5, 6, 7))


def load_logged_in_user(token, max_age_seconds):
    from portal.accounts.models import UserSession

    if not token:
        return None
    oldest_start = utcnow() - dt.timedelta(seconds=max_age_seconds)
    row = _SESSION_LOOKUP.first(token_digest(token), oldest_start)
    if row is None or not row.user.is_active:
        return None
    now = utcnow()
    if now - row.last_seen_at > SESSION_TOUCH_INTERVAL:
        UserSession.update(last_seen_at=now).where(UserSession.id == row.id).execute()
    return LoggedInUser(row.user, row, token)
