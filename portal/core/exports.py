"""Spreadsheet-safe exports, streamed: an export of 100,000 rows never sits in memory whole."""
import csv
import datetime as dt
import io
import tempfile

from flask import Response, has_request_context, stream_with_context
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_ROWS_PER_CHUNK = 500
XLSX_SPOOL_BYTES = 8 * 1024 * 1024  # larger workbooks go to a temporary file while they are written
STREAM_CHUNK_BYTES = 64 * 1024


def neutralise(value):
    """Text a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _attachment(filename):
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


def _streamed(generator):
    # Rows often come lazily from the database: keep the request (and its connection) until the last one.
    return stream_with_context(generator) if has_request_context() else generator


def csv_response(filename, header, rows):
    """`rows` (any iterable, read lazily) as a UTF-8 CSV attachment, sent in chunks."""

    def chunks():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")  # a BOM so Excel opens UTF-8 (Chinese names) correctly
        writer.writerow([neutralise(str(h)) for h in header])
        for count, row in enumerate(rows, 1):
            writer.writerow([neutralise(v) for v in row])
            if count % CSV_ROWS_PER_CHUNK == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return Response(_streamed(chunks()), mimetype="text/csv; charset=utf-8", headers=_attachment(filename))


def _xlsx_value(value):
    if isinstance(value, str):
        # Control characters are not allowed in the file format: openpyxl would refuse the whole workbook.
        return neutralise(ILLEGAL_CHARACTERS_RE.sub("", value))
    return value


def write_xlsx(target, header, rows, sheet_title="Export"):
    """Write a one-sheet workbook to `target` (a path or binary file) in openpyxl's
    write-only mode, which streams rows to disk instead of keeping them as cells."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title[:31])
    sheet.append([_xlsx_value(str(h)) for h in header])
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=_xlsx_value(value))
            if isinstance(value, dt.date):
                cell.number_format = "yyyy-mm-dd"
            cells.append(cell)
        sheet.append(cells)
    workbook.save(target)


def xlsx_response(filename, header, rows, sheet_title="Export"):
    """`rows` as an XLSX attachment. The workbook is a zip whose index comes last,
    so it is written whole first (to a temporary file once it grows) and then sent in chunks."""
    spool = tempfile.SpooledTemporaryFile(max_size=XLSX_SPOOL_BYTES)
    write_xlsx(spool, header, rows, sheet_title)
    size = spool.tell()
    spool.seek(0)

    def chunks():
        with spool:
            while block := spool.read(STREAM_CHUNK_BYTES):
                yield block

    response = Response(chunks(), mimetype=XLSX_MIMETYPE, headers=_attachment(filename))
    response.content_length = size
    return response
