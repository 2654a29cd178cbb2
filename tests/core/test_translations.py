"""Every string of the interface has its zh-hans translation."""

import collections
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

PO = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


@pytest.mark.skipif(not shutil.which("msgfmt"), reason="needs gettext's msgfmt")
def test_zh_hans_catalogue_is_complete():
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(PO)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr, result.stderr


def test_compiled_catalogue_is_used(client, db, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    assert "查找村社" in client.get("/councils/search/").content.decode()


# One Chinese string may serve several English ones only when they say the same thing. Messages
# that differ in case, trailing punctuation, an article or a plural ending are the same message;
# any other pair sharing a translation must be listed here, with the reason it is right.
SHARED_TRANSLATIONS = {
    # The glossary's name for a BudgetCycle: residents say 参与式预算, never "budget cycle".
    "参与式预算": {"participatory budget", "budget cycle"},
    # Where a proposal is, where a consultation day or a meeting is held: 地点 in every case.
    "地点": {"where", "location", "place"},
    # The breadcrumb "Home" is the home page.
    "首页": {"home", "home page"},
    # The glossary's name for a hall: a discussion hall is the 民主议事厅.
    "民主议事厅": {"democratic discussion hall", "discussion hall"},
    # A session is any kind of meeting (representatives', assembly, two committees, Party).
    "会议": {"meeting", "session"},
    # Opposing a topic and voting against a motion are both 反对.
    "反对": {"oppose", "against"},
    # A model's singular and plural names: Chinese has no plural.
    "管理记录": {"moderation log entry", "moderation log"},
    # An index of the governance app and its plural ("indexes" is not singularised to "index").
    "指数": {"index", "indexes"},
    # The member who holds a proxy, in the form and in the model.
    "受托人": {"held by", "proxy held by"},
    # The site's name is the second of the five steps (提事 议事 定事 办事 评事).
    "议事": {"yishi", "deliberate"},
    # The bookkeeping column and its glossed label.
    "会计科目": {"account", "account (subject)"},
    # The heading glosses the Chinese word it translates.
    "质询": {"question", "questions (质询)"},
    # The date-time field of an objection's answer, like that of a topic's answer.
    "答复时间": {"answered", "answered at"},
    # A case (事件、诉求、纠纷) is a 事项, the matter a log line's "what" names too.
    "事项": {"case", "what"},
    # A department's kind, like a record's type.
    "类型": {"kind", "type"},
    # When a case was reported or closed: a column "Reported" / "Closed" of dates, and the
    # export's "Reported at" / "Closed at".
    "上报时间": {"reported", "reported at"},
    "办结时间": {"closed", "closed at"},
    # The same category in topics and in cases.
    "环境卫生": {"environment and sanitation", "sanitation and environment"},
    # The glossary's name for the level: 乡镇（街道） already says "or street".
    "乡镇（街道）": {"township", "township / street"},
    # The heading glosses the Chinese word it translates.
    "一周一结": {"weekly summary", "weekly summary (一周一结)"},
    # The figures table's "On time" column shows the on-time rate.
    "按时处置率": {"on time", "on-time rate"},
    # The kinds of contract gloss the Chinese word they translate (assets.ContractKind).
    "租赁": {"Lease", "Lease (租赁)"},
    "承包": {"Contracting", "Contracting (承包)"},
    # The township's thresholds: the page's heading and the model's name.
    "处置审议标准": {"Thresholds for disposals", "disposal thresholds"},
    # A ledger line that pays a contract: the model's name and the record page's panel.
    "合同收款": {"Payments on contracts", "contract receipt"},
    # A note, a remark: 备注 on every form.
    "备注": {"Note", "Remarks"},
    "修改草稿": {"Change the draft", "Edit draft"},
    # The glossary's name for the level, and a register entry's village.
    "村（社区）": {"Village / community", "village"},
    "台账明细": {"a ledger's lines", "ledger line"},
}

_ARTICLES = {"a", "an", "the"}


def _singular(word):
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def _same_message(msgid):
    """What is left of a msgid once case, punctuation, articles and plural endings are gone."""
    words = re.findall(r"[\w%()]+", msgid.lower())
    return " ".join(_singular(w) for w in words if w not in _ARTICLES)


def _catalogue_by_translation():
    import polib

    by_msgstr = collections.defaultdict(set)
    for entry in polib.pofile(str(PO)):
        if entry.obsolete or "fuzzy" in entry.flags:
            continue
        msgstr = entry.msgstr_plural.get(0) if entry.msgid_plural else entry.msgstr
        if msgstr:
            by_msgstr[msgstr].add(entry.msgid)
    return by_msgstr


def test_one_translation_never_serves_unrelated_messages():
    """ "Row" → 进行中, "Paper size" → 纸质: a translation copied from another message reads as
    nonsense to the clerk. Two messages share a Chinese string only when they say the same."""
    wrong = []
    for msgstr, msgids in _catalogue_by_translation().items():
        allowed = {_same_message(m) for m in SHARED_TRANSLATIONS.get(msgstr, ())}
        meanings = {
            "(allowed)" if _same_message(m) in allowed else _same_message(m) for m in msgids
        }
        if len(meanings) > 1:
            wrong.append(f"{msgstr!r} serves {sorted(msgids)}")
    assert not wrong, "\n".join(wrong)


def test_the_shared_translations_allow_list_is_still_needed():
    """Each allowed pair is still in the catalogue, so the list stays short and reviewed."""
    by_msgstr = _catalogue_by_translation()
    stale = []
    for msgstr, allowed in SHARED_TRANSLATIONS.items():
        present = {_same_message(m) for m in by_msgstr.get(msgstr, ())}
        missing = {_same_message(m) for m in allowed} - present
        if missing:
            stale.append(f"{msgstr!r}: {sorted(missing)} no longer translated so")
    assert not stale, "\n".join(stale)


def _visible_text(html):
    html = re.sub(r"<(script|style|svg|template)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_wagtail_admin_speaks_chinese_to_a_committee_member(client, tree, settings):
    """A committee member given access to the admin reads Wagtail's menus in Chinese, and our
    models, menus and columns too, though their phone asks for English."""
    from django.contrib.auth.models import Permission

    from councils.models import Membership, Role
    from tests.councils.factories import member

    settings.LANGUAGE_CODE = "zh-hans"
    clerk = member(tree["village"], Role.COMMITTEE)
    clerk.is_staff = True
    clerk.save()
    clerk.user_permissions.add(
        Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"),
        *Permission.objects.filter(
            content_type__app_label="councils", codename__endswith="membership"
        ),
    )
    client.force_login(clerk)

    page = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    dashboard = _visible_text(page)
    assert "控制面板" in dashboard and "Dashboard" not in dashboard  # Wagtail's own zh-hans
    # Wagtail's "Account" menu keeps Wagtail's word: our bookkeeping "Account" has a context.
    assert "帐号" in dashboard and "会计科目" not in dashboard
    # The sidebar is JSON for the page's script: our menu group "People" reads 成员与户籍 there.
    sidebar = re.search(r'<script id="wagtail-sidebar-props"[^>]*>(.*?)</script>', page, re.S)
    assert "成员与户籍" in json.dumps(json.loads(sidebar.group(1)), ensure_ascii=False)

    listing = _visible_text(client.get("/admin/memberships/").content.decode())
    assert "成员身份" in listing and "村（居）委会成员" in listing and "已核实" in listing
    assert "Memberships" not in listing and "Committee member" not in listing

    membership = Membership.objects.get(user=clerk, role=Role.COMMITTEE)
    edit = _visible_text(client.get(f"/admin/memberships/edit/{membership.pk}/").content.decode())
    assert "申请人填写的门牌号" in edit and "保存" in edit
    assert "House number given" not in edit
