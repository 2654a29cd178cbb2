"""One source for the rules of a money line: the line form, services.add_line_item and the
spreadsheet import give the same words for the same mistake, because all three ask
disclosure.linecheck. A second copy of a rule in any of them makes this test fail."""

import ast
import pathlib

import pytest
from django.core.exceptions import ValidationError

from disclosure import linecheck, services
from disclosure.forms import LineItemForm
from disclosure.models import LineItem
from tests.disclosure.factories import draft, people
from tests.disclosure.test_excel_import import read, xlsx

pytestmark = pytest.mark.django_db

GOOD = {
    "date": "2025-03-02",
    "voucher": "记-001",
    "account": "管理费用",
    "description": "租金",
    "income": "100.00",
    "expense": "",
    "counterparty": "",
}
BAD = {
    "amount with fen and more": {"income": "1.234"},
    "negative amount": {"income": "-5"},
    "amount in words": {"income": "一百"},
    "too large": {"income": "10000000000000"},
    "both amounts": {"income": "10", "expense": "5"},
    "neither amount": {"income": "", "expense": ""},
    "no description": {"description": ""},
    "no date": {"date": ""},
    "a date in words": {"date": "三月二日"},
    "outside the period": {"date": "2025-04-01"},
    "an ID number": {"description": "补助 110101199003070019"},
    "a mobile number": {"counterparty": "13800138000"},
    "a long voucher": {"voucher": "记" * 41},
    "a long description": {"description": "租" * 201},
}


def _form_messages(record, cells) -> set[str]:
    data = {("voucher_number" if k == "voucher" else k): v for k, v in cells.items()}
    form = LineItemForm(data, record=record)
    assert not form.is_valid()
    return {message for messages in form.errors.values() for message in messages}


def _service_messages(record, by, cells) -> set[str]:
    with pytest.raises(ValidationError) as refused:
        services.add_line_item(
            record=record,
            by=by,
            date=cells["date"],
            description=cells["description"],
            income=cells["income"],
            expense=cells["expense"],
            voucher_number=cells["voucher"],
            account=cells["account"],
            counterparty=cells["counterparty"],
        )
    return set(refused.value.messages)


def _sheet_messages(cells) -> set[str]:
    order = ("date", "voucher", "account", "description", "income", "expense", "counterparty")
    result = read(xlsx([[cells[key] or None for key in order]]))
    return {linecheck.message(p["code"], p["params"]) for p in result.problems}


@pytest.mark.parametrize("change", BAD.values(), ids=BAD.keys())
def test_the_same_bad_line_gets_the_same_words_through_form_service_and_sheet(tree, change):
    p = people(tree)
    record = draft(tree["village"], p.committee)
    cells = {**GOOD, **change}
    form, service, sheet = (
        _form_messages(record, cells),
        _service_messages(record, p.committee, cells),
        _sheet_messages(cells),
    )
    assert form and form == service == sheet
    assert not LineItem.objects.exists()


def test_a_good_line_passes_all_three_paths(tree):
    p = people(tree)
    record = draft(tree["village"], p.committee)
    form = LineItemForm({**GOOD, "voucher_number": GOOD["voucher"]}, record=record)
    assert form.is_valid(), form.errors
    assert read(xlsx([[GOOD[k] or None for k in GOOD]])).ok
    data = {k: v for k, v in form.cleaned_data.items() if k != "project"}
    assert services.add_line_item(record=record, by=p.committee, **data).income == 100


LINE_CODE_PREFIXES = ("date_", "description_", "too_long", "amount_", "id_", "mobile_", "project_")


def test_no_line_rule_is_written_outside_linecheck():
    """The sentences of the line rules appear in linecheck only, and nothing else parses an
    amount with Decimal() or compares with the largest amount."""
    here = pathlib.Path(linecheck.__file__).parent
    line_codes = {code for code in linecheck.MESSAGES if code.startswith(LINE_CODE_PREFIXES)}
    sentences = {str(linecheck.MESSAGES[code]) for code in line_codes}
    for name in ("forms.py", "services.py", "excel.py", "views.py"):
        tree = ast.parse((here / name).read_text())
        literals = {
            node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)
        } & sentences
        assert not literals, f"disclosure/{name} repeats a line rule: {literals}"
        assert "999999999999" not in (here / name).read_text()
