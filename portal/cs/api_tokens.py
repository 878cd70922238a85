"""API tokens of the systems that push marketplace logs (POST /api/cs/v1/…): one per
integration, scoped to a company. Only the SHA-256 of a token is kept; the token
itself is shown once, when created; its prefix lets people tell tokens apart."""
import hashlib
import secrets

from flask_babel import gettext as _, lazy_gettext as _l

from portal.core.audit import declare_actions, record_event
from portal.core.db import database, utcnow
from portal.core.errors import ServiceError
from portal.core.permissions import Actor, Scope, ScopeGrant
from portal.cs.models import CsApiToken
from portal.cs.permissions import CS_IMPORT, CS_MANAGE
from portal.org.models import OrgUnit
from portal.org.services import unit_choices

TOKEN_PREFIX = "fscs_"

declare_actions({
    "cs.api_token_created": _l("CS API token created"),
    "cs.api_token_revoked": _l("CS API token revoked"),
})


def token_digest(secret):
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def manageable_companies(scope):
    return [(unit_id, label.strip()) for unit_id, label in unit_choices(scope, CS_MANAGE, kinds=("company",))]


def list_tokens(actor):
    return list(CsApiToken.select().where(actor.scope.condition(CsApiToken.company, CS_MANAGE))
                .order_by(CsApiToken.revoked_at.is_null(False), CsApiToken.created_at.desc()))


def create_token(actor, company, name):
    """A new token for `company`. Returns (CsApiToken, the token itself — shown once)."""
    actor.require(CS_MANAGE, company)
    name = (name or "").strip()
    if not name:
        raise ServiceError(_("Name the integration."), field="name")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with database.atomic():
        token = CsApiToken.create(company=company, name=name[:80], prefix=secret[:12], token_hash=token_digest(secret),
                                  created_by=actor.user)
        record_event("cs.api_token_created", token, unit=company, actor=actor.user,
                     after={"name": token.name, "prefix": token.prefix})
    return token, secret


def revoke_token(actor, token):
    actor.require(CS_MANAGE, token.company)
    if token.revoked_at is not None:
        raise ServiceError(_("This token is already revoked."))
    with database.atomic():
        CsApiToken.update(revoked_at=utcnow()).where(CsApiToken.id == token.id).execute()
        record_event("cs.api_token_revoked", token, unit=token.company, actor=actor.user,
                     before={"prefix": token.prefix})
    return CsApiToken.get_by_id(token.id)


def authenticate(secret):
    """The live token `secret` is, or None (unknown or revoked)."""
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = CsApiToken.get_or_none(CsApiToken.token_hash == token_digest(secret))
    if token is None or token.revoked_at is not None:
        return None
    CsApiToken.update(last_used_at=utcnow()).where(CsApiToken.id == token.id).execute()
    return token


def token_actor(token):
    """Who acts for a token: nobody in particular, allowed to import into its company only."""
    company = OrgUnit.get_by_id(token.company_id)
    return Actor(None, Scope({CS_IMPORT: {ScopeGrant(company.id, company.path, True)}}))
