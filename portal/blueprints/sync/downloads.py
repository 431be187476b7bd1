"""A master-data list as a file: CSV that Excel opens in the user's language, or a workbook.

CSV for Dutch users is what Dutch Excel reads: ``;`` between fields and a decimal comma; for
English users ``,`` and a decimal point. Both start with a UTF-8 byte order mark (so Excel reads
accents right). Amounts, percentages and numbers are written from Decimal, never from float;
dates as ISO dates. The workbook holds real numbers and dates, formatted.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal

from flask import Response
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from portal.blueprints.sync import helpers
from portal.exact.entities import Column, Kind, SyncEntity

Batch = tuple[list[dict], dict[str, dict[str, str]]]  # Exact rows, names of their references
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _headers(entity: SyncEntity) -> list[str]:
    headers = []
    for column in entity.columns:
        headers.append(str(column.label))
        if column.kind == Kind.REFERENCE:
            headers.append(_("%(column)s (name)", column=column.label))
    return headers


def _cells(entity: SyncEntity, row: dict, names) -> list[tuple[Column, helpers.Cell, bool]]:
    """(column, cell, is the name of a reference) per file column."""
    out = []
    for column in entity.columns:
        cell = helpers.cell(column, row, names)
        if column.kind == Kind.REFERENCE:
            out.append((column, helpers.Cell(cell.code, cell.code or ""), False))
            out.append((column, helpers.Cell(cell.name, cell.name or ""), True))
        else:
            out.append((column, cell, False))
    return out


def _disposition(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


# --- CSV --------------------------------------------------------------------------------------


def _csv_text(column: Column, cell: helpers.Cell, is_name: bool) -> str:
    value = cell.value
    if value is None:
        return ""
    if is_name or column.kind == Kind.REFERENCE:
        return str(value)
    if column.kind == Kind.MONEY and isinstance(value, Decimal):
        return format_decimal(value, "0.00##")  # no grouping: a number to Excel
    if column.kind == Kind.PERCENT and isinstance(value, Decimal):
        return format_decimal(value * 100, "0.##") + "%"
    if column.kind == Kind.NUMBER and isinstance(value, Decimal):
        return format_decimal(value, "0.######")
    if isinstance(value, datetime):
        return helpers.local_datetime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return cell.text


def csv_response(entity: SyncEntity, batches: Iterable[Batch], filename: str) -> Response:
    dutch = str(get_locale() or "en").startswith("nl")
    delimiter = ";" if dutch else ","

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")

        def flush() -> str:
            text = buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            return text

        writer.writerow(_headers(entity))
        yield "\ufeff" + flush()
        for rows, names in batches:
            for row in rows:
                writer.writerow([_csv_text(*c) for c in _cells(entity, row, names)])
            yield flush()

    return Response(
        lines(),
        mimetype="text/csv",
        content_type="text/csv; charset=utf-8",
        headers=_disposition(filename),
    )


# --- Excel ------------------------------------------------------------------------------------


def _xlsx_cell(sheet, column: Column, cell: helpers.Cell, is_name: bool):
    value = cell.value
    if value is None:
        return None
    if is_name or column.kind == Kind.REFERENCE:
        return str(value)
    if isinstance(value, Decimal):
        out = WriteOnlyCell(sheet, value=value)
        if column.kind == Kind.MONEY:
            out.number_format = "#,##0.00"
        elif column.kind == Kind.PERCENT:
            out.number_format = "0%" if (value * 100) == (value * 100).to_integral() else "0.0#%"
        return out
    if isinstance(value, datetime):
        out = WriteOnlyCell(sheet, value=helpers.local_datetime(value))
        out.number_format = "yyyy-mm-dd hh:mm"
        return out
    if isinstance(value, date):
        out = WriteOnlyCell(sheet, value=value)
        out.number_format = "yyyy-mm-dd"
        return out
    if isinstance(value, bool | int):
        return cell.text if isinstance(value, bool) else value
    return cell.text


def xlsx_response(entity: SyncEntity, batches: Iterable[Batch], filename: str) -> Response:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(entity.label)[:31])
    sheet.append(_headers(entity))
    for rows, names in batches:
        for row in rows:
            sheet.append([_xlsx_cell(sheet, *c) for c in _cells(entity, row, names)])
    body = io.BytesIO()
    workbook.save(body)
    return Response(body.getvalue(), mimetype=XLSX_TYPE, headers=_disposition(filename))
