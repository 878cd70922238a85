"""The CS domain's permissions and object types.

Accounts belong to their store (an org unit); imports, API tokens and attribution
runs to a company; a person's workstations, bindings and appeals to the person
(in scope when the person is). A conversation is in scope where its account's
store is, or where someone credited with it is (a lead sees the conversations
credited to their team, whatever store they came from).
"""
import peewee as pw
from flask_babel import lazy_gettext as _l

from portal.core.permissions import Permission, declare, register_object_type
from portal.cs.models import CsAccount, CsApiToken, CsAttributionRun, CsImport

CS_VIEW, CS_MANAGE, CS_IMPORT, CS_OVERRIDE, CS_EXPORT = declare(
    Permission("cs.view", _l("See customer-service dashboards, conversations and their attribution")),
    Permission("cs.manage", _l("Set up customer-service accounts, sub-accounts, bindings, workstations and API tokens")),
    Permission("cs.import", _l("Import marketplace conversation, message and login logs")),
    Permission("cs.override", _l("Override who is credited with a conversation and decide appeals")),
    Permission("cs.export", _l("Export customer-service figures")),
)

register_object_type("cs_account_id", CsAccount, CsAccount.store, CS_VIEW)
register_object_type("cs_import_id", CsImport, CsImport.company, CS_IMPORT)
register_object_type("cs_api_token_id", CsApiToken, CsApiToken.company, CS_MANAGE)
register_object_type("cs_run_id", CsAttributionRun, CsAttributionRun.company, CS_VIEW)


def conversation_condition(scope, permission):
    """A conversation is in scope where its account's store is, or where someone
    credited with it is (correlated EXISTS: one row checked, nobody listed)."""
    from portal.cs.models import CsAttribution, CsConversation
    from portal.people.models import Employee
    from portal.people.permissions import employee_condition

    by_store = pw.fn.EXISTS(CsAccount.select(pw.SQL("1")).where(
        (CsAccount.id == CsConversation.account) & scope.condition(CsAccount.store, permission)))
    by_person = pw.fn.EXISTS(CsAttribution.select(pw.SQL("1")).join(Employee).where(
        (CsAttribution.conversation == CsConversation.id) & employee_condition(scope, permission)))
    return by_store | by_person


def _register_conversation():
    from portal.cs.models import CsConversation

    register_object_type("cs_conversation_id", CsConversation, None, CS_VIEW, conversation_condition)


_register_conversation()
