"""Generic formats for any platform: the user maps the columns (the field names
themselves, as the JSON API uses them, are recognised)."""
from flask_babel import lazy_gettext as _l

from portal.connectors.base import ANY_PLATFORM, Connector, register


@register
class GenericConversations(Connector):
    code = "generic_conversations"
    label = _l("Any platform: conversations")
    platform = ANY_PLATFORM
    kind = "conversations"


@register
class GenericMessages(Connector):
    code = "generic_messages"
    label = _l("Any platform: messages")
    platform = ANY_PLATFORM
    kind = "messages"


@register
class GenericLogins(Connector):
    code = "generic_logins"
    label = _l("Any platform: logins")
    platform = ANY_PLATFORM
    kind = "logins"
