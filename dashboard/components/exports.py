"""Downloads for spreadsheet users: CSV and Excel bytes from a polars frame, with every text cell a
spreadsheet would run as a formula neutralised. Pure (no streamlit).

The neutraliser is `warehouse.spreadsheet` (one rule for every export in the code base: a text cell starting
with = + - @ tab or CR gets a leading single quote; numbers stay numbers).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import polars as pl

from warehouse.spreadsheet import FORMULA_START, neutralise, neutralise_frame

__all__ = ["FORMULA_START", "neutralise", "neutralise_frame", "sheet_name", "to_csv", "to_xlsx"]


def sheet_name(text: str) -> str:
    """A valid Excel sheet name: no []:*?/\\ characters, no apostrophe at either end, at most 31 characters.
    (Sheet names are never evaluated, so they need no neutralising.)"""
    name = re.sub(r"[\[\]:*?/\\]", " ", text).strip("' ")[:31].strip("' ")
    return name or "Data"


def to_csv(df: pl.DataFrame) -> bytes:
    """UTF-8 CSV with a header, text cells neutralised, every text field quoted (RFC 4180)."""
    safe = neutralise_frame(df).rename({c: neutralise(c) for c in df.columns})
    return safe.write_csv(quote_style="non_numeric").encode("utf-8")


def to_xlsx(df: pl.DataFrame, sheet: str = "Data", money_columns: tuple[str, ...] = (),
            percent_columns: tuple[str, ...] = ()) -> bytes:
    """An Excel workbook of one sheet: text written as text (never a formula), numbers as numbers, money with
    thousands separators, shares as percentages, times as Excel dates."""
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
                                   "strings_to_urls": False})
    bold = wb.add_format({"bold": True})
    money = wb.add_format({"num_format": "$#,##0.00####"})
    percent = wb.add_format({"num_format": "0.0%"})
    when = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    day = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws = wb.add_worksheet(sheet_name(sheet))
    formats = [money if c in money_columns else percent if c in percent_columns else None for c in df.columns]
    for j, col in enumerate(df.columns):
        ws.write_string(0, j, neutralise(col), bold)
    for i, row in enumerate(df.iter_rows(), start=1):
        for j, v in enumerate(row):
            if v is None:
                ws.write_blank(i, j, None)
            elif isinstance(v, bool):
                ws.write_boolean(i, j, v)
            elif isinstance(v, (int, float, Decimal)):
                ws.write_number(i, j, float(v), formats[j])
            elif isinstance(v, dt.datetime):
                ws.write_datetime(i, j, v, when)
            elif isinstance(v, dt.date):
                ws.write_datetime(i, j, dt.datetime.combine(v, dt.time()), day)
            else:
                ws.write_string(i, j, neutralise(str(v)))
    ws.set_column(0, max(df.width - 1, 0), 18)
    ws.freeze_panes(1, 0)
    wb.close()
    return buf.getvalue()
