"""CSV cells a spreadsheet shows as data and never runs as a formula (OWASP CSV injection).

Text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
leading apostrophe; numbers are left alone, so a negative number stays a number.
Used by every CSV export: user text (component names) and far-end text (SIP
reason phrases) both reach these files.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """``value`` as written to a CSV cell: text that could start a formula is quoted."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
