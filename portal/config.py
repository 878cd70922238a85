"""Configuration from the environment.

Every setting has a safe development default except in production, where
`SECRET_KEY` must be given: `Config.from_env()` refuses to start without it.
"""
import json
import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = Path(os.environ.get("FAIRSHARE_INSTANCE", ROOT / "instance"))


def _bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key(production):
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    if production:
        raise RuntimeError("SECRET_KEY must be set when FAIRSHARE_ENV=production")
    # Development: keep one random key per instance folder so sessions survive restarts.
    return _instance_file("secret_key", lambda: secrets.token_hex(32)).strip()


def _field_keys(production):
    """FIELD_KEYS, FIELD_KEY_CURRENT and BLIND_INDEX_KEY (core/crypto.py). Production
    must give them; development keeps a random set in the instance folder."""
    given = {name: os.environ.get(name) for name in ("FIELD_KEYS", "FIELD_KEY_CURRENT", "BLIND_INDEX_KEY")}
    if all(given.values()):
        return given
    if production:
        raise RuntimeError("FIELD_KEYS, FIELD_KEY_CURRENT and BLIND_INDEX_KEY must be set when FAIRSHARE_ENV=production")
    from portal.core.crypto import new_key_text

    return json.loads(_instance_file("field_keys.json", lambda: json.dumps({
        "FIELD_KEYS": f"dev1:{new_key_text()}", "FIELD_KEY_CURRENT": "dev1", "BLIND_INDEX_KEY": new_key_text()})))


def _instance_file(name, make_text):
    """The text of a secret file in the instance folder, made on first use. Made whole
    under another name and linked into place, which fails if it is there already: two
    processes starting at once (test runs, workers) both end up with the first one's."""
    path = INSTANCE / name
    if not path.exists():
        INSTANCE.mkdir(parents=True, exist_ok=True)
        draft = INSTANCE / f".{name}.{os.getpid()}.{secrets.token_hex(4)}"
        draft.write_text(make_text())
        draft.chmod(0o600)
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text()


def from_env():
    """Build the settings dict read by `create_app`."""
    production = os.environ.get("FAIRSHARE_ENV", "development") == "production"
    return {
        "ENV_NAME": "production" if production else "development",
        "SECRET_KEY": _secret_key(production),
        **_field_keys(production),
        # Uploaded documents and import files: outside the web root, under generated names.
        "UPLOAD_DIR": os.environ.get("UPLOAD_DIR", str(INSTANCE / "uploads")),
        "MAX_DOCUMENT_BYTES": int(os.environ.get("MAX_DOCUMENT_BYTES", str(10 * 1024 * 1024))),
        "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE / 'fairshare.db'}"),
        "DATABASE_POOL_SIZE": int(os.environ.get("DATABASE_POOL_SIZE", "10")),
        # The job queue itself (REDIS_URL or JOBS_SQLITE_PATH) is chosen in core/jobs.py at import time.
        "JOBS_IMMEDIATE": _bool("JOBS_IMMEDIATE"),
        "INSTANCE_PATH": str(INSTANCE),
        "BACKUP_DIR": os.environ.get("BACKUP_DIR", str(INSTANCE / "backups")),
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", production),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": int(os.environ.get("SESSION_LIFETIME_SECONDS", str(12 * 3600))),
        # The server refuses a session this long after login whatever the cookie says
        # (core.auth.load_logged_in_user), so sliding the cookie's expiry on every
        # request gains nothing and re-signs and re-sends the cookie on every page.
        # The cookie is still written whenever the session changes (login, CSRF token).
        "SESSION_REFRESH_EACH_REQUEST": False,
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_CSRF_HEADERS": ["X-CSRFToken"],
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_UPLOAD_BYTES", str(20 * 1024 * 1024))),
        "LANGUAGES": ["zh_CN", "en"],
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "BABEL_TRANSLATION_DIRECTORIES": str(ROOT / "translations"),
        "LOGIN_MAX_FAILURES_PER_ACCOUNT": int(os.environ.get("LOGIN_MAX_FAILURES_PER_ACCOUNT", "5")),
        "LOGIN_MAX_FAILURES_PER_ADDRESS": int(os.environ.get("LOGIN_MAX_FAILURES_PER_ADDRESS", "20")),
        "LOGIN_THROTTLE_WINDOW_SECONDS": int(os.environ.get("LOGIN_THROTTLE_WINDOW_SECONDS", "900")),
        "PAGE_SIZE": 50,
        # Rendered fragments kept per worker (core/cache.py); 0 turns the cache off.
        "FRAGMENT_CACHE_SIZE": int(os.environ.get("FRAGMENT_CACHE_SIZE", "256")),
        # Behind a reverse proxy: how many X-Forwarded-For hops to trust for the client address.
        "PROXY_FIX_X_FOR": int(os.environ.get("PROXY_FIX_X_FOR", "0")),
    }
