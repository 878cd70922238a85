"""Reading tabular files for imports: CSV (UTF-8 with or without a BOM, UTF-16,
GBK/GB18030; comma, semicolon or tab) or XLSX, the format told from the bytes;
the header row and the data rows with the numbers the user sees; the parsers of
single cells, and the refused cell (RowError) with its reason in the reader's
language. Shared by every import (people, clock events, CS logs).
"""
import codecs
import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from flask_babel import gettext as _, lazy_gettext as _l

from portal.core.errors import ServiceError

MAX_IMPORT_BYTES = 20 * 1024 * 1024
MAX_IMPORT_ROWS = 200_000
MAX_XLSX_UNPACKED_BYTES = 256 * 1024 * 1024  # a workbook is a zip: refuse one that would unpack to more


# --- reasons a row is refused -----------------------------------------------------------------------

# code → lazy text with %(…)s parameters, or a function of the parameters; each import declares its own.
ROW_ERRORS = {
    "required": _l("This value is required."),
    "too_long": _l("Use at most %(max)s characters."),
    "bad_date": _l("“%(value)s” is not a date. Write it as YYYY-MM-DD, for example 2024-03-01."),
    "bad_integer": _l("“%(value)s” is not a whole number."),
    "out_of_range": _l("Enter a number from %(min)s to %(max)s."),
    "duplicate_in_file": _l("“%(value)s” is already in row %(row)s of this file."),
}


def declare_row_errors(reasons):
    """Add an import's reasons (a code means the same in every import)."""
    ROW_ERRORS.update(reasons)


@dataclass(frozen=True)
class RowError:
    """One refused cell: `row` as the spreadsheet numbers it (the header is row 1),
    `column` the file's column header (or the field's name), `code` a key of ROW_ERRORS
    (declared with declare_row_errors)."""

    row: int
    column: str
    code: str
    params: dict = field(default_factory=dict)

    @property
    def message(self):
        """The reason in the reader's language."""
        reason = ROW_ERRORS[self.code]
        if callable(reason):
            return reason(self.params)
        return str(reason) % self.params if self.params else str(reason)

    def as_json(self):
        return [self.row, self.column, self.code, self.params]


class CellError(Exception):
    def __init__(self, code, **params):
        super().__init__(code)
        self.code, self.params = code, params



# --- reading cells ----------------------------------------------------------------------------------

def cell_text(value):
    """A cell as text: Excel gives numbers as floats (1234.0 is the number 1234)."""
    if value.__class__ is str:  # CSV cells, the most of them
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()[:10]
    return str(value).strip()


def text(max_length, upper=False):
    def parse(value):
        result = cell_text(value)
        if len(result) > max_length:
            raise CellError("too_long", max=max_length)
        return result.upper() if upper else result

    return parse


DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日", "%d.%m.%Y")


def parse_date(value):
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raw = cell_text(value)
    candidate = raw.split(" ")[0].split("T")[0] if len(raw) > 10 else raw  # "2024-03-01 00:00:00"
    for pattern in DATE_FORMATS:
        try:
            return dt.datetime.strptime(candidate, pattern).date()
        except ValueError:
            continue
    raise CellError("bad_date", value=raw)


def integer(minimum, maximum):
    def parse(value):
        raw = cell_text(value)
        try:
            number = int(raw)
        except ValueError:
            raise CellError("bad_integer", value=raw) from None
        if not minimum <= number <= maximum:
            raise CellError("out_of_range", min=minimum, max=maximum)
        return number

    return parse



# --- columns ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ImportField:
    """A field a file may fill: its parser, and the column names it is recognised by
    (besides its own name), in the languages the group's files come in."""

    name: str
    label: object
    parse: object
    required: bool = False
    aliases: tuple = ()



def header_key(header):
    return re.sub(r"[\s_\-.:：/]+", " ", str(header)).strip().lower()



# --- reading files ----------------------------------------------------------------------------------

@dataclass
class Table:
    """A file's header row and its data rows as (row number, cells)."""

    headers: list
    rows: list


SNIFF_BYTES = 4096
BINARY_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def detect_format(head):
    """"xlsx", "xls" or "csv" from a file's first bytes; None for anything else."""
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):  # the old binary Excel format (and other OLE files)
        return "xls"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "csv"
    return None if b"\x00" in head else "csv"


def decode_text(data):
    """CSV bytes as text: UTF-8 with or without a BOM, UTF-16 with a BOM (Excel's
    "Unicode text"), otherwise GB18030 — the superset of GBK that Chinese Excel writes."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8", errors="strict")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise ServiceError(_("The file's text is neither UTF-8 nor GBK. Save it as CSV UTF-8 and upload it again."),
                           field="file") from None


def _delimiter(first_line):
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    return max(counts, key=counts.get) if any(counts.values()) else ","


def _table_from_rows(row_iter, header_only=False):
    """Header and data rows from an iterator of cell lists; blank rows are skipped
    but keep their number, so reported rows match what the user sees."""
    try:
        headers = next(row_iter)
    except StopIteration:
        raise ServiceError(_("The file is empty."), field="file") from None
    headers = [cell_text(h) for h in headers]
    named = [h for h in headers if h]
    if not named:
        raise ServiceError(_("The first row must name the columns."), field="file")
    duplicates = sorted({h for h in named if named.count(h) > 1})
    if duplicates:
        raise ServiceError(_("Two columns are named “%(column)s”: give every column its own name.",
                             column=duplicates[0]), field="file")
    if header_only:
        return Table(headers, [])
    rows = []
    for number, cells in enumerate(row_iter, 2):
        if any(cell_text(c) for c in cells):
            if len(rows) >= MAX_IMPORT_ROWS:
                raise ServiceError(_("The file has more than %(n)s rows: split it into smaller files.",
                                     n=MAX_IMPORT_ROWS), field="file")
            rows.append((number, list(cells)))
    return Table(headers, rows)


def _read_csv(data, header_only):
    content = decode_text(data)
    if BINARY_CONTROLS.search(content[:SNIFF_BYTES]):  # text in no encoding: some binary file
        raise ServiceError(_("Upload a CSV file or an Excel workbook (.xlsx)."), field="file")
    first_line = content.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=_delimiter(first_line))
    try:
        return _table_from_rows(iter(reader), header_only)
    except csv.Error:
        raise ServiceError(_("The file is not a readable CSV file."), field="file") from None


def _read_xlsx(path, header_only):
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(path) as archive:
            if "xl/workbook.xml" not in archive.namelist():
                raise ServiceError(_("The file is a zip archive, not an Excel workbook."), field="file")
            if sum(member.file_size for member in archive.infolist()) > MAX_XLSX_UNPACKED_BYTES:
                raise ServiceError(_("The workbook is too large: split it into smaller files."), field="file")
        # Opened as a file: openpyxl judges a path by its extension, and stored files have none.
        with path.open("rb") as handle:
            workbook = load_workbook(handle, read_only=True, data_only=True)
            try:
                sheet = workbook.worksheets[0]
                return _table_from_rows(iter(sheet.iter_rows(values_only=True)), header_only)
            finally:
                workbook.close()
    except ServiceError:
        raise
    except Exception:  # a damaged workbook fails in zipfile, XML or openpyxl in many ways: all mean the same
        raise ServiceError(_("The workbook cannot be read. Open it in Excel, save it as .xlsx and try again."),
                           field="file") from None


def read_table(path, header_only=False):
    """The file at `path` (CSV or XLSX, told from its bytes) as a Table (without
    its rows when `header_only`)."""
    path = Path(path)
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    file_format = detect_format(head)
    if file_format == "xlsx":
        return _read_xlsx(path, header_only)
    if file_format == "csv":
        return _read_csv(path.read_bytes(), header_only)
    if file_format == "xls":
        raise ServiceError(_("Old .xls workbooks are not read: save it as .xlsx or CSV."), field="file")
    raise ServiceError(_("Upload a CSV file or an Excel workbook (.xlsx)."), field="file")


def mapped_rows(table, mapping):
    """(row number, {field: cell}) for each data row, through the mapping {field: header}."""
    positions = {name: table.headers.index(header) for name, header in mapping.items()}
    for number, cells in table.rows:
        yield number, {name: (cells[i] if i < len(cells) else None) for name, i in positions.items()}

