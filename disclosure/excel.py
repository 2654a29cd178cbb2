"""Income and expense lines in spreadsheets: the template, tolerant reading, and writing.

Reading streams the first sheet (openpyxl read_only), so a 20,000-line file is read in about a
second without holding the workbook in memory. The header row is found by meaning, not by
exact text: 记账日期, 日期 and Date are all the date column; full-width characters, spaces and a
unit in brackets, e.g. 收入（元）, are ignored. Every problem of every row is collected, so the
preview shows them all at once; nothing is saved here (see services.save_import).

The export writes the same columns as the template, so an exported file can be imported again.
"""

import csv
import datetime
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from disclosure import linecheck

# (key, template header, accepted variants). Variants are compared after normalise_header().
COLUMNS: list[tuple[str, str, tuple[str, ...]]] = [
    (
        "date",
        "日期",
        (
            "日期",
            "记账日期",
            "凭证日期",
            "业务日期",
            "发生日期",
            "date",
            "postingdate",
            "transactiondate",
        ),
    ),
    (
        "voucher",
        "凭证号",
        (
            "凭证号",
            "凭证编号",
            "凭证字号",
            "凭证",
            "凭单号",
            "voucher",
            "voucherno",
            "vouchernumber",
            "voucher#",
        ),
    ),
    (
        "account",
        "科目",
        ("科目", "会计科目", "科目名称", "account", "subject", "accountsubject", "accountname"),
    ),
    (
        "description",
        "摘要",
        ("摘要", "说明", "内容", "事由", "用途", "description", "summary", "memo", "details"),
    ),
    (
        "income",
        "收入",
        ("收入", "收入金额", "借方", "借方金额", "收款", "收款金额", "income", "debit", "in"),
    ),
    (
        "expense",
        "支出",
        (
            "支出",
            "支出金额",
            "贷方",
            "贷方金额",
            "付款",
            "付款金额",
            "expense",
            "expenditure",
            "credit",
            "out",
        ),
    ),
    (
        "counterparty",
        "往来单位",
        (
            "往来单位",
            "对方单位",
            "对方",
            "收付款单位",
            "往来单位或个人",
            "领取人",
            "姓名",
            "counterparty",
            "payee",
            "recipient",
        ),
    ),
    (
        "project",
        "项目编号",
        (
            "项目编号",
            "项目",
            "微实事",
            "微实事项目",
            "微实事编号",
            "project",
            "projectid",
            "projectno",
            "project#",
        ),
    ),
]
KEYS = [key for key, _header, _variants in COLUMNS]
TEMPLATE_HEADERS = {key: header for key, header, _variants in COLUMNS}
REQUIRED = ("date", "description", "income", "expense")
COLUMN_LABELS = {
    "date": _("Date"),
    "voucher": _("Voucher number"),
    "account": _("Account (subject)"),
    "description": _("Description"),
    "income": _("Income (yuan)"),
    "expense": _("Expense (yuan)"),
    "counterparty": _("Counterparty or recipient"),
    "project": _("Micro-project number"),
}
HEADER_SEARCH_ROWS = 10
PROGRESS_EVERY = 1000
MAX_STORED_PROBLEMS = 2000


def normalise_header(text) -> str:
    """'  收入（元） ' -> '收入', 'Voucher No.' -> 'voucherno', '*日期' -> '日期'."""
    text = unicodedata.normalize("NFKC", str(text or "")).lower()
    text = re.sub(r"\(.*?\)|\[.*?\]|【.*?】", "", text)
    return re.sub(r"[\s*:._\-/]+", "", text)


_VARIANTS = {
    normalise_header(variant): key for key, _header, variants in COLUMNS for variant in variants
}


def match_header(row: Iterable) -> tuple[dict[str, int], list[str], list[tuple[str, list[str]]]]:
    """Map column keys to positions. Returns (mapping, ignored headers, duplicated keys)."""
    mapping, ignored, seen = {}, [], {}
    for index, cell in enumerate(row):
        text = linecheck.normalise_text(cell)
        if not text:
            continue
        key = _VARIANTS.get(normalise_header(text))
        if key is None:
            ignored.append(text)
            continue
        seen.setdefault(key, []).append(text)
        mapping.setdefault(key, index)
    duplicates = [(key, headers) for key, headers in seen.items() if len(headers) > 1]
    return mapping, ignored, duplicates


# --- reading ------------------------------------------------------------------------------------


@dataclass
class ReadResult:
    """What a spreadsheet held: every line (with its sheet row) and every problem."""

    columns: dict[str, str] = field(default_factory=dict)  # key -> header as written
    column_letters: dict[str, str] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    lines: list[list] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)
    problem_count: int = 0
    bad_rows: int = 0
    income: Decimal = Decimal("0")
    expense: Decimal = Decimal("0")
    rows_total: int | None = None

    @property
    def ok(self) -> bool:
        return self.problem_count == 0 and bool(self.lines)

    def add_problem(self, code, *, row=None, column=None, params=None) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_STORED_PROBLEMS:
            self.problems.append(
                {"row": row, "column": column, "code": code, "params": params or {}}
            )

    def as_json(self) -> dict:
        return {
            "columns": self.columns,
            "column_letters": self.column_letters,
            "ignored": self.ignored,
            "lines": self.lines,
            "problems": self.problems,
            "problem_count": self.problem_count,
            "bad_rows": self.bad_rows,
            "income": f"{self.income:f}",
            "expense": f"{self.expense:f}",
        }


class FileProblem(Exception):
    """The file as a whole cannot be read as a sheet of lines."""

    def __init__(self, code: str, params: dict | None = None):
        super().__init__(code)
        self.code, self.params = code, params or {}

    @property
    def message(self) -> str:
        return linecheck.message(self.code, self.params)


def sniff(head: bytes) -> str | None:
    """A problem code when the first bytes say this is not an .xlsx (a zip) file."""
    if not head:
        return "empty_file"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "old_xls"
    if not head.startswith(b"PK\x03\x04"):
        return "not_xlsx"
    return None


def open_sheet(source):
    try:
        workbook = load_workbook(source, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as error:
        raise FileProblem("not_xlsx") from error
    except Exception as error:  # openpyxl raises many kinds on damaged files
        raise FileProblem("unreadable") from error
    if not workbook.worksheets:
        workbook.close()
        raise FileProblem("empty_sheet")
    return workbook, workbook.worksheets[0]


def read_lines(
    source,
    *,
    period_start: datetime.date,
    period_end: datetime.date,
    welfare: bool = False,
    funded_projects=frozenset(),
    max_rows: int = 50_000,
    progress: Callable[[int, int | None], None] | None = None,
) -> ReadResult:
    """Read the first sheet of an .xlsx file (a path or a file object) into a ReadResult.

    Raises FileProblem when the file is not a readable sheet of lines; row problems are
    collected in the result instead. `progress(rows_read, rows_total)` is called every
    PROGRESS_EVERY rows.
    """
    workbook, sheet = open_sheet(source)
    result = ReadResult()
    try:
        try:
            dimension_rows = sheet.max_row
        except (ValueError, TypeError, AttributeError):  # no <dimension> element
            dimension_rows = None
        rows = sheet.iter_rows(values_only=True)
        header_row, mapping = None, {}
        seen_anything = False
        for number, row in enumerate(rows, start=1):
            if any(cell not in (None, "") for cell in row):
                seen_anything = True
                mapping, ignored, duplicates = match_header(row)
                if "date" in mapping and "description" in mapping and len(mapping) >= 3:
                    header_row = number
                    if duplicates:
                        raise FileProblem(
                            "duplicate_column",
                            {"columns": "、".join(h for _k, hs in duplicates for h in hs)},
                        )
                    result.ignored = ignored
                    result.columns = {key: str(row[i]).strip() for key, i in mapping.items()}
                    result.column_letters = {
                        key: get_column_letter(i + 1) for key, i in mapping.items()
                    }
                    break
            if number >= HEADER_SEARCH_ROWS:
                break
        if header_row is None:
            raise FileProblem(
                "no_header" if seen_anything else "empty_sheet", {"rows": HEADER_SEARCH_ROWS}
            )
        missing = [key for key in REQUIRED if key not in mapping]
        if missing:
            raise FileProblem(
                "missing_columns",
                {"columns": "、".join(TEMPLATE_HEADERS[key] for key in missing)},
            )
        if dimension_rows:
            result.rows_total = max(dimension_rows - header_row, 0)
        _read_body(
            rows,
            header_row,
            mapping,
            result,
            period_start=period_start,
            period_end=period_end,
            welfare=welfare,
            funded_projects=funded_projects,
            max_rows=max_rows,
            progress=progress,
        )
    finally:
        workbook.close()
    if not result.lines:
        raise FileProblem("no_lines")
    return result


def _read_body(
    rows,
    header_row,
    mapping,
    result,
    *,
    period_start,
    period_end,
    welfare,
    funded_projects,
    max_rows,
    progress,
):
    positions = [(key, mapping.get(key)) for key in KEYS]
    income = expense = Decimal("0")
    read = 0
    for number, row in enumerate(rows, start=header_row + 1):
        read += 1
        if progress and read % PROGRESS_EVERY == 0:
            progress(read, result.rows_total)
        cells = {
            key: (row[index] if index is not None and index < len(row) else None)
            for key, index in positions
        }
        if all(
            value is None or (isinstance(value, str) and not value.strip())
            for value in cells.values()
        ):
            continue  # blank rows between blocks of lines are fine
        if len(result.lines) >= max_rows:
            raise FileProblem("too_many_rows", {"max": max_rows})
        values, problems = linecheck.read_line(
            **cells,
            period_start=period_start,
            period_end=period_end,
            welfare=welfare,
            funded_projects=funded_projects,
        )
        date, project = values["date"], values["project"]
        amounts = {key: values[key] for key in ("income", "expense")}
        texts = {key: values[key] for key in linecheck.TEXT_COLUMNS}
        for problem in problems:
            result.add_problem(
                problem.code, row=number, column=problem.column, params=problem.params
            )
        if problems:
            result.bad_rows += 1
        else:
            income += amounts["income"] or 0
            expense += amounts["expense"] or 0
        result.lines.append(
            [
                number,
                date.isoformat() if date else linecheck.normalise_text(cells["date"]),
                texts["voucher"],
                texts["account"],
                texts["description"],
                _amount_text(amounts["income"], cells["income"]),
                _amount_text(amounts["expense"], cells["expense"]),
                texts["counterparty"],
                project,
                not problems,
            ]
        )
    if progress:
        progress(read, result.rows_total)
    result.income, result.expense = income, expense


def _amount_text(amount: Decimal | None, raw) -> str:
    if amount is not None:
        return f"{amount:f}" if amount else ""
    return linecheck.normalise_text(raw)


# --- writing -------------------------------------------------------------------------------------

HEADER_FILL = PatternFill("solid", fgColor="DDE7F0")
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
WIDTHS = {
    "date": 12,
    "voucher": 10,
    "account": 14,
    "description": 36,
    "income": 14,
    "expense": 14,
    "counterparty": 18,
    "project": 10,
}


def template_workbook() -> bytes:
    """The import template: the header row, one example line, and a sheet of instructions."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "收支明细"
    sheet.append([TEMPLATE_HEADERS[key] for key in KEYS])
    sheet.append(
        [
            datetime.date(2025, 3, 5),
            "记-001",
            "管理费用",
            "购买办公用品",
            None,
            Decimal("286.50"),
            "白沙镇文具店",
            None,
        ]
    )
    for index, key in enumerate(KEYS, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font, cell.fill = Font(bold=True), HEADER_FILL
        sheet.column_dimensions[get_column_letter(index)].width = WIDTHS[key]
    sheet["A2"].number_format = DATE_FORMAT
    sheet["E2"].number_format = sheet["F2"].number_format = MONEY_FORMAT
    sheet.freeze_panes = "A2"
    notes = workbook.create_sheet("填写说明")
    notes.column_dimensions["A"].width = 100
    for text in TEMPLATE_NOTES:
        notes.append([text])
        notes.cell(row=notes.max_row, column=1).alignment = Alignment(wrap_text=True)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


TEMPLATE_NOTES = [
    "填写说明 (How to fill in this sheet)",
    "1. 只填第一个工作表。第一行是列名，不要删除；从第二行起每行一笔收支。示例行请改写或删除。",
    "2. 日期：写成 2025-03-05 或 2025年3月5日，必须在本期（月/季）之内。",
    "3. 收入、支出：每行只填一个，单位为元，最多两位小数（到分），不写负数；冲销请在网站上做更正。",
    "4. 摘要必填；凭证号、科目、往来单位可以不填。项目编号：微实事项目的编号（可不填）。",
    "5. 低保、补贴名单：不得填写身份证号和手机号。",
    "6. 列名也可以写成：记账日期、凭证编号、会计科目、说明、借方、贷方、对方单位，或英文 Date, "
    "Voucher, Account, Description, Income, Expense, Counterparty。",
    "1. Fill in the first sheet only. Keep the header row; one income or expense per row.",
    "2. Dates like 2025-03-05, inside the record's month or quarter. Amounts in yuan, at most two "
    "decimals, either income or expense on each row, never negative.",
]


def _text_cell(sheet, value: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"  # never a formula, whatever the text starts with
    return cell


def export_headers(extra: bool) -> list[str]:
    headers = [TEMPLATE_HEADERS[key] for key in KEYS]
    if extra:
        headers += ["记录编号", "行号", "冲销行"]
    return headers


def line_values(line, *, mask) -> list:
    """One line as export values, in template order."""
    # A welfare line's name column (person_name) is stored masked already; mask again anyway.
    counterparty = mask(line.person_name or line.counterparty) if mask else line.counterparty
    return [
        line.date,
        line.voucher_number,
        line.account,
        line.description,
        line.income if line.income else None,
        line.expense if line.expense else None,
        counterparty,
        line.project_id,
    ]


def write_xlsx(rows: Iterable[tuple[list, list]], *, extra: bool, title: str) -> bytes:
    """rows: (template values, extra values). Write-only: memory stays flat for big ledgers."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("收支明细")
    for index, key in enumerate(KEYS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = WIDTHS[key]
    header = []
    for text in export_headers(extra):
        cell = _text_cell(sheet, text)
        cell.font, cell.fill = Font(bold=True), HEADER_FILL
        header.append(cell)
    sheet.append(header)
    for values, more in rows:
        out = []
        for key, value in zip(KEYS, values, strict=True):
            if key == "date":
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = DATE_FORMAT
            elif key in ("income", "expense"):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = MONEY_FORMAT
            elif key == "project":
                cell = WriteOnlyCell(sheet, value=value)
            else:
                cell = _text_cell(sheet, value or "")
            out.append(cell)
        out += more if extra else []
        sheet.append(out)
    workbook.properties.title = title[:200]
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = str(value)
    # A cell starting with = + - @ would run as a formula when the CSV is opened in Excel.
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_csv(rows: Iterable[tuple[list, list]], *, extra: bool) -> Iterable[str]:
    """CSV text in chunks, UTF-8 with a BOM so that Excel on Chinese Windows reads it right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(export_headers(extra))
    for values, more in rows:
        texts = []
        for key, value in zip(KEYS, values, strict=True):
            if key in ("income", "expense", "date", "project"):
                texts.append(
                    ""
                    if value is None
                    else (
                        f"{value:.2f}"
                        if isinstance(value, Decimal)
                        else str(value)
                        if not isinstance(value, datetime.date)
                        else value.isoformat()
                    )
                )
            else:
                texts.append(_csv_text(value))
        writer.writerow(texts + ([str(v) if v is not None else "" for v in more] if extra else []))
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
