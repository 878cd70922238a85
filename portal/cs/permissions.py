"""The CS domain's permissions and object types.

Accounts belong to their store (an org unit), and so do their sub-accounts and
the bindings of both (in scope where the account's store is); imports, API tokens
and attribution runs to a company; a person's registered workstations and appeals
to the person (in scope when the person is). A conversation is in scope where its
account's store is, or where someone credited with it is (a lead sees the
conversations credited to their team, whatever store they came from).
"""
import peewee as pw
from flask_babel import lazy_gettext as _l

from portal.core.permissions import Permission, declare, register_object_type
from portal.cs.models import (CsAccount, CsAccountBinding, CsApiToken, CsAttributionRun, CsImport, CsSubAccount,
                              CsSubAccountBinding, CsWorkstation)
from portal.people.permissions import through_employee

CS_VIEW, CS_MANAGE, CS_IMPORT, CS_OVERRIDE, CS_EXPORT, CS_WORKSTATIONS = declare(
    Permission("cs.view", _l("See customer-service dashboards, conversations and their attribution")),
    Permission("cs.manage", _l("Set up customer-service accounts, sub-accounts, bindings, workstations and API tokens")),
    Permission("cs.import", _l("Import marketplace conversation, message and login logs")),
    Permission("cs.override", _l("Override who is credited with a conversation and decide appeals")),
    Permission("cs.export", _l("Export customer-service figures")),
    # Team leads register their agents' workstations without setting up accounts.
    Permission("cs.workstations", _l("Register the IP addresses and workstations people work from")),
)

register_object_type("cs_account_id", CsAccount, CsAccount.store, CS_VIEW)
register_object_type("cs_import_id", CsImport, CsImport.company, CS_IMPORT)
register_object_type("cs_api_token_id", CsApiToken, CsApiToken.company, CS_MANAGE)
register_object_type("cs_run_id", CsAttributionRun, CsAttributionRun.company, CS_VIEW)


def _account_in_scope(account_field):
    """A scope condition for rows of an account (`account_field` names it): in scope
    where the account's store is (correlated EXISTS, one row checked)."""
    def condition(scope, permission):
        return pw.fn.EXISTS(CsAccount.select(pw.SQL("1")).where(
            (CsAccount.id == account_field) & scope.condition(CsAccount.store, permission)))

    return condition


def _sub_binding_condition(scope, permission):
    return pw.fn.EXISTS(CsSubAccount.select(pw.SQL("1")).join(CsAccount).where(
        (CsSubAccount.id == CsSubAccountBinding.sub_account) & scope.condition(CsAccount.store, permission)))


register_object_type("cs_sub_account_id", CsSubAccount, None, CS_VIEW, _account_in_scope(CsSubAccount.account))
register_object_type("cs_account_binding_id", CsAccountBinding, None, CS_VIEW,
                     _account_in_scope(CsAccountBinding.account))
register_object_type("cs_sub_binding_id", CsSubAccountBinding, None, CS_VIEW, _sub_binding_condition)
register_object_type("cs_workstation_id", CsWorkstation, None, CS_VIEW, through_employee(CsWorkstation))


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
