"""Uploaded files: what they are (from their bytes, never from their name or
the browser's word), a safe name to show, and where they are kept.

Files live under UPLOAD_DIR/documents/ under a random name without extension,
outside the web root; the name the user gave is only ever displayed (and
offered back as the download name). Types are recognised by magic numbers;
anything else — HTML, SVG, scripts, a web page renamed to .pdf — is refused.
"""
import hashlib
import io
import os
import re
import unicodedata
import uuid
import zipfile
from pathlib import Path

from flask import current_app

MAX_NAME_LENGTH = 120
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif"})
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEXT = "text/plain; charset=utf-8"
# Markup a browser might render or run if it ever sniffed the file: refused even in "plain text".
MARKUP_RE = re.compile(rb"<\s*(?:!doctype|html|head|body|script|svg|iframe|object|embed|meta|\?xml)", re.IGNORECASE)
TEXT_CONTROLS = frozenset(range(0, 32)) - {9, 10, 12, 13}


def detect_content_type(data):
    """The MIME type of `data` from its leading bytes, or None when it is not
    one of the accepted kinds (PDF, PNG, JPEG, WEBP, GIF, DOCX, XLSX, UTF-8 text)."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data.startswith(b"PK\x03\x04"):
        return _office_type(data)
    return TEXT if _is_plain_text(data) else None


# What a file's name says it is, where the name says anything we know.
EXTENSION_TYPES = {
    "pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp",
    "gif": "image/gif", "docx": DOCX, "xlsx": XLSX, "txt": TEXT,
}


def matches_name(filename, content_type):
    """False when the name's extension promises another type than the bytes hold
    (a text or web page named .pdf): such a file is refused, not renamed."""
    extension = filename.rpartition(".")[2].lower() if "." in filename else ""
    return EXTENSION_TYPES.get(extension, content_type) == content_type


def _office_type(data):
    """DOCX or XLSX: a zip holding [Content_Types].xml and the part that names the kind."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    if "word/document.xml" in names:
        return DOCX
    if "xl/workbook.xml" in names:
        return XLSX
    return None


def _is_plain_text(data):
    if not data:
        return False
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    if any(ord(ch) in TEXT_CONTROLS for ch in text):
        return False
    return MARKUP_RE.search(data) is None


def sanitise_filename(name, fallback="document"):
    """The last path component of `name`, without control characters (NUL
    included), leading dots or surrounding spaces, at most MAX_NAME_LENGTH
    characters with its extension kept. For display and download names only."""
    name = re.split(r"[/\\]", name or "")[-1]
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if not unicodedata.category(ch).startswith("C"))
    name = re.sub(r"\s+", " ", name).strip().lstrip(".").strip()
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            name = stem[:MAX_NAME_LENGTH - len(extension) - 1] + "." + extension
        else:
            name = name[:MAX_NAME_LENGTH]
    return name or fallback


def storage_dir():
    return Path(current_app.config["UPLOAD_DIR"]) / "documents"


def stored_path(stored_name):
    """The file behind a stored name; names are ours (hex), checked again anyway."""
    if not re.fullmatch(r"[0-9a-f]{32}", stored_name or ""):
        raise ValueError("not a stored document name")
    return storage_dir() / stored_name


def write_file(data):
    """Keep `data` under a new random name; returns (stored name, sha256 hex)."""
    directory = storage_dir()
    directory.mkdir(parents=True, exist_ok=True)
    stored_name = uuid.uuid4().hex
    temporary = directory / f".{stored_name}.part"
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, directory / stored_name)
    return stored_name, hashlib.sha256(data).hexdigest()


def remove_file(stored_name):
    try:
        stored_path(stored_name).unlink()
    except FileNotFoundError:
        pass
