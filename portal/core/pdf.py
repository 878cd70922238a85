"""PDF documents: a Jinja template from templates/pdf/ rendered by WeasyPrint.

The templates extend pdf/base.html (A4, CJK fonts, a header and "page X of Y"
footer from @page rules). WeasyPrint may only read our own static files: any
other URL in a document (a user's link, a remote image) is refused, so a PDF
can never make the server fetch something on a user's behalf.
"""
import pathlib
from urllib.parse import unquote, urlsplit

from flask import Response, current_app, render_template
from flask_babel import gettext as _
from markupsafe import Markup
from weasyprint import HTML
from weasyprint.urls import URLFetcher

PDF_MIMETYPE = "application/pdf"


class StaticOnlyFetcher(URLFetcher):
    """Fetches files under the static folder and nothing else."""

    def __init__(self, static_folder):
        super().__init__(allowed_protocols=("file",))
        self.root = pathlib.Path(static_folder).resolve()

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        path = pathlib.Path(unquote(parts.path)).resolve() if parts.scheme == "file" else None
        if path is None or not path.is_relative_to(self.root) or not path.is_file():
            raise ValueError(f"PDF resources come only from static files, not {url!r}")
        return super().fetch(url, headers)


def css_string(value):
    """`value` as a quoted CSS string, for @page margin boxes (a <style> is raw
    text: HTML escaping would show up as "&amp;", and a quote would end the string)."""
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ").replace("<", "\\3C ")
    return Markup(f'"{text}"')


def page_numbers():
    """The footer's "page X of Y" as CSS content, translated, with WeasyPrint's counters."""
    text = _("page %(page)s of %(pages)s", page="\x00page\x00", pages="\x00pages\x00")
    parts = [css_string(part) for part in text.split("\x00")]
    counters = {'"page"': "counter(page)", '"pages"': "counter(pages)"}
    return Markup(" ".join(counters.get(str(part), str(part)) for part in parts))


def render_document(template, **context):
    """`template` rendered with `context` and laid out: a WeasyPrint Document, whose
    pages can be counted or joined with other documents' (`join_documents`)."""
    html = render_template(template, css_string=css_string, page_numbers=page_numbers(), **context)
    static = current_app.static_folder
    return HTML(string=html, base_url=pathlib.Path(static).resolve().as_uri() + "/",
                url_fetcher=StaticOnlyFetcher(static)).render()


def render_pdf(template, **context):
    """The PDF (bytes) of `template` rendered with `context`."""
    return render_document(template, **context).write_pdf()


def join_documents(documents):
    """The PDF (bytes) of several laid-out documents one after the other (each keeps
    its own page numbers); the first one's title and metadata name the whole."""
    pages = [page for document in documents for page in document.pages]
    return documents[0].copy(pages).write_pdf()


def pdf_response(filename, template, **context):
    """`template` as a PDF attachment named `filename`."""
    body = render_pdf(template, **context)
    return Response(body, mimetype=PDF_MIMETYPE,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
