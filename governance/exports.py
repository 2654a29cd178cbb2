"""The dashboard's table as a spreadsheet (governance.views.dashboard): the same villages, in
the same order and with the same filters as on the page, every row on one sheet.

A township's or a district's table is a few hundred rows of figures already computed, so it is
written in the request (cases.exports and disclosure.exports send only the large exports of
records through the task runner). House style of cases.exports: a write-only workbook spooled
to a temporary file, a bold filled header row, text cells never formulas, numbers as numbers.
"""

import tempfile

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from governance.dashboards import Measure, Period, Place, unit_words

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER_FILL = PatternFill("solid", fgColor="DDE7F0")


def _text(sheet, value) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value="" if value is None else str(value))
    cell.data_type = "s"  # never a formula, whatever the text starts with
    return cell


def _number(sheet, value) -> WriteOnlyCell:
    return WriteOnlyCell(sheet, value=None if value is None else float(value))


def ranking_headers(measure: Measure) -> list[str]:
    headers = [
        _("Rank"),
        _("Village"),
        _("Township"),
        f"{measure.label} ({unit_words(measure.unit)})",
    ]
    if measure.metric:
        headers += [_("Counted"), _("Of"), _("What it counts")]
    return headers


def ranking_rows(measure: Measure, rows: list[Place], *, absolute=None) -> list[list]:
    """The table's values, row by row (what the test compares with the page)."""
    found = []
    for place in rows:
        line = [place.rank, place.title, place.township, place.value]
        if measure.metric:
            evidence = place.evidence and (absolute(place.evidence) if absolute else place.evidence)
            line += [place.numerator, place.denominator, evidence or ""]
        found.append(line)
    return found


def write_ranking(council, measure: Measure, period: Period, rows: list[Place], *, request=None):
    """A spooled temporary file (seeked to 0) holding the ranking."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(period.slug)
    headers = ranking_headers(measure)
    for index, width in enumerate([8, 24, 20, 22, 12, 12, 60][: len(headers)], start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    header_cells = []
    for text in headers:
        cell = _text(sheet, text)
        cell.font, cell.fill = Font(bold=True), HEADER_FILL
        header_cells.append(cell)
    sheet.append(header_cells)
    absolute = request.build_absolute_uri if request is not None else None
    for line in ranking_rows(measure, rows, absolute=absolute):
        cells = [
            _number(sheet, line[0]),
            _text(sheet, line[1]),
            _text(sheet, line[2]),
            _number(sheet, line[3]),
        ]
        if measure.metric:
            cells += [_number(sheet, line[4]), _number(sheet, line[5]), _text(sheet, line[6])]
        sheet.append(cells)
    workbook.properties.title = f"{council.title} {measure.label} {period.label}"[:200]
    handle = tempfile.SpooledTemporaryFile(max_size=8 * 2**20)
    workbook.save(handle)
    handle.seek(0)
    return handle


def ranking_filename(council, measure: Measure, period: Period) -> str:
    return f"yishi-{council.pk}-{measure.key}-{period.slug}.xlsx"
