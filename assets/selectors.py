"""Read-side queries of the registers' pages and of the council page's section."""

from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.urls import reverse

from assets.models import CATEGORIES, Entry, EntryVersion, Register
from assets.services import RESOLVING_KINDS, current_versions
from councils.models import CouncilPage, Level
from disclosure.models import Status
from meetings.models import Motion, MotionStatus, SessionStatus
from meetings.quorum import Outcome

PER_PAGE = 25


def register_page(council: CouncilPage, register: str, *, page):
    """One page of a register: the current published version of each entry, by code."""
    versions = current_versions(council, register).select_related("subject", "resolution")
    page_obj = Paginator(versions, PER_PAGE).get_page(page)
    for version in page_obj:  # a Page lists its objects once: the labels stay on them
        label_category(version)
    return page_obj


def label_category(version: EntryVersion) -> EntryVersion:
    """Give the version its category's label (`category_label`) for the pages."""
    choices = CATEGORIES.get(version.entry.register)
    labels = dict(choices.choices) if choices else {}
    version.category_label = labels.get(version.category, version.category)
    return version


def register_counts(council: CouncilPage) -> dict:
    """How many entries each register shows the public, and how many of them are irregular."""
    counts = {register: 0 for register in Register.values}
    irregular = 0
    for row in (
        current_versions(council)
        .order_by()
        .values("entry__register")
        .annotate(n=Count("pk"), irregular=Count("pk", filter=Q(irregular=True)))
    ):
        counts[row["entry__register"]] = row["n"]
        irregular += row["irregular"]
    return {"counts": counts, "irregular": irregular}


def unpublished_versions(council: CouncilPage):
    """Versions not yet published (drafts, in review, signed off): for those who see drafts."""
    return (
        EntryVersion.objects.filter(entry__council=council)
        .exclude(record__status=Status.PUBLISHED)
        .select_related("entry", "record")
        .order_by("entry__register", "entry__code", "number")
    )


def entry_versions(entry: Entry, *, with_drafts: bool) -> list[EntryVersion]:
    """The history of an entry, newest first: published versions, and drafts for those who may."""
    versions = entry.versions.select_related("record", "created_by").order_by("-number")
    if not with_drafts:
        versions = versions.filter(record__status=Status.PUBLISHED)
    return list(versions)


def version_detail(version: EntryVersion) -> dict:
    """What a version's page (and an entry's) shows besides the version's own fields."""
    record = version.record
    return {
        "attachments": list(record.attachments.all()),
        "installments": list(version.installments.all()),
        "open_questions": record.questions.filter(answered_at__isnull=True).count()
        if record.is_published
        else 0,
    }


def carried_motions(council: CouncilPage):
    """Motions that may allow a disposal: carried at a closed representatives' meeting or
    villagers' assembly of this village, newest first (assets.services.resolution_problem)."""
    return (
        Motion.objects.filter(
            session__council=council,
            session__kind__in=RESOLVING_KINDS,
            session__status=SessionStatus.CLOSED,
            status=MotionStatus.CLOSED,
            result=Outcome.PASSED,
        )
        .select_related("session")
        .order_by("-closed_at", "-pk")
    )


def subject_entries(council: CouncilPage):
    """The assets and resources a contract of this village may be about."""
    return Entry.objects.filter(
        council=council, register__in=(Register.ASSET, Register.RESOURCE)
    ).order_by("register", "code")


def registers_section(council: CouncilPage, user) -> dict | None:
    """Section provider for the council page: a village's registers, counted."""
    if council.level != Level.VILLAGE:
        return None
    found = register_counts(council)
    return {
        "asset_registers": {
            "url": reverse("assets:registers", args=[council.pk]),
            "counts": [
                (Register(register).label, found["counts"][register])
                for register in Register.values
            ],
            "irregular": found["irregular"],
        }
    }
