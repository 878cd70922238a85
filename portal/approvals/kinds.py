"""Request kinds: what can be asked for, who approves it by default, and what
happens once it is approved.

A domain declares its kinds in code (`register_kind`, e.g. portal/people/requests.py);
the engine (approvals.services) knows nothing of them beyond this interface. A kind
turns a filled-in form into a `Draft` (checking the requester's scope and the rules
that hold at submission), and `apply` makes the change inside the transaction of the
final approval, checking again what may have changed meanwhile.
"""
import datetime as dt
from dataclasses import dataclass, field
from typing import Callable

from flask_babel import gettext as _

from portal.core.errors import NotInScope, ServiceError

KINDS = {}
MAX_REASON_LENGTH = 2000


@dataclass(frozen=True)
class Draft:
    """What a kind makes of the requester's values: where the request belongs (its
    approvers are those of `unit`) and what it asks. `payload` is plain JSON data that
    `apply` and `describe` read back; `watchers` are users told about it for information."""

    unit: object
    subject: object
    title: str
    payload: dict
    reason: str = ""
    effective_date: dt.date | None = None
    watchers: tuple = ()


@dataclass(frozen=True)
class RequestKind:
    """One kind of request.

    - `default_chain`: built-in role keys, in order ("team_lead", "company_hr"); an
      ApprovalChain row on the request's unit or above overrides it.
    - `load_subject(actor, args)`: the row the request form is about, read from the
      query arguments of /approvals/new/<key> through the actor's scope (NotInScope
      outside it, answered 404).
    - `form(subject, formdata)`: the FlaskForm for a new request, choices filled in.
    - `draft(actor, subject, values)`: a Draft from the form's values (a dict), or a
      ServiceError naming the field; checks the requester may ask for this.
    - `apply(actor, request, payload)`: makes the change, in the final approval's
      transaction; a ServiceError there keeps the request pending.
    - `describe(request, payload)`: [(label, value)] rows for the request page.
    - `on_submit(actor, request, payload)` (optional): in the submitting transaction,
      once the request row exists (e.g. to record the domain's own row pointing at it);
      a ServiceError there refuses the request.
    - `on_close(actor, request, payload, state)` (optional): in the transaction that
      rejects or withdraws the request (`state` "rejected" or "withdrawn").
    """

    key: str
    label: object
    default_chain: tuple
    load_subject: Callable
    form: Callable
    draft: Callable
    apply: Callable
    describe: Callable
    intro: object = None  # a lazy text shown above the form
    subject_args: tuple = field(default=())  # query arguments that name the subject (kept in the form's URL)
    refresh_on: tuple = field(default=())  # fields whose change reloads the form (other choices depend on them)
    on_submit: Callable | None = None
    on_close: Callable | None = None


def register_kind(kind):
    KINDS[kind.key] = kind
    return kind


def kind_or_404(key):
    """The declared kind named `key`; an unknown name answers 404 like a missing object."""
    kind = KINDS.get(key)
    if kind is None:
        raise NotInScope(key)
    return kind


def kind_label(key):
    kind = KINDS.get(key)
    return kind.label if kind is not None else key


def request_reason(values, required=True, max_length=MAX_REASON_LENGTH):
    """The reason a form gives for a request, stripped; refused on the reason field when
    it is missing (unless optional) or longer than `max_length`."""
    reason = (values.get("reason") or "").strip()
    if required and not reason:
        raise ServiceError(_("Say why."), field="reason")
    if len(reason) > max_length:
        raise ServiceError(_("Use at most %(max)d characters.", max=max_length), field="reason")
    return reason
