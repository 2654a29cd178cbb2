"""The printed notice: A4/A3, totals, sign-off, and a QR code that decodes to the record's
address with its chain hash; the record page then says whether the paper matches."""

import datetime
import re

import pytest
import segno

from disclosure import notice
from tests.disclosure.factories import draft, line, people, publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def p(tree):
    return people(tree)


@pytest.fixture
def record(tree, p):
    record = draft(tree["village"], p.committee, title="2025年3月财务公开")
    line(record, p.committee, income="12000.00", description="鱼塘承包费")
    line(record, p.committee, expense="286.50", description="办公用品")
    return publish(record, committee=p.committee, supervisor=p.supervisor)


def svg_matrix(svg: str) -> list[list[bool]]:
    """Read the dark modules back out of the notice's QR <path> (quiet zone removed)."""
    size = int(re.search(r'viewBox="0 0 (\d+) \1"', svg).group(1))
    grid = [[False] * size for _ in range(size)]
    path = re.search(r'<path fill="#000000" d="([^"]+)"', svg).group(1)
    for x, y, width in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\3z", path):
        for dx in range(int(width)):
            grid[int(y)][int(x) + dx] = True
    quiet = notice.QR_QUIET_ZONE
    return [row[quiet:-quiet] for row in grid[quiet:-quiet]]


def qr_svg_in(html: str) -> str:
    return re.search(r'<svg[^>]*class="qr".*?</svg>', html, re.S).group(0)


def test_notice_shows_council_period_totals_and_sign_off(client, record, tree, p):
    html = client.get(f"/disclosure/records/{record.pk}/notice/").content.decode()
    assert "柳树村" in html and "白沙镇" in html and record.title in html
    assert "2025-03-01 – 2025-03-31" in html
    assert "12,000.00" in html and "286.50" in html and "11,713.50" in html
    assert 'class="notice-sheet a4"' in html
    assert p.supervisor.public_name in html and "signature" in html
    assert notice.group_hash(record.chain_entry.entry_hash) in html
    assert notice.group_hash(record.chain_entry.content_hash) in html
    assert "<script" not in html and "style=" not in html


def test_paper_size_is_chosen_by_a_query_parameter(client, record):
    html = client.get(f"/disclosure/records/{record.pk}/notice/?size=A3").content.decode()
    assert 'class="notice-sheet a3"' in html and "?size=A4" in html
    html = client.get(f"/disclosure/records/{record.pk}/notice/?size=A0").content.decode()
    assert 'class="notice-sheet a4"' in html  # anything else: A4


def test_the_stylesheet_defines_both_paper_sizes():
    from pathlib import Path

    css = (Path(__file__).resolve().parents[2] / "static/css/disclosure.css").read_text()
    assert "@page notice-a4 { size: A4" in css and "@page notice-a3 { size: A3" in css
    assert ".notice-sheet.a3 { page: notice-a3;" in css


def test_qr_code_encodes_the_record_url_and_its_entry_hash(client, record):
    html = client.get(f"/disclosure/records/{record.pk}/notice/").content.decode()
    expected = (
        f"http://testserver/disclosure/records/{record.pk}/?check={record.chain_entry.entry_hash}"
    )
    assert (
        notice.qr_payload(
            f"http://testserver{record.get_absolute_url()}", record.chain_entry.entry_hash
        )
        == expected
    )
    matrix = svg_matrix(qr_svg_in(html))
    # the drawn modules are exactly the QR code of the expected text, and of nothing else
    assert matrix == [[bool(m) for m in row] for row in segno.make(expected, error="m").matrix]
    assert matrix != [
        [bool(m) for m in row]
        for row in segno.make(expected.replace("?check=", "?check=0"), error="m").matrix
    ]


def test_qr_code_decodes_with_a_real_reader(client, record):
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    html = client.get(f"/disclosure/records/{record.pk}/notice/").content.decode()
    matrix = svg_matrix(qr_svg_in(html))
    scale, quiet = 6, notice.QR_QUIET_ZONE
    size = (len(matrix) + 2 * quiet) * scale
    image = Image.new("L", (size, size), 255)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                left, top = (x + quiet) * scale, (y + quiet) * scale
                image.paste(0, (left, top, left + scale, top + scale))
    # A phone camera looks for QR codes; with every format allowed, the reader now and then also
    # "finds" a short linear barcode in the modules' pattern.
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    decoded = [result.text for result in found]
    assert decoded == [
        f"http://testserver/disclosure/records/{record.pk}/?check={record.chain_entry.entry_hash}"
    ]


def test_scanning_the_paper_tells_whether_it_matches(client, record):
    entry = record.chain_entry
    html = client.get(f"{record.get_absolute_url()}?check={entry.entry_hash}").content.decode()
    assert "matches this record" in html and "does NOT match" not in html
    spaced = notice.group_hash(entry.content_hash).upper()  # typed from paper, in blocks
    assert (
        "matches this record"
        in client.get(record.get_absolute_url(), {"check": spaced}).content.decode()
    )
    html = client.get(f"{record.get_absolute_url()}?check={'a' * 64}").content.decode()
    assert "does NOT match" in html
    assert "matches this record" not in client.get(record.get_absolute_url()).content.decode()


@pytest.mark.parametrize("who", [None, "resident", "committee", "supervisor"])
def test_unpublished_records_have_no_notice(client, tree, p, who):
    hidden = draft(tree["village"], p.committee, title="草稿")
    if who:
        client.force_login(getattr(p, who))
    assert client.get(f"/disclosure/records/{hidden.pk}/notice/").status_code == 404


def test_long_records_print_totals_by_account(client, tree, p, monkeypatch):
    monkeypatch.setattr(notice, "NOTICE_MAX_LINES", 2)
    record = draft(tree["village"], p.committee, start=datetime.date(2025, 4, 1), title="四月")
    for amount, account in (("10.00", "管理费用"), ("20.00", "管理费用"), ("5.00", "公益")):
        line(record, p.committee, expense=amount, account=account)
    publish(record, committee=p.committee, supervisor=p.supervisor)
    html = client.get(f"/disclosure/records/{record.pk}/notice/").content.decode()
    assert "This record has 3 lines" in html and "管理费用" in html and "30.00" in html
