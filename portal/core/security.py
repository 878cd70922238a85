"""Security headers, the login manager's hooks, and the error pages."""
from flask import redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError

from portal.core.auth import load_logged_in_user
from portal.core.errors import NotAllowed, NotInScope
from portal.core.htmx import redirect_for_htmx
from portal.extensions import htmx, login_manager

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

ERROR_TEXTS = {
    400: (_l("Bad request"), _l("The request could not be understood. Check what you entered and try again.")),
    403: (_l("Not allowed"), _l("Your roles do not allow this. Ask your HR or administrator if you need it.")),
    404: (_l("Not found"), _l("There is nothing here, or it is not yours to see.")),
    405: (_l("Not allowed"), _l("This address does not accept that kind of request.")),
    413: (_l("Too large"), _l("The upload is larger than allowed.")),
    500: (_l("Something went wrong"), _l("The error has been logged. Please try again in a moment.")),
}


def error_page(status, detail=None):
    title, text = ERROR_TEXTS[status]
    return render_template("errors/error.html", status=status, title=title, text=detail or text), status


def init_app(app):
    login_manager.login_view = "accounts.login"
    login_manager.session_protection = None  # the session row is the protection; see core.auth

    @login_manager.user_loader
    def load_user(token):
        return load_logged_in_user(token, app.config["PERMANENT_SESSION_LIFETIME"])

    @login_manager.unauthorized_handler
    def unauthorized():
        back_to = request.full_path.rstrip("?") if request.method == "GET" and not htmx else None
        target = url_for("accounts.login", next=back_to)
        return redirect_for_htmx(target) or redirect(target)

    @app.after_request
    def set_security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.endpoint != "static":
            headers.setdefault("Cache-Control", "no-store")
        return response

    for status in (400, 403, 404, 405, 413):
        app.register_error_handler(status, lambda exc, status=status: error_page(status))

    @app.errorhandler(CSRFError)
    def csrf_failed(exc):
        return error_page(400, _l("The form expired or did not come from this site. Reload the page and try again."))

    @app.errorhandler(NotInScope)
    def not_in_scope(exc):
        return error_page(404)

    @app.errorhandler(NotAllowed)
    def not_allowed(exc):
        return error_page(403)

    @app.errorhandler(500)
    def server_error(exc):  # Flask has already logged the traceback
        return error_page(500)
