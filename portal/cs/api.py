"""The JSON push API for systems that send marketplace logs (/api/cs/v1):

    POST /api/cs/v1/conversations | /messages | /logins
    Authorization: Bearer <token>          (an API token, portal.cs.api_tokens)
    {"records": [{"session_id": "S-1", "account": "JD-1", ...}, ...]}

Records carry the generic field names (portal.connectors.base.FIELD_SPECS) and are
checked like the rows of a file, against the token's company only: an account of
another company is unknown. A batch is written whole or not at all, and sending it
again writes nothing. Answers are JSON: 200 with the counts, 401 without a live
token, 400 for a body that is no batch, 413 for too many records, 422 with every
bad record (nothing written). Messages follow the request's Accept-Language.

The routes are public as far as the session login goes: the token is the login,
checked in every view; CSRF does not apply (no cookie authenticates them).
"""
import functools

from flask import Blueprint, g, jsonify, request
from flask_babel import gettext as _

from portal.core.errors import ServiceError
from portal.core.permissions import public
from portal.cs import api_tokens, imports
from portal.extensions import csrf
from portal.org.models import OrgUnit

blueprint = Blueprint("cs_api", __name__, url_prefix="/api/cs/v1")
csrf.exempt(blueprint)

KINDS = tuple(imports.KIND_LABELS)


def _error(status, code, message, **extra):
    response = jsonify({"error": code, "message": str(message), **extra})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="fairshare"'
    return response


def _bearer_token():
    scheme, _sep, secret = request.headers.get("Authorization", "").partition(" ")
    return secret.strip() if scheme.lower() == "bearer" else ""


def token_required(view):
    """The request must carry a live API token (g.api_token); else 401."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        token = api_tokens.authenticate(_bearer_token())
        if token is None:
            return _error(401, "unauthorized", _("Send a valid API token: Authorization: Bearer <token>."))
        g.api_token = token
        return view(*args, **kwargs)

    return public(wrapper)


def _records():
    """The body's list of records, or a response refusing the body."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        return None, _error(400, "bad_request", _('Send a JSON object {"records": [...]}.'))
    records = body["records"]
    if len(records) > imports.MAX_API_RECORDS:
        return None, _error(413, "too_many_records", _("Send at most %(n)s records per batch.",
                                                       n=imports.MAX_API_RECORDS), max=imports.MAX_API_RECORDS)
    return records, None


def _row_error(error):
    return {"record": error.row, "field": error.column, "code": error.code, "message": error.message}


@blueprint.route("/<any(conversations, messages, logins):kind>", methods=["POST"])
@token_required
def push(kind):
    """A batch of records of `kind` into the token's company."""
    records, refused = _records()
    if refused is not None:
        return refused
    token = g.api_token
    company = OrgUnit.get_by_id(token.company_id)
    try:
        counts, errors = imports.push_records(api_tokens.token_actor(token), company, kind, records,
                                              label=f"API · {token.name} ({token.prefix}…)")
    except ServiceError as error:
        return _error(422, "invalid_batch", error.message, field=error.field)
    if errors:
        return _error(422, "invalid_records", _("%(n)s records have errors; nothing was imported.", n=len(errors)),
                      records=counts["rows"], errors=[_row_error(e) for e in errors])
    return jsonify({"kind": kind, "company": company.code, "records": counts["rows"], "inserted": counts["create"],
                    "skipped_duplicates": counts["existing"], "sub_accounts_created": counts["sub_accounts"]})


@blueprint.errorhandler(413)
def too_large(_exc):
    return _error(413, "too_large", _("The request is too large."))
