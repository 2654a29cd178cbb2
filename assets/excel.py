"""The registers in spreadsheets: import with a preview and an all-or-nothing save, and export.

One file imports ONE register (assets, resources or contracts) of one village. The headers are
found by meaning, as the finance import finds them (disclosure.excel.normalise_header): 名称,
资产名称 and Name are all the name column; full-width characters, spaces and a unit in brackets,
e.g. 面积（亩）, are ignored. A contract's payment schedule is a second sheet, 收款计划, with one
row per payment: 合同编号, 应付日期, 金额. docs/assets-import.md describes every column.

Every row is checked twice over: first here (dates, amounts, categories, ID and phone numbers,
codes used twice), then by drafting it through assets.services.draft_entry inside a transaction
that is rolled back, so every rule of the registers (resolutions and thresholds, masking of
persons' names, the payment schedule) gives its own message in the preview. Only a file without
a single problem is kept (RegisterImport, as rows, never as the file); saving drafts every row
again in ONE transaction, and if any row fails nothing is saved.

The export writes the current published version of every entry with the import's headers, so
an export imports again into another village (docs/assets-import.md says what it then needs).
"""

import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from assets import services
from assets.models import (
    CATEGORIES,
    AssetCategory,
    ContractKind,
    CounterpartyKind,
    Disposal,
    Entry,
    EntryVersion,
    Installment,
    Register,
    RegisterImport,
    ResourceCategory,
)
from core.permissions import require_perm
from core.uploads import check_zip_archive
from councils.models import CouncilPage, Level
from disclosure import linecheck
from disclosure import services as disclosure
from disclosure.excel import HEADER_FILL, FileProblem, normalise_header, open_sheet, sniff
from disclosure.privacy import identity_kind, identity_message, mask_name
from meetings.models import Motion

# --- columns -------------------------------------------------------------------------------------

# (key, header written by the template and the export, other headers villages use). Compared
# after normalise_header(), which drops brackets: 面积（亩） is 面积, 账面价值（元） is 账面价值.
CODE = ("code", "编号", ("代码", "资产编号", "资源编号", "合同编号", "code", "no", "number"))
NAME = ("name", "名称", ("资产名称", "资源名称", "合同名称", "项目名称", "name"))
DESCRIPTION = ("description", "说明", ("备注", "描述", "情况说明", "description", "notes"))
RESOLUTION = (
    "resolution",
    "决议编号",
    ("决议", "议案编号", "表决议案编号", "决议议案编号", "resolution", "motion"),
)
AFTER_THE_FACT = ("after_the_fact", "事后补录", ("补录", "事后登记", "afterthefact"))
DISPOSAL = ("disposal", "处分方式", ("处置方式", "处分", "处置", "disposal"))
DISPOSAL_VALUE = (
    "disposal_value",
    "处分金额",
    ("处置金额", "出售价格", "成交价", "成交金额", "disposalvalue"),
)
DISPOSED_ON = ("disposed_on", "处分日期", ("处置日期", "生效日期", "disposedon"))
CATEGORY = (
    "category",
    "类别",
    ("分类", "类型", "资产类别", "资源类别", "资产类型", "资源类型", "category"),
)
LOCATION = (
    "location",
    "坐落位置",
    ("位置", "坐落", "座落", "座落位置", "地点", "所在位置", "location"),
)

COLUMNS: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {
    Register.ASSET: [
        CODE,
        NAME,
        CATEGORY,
        LOCATION,
        (
            "book_value",
            "账面价值",
            ("原值", "账面原值", "资产原值", "原价", "账面金额", "bookvalue", "value"),
        ),
        DISPOSAL,
        DISPOSAL_VALUE,
        DISPOSED_ON,
        RESOLUTION,
        AFTER_THE_FACT,
        DESCRIPTION,
    ],
    Register.RESOURCE: [
        CODE,
        NAME,
        CATEGORY,
        LOCATION,
        ("area", "面积", ("面积亩", "亩数", "面积(亩)", "area")),
        ("boundaries", "四至", ("四至范围", "四至界限", "四至界址", "boundaries")),
        ("map_reference", "图号", ("地图位置", "地块编号", "宗地号", "地图", "mapreference")),
        DISPOSAL,
        DISPOSAL_VALUE,
        DISPOSED_ON,
        RESOLUTION,
        AFTER_THE_FACT,
        DESCRIPTION,
    ],
    Register.CONTRACT: [
        CODE,
        NAME,
        ("contract_kind", "合同类型", ("类型", "合同种类", "承包方式", "kind", "contractkind")),
        ("subject", "标的编号", ("标的", "标的物编号", "资产资源编号", "subject")),
        (
            "counterparty",
            "相对方",
            (
                "承租方",
                "承包方",
                "承租人",
                "承包人",
                "乙方",
                "对方",
                "承租方承包方",
                "counterparty",
            ),
        ),
        (
            "counterparty_kind",
            "相对方类型",
            ("个人或单位", "承租方类型", "承包方类型", "乙方类型", "对方类型", "counterpartykind"),
        ),
        ("starts_on", "起始日期", ("开始日期", "起始时间", "起租日期", "合同起始日期", "startson")),
        ("ends_on", "终止日期", ("结束日期", "到期日期", "截止日期", "合同终止日期", "endson")),
        ("price", "合同总价", ("合同金额", "总价", "总金额", "金额", "价款", "price")),
        RESOLUTION,
        AFTER_THE_FACT,
        DESCRIPTION,
    ],
}
REQUIRED = {
    Register.ASSET: ("name", "category", "book_value"),
    Register.RESOURCE: ("name", "category", "area"),
    Register.CONTRACT: (
        "name",
        "contract_kind",
        "counterparty",
        "counterparty_kind",
        "starts_on",
        "ends_on",
        "price",
    ),
}
SCHEDULE_COLUMNS = [
    ("contract", "合同编号", ("编号", "合同", "contract", "contractcode")),
    ("due_on", "应付日期", ("应收日期", "应缴日期", "到期日", "日期", "dueon", "due")),
    ("amount", "金额", ("应付金额", "应收金额", "应缴金额", "amount")),
]
# The export adds this column after the import's; the import ignores it (事后补录 says it).
IRREGULAR_HEADER = "不规范说明"

SHEET_TITLES = {Register.ASSET: "资产", Register.RESOURCE: "资源", Register.CONTRACT: "合同"}
SHEET_NAMES = {
    Register.ASSET: ("资产", "资产登记", "资产台账", "资产清单", "assets"),
    Register.RESOURCE: ("资源", "资源登记", "资源台账", "资源清单", "resources"),
    Register.CONTRACT: ("合同", "合同登记", "合同台账", "合同清单", "contracts"),
}
SCHEDULE_TITLE = "收款计划"
SCHEDULE_NAMES = ("收款计划", "付款计划", "收款计划表", "缴款计划", "schedule", "payments")

# The words villages write for the choices; the first is what the export writes.
CHOICE_WORDS = {
    "category": {
        AssetCategory.BUILDING: ("房屋建筑物", "房屋", "建筑物", "房产", "厂房", "building"),
        AssetCategory.EQUIPMENT: ("设备设施", "设备", "设施", "机器设备", "equipment"),
        AssetCategory.VEHICLE: ("车辆", "交通工具", "运输工具", "vehicle"),
        AssetCategory.OTHER_ASSET: ("其他资产", "其他", "otherasset", "other"),
        ResourceCategory.LAND: ("土地", "耕地", "农用地", "建设用地", "园地", "land"),
        ResourceCategory.POND: ("鱼塘水面", "鱼塘", "池塘", "水面", "坑塘水面", "水塘", "pond"),
        ResourceCategory.FOREST: ("林地果园", "林地", "山林", "森林", "果园", "forest"),
        ResourceCategory.OTHER_RESOURCE: ("其他资源", "其他", "otherresource", "other"),
    },
    "contract_kind": {
        ContractKind.LEASE: ("租赁", "出租", "租用", "lease"),
        ContractKind.CONTRACTING: ("承包", "发包", "承包经营", "contracting"),
    },
    "counterparty_kind": {
        CounterpartyKind.PERSON: ("个人", "自然人", "村民", "农户", "person"),
        CounterpartyKind.ORGANISATION: (
            "单位",
            "公司",
            "企业",
            "合作社",
            "组织",
            "organisation",
            "organization",
            "company",
        ),
    },
    "disposal": {
        Disposal.SALE: ("出售", "转让", "变卖", "拍卖", "sale"),
        Disposal.WRITE_OFF: ("报废", "核销", "报损", "writeoff"),
    },
}
YES = ("是", "有", "y", "yes", "true", "1", "√", "✓")
NO = ("否", "无", "n", "no", "false", "0", "")

TEXT_KEYS = (
    "code",
    "name",
    "location",
    "boundaries",
    "map_reference",
    "counterparty",
    "description",
)
AMOUNT_KEYS = ("book_value", "area", "price", "disposal_value")
DATE_KEYS = ("starts_on", "ends_on", "disposed_on")
HEADER_SEARCH_ROWS = 10
# Assets/resources/contracts fields whose service errors are shown against a column.
FIELD_COLUMN = {"subject": "subject", "resolution": "resolution", "installments": "schedule"}

FILE_MESSAGES = {
    "empty_sheet": gettext_lazy("The sheet %(sheet)s is empty."),
    "no_header": gettext_lazy(
        "No header row was found in the first %(rows)s rows of the sheet %(sheet)s. The first "
        "row should name the columns, such as %(example)s (download the template)."
    ),
    "no_lines": gettext_lazy("There are no entries below the header row of the sheet %(sheet)s."),
    "too_many_rows": gettext_lazy(
        "The sheet has more than %(max)s entries. Split it into smaller files."
    ),
    "too_large": gettext_lazy("The file is larger than %(mb)s MB."),
    "not_village": gettext_lazy("Only villages and communities keep registers."),
}


def file_message(code: str, params: dict | None = None) -> str:
    """The words for a problem of the file as a whole (the finance import's where they fit)."""
    if code in FILE_MESSAGES:
        try:
            return str(FILE_MESSAGES[code]) % (params or {})
        except KeyError:  # raised by the shared reader without our parameters
            pass
    return linecheck.message(code, params)


def max_rows() -> int:
    """A village's register is a few hundred entries; every row is drafted twice in the request
    (the preview's trial and the save), so the cap keeps both within seconds."""
    return int(getattr(settings, "YISHI_ASSETS_IMPORT_MAX_ROWS", 500))


def max_bytes() -> int:
    return int(getattr(settings, "YISHI_ASSETS_IMPORT_MAX_MB", 5)) * 1024 * 1024


def _variants(columns) -> dict[str, str]:
    return {
        normalise_header(variant): key
        for key, header, variants in columns
        for variant in (header, *variants)
    }


def _choice_words(key: str, register: str) -> dict[str, str]:
    allowed = CATEGORIES[register].values if key == "category" else None
    words = {}
    for value, texts in CHOICE_WORDS[key].items():
        if allowed is not None and value not in allowed:
            continue
        for text in (value, *texts):
            words.setdefault(normalise_header(text), value)
    return words


def choice_label(key: str, value: str) -> str:
    """The Chinese word the template and the export write for a choice."""
    words = CHOICE_WORDS[key].get(value)
    return words[0] if words else value


# --- reading -------------------------------------------------------------------------------------


@dataclass
class Problem:
    row: int | None
    sheet: str
    column: str
    message: str


@dataclass
class Row:
    """One entry as read from the sheet, in the shape draft_entry takes."""

    number: int
    code: str = ""
    fields: dict = field(default_factory=dict)
    subject_code: str = ""
    resolution_id: int | None = None
    after_the_fact: bool = False
    installments: list = field(default_factory=list)  # [(ISO date, amount text)]
    cells: dict = field(default_factory=dict)  # key -> text, for the preview of a bad row
    problems: list[Problem] = field(default_factory=list)
    bad_fields: set = field(default_factory=set)


@dataclass
class Sheet:
    register: str
    title: str
    columns: dict  # key -> "header (letter)"
    ignored: list
    rows: list[Row]
    problems: list[Problem] = field(default_factory=list)  # of the schedule sheet


def _find_sheet(workbook, first, names) -> object | None:
    wanted = {normalise_header(name) for name in names}
    for sheet in workbook.worksheets:
        if normalise_header(sheet.title) in wanted:
            return sheet
    return first


def _header(rows, columns, sheet_title, required_first: str):
    """(header row number, {key: index}, {key: label}, ignored) from the first rows."""
    variants = _variants(columns)
    seen_anything = False
    for number, row in enumerate(rows, start=1):
        if any(cell not in (None, "") for cell in row):
            seen_anything = True
            mapping, seen, ignored = {}, {}, []
            for index, cell in enumerate(row):
                text = linecheck.normalise_text(cell)
                if not text:
                    continue
                key = variants.get(normalise_header(text))
                if key is None:
                    ignored.append(text)
                    continue
                seen.setdefault(key, []).append(text)
                mapping.setdefault(key, index)
            if required_first in mapping and len(mapping) >= 2:
                doubled = [h for hs in seen.values() if len(hs) > 1 for h in hs]
                if doubled:
                    raise FileProblem("duplicate_column", {"columns": "、".join(doubled)})
                labels = {
                    key: f"{str(row[i]).strip()} ({get_column_letter(i + 1)})"
                    for key, i in mapping.items()
                }
                return number, mapping, labels, ignored
        if number >= HEADER_SEARCH_ROWS:
            break
    example = "、".join(header for _key, header, _v in columns[:5])
    raise FileProblem(
        "no_header" if seen_anything else "empty_sheet",
        {"rows": HEADER_SEARCH_ROWS, "sheet": sheet_title, "example": example},
    )


def _blank(values) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def read_register(source, *, register: str, limit: int | None = None) -> Sheet:
    """Read one register (and, for contracts, its 收款计划 sheet) from an .xlsx file.

    Raises FileProblem when the file as a whole cannot be used; the problems of each row are
    collected on the row. Nothing is looked up in the database here.
    """
    limit = limit or max_rows()
    workbook, first = open_sheet(source)
    try:
        sheet = _find_sheet(workbook, first, SHEET_NAMES[register])
        columns = COLUMNS[register]
        rows = sheet.iter_rows(values_only=True)
        header_row, mapping, labels, ignored = _header(rows, columns, sheet.title, "name")
        missing = [key for key in REQUIRED[register] if key not in mapping]
        if missing:
            headers = dict((key, header) for key, header, _v in columns)
            raise FileProblem(
                "missing_columns", {"columns": "、".join(headers[key] for key in missing)}
            )
        result = Sheet(register, sheet.title, labels, ignored, [])
        for number, values in enumerate(rows, start=header_row + 1):
            cells = {key: (values[i] if i < len(values) else None) for key, i in mapping.items()}
            if _blank(cells.values()):
                continue
            if len(result.rows) >= limit:
                raise FileProblem("too_many_rows", {"max": limit})
            result.rows.append(_read_row(number, cells, register, labels, sheet.title))
        if not result.rows:
            raise FileProblem("no_lines", {"sheet": sheet.title})
        if register == Register.CONTRACT:
            schedule = _find_sheet(workbook, None, SCHEDULE_NAMES)
            if schedule is not None and schedule is not sheet:
                _read_schedule(schedule, result, limit)
    finally:
        workbook.close()
    _check_codes(result)
    return result


def _read_row(number: int, cells: dict, register: str, labels: dict, title: str) -> Row:
    row = Row(number=number)

    def problem(key: str, message: str) -> None:
        row.problems.append(Problem(number, title, labels.get(key, ""), message))
        row.bad_fields.add(key)

    for key, value in cells.items():
        text = linecheck.normalise_text(value)
        kind = identity_kind(text)
        if kind:
            problem(key, identity_message(kind))
            text = _("(removed)")  # never shown back, never kept
        row.cells[key] = text
    fields = row.fields
    for key in TEXT_KEYS:
        if key in cells and key not in row.bad_fields:
            fields[key] = row.cells[key]
    row.code = fields.pop("code", "").upper()
    for key in ("category", "contract_kind", "counterparty_kind", "disposal"):
        if key not in cells or key in row.bad_fields:
            continue
        text = row.cells[key]
        value = _choice_words(key, register).get(normalise_header(text), None) if text else ""
        if value is None:
            words = [choice_label(key, v) for v in CHOICE_WORDS[key]]
            if key == "category":
                words = [choice_label(key, v) for v in CATEGORIES[register].values]
            problem(
                key,
                _("“%(value)s” is not one of: %(choices)s.")
                % {"value": text, "choices": "、".join(words)},
            )
            value = text
        fields[key] = value
    for key in AMOUNT_KEYS:
        if key not in cells or key in row.bad_fields:
            continue
        amount, code = linecheck.parse_amount(cells[key])
        if code:
            problem(key, _area_message(code) if key == "area" else linecheck.message(code))
            fields[key] = row.cells[key]
        else:
            fields[key] = f"{amount:f}" if amount is not None else ""
    for key in DATE_KEYS:
        if key not in cells or key in row.bad_fields or row.cells[key] == "":
            continue
        day, code = linecheck.parse_date(cells[key])
        if code:
            problem(key, _("Write a date like 2026-03-15."))
            fields[key] = row.cells[key]
        else:
            fields[key] = day.isoformat()
    if fields.get("counterparty_kind") != CounterpartyKind.ORGANISATION:
        # A person's name is kept only masked; the preview and the kept rows show it so too
        # (and a bad row's cell too, when it is not clearly an organisation's).
        if row.cells.get("counterparty") and "counterparty" not in row.bad_fields:
            row.cells["counterparty"] = mask_name(row.cells["counterparty"])
        if (
            fields.get("counterparty")
            and fields.get("counterparty_kind") == CounterpartyKind.PERSON
        ):
            fields["counterparty"] = mask_name(fields["counterparty"])
    if "subject" in cells and "subject" not in row.bad_fields:
        row.subject_code = row.cells["subject"].upper()
    if "resolution" in cells and "resolution" not in row.bad_fields and row.cells["resolution"]:
        match = re.match(
            r"^\D{0,4}(\d{1,9})$", unicodedata.normalize("NFKC", row.cells["resolution"])
        )
        if match:
            row.resolution_id = int(match.group(1))
        else:
            problem("resolution", _("Write the number of the motion, for example 12."))
    if "after_the_fact" in cells and "after_the_fact" not in row.bad_fields:
        text = normalise_header(row.cells["after_the_fact"])
        if text in YES:
            row.after_the_fact = True
        elif text not in NO:
            problem("after_the_fact", _("Write 是 (yes) or 否 (no), or leave it empty."))
    return row


def _area_message(code: str) -> str:
    if code == "amount_negative":
        return _("An area cannot be negative.")
    if code == "amount_decimals":
        return _("Write the area in mu with at most 2 decimals, for example 12.5.")
    return _("Write the area in mu, for example 12.5.")


def _read_schedule(sheet, result: Sheet, limit: int) -> None:
    """Payments due, one per row, attached to the contract rows by their code."""
    rows = sheet.iter_rows(values_only=True)
    try:
        header_row, mapping, labels, _ignored = _header(
            rows, SCHEDULE_COLUMNS, sheet.title, "contract"
        )
    except FileProblem as problem:
        if problem.code == "empty_sheet":
            return  # the template's empty schedule: no payments given
        raise
    missing = [key for key, header, _v in SCHEDULE_COLUMNS if key not in mapping]
    if missing:
        names = dict((key, header) for key, header, _v in SCHEDULE_COLUMNS)
        raise FileProblem(
            "missing_columns",
            {"columns": "、".join(f"{sheet.title} {names[key]}" for key in missing)},
        )
    by_code = {row.code: row for row in result.rows if row.code}
    read = 0
    for number, values in enumerate(rows, start=header_row + 1):
        cells = {key: (values[i] if i < len(values) else None) for key, i in mapping.items()}
        if _blank(cells.values()):
            continue
        read += 1
        if read > limit * 24:
            raise FileProblem("too_many_rows", {"max": limit * 24})

        def problem(key: str, message: str, number=number) -> None:
            result.problems.append(Problem(number, sheet.title, labels[key], message))

        code = linecheck.normalise_text(cells["contract"]).upper()
        contract = by_code.get(code)
        if contract is None:
            problem(
                "contract",
                _("No contract in the sheet %(sheet)s has the code “%(code)s”.")
                % {"sheet": result.title, "code": code}
                if code
                else _("Give the code of the contract this payment belongs to."),
            )
            continue
        due, date_code = linecheck.parse_date(cells["due_on"])
        amount, amount_code = linecheck.parse_amount(cells["amount"])
        if date_code:
            problem("due_on", _("Write a date like 2026-03-15."))
        if amount_code:
            problem("amount", linecheck.message(amount_code))
        elif amount is None or amount <= 0:
            problem("amount", _("Give the amount due, more than 0."))
        if date_code or amount_code or amount is None or amount <= 0:
            contract.bad_fields.add("schedule")
            continue
        contract.installments.append((due.isoformat(), f"{amount:f}"))


def _check_codes(result: Sheet) -> None:
    first_row: dict[str, int] = {}
    for row in result.rows:
        if not row.code or "code" in row.bad_fields:
            continue
        if row.code in first_row:
            row.problems.append(
                Problem(
                    row.number,
                    result.title,
                    result.columns.get("code", ""),
                    _("The code %(code)s is also used in row %(row)s: each entry needs its own.")
                    % {"code": row.code, "row": first_row[row.code]},
                )
            )
            row.bad_fields.add("code")
        else:
            first_row[row.code] = row.number


# --- the trial and the save ----------------------------------------------------------------------


@dataclass
class Outcome:
    """What an upload would make: each row as it would be drafted, and every problem."""

    register: str
    sheet: str = ""
    columns: dict = field(default_factory=dict)
    ignored: list = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    file_problem: str = ""
    batch: RegisterImport | None = None

    @property
    def ok(self) -> bool:
        return not self.file_problem and not self.problems and bool(self.rows)


class _Rollback(Exception):
    pass


def _lookups(council: CouncilPage, rows) -> tuple[dict, dict]:
    codes = {row["subject_code"] for row in rows if row["subject_code"]}
    subjects = {
        entry.code: entry
        for entry in Entry.objects.filter(
            council=council,
            code__in=codes,
            register__in=(Register.ASSET, Register.RESOURCE),
        )
    }
    ids = {row["resolution_id"] for row in rows if row["resolution_id"]}
    motions = Motion.objects.select_related("session").in_bulk(ids)
    return subjects, motions


def _draft_rows(council, by, register, rows, columns, title) -> tuple[list[dict], list[Problem]]:
    """Draft every row through the service, each in its own savepoint; the caller's
    transaction decides whether anything stays. `rows` are kept-row dicts (_kept)."""
    subjects, motions = _lookups(council, rows)
    headers = {key: header for key, header, _variants in COLUMNS[register]}
    taken = set(
        Entry.objects.filter(
            council=council, code__in=[row["code"] for row in rows if row["code"]]
        ).values_list("code", flat=True)
    )
    shown, problems = [], []
    for row in rows:
        fields = dict(row["fields"])
        bad = set(row.get("bad_fields", ()))
        row_problems = list(row.get("problems", ()))

        def problem(key, message, row=row, row_problems=row_problems):
            # A column the file does not have is named as the template names it.
            label = (
                SCHEDULE_TITLE if key == "schedule" else columns.get(key) or headers.get(key, "")
            )
            row_problems.append(Problem(row["number"], title, label, message))

        if row["code"] in taken and "code" not in bad:
            problem(
                "code",
                _(
                    "This village already has an entry %(code)s. An import only adds new "
                    "entries: change an existing one by a new version on its page."
                )
                % {"code": row["code"]},
            )
            bad.add("code")
        if row["subject_code"]:
            fields["subject"] = subjects.get(row["subject_code"])
            if fields["subject"] is None and "subject" not in bad:
                problem(
                    "subject",
                    _("This village has no asset or resource with the code %(code)s.")
                    % {"code": row["subject_code"]},
                )
                bad.add("subject")
        if row["resolution_id"]:
            fields["resolution"] = motions.get(row["resolution_id"])
            if fields["resolution"] is None:
                problem(
                    "resolution",
                    _("There is no motion number %(n)s.") % {"n": row["resolution_id"]},
                )
                bad.add("resolution")
        version = None
        try:
            with transaction.atomic():
                version = services.draft_entry(
                    council=council,
                    by=by,
                    register=register,
                    fields=fields,
                    code=row["code"],
                    installments=row["installments"],
                    after_the_fact=row["after_the_fact"],
                )
        except ValidationError as error:
            for key, messages in _by_field(error).items():
                column = FIELD_COLUMN.get(key, key)
                if column in bad or (key == "disposal" and "contract_kind" in bad):
                    continue  # already explained by the reading of the cell
                for message in messages:
                    problem(column, message)
        if row_problems or version is None:  # None: explained on the schedule's sheet
            problems += row_problems
            shown.append({"number": row["number"], "ok": False, "cells": row.get("cells", {})})
        else:
            shown.append(_shown(row, version))
    return shown, problems


def _by_field(error: ValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {key: list(value) for key, value in error.message_dict.items()}
    return {"": list(error.messages)}


def _shown(row: dict, version: EntryVersion) -> dict:
    """A row as it will be saved, for the preview (the service's cleaned values)."""
    money = {name: getattr(version, name) for name in AMOUNT_KEYS}
    return {
        "number": row["number"],
        "ok": True,
        "code": version.entry.code,
        "name": version.name,
        "category": version.category,
        "location": version.location,
        "book_value": f"{money['book_value']:f}" if money["book_value"] is not None else "",
        "area": f"{money['area']:f}" if money["area"] is not None else "",
        "price": f"{money['price']:f}" if money["price"] is not None else "",
        "contract_kind": version.contract_kind,
        "counterparty": version.counterparty,
        "counterparty_kind": version.counterparty_kind,
        "subject": version.subject.code if version.subject_id else "",
        "starts_on": version.starts_on.isoformat() if version.starts_on else "",
        "ends_on": version.ends_on.isoformat() if version.ends_on else "",
        "disposal": version.disposal if version.entry.register != Register.CONTRACT else "",
        "resolution": version.resolution_id,
        "installments": len(row["installments"]),
        "irregular": version.irregular_reason,
    }


def _kept(row: Row) -> dict:
    return {
        "number": row.number,
        "code": row.code,
        "fields": row.fields,
        "subject_code": row.subject_code,
        "resolution_id": row.resolution_id,
        "after_the_fact": row.after_the_fact,
        "installments": row.installments,
        "cells": row.cells,
        "bad_fields": sorted(row.bad_fields),
        "problems": row.problems,
    }


def _refuse_unless_importer(by, council: CouncilPage) -> None:
    require_perm(
        by,
        "assets.import_entries",
        council,
        _("Only the village's committee imports its registers."),
    )


def _sniff_upload(upload: UploadedFile) -> None:
    name = (upload.name or "").lower()
    if upload.size is not None and upload.size > max_bytes():
        raise FileProblem("too_large", {"mb": max_bytes() // 2**20})
    upload.seek(0)
    problem = sniff(upload.read(8))
    upload.seek(0)
    if problem is None and not name.endswith((".xlsx", ".xlsm")):
        problem = "not_xlsx"
    if problem:
        raise FileProblem(problem)
    try:
        check_zip_archive(
            upload,
            max_unpacked_bytes=disclosure.max_import_unpacked_bytes(),
            max_members=disclosure.max_import_members(),
        )
    except ValidationError as error:
        if error.code == "zip_too_big":
            raise FileProblem(
                "zip_too_big",
                {
                    "mb": disclosure.max_import_unpacked_bytes() // 2**20,
                    "members": disclosure.max_import_members(),
                },
            ) from error
        raise FileProblem("not_xlsx") from error


def preview_import(*, council: CouncilPage, by, register: str, upload: UploadedFile) -> Outcome:
    """Read an uploaded register and try every row, saving nothing of the registers.

    Every row is drafted through assets.services.draft_entry in a transaction rolled back at
    the end, so the preview says exactly what saving would do, row by row. A file without any
    problem is kept as a RegisterImport (its rows, not the file) for save_import; a file with
    problems is not kept at all.
    """
    _refuse_unless_importer(by, council)
    if register not in Register.values:
        raise ValidationError({"register": _("Choose assets, resources or contracts.")})
    outcome = Outcome(register=register)
    if council.level != Level.VILLAGE:
        outcome.file_problem = file_message("not_village")
        return outcome
    try:
        _sniff_upload(upload)
        sheet = read_register(upload, register=register)
    except FileProblem as problem:
        outcome.file_problem = file_message(problem.code, problem.params)
        return outcome
    outcome.sheet, outcome.columns, outcome.ignored = sheet.title, sheet.columns, sheet.ignored
    kept = [_kept(row) for row in sheet.rows]
    try:
        with transaction.atomic():
            outcome.rows, outcome.problems = _draft_rows(
                council, by, register, kept, sheet.columns, sheet.title
            )
            raise _Rollback
    except _Rollback:
        pass
    outcome.problems += sheet.problems
    outcome.problems.sort(key=lambda p: (p.sheet != sheet.title, p.row or 0))
    if outcome.ok:
        codes = {shown["number"]: shown["code"] for shown in outcome.rows}
        for row in kept:
            row["code"] = codes[row["number"]]  # save makes exactly what the preview showed
            del row["cells"], row["bad_fields"], row["problems"]
        outcome.batch = RegisterImport.objects.create(
            council=council,
            register=register,
            original_name=(upload.name or "").rsplit("/", 1)[-1][:200],
            rows={
                "sheet": sheet.title,
                "columns": sheet.columns,
                "ignored": sheet.ignored,
                "rows": kept,
                "shown": outcome.rows,
            },
            row_count=len(kept),
            created_by=by,
        )
    return outcome


def preview_of(batch: RegisterImport) -> list[dict]:
    """The kept rows as the preview shows them (what the trial drafted, in these words)."""
    return batch.rows.get("shown", [])


@transaction.atomic
def save_import(*, batch: RegisterImport, by) -> list[EntryVersion]:
    """Draft every kept row, all in one transaction: if any row is refused now (a code taken
    since the preview, a resolution withdrawn), nothing is saved and every problem is said."""
    batch = RegisterImport.objects.select_for_update().get(pk=batch.pk)
    council = CouncilPage.objects.get(pk=batch.council_id)
    _refuse_unless_importer(by, council)
    if batch.saved:
        raise ValidationError(_("This file was saved already."))
    kept = batch.rows.get("rows", [])
    rows, problems = _draft_rows(
        council, by, batch.register, kept, batch.rows.get("columns", {}), batch.rows.get("sheet")
    )
    if problems:
        raise ValidationError(
            [
                _("Row %(row)s, %(column)s: %(message)s")
                % {"row": p.row, "column": p.column or _("the whole row"), "message": p.message}
                for p in problems
            ]
        )
    versions = list(
        EntryVersion.objects.filter(
            entry__council=council, entry__code__in=[r["code"] for r in rows]
        )
        .select_related("entry", "record")
        .order_by("entry__code")
    )
    batch.saved, batch.rows = timezone.now(), {}
    batch.save(update_fields=["saved", "rows"])
    return versions


@transaction.atomic
def discard_import(*, batch: RegisterImport, by) -> None:
    """Drop an upload that was not saved."""
    batch = RegisterImport.objects.select_for_update().get(pk=batch.pk)
    _refuse_unless_importer(by, CouncilPage.objects.get(pk=batch.council_id))
    if batch.saved:
        raise ValidationError(_("This file was saved already."))
    batch.delete()


# --- writing -------------------------------------------------------------------------------------

DATE_FORMAT = "yyyy-mm-dd"
MONEY_FORMAT = "#,##0.00"


def _text(sheet, value) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=str(value or ""))
    cell.data_type = "s"  # never a formula, whatever the text starts with
    return cell


def _header_cells(sheet, headers: Iterable[str]) -> list[WriteOnlyCell]:
    cells = []
    for text in headers:
        cell = _text(sheet, text)
        cell.font, cell.fill = Font(bold=True), HEADER_FILL
        cells.append(cell)
    return cells


def _value(sheet, key: str, version: EntryVersion) -> WriteOnlyCell:
    if key == "code":
        return _text(sheet, version.entry.code)
    if key in ("category", "contract_kind", "counterparty_kind", "disposal"):
        value = getattr(version, key)
        if key == "disposal" and version.entry.register == Register.CONTRACT:
            value = ""
        return _text(sheet, choice_label(key, value) if value else "")
    if key in AMOUNT_KEYS:
        cell = WriteOnlyCell(sheet, value=getattr(version, key))
        cell.number_format = MONEY_FORMAT
        return cell
    if key in DATE_KEYS:
        value = getattr(version, key)
        if key == "disposed_on" and version.entry.register == Register.CONTRACT:
            value = None  # a contract takes effect on its first day
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATE_FORMAT
        return cell
    if key == "subject":
        return _text(sheet, version.subject.code if version.subject_id else "")
    if key == "resolution":
        return WriteOnlyCell(sheet, value=version.resolution_id)
    if key == "after_the_fact":
        return _text(sheet, "是" if version.irregular else "")
    if key == "counterparty":
        name = version.counterparty
        # Stored masked already; masked again on the way out, as every exit does.
        if version.counterparty_kind == CounterpartyKind.PERSON:
            name = mask_name(name)
        return _text(sheet, name)
    return _text(sheet, getattr(version, key))


def export_registers(council: CouncilPage | None) -> bytes:
    """The village's registers as an .xlsx: one sheet per register with the current published
    version of each entry, and 收款计划 with the contracts' schedules. Public: only what is
    published, persons' names masked, irregular entries marked. Write-only (flat memory).

    Without a council, the same workbook without entries: the import template."""
    workbook = Workbook(write_only=True)
    schedule_rows = []
    for register in Register.values:
        columns = COLUMNS[register]
        sheet = workbook.create_sheet(SHEET_TITLES[register])
        for index in range(1, len(columns) + 2):
            sheet.column_dimensions[get_column_letter(index)].width = 14
        sheet.append(_header_cells(sheet, [h for _k, h, _v in columns] + [IRREGULAR_HEADER]))
        if council is None:
            continue
        versions = services.current_versions(council, register).select_related("subject")
        if register == Register.CONTRACT:
            versions = versions.prefetch_related(
                Prefetch("installments", queryset=Installment.objects.order_by("due_on", "pk"))
            )
        for version in versions:
            sheet.append(
                [_value(sheet, key, version) for key, _h, _v in columns]
                + [_text(sheet, version.irregular_reason)]
            )
            if register == Register.CONTRACT:
                schedule_rows += [
                    (version.entry.code, i.due_on, i.amount) for i in version.installments.all()
                ]
    sheet = workbook.create_sheet(SCHEDULE_TITLE)
    sheet.append(_header_cells(sheet, [h for _k, h, _v in SCHEDULE_COLUMNS]))
    for code, due, amount in schedule_rows:
        due_cell, amount_cell = WriteOnlyCell(sheet, value=due), WriteOnlyCell(sheet, value=amount)
        due_cell.number_format, amount_cell.number_format = DATE_FORMAT, MONEY_FORMAT
        sheet.append([_text(sheet, code), due_cell, amount_cell])
    notes = workbook.create_sheet("填写说明")
    notes.column_dimensions["A"].width = 100
    for text in NOTES:
        notes.append([_text(notes, text)])
    if council is not None:
        workbook.properties.title = f"{council.title} 三资登记"[:200]
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def template_workbook() -> bytes:
    """The import template: the export's sheets and headers, without entries."""
    return export_registers(None)


NOTES = [
    "填写说明 (How to fill in this workbook)",
    "1. 每次导入一个登记簿：资产、资源或合同。导入时选择登记簿，系统读取同名工作表"
    "（资产/资源/合同），没有同名工作表时读取第一个工作表。第一行是列名，从第二行起每行一条。",
    "2. 编号可以不填，系统按 ZC-001（资产）、ZY-001（资源）、HT-001（合同）顺序编号；"
    "已在本村登记簿中的编号不能再导入（修改请在网站上新增版本）。",
    "3. 类别：资产写 房屋建筑物、设备设施、车辆、其他资产；"
    "资源写 土地、鱼塘水面、林地果园、其他资源。",
    "4. 金额以元为单位，最多两位小数，不写负数；面积以亩为单位。"
    "日期写成 2026-03-01 或 2026年3月1日。",
    "5. 合同：合同类型写 租赁 或 承包；相对方类型写 个人 或 单位"
    "（个人姓名只保存打码后的形式，如 王*英）；标的编号写本村资产或资源的编号。",
    "6. 收款计划：在“收款计划”工作表每行写一笔应收款：合同编号、应付日期、金额；"
    "各笔合计须等于合同总价。",
    "7. 超过乡镇标准的租赁、承包、出售、报废须有村民代表会议或村民会议的决议："
    "在“决议编号”写议案编号。已经发生而没有决议的，在“事后补录”写 是，"
    "登记后公开标明为不规范。",
    "8. 任何单元格都不得填写身份证号和手机号。",
    "9. 导出文件的列与导入相同，可以导入到另一个村；“不规范说明”一列导入时不读取。",
]
