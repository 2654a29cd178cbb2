"""The open read API: public data only, for anyone, read-only (docs/api.md).

Each list shows exactly what the public pages show, through the apps' own public filters
(published records, public halls, published results, published index versions), ordered by one
unique indexed column for cursor pagination. A detail that is not public is a 404, as on the
pages: whether a draft exists is nobody else's business."""

import copy

from django.conf import settings
from django.db.models import Count, Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import mixins, renderers, routers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from api import serializers
from api.etags import ConditionalMixin
from api.filters import (
    COUNCIL_DESCRIPTION,
    Filter,
    apply_filters,
    choice_filter,
    id_filter,
    parse_id,
    parse_month,
    parse_period_start,
)
from api.pagination import OpenDataCursor
from budgets.models import BudgetCycle, Proposal
from budgets.selectors import latest_snapshot
from cases.models import CaseFigure, Category, Whistle
from councils.models import CouncilPage, Level
from deliberation.models import Stance, StanceValue, Topic, TopicCategory, TopicStatus
from disclosure.models import Kind, Record, RecordType
from governance.metrics import METRICS
from governance.models import IndexScore, MetricValue, PeriodKind, VersionStatus

# Index versions whose scores are public: the one in use and the ones it replaced; never drafts.
PUBLIC_VERSION_STATUSES = (VersionStatus.PUBLISHED, VersionStatus.RETIRED)


def _period_filters(level_lookup: str) -> tuple[Filter, ...]:
    return (
        choice_filter("period_kind", "period_kind", _("month or quarter."), PeriodKind.values),
        Filter(
            "period_start",
            "period_start",
            _("The first day of the period: YYYY-MM-DD, or YYYY-MM for its month."),
            parse=parse_period_start,
            openapi_type=OpenApiTypes.STR,
        ),
        choice_filter("level", level_lookup, _("Councils of this level only."), Level.values),
    )


def documented(cls):
    """The view's filters in the OpenAPI schema, from the same declaration that applies them."""
    return extend_schema_view(
        list=extend_schema(parameters=[item.parameter() for item in cls.filters])
    )(cls)


class OpenDataViewSet(ConditionalMixin, viewsets.GenericViewSet):
    pagination_class = OpenDataCursor
    filters: tuple[Filter, ...] = ()
    cursor_ordering = "id"
    # Any text reaches get_object, so that a bad id is the API's JSON 404, not the site's page.
    lookup_value_regex = "[^/]+"

    def filter_queryset(self, queryset):
        return apply_filters(queryset, self.filters, self.request.query_params)

    def get_object(self):
        try:
            pk = parse_id(self.kwargs[self.lookup_field])
        except ValueError:
            raise Http404 from None
        return get_object_or_404(self.get_queryset(), pk=pk)


class ListView(mixins.ListModelMixin, OpenDataViewSet):
    pass


class ListDetailView(mixins.RetrieveModelMixin, ListView):
    pass


# --- councils -----------------------------------------------------------------------------------


def _children_of(queryset, parent_id: int):
    parent = CouncilPage.objects.filter(pk=parent_id).values("path", "depth").first()
    if parent is None:
        return queryset.none()
    return queryset.filter(path__startswith=parent["path"], depth=parent["depth"] + 1)


@documented
class CouncilViewSet(ListDetailView):
    """The council tree: city, districts, townships, villages, grids and special councils.
    Ordered as the tree is (by materialised path), so a parent comes before its children."""

    serializer_class = serializers.CouncilSerializer
    cursor_ordering = "path"
    filters = (
        Filter(
            "parent",
            "parent",
            _("Only the councils right under this one (its id)."),
            parse=parse_id,
            openapi_type=OpenApiTypes.INT,
            apply=_children_of,
        ),
        choice_filter("level", "level", _("Councils of this level only."), Level.values),
    )

    def get_queryset(self):
        return CouncilPage.objects.live()

    def get_serializer(self, instance=None, *args, **kwargs):
        # Parents and ancestors of the whole page in one query, from the materialised paths.
        councils = instance if isinstance(instance, list) else [instance]
        paths = {path for council in councils if council for path in council.ancestor_paths()}
        ids_by_path = dict(
            CouncilPage.objects.filter(path__in=paths).values_list("path", "id") if paths else []
        )
        kwargs["context"] = {**self.get_serializer_context(), "council_ids_by_path": ids_by_path}
        return self.get_serializer_class()(instance, *args, **kwargs)


# --- records ------------------------------------------------------------------------------------


@documented
class RecordViewSet(ListDetailView):
    """Published disclosure records (三务公开) with their place in the council's hash chain;
    the detail adds the lines, totals, attachments and corrections. Newest first. Names on
    welfare lists are partly hidden (王*英), as on the record's page."""

    cursor_ordering = "-id"
    filters = (
        id_filter("council", "council_id", COUNCIL_DESCRIPTION),
        choice_filter("kind", "kind", _("party, village or finance."), Kind.values),
        choice_filter("type", "record_type", _("The record's type."), RecordType.values),
    )

    def get_queryset(self):
        records = Record.objects.published().filter(council__live=True)
        if self.action == "retrieve":
            return records.select_related("chain_entry").prefetch_related("attachments")
        return records.select_related("chain_entry")

    def get_serializer_class(self):
        if self.action == "retrieve":
            return serializers.RecordDetailSerializer
        return serializers.RecordSerializer


# --- budgets ------------------------------------------------------------------------------------


class PabulibRenderer(renderers.BaseRenderer):
    media_type = "text/plain"
    format = "pb"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, dict):  # a refusal, when the client asked for text only
            return str(data.get("detail", data)).encode()
        return data


class BallotsWithheld(APIException):
    """The ballots do not match the participations: the results page shows nothing computed
    from them (budgets.views), and neither does the API."""

    status_code = 409
    default_detail = _("The ballots do not match the participations; results are withheld.")


@documented
class CycleViewSet(ListDetailView):
    """Participatory budget cycles with their phases; the detail adds the proposals (public
    fields only), `results/` the stored results once published, and `pabulib/` the anonymous
    ballots to recompute them."""

    cursor_ordering = "-id"
    filters = (id_filter("council", "council_id", COUNCIL_DESCRIPTION),)

    def get_queryset(self):
        cycles = BudgetCycle.objects.filter(council__live=True).prefetch_related("phases")
        if self.action == "retrieve":
            return cycles.prefetch_related(
                "sub_budgets",
                Prefetch(
                    "proposals",
                    queryset=Proposal.objects.select_related("sub_budget").order_by("pk"),
                ),
            )
        return cycles

    def get_serializer_class(self):
        if self.action == "retrieve":
            return serializers.CycleDetailSerializer
        return serializers.CycleSerializer

    def _published(self) -> BudgetCycle:
        cycle = self.get_object()
        if cycle.results_published_at is None:
            raise Http404  # before publication there are no results to show, only a tally
        return cycle

    @extend_schema(responses=serializers.StoredResultSerializer)
    @action(detail=True, url_path="results", pagination_class=None)
    def results(self, request, pk=None):
        """The published results as stored (budgets.ResultSnapshot, latest version): never
        recomputed. 404 until the committee publishes them."""
        cycle = self._published()
        snapshot = latest_snapshot(cycle)
        content = copy.deepcopy(snapshot.content)
        for override in content.get("overrides", []):
            override.pop("by", None)  # which committee member: an account id, not public
        data = {
            "cycle": cycle.pk,
            "version": snapshot.version,
            "reason": snapshot.reason,
            "stored_at": snapshot.created,
            "previous_digest": snapshot.previous_digest,
            "digest": snapshot.digest,
            "content": content,
        }
        return Response(serializers.StoredResultSerializer(data).data)

    @extend_schema(
        responses={
            (200, "text/plain"): OpenApiResponse(
                OpenApiTypes.STR, description="The ballots in pabulib format (pabulib.org)."
            )
        }
    )
    @action(
        detail=True,
        url_path="pabulib",
        pagination_class=None,
        renderer_classes=[renderers.JSONRenderer, PabulibRenderer],
    )
    def pabulib(self, request, pk=None):
        """The anonymous ballots as a pabulib file, the one the results page offers, to
        recompute the results with any tool. 404 until the results are published."""
        from budgets.views import ballots_pabulib

        cycle = self._published()
        response = ballots_pabulib(request._request, cycle.pk)
        if response.status_code == BallotsWithheld.status_code:  # the page's HTML refusal
            raise BallotsWithheld
        return response


# --- halls --------------------------------------------------------------------------------------


@documented
class TopicViewSet(ListDetailView):
    """Topics of public halls with the committee's official answers. Newest first. No
    message and no person: who raised a topic is not part of the open data."""

    serializer_class = serializers.TopicSerializer
    cursor_ordering = "-id"
    filters = (
        id_filter("council", "hall__council_id", COUNCIL_DESCRIPTION),
        id_filter("hall", "hall_id", _("Only the topics of this hall (its id).")),
        choice_filter("status", "status", _("The topic's status."), TopicStatus.values),
        choice_filter("category", "category", _("The topic's category."), TopicCategory.values),
    )

    def get_queryset(self):
        return Topic.objects.filter(hall__is_public=True, hall__council__live=True).select_related(
            "hall", "rating"
        )

    def get_serializer(self, instance=None, *args, **kwargs):
        # Stance counts of the page's topics in one query (an annotation would count them over
        # every topic before the page is cut).
        topics = instance if isinstance(instance, list) else [instance]
        counts = {}
        found = (
            Stance.objects.filter(topic_id__in=[t.pk for t in topics if t])
            .values_list("topic_id", "value")
            .annotate(n=Count("id"))
        )
        for topic_id, value, n in found:
            counts[(topic_id, value)] = n
        for topic in topics:
            if topic:
                topic.support_count = counts.get((topic.pk, StanceValue.SUPPORT), 0)
                topic.oppose_count = counts.get((topic.pk, StanceValue.OPPOSE), 0)
        return super().get_serializer(instance, *args, **kwargs)


# --- figures ------------------------------------------------------------------------------------


@documented
class MetricViewSet(ListView):
    """Governance figures (docs/governance.md) per council and period, as computed by the
    recompute task: the counts behind each figure and the figure itself."""

    serializer_class = serializers.MetricValueSerializer
    filters = (
        id_filter("council", "council_id", COUNCIL_DESCRIPTION),
        choice_filter("metric", "metric", _("The metric's key."), tuple(METRICS)),
        *_period_filters("council_level"),
    )

    def get_queryset(self):
        return MetricValue.objects.filter(council__live=True)


@documented
class IndexScoreViewSet(ListView):
    """Scores and stars of councils on the indexes townships and districts define, for the
    versions in use or replaced; a draft version's scores are never shown."""

    serializer_class = serializers.IndexScoreSerializer
    filters = (
        id_filter("council", "council_id", COUNCIL_DESCRIPTION),
        id_filter("index", "version__index_id", _("Only the scores on this index (its id).")),
        *_period_filters("council_level"),
    )

    def get_queryset(self):
        return IndexScore.objects.filter(
            version__status__in=PUBLIC_VERSION_STATUSES, council__live=True
        ).select_related("version__index")


@documented
class CaseFigureViewSet(ListView):
    """How many cases were reported, closed, closed on time, reopened and rated, per grid or
    village, month, whistle level and category. Counts only: no case appears in the API, and a
    row of fewer reported cases than YISHI_API_CASE_MIN_COUNT (3 unless set) is not listed at
    all: in a grid of a hundred households, "one dispute between neighbours in March" points at
    a family, and even that a row exists says that something happened."""

    serializer_class = serializers.CaseFigureSerializer
    filters = (
        id_filter("council", "council_id", COUNCIL_DESCRIPTION),
        Filter("month", "month", _("A month, as YYYY-MM."), parse=parse_month),
        choice_filter("level", "level", _("The whistle level."), Whistle.values),
        choice_filter("category", "category", _("The case category."), Category.values),
    )

    def get_queryset(self):
        return CaseFigure.objects.filter(
            council__live=True, reported__gte=settings.YISHI_API_CASE_MIN_COUNT
        )


# --- the schema, its page, the root ---------------------------------------------------------------


class SchemaView(ConditionalMixin, SpectacularAPIView):
    """The OpenAPI 3 schema of this API (YAML; ?format=json for JSON)."""


class DocsView(ConditionalMixin, SpectacularSwaggerSplitView):
    """Swagger UI, served from our own static files (drf-spectacular-sidecar), its start-up
    script a separate file so that the site's CSP (no inline script) holds."""

    template_name = "api/docs.html"


class RootView(ConditionalMixin, routers.APIRootView):
    """Yishi's open data: public records of village self-governance, read-only, for anyone.
    Documentation: /api/v1/docs/ and docs/api.md."""


class OpenDataRouter(routers.DefaultRouter):
    include_format_suffixes = False
    APIRootView = RootView


@extend_schema(exclude=True)
class NotFoundView(ConditionalMixin, APIView):
    def get(self, request, *args, **kwargs):
        raise NotFound
