"""What the home page shows: the visitor's own councils and what is happening in them now.

A fixed number of queries whatever the size of the tree (a city has thousands of councils): each
list is one query with a limit, filtered by the person's councils when they are signed in and
city-wide (public things only, most recent first) otherwise. tests/home/test_home_now.py counts.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from budgets.models import Phase, PhaseKind, ProgressStatus, ProgressUpdate
from councils.models import CouncilPage, Membership
from deliberation.models import DISCUSSABLE_STATUSES, Hall, Topic, TopicStatus
from disclosure.models import Record
from meetings.models import Session, SessionStatus

NOW_LIMIT = 5  # items per list
RECENT_RECORD_DAYS = 14  # "just published"
MEETING_DAYS = 7  # "this week"


@dataclass
class Now:
    """The lists of the "happening now" section and where each of the five steps leads."""

    councils: list = field(default_factory=list)  # the person's councils (empty: anonymous)
    chosen: CouncilPage | None = None  # the council the steps lead into
    votes: list = field(default_factory=list)  # current vote phases (with .cycle)
    topics: list = field(default_factory=list)
    records: list = field(default_factory=list)
    meetings: list = field(default_factory=list)
    steps: dict = field(default_factory=dict)  # step -> url


def my_councils(user) -> list[CouncilPage]:
    """The live councils where `user` holds a verified role, villages before the levels above."""
    if not getattr(user, "is_authenticated", False):
        return []
    ids = {council_id for council_id, _role in Membership.objects.verified_rows(user.pk)}
    if not ids:
        return []
    return list(
        CouncilPage.objects.live()
        .filter(pk__in=ids)
        .only("id", "title", "url_path", "path", "depth", "level")
        .order_by("-depth", "title")
    )


def happening_now(user, *, choose: str | None = None) -> Now:
    """Open votes, topics waiting for an answer, records just published and meetings this week:
    in the person's councils when signed in (`choose`, a council id among them, narrows to
    one), city-wide otherwise."""
    now = timezone.now()
    councils = my_councils(user)
    chosen = next((c for c in councils if str(c.pk) == choose), None)
    scope = [chosen] if chosen else councils
    result = Now(councils=councils, chosen=chosen or (councils[0] if councils else None))
    mine = [c.pk for c in scope]
    # A township's or district's budget can be voted on in its villages (sub-budgets).
    above = sorted({path for c in scope for path in c.ancestor_paths()})

    current = Q(starts_at__lte=now, ends_at__gt=now)
    votes = Phase.objects.filter(current, kind=PhaseKind.VOTE).select_related("cycle__council")
    topics = Topic.objects.filter(
        status__in=DISCUSSABLE_STATUSES, answered_at__isnull=True
    ).select_related("hall__council")
    records = Record.objects.published().filter(
        published_at__gte=now - datetime.timedelta(days=RECENT_RECORD_DAYS)
    )
    # In session now, or due within the week (a meeting that never opened drops off after 12 h).
    meetings = Session.objects.filter(
        Q(status=SessionStatus.OPEN)
        | Q(
            status=SessionStatus.SCHEDULED,
            starts_at__lt=now + datetime.timedelta(days=MEETING_DAYS),
            starts_at__gte=now - datetime.timedelta(hours=12),
        )
    )
    progress = ProgressUpdate.objects.select_related("proposal")
    if councils:
        votes = votes.filter(Q(cycle__council_id__in=mine) | Q(cycle__council__path__in=above))
        topics = topics.filter(hall__council_id__in=mine)
        records = records.filter(council_id__in=mine)
        meetings = meetings.filter(council_id__in=mine)
        progress = progress.filter(
            Q(proposal__cycle__council_id__in=mine) | Q(proposal__cycle__council__path__in=above)
        )
    else:
        topics = topics.filter(hall__is_public=True)
        meetings = meetings.filter(is_public=True)

    result.votes = list(votes.order_by("ends_at")[:NOW_LIMIT])
    result.topics = list(topics.order_by("-created")[:NOW_LIMIT])
    result.records = list(records.select_related("council").order_by("-published_at")[:NOW_LIMIT])
    result.meetings = list(meetings.select_related("council").order_by("starts_at")[:NOW_LIMIT])
    result.steps = _steps(user, result, progress, mine)
    return result


def _steps(user, now: Now, progress, mine: list[int]) -> dict[str, str]:
    """Where each of the five steps (提事 议事 定事 办事 评事) leads this person."""
    council = now.chosen
    hall = (
        Hall.objects.filter(council=council).order_by("title").only("id").first()
        if council
        else None
    )
    under_way = (
        progress.exclude(status__in=[ProgressStatus.DONE, ProgressStatus.STOPPED])
        .order_by("-created")
        .first()
    )
    done = progress.filter(status=ProgressStatus.DONE).order_by("-created").first()
    to_rate = None
    if council:
        to_rate = (
            Topic.objects.filter(author=user, answered_at__isnull=False, rating__isnull=True)
            .exclude(status=TopicStatus.MERGED)
            .order_by("-answered_at")
            .only("id")
            .first()
        )
    fallback = council.url if council else "#now"
    steps = {}
    if hall is not None:
        steps["raise"] = reverse("deliberation:raise_topic", args=[hall.pk])
        steps["deliberate"] = reverse("deliberation:hall", args=[hall.pk]) + "?status=open"
    elif council is None:
        steps["raise"] = reverse("account_login") + "?next=/"
        steps["deliberate"] = "#now-topics"
    else:
        steps["raise"] = steps["deliberate"] = fallback
    if now.votes:
        steps["decide"] = reverse("budgets:vote", args=[now.votes[0].cycle_id])
    elif now.meetings:
        steps["decide"] = now.meetings[0].get_absolute_url()
    else:
        steps["decide"] = "#now-votes" if council is None else fallback
    steps["carry_out"] = (
        under_way.proposal.get_absolute_url() if under_way is not None else fallback
    )
    if to_rate is not None:
        steps["evaluate"] = to_rate.get_absolute_url() + "#rating"
    elif done is not None:
        steps["evaluate"] = done.proposal.get_absolute_url()
    else:
        steps["evaluate"] = fallback
    return steps
