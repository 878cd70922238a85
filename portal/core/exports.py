"""Spreadsheet-safe exports."""
import csv
import io

from flask import Response

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """Text a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_response(filename, header, rows):
    buffer = io.StringIO()
    buffer.write("\ufeff")  # a BOM so Excel opens UTF-8 (Chinese names) correctly
    writer = csv.writer(buffer)
    writer.writerow([neutralise(str(h)) for h in header])
    writer.writerows([neutralise(v) for v in row] for row in rows)
    return Response(buffer.getvalue(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
