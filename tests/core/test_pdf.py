"""PDF rendering (core.pdf): CJK text, page numbers, and no fetching outside static files."""
import shutil
import subprocess

import pytest

from portal.core.pdf import StaticOnlyFetcher, css_string, render_pdf

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")


def pdf_text(data):
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True,
                          check=True).stdout.decode()


def test_attendance_pdf_renders_chinese_and_page_numbers(app):
    from portal.time import attendance

    with app.test_request_context():
        data = render_pdf("pdf/base.html", landscape=True, generated_line="生成人 张三 \"quoted\"")
    text = pdf_text(data)
    assert data.startswith(b"%PDF")
    assert "生成人 张三" in text and "page 1 of 1" in text
    assert attendance.STATUS_CODES  # the sheet's template is exercised by the views' tests


def test_css_string_escapes():
    assert str(css_string('a"b\\c<d')) == '"a\\"b\\\\c\\3C d"'


def test_fetcher_refuses_anything_outside_static(app, tmp_path):
    fetcher = StaticOnlyFetcher(app.static_folder)
    with pytest.raises(ValueError):
        fetcher.fetch("http://example.com/x.png")
    with pytest.raises(ValueError):
        fetcher.fetch((tmp_path / "secret.txt").as_uri())
    with pytest.raises(ValueError):
        fetcher.fetch("file:///etc/passwd")
