"""One URL, full page or fragment: the htmx convention used by every view."""
from flask import make_response, redirect, render_template
from flask_htmx.responses import HTMXResponseClientRedirect

from portal.extensions import htmx


def wants_fragment():
    """An htmx request that swaps part of a page (a boosted one wants the page)."""
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render(full_template, fragment_template, status=200, **context):
    """Render the fragment for htmx swaps and the full page (which includes it) otherwise."""
    template = fragment_template if wants_fragment() else full_template
    return make_response(render_template(template, **context), status)


def redirect_for_htmx(location):
    """For an htmx request, a client-side redirect (HX-Redirect); otherwise None."""
    return HTMXResponseClientRedirect(location) if htmx else None


def redirect_after_change(location):
    """After a change: htmx follows an HX-Redirect, a plain form a redirect (post/redirect/get)."""
    return redirect_for_htmx(location) or redirect(location)


def add_vary_header(response):
    response.vary.add("HX-Request")
    return response
