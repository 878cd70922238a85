"""Documents: the type comes from the bytes, the name is only displayed, files
live under generated names, downloads are attachments — and the attacks fail."""
import base64
import io
import re
import zipfile
from pathlib import Path

import pytest

from factories import SYSTEM, make_document, make_employee, make_user, unit_by_code
from portal.audit.models import AuditEvent
from portal.core.errors import ServiceError
from portal.people import services
from portal.people.documents import DOCX, TEXT, XLSX, detect_content_type, matches_name, sanitise_filename
from portal.people.models import Document

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
HTML_AS_PDF = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
       b'<script>alert(2)</script></svg>')


def office_file(*parts):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in parts:
            archive.writestr(name, "<xml/>")
    return buffer.getvalue()


# --- what a file is -------------------------------------------------------------------------

@pytest.mark.parametrize("data,expected", [
    (PDF, "application/pdf"),
    (PNG, "image/png"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"),
    (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
    (b"GIF89a\x01\x00\x01\x00", "image/gif"),
    (office_file("[Content_Types].xml", "word/document.xml"), DOCX),
    (office_file("[Content_Types].xml", "xl/workbook.xml"), XLSX),
    ("请假说明：因家中有事请假三天。\nThanks!\n".encode(), TEXT),
])
def test_accepted_types_are_recognised_from_their_bytes(data, expected):
    assert detect_content_type(data) == expected


@pytest.mark.parametrize("data", [
    HTML_AS_PDF,
    SVG,
    b"   <html><p>hi</p></html>",
    b"Dear HR,\n<script src=//evil.example/x.js></script>",
    office_file("payload.exe"),
    office_file("[Content_Types].xml", "ppt/presentation.xml"),
    b"PK\x03\x04 truncated zip",
    b"\x00\x01\x02binary\xfe\xff",
    "text with a bell \x07 in it".encode(),
    b"\xc3\x28 invalid utf-8",
    b"",
])
def test_everything_else_is_refused(data):
    assert detect_content_type(data) is None


@pytest.mark.parametrize("filename,content_type,matches", [
    ("a.pdf", "application/pdf", True), ("A.PDF", "application/pdf", True), ("a.pdf", TEXT, False),
    ("scan.jpg", "image/png", False), ("notes", TEXT, True), ("list.csv", TEXT, True),
])
def test_a_name_may_not_promise_another_type(filename, content_type, matches):
    assert matches_name(filename, content_type) is matches


@pytest.mark.parametrize("given,shown", [
    ("../../etc/passwd", "passwd"),
    ("..\\..\\windows\\system32\\x.pdf", "x.pdf"),
    ("劳动合同\x00.pdf", "劳动合同.pdf"),
    ("a\r\nb\tc.pdf", "abc.pdf"),
    ("  .htaccess  ", "htaccess"),
    ("../", "document"),
    ("", "document"),
    ("x" * 300 + ".pdf", "x" * 116 + ".pdf"),
])
def test_file_names_are_sanitised_for_display(given, shown):
    assert sanitise_filename(given) == shown


# --- uploads --------------------------------------------------------------------------------

@pytest.fixture
def person(db):
    return make_employee("EXCN", legal_name="何静")


@pytest.fixture
def uploads(app):
    return Path(app.config["UPLOAD_DIR"]) / "documents"


def stored_files(uploads):
    return sorted(p.name for p in uploads.iterdir()) if uploads.exists() else []


def upload(client, person, data, filename, category="other", title=""):
    return client.post(f"/people/{person.id}/documents",
                       {"doc-file": (io.BytesIO(data), filename), "doc-title": title, "doc-category": category},
                       content_type="multipart/form-data")


def test_a_document_is_stored_under_a_generated_name_with_its_digest(person, hr_cn_client, uploads):
    response = upload(hr_cn_client, person, PDF, "../../劳动合同 2024.pdf", category="contract", title="合同")
    assert response.status_code == 302
    document = Document.get(Document.employee == person.id)
    assert document.original_name == "劳动合同 2024.pdf"
    assert re.fullmatch(r"[0-9a-f]{32}", document.stored_name)
    assert stored_files(uploads) == [document.stored_name]
    assert (uploads / document.stored_name).read_bytes() == PDF
    assert (document.content_type, document.size, document.category) == ("application/pdf", len(PDF), "contract")
    import hashlib

    assert document.sha256 == hashlib.sha256(PDF).hexdigest()
    assert AuditEvent.select().where((AuditEvent.action == "people.document_uploaded")
                                     & (AuditEvent.object_id == str(document.id))).count() == 1


def test_the_download_is_an_attachment_never_sniffed_or_run(person, hr_cn_client):
    upload(hr_cn_client, person, PDF, "..\\..\\劳动合同.pdf")
    document = Document.get(Document.employee == person.id)
    response = hr_cn_client.get(f"/people/documents/{document.id}")
    assert response.status_code == 200 and response.data == PDF
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%E5%8A%B3%E5%8A%A8%E5%90%88%E5%90%8C.pdf" in disposition
    assert ".." not in disposition and "\\" not in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "sandbox"
    assert "no-store" in response.headers["Cache-Control"]


@pytest.mark.parametrize("data,filename", [
    (HTML_AS_PDF, "invoice.pdf"), (SVG, "logo.svg"), (SVG, "logo.png"), (b"MZ\x90\x00binary", "tool.pdf"),
    (b"\n%PDF-1.4 text, not a PDF", "report.pdf"), (PNG, "scan.pdf"),
])
def test_disguised_and_active_files_are_refused_and_nothing_is_kept(person, hr_cn_client, uploads, data, filename):
    response = upload(hr_cn_client, person, data, filename)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "This kind of file is not accepted" in body or "does not match its name" in body
    assert not Document.select().where(Document.employee == person.id).exists()
    assert stored_files(uploads) == []


def test_an_oversized_file_is_refused_with_413_and_nothing_is_kept(person, hr_cn_client, uploads, app):
    app.config["MAX_DOCUMENT_BYTES"] = 1024
    response = upload(hr_cn_client, person, PDF + b"0" * 2000, "big.pdf")
    assert response.status_code == 413
    assert "The file is larger than" in response.get_data(as_text=True)
    assert not Document.select().where(Document.employee == person.id).exists()
    assert stored_files(uploads) == []


def test_a_request_over_the_upload_limit_is_cut_off(person, hr_cn_client, uploads, app):
    app.config["MAX_CONTENT_LENGTH"] = 4096
    response = upload(hr_cn_client, person, PDF + b"0" * 8000, "huge.pdf")
    assert response.status_code == 413
    assert stored_files(uploads) == []


def test_a_failed_transaction_leaves_no_file_behind(person, uploads, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services, "record_event", fail)
    with pytest.raises(RuntimeError):
        services.add_document(SYSTEM, person, PDF, "x.pdf")
    assert stored_files(uploads) == [] and not Document.select().where(Document.employee == person.id).exists()


def test_a_photo_must_be_an_image_and_shows_on_the_profile(person, hr_cn_client):
    refused = hr_cn_client.post(f"/people/{person.id}/photo", {"photo-file": (io.BytesIO(PDF), "me.pdf")},
                                content_type="multipart/form-data")
    assert refused.status_code == 422 and "A photo must be a PNG" in refused.get_data(as_text=True)
    saved = hr_cn_client.post(f"/people/{person.id}/photo", {"photo-file": (io.BytesIO(PNG), "me.png")},
                              content_type="multipart/form-data")
    assert saved.status_code == 302
    photo = services.photo_of(person)
    body = hr_cn_client.get(f"/people/{person.id}").get_data(as_text=True)
    assert f'<img src="/people/documents/{photo.id}"' in body
    assert hr_cn_client.http.get(f"/people/documents/{photo.id}").mimetype == "image/png"


def test_removing_a_document_deletes_the_file_and_keeps_the_history(person, hr_cn_client, uploads):
    document = make_document(person, title="旧合同")
    assert hr_cn_client.post(f"/people/documents/{document.id}/archive").status_code == 302
    assert stored_files(uploads) == []
    assert hr_cn_client.get(f"/people/documents/{document.id}").status_code == 404
    history = hr_cn_client.get(f"/people/{person.id}/history").get_data(as_text=True)
    assert "Document removed" in history and "Document uploaded" in history


# --- who may download -------------------------------------------------------------------------

def test_downloads_follow_the_scope(person, hr_de_client, lead_client):
    document = make_document(person)
    assert hr_de_client.get(f"/people/documents/{document.id}").status_code == 404
    assert lead_client.get(f"/people/documents/{document.id}").status_code == 404  # not in the lead's team


def test_a_person_downloads_their_own_documents_and_nobody_elses(client, person):
    make_user(unit_by_code("EXCN"), username="qa.docs", password="secret-pass-1", role_key="employee")
    mine = make_document(make_employee("EXCN", legal_name="自己", username="qa.docs"))
    theirs = make_document(person)
    client.login("qa.docs", "secret-pass-1")
    assert client.get(f"/people/documents/{mine.id}").status_code == 200
    assert client.get(f"/people/documents/{theirs.id}").status_code == 404


# --- training certificates ----------------------------------------------------------------------

def test_a_training_record_keeps_its_certificate(person, hr_cn_client):
    response = hr_cn_client.post(f"/people/{person.id}/training/new", {
        "course": "消防安全", "provider": "区消防支队", "completed_on": "2024-03-05", "hours": "3.5",
        "result": "passed", "score": "A", "certificate": (io.BytesIO(PDF), "证书.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 302
    [record] = services.training_of(person)
    assert record.certificate.category == "certificate" and record.certificate.original_name == "证书.pdf"
    tab = hr_cn_client.get(f"/people/{person.id}/training", htmx=True).get_data(as_text=True)
    assert "消防安全" in tab and f"/people/documents/{record.certificate_id}" in tab


def test_a_bad_certificate_refuses_the_whole_record(person, hr_cn_client, uploads):
    response = hr_cn_client.post(f"/people/{person.id}/training/new", {
        "course": "消防安全", "completed_on": "2024-03-05", "hours": "3", "result": "passed",
        "certificate": (io.BytesIO(SVG), "cert.svg")}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert services.training_of(person) == [] and stored_files(uploads) == []


def test_add_document_refuses_an_unknown_category(person):
    with pytest.raises(ServiceError) as error:
        services.add_document(SYSTEM, person, PDF, "x.pdf", category="secret")
    assert error.value.field == "category"
