"""Exceptions services raise; views turn them into field errors or 403/404."""


class ServiceError(Exception):
    """A business rule refused the request. `message` is translated; `field`
    names the form field it belongs next to, if any."""

    def __init__(self, message, field=None):
        super().__init__(str(message))
        self.message = message
        self.field = field


class NotInScope(Exception):
    """The object lies outside the actor's scope for the action: answered as 404."""


class NotAllowed(Exception):
    """The actor may see the object but not do this to it: answered as 403."""
