"""What each public object looks like in the API: public fields only, named in full here.

Nothing is serialised with `fields = "__all__"`: a field added to a model later stays out of the
API until someone decides it is public and writes it here. No person appears in any of these:
no author, drafter, voter, reporter or official, not even by display name; a welfare list's
names are the masked form (王*英) the public page shows. Money and figures are strings
(Decimal), never floats."""

from decimal import Decimal

from django.conf import settings
from django.db.models import Sum
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from budgets.models import BudgetCycle, Phase, Proposal, ProposalStatus, SubBudget
from cases.models import CaseFigure
from councils.models import CouncilPage
from deliberation.models import Topic
from disclosure.hashchain import canonical_bytes, canonical_content
from disclosure.models import Attachment, ChainEntry, LineItem, Record
from disclosure.privacy import mask_name
from governance.metrics import METRICS
from governance.models import IndexScore, MetricValue

# --- councils -----------------------------------------------------------------------------------


class CouncilSerializer(serializers.ModelSerializer):
    parent = serializers.SerializerMethodField(
        help_text="The council right above, or null at the top of the tree."
    )
    ancestors = serializers.SerializerMethodField(
        help_text="Ids of every council above this one, from the top of the tree down."
    )
    depth = serializers.SerializerMethodField(help_text="0 at the top of the tree.")
    url = serializers.SerializerMethodField(help_text="The council's public page.")

    class Meta:
        model = CouncilPage
        fields = ["id", "title", "level", "division_code", "parent", "ancestors", "depth", "url"]

    def _ancestors(self, council) -> list[int]:
        ids_by_path = self.context["council_ids_by_path"]
        return [ids_by_path[p] for p in council.ancestor_paths() if p in ids_by_path]

    def get_parent(self, council) -> int | None:
        ancestors = self._ancestors(council)
        return ancestors[-1] if ancestors else None

    def get_ancestors(self, council) -> list[int]:
        return self._ancestors(council)

    def get_depth(self, council) -> int:
        return len(self._ancestors(council))

    def get_url(self, council) -> str:
        return council.get_url(request=self.context.get("request")) or ""


# --- records ------------------------------------------------------------------------------------


class ChainEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = ChainEntry
        fields = ["position", "previous_hash", "content_hash", "entry_hash", "created"]


class LineSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField(
        help_text="Welfare lists only: the person's name, partly hidden (王*英)."
    )
    counterparty = serializers.SerializerMethodField()
    reverses = serializers.SerializerMethodField(
        help_text="The position of the line this red-ink line cancels."
    )

    class Meta:
        model = LineItem
        fields = [
            "position",
            "date",
            "voucher_number",
            "account",
            "description",
            "income",
            "expense",
            "counterparty",
            "name",
            "reverses",
            "project",
        ]

    def _welfare(self) -> bool:
        return self.context["record"].is_welfare_list

    def get_name(self, line) -> str:
        # As the record page shows it (disclosure/lines_table.html): masked, whatever is stored.
        return mask_name(line.person_name or line.counterparty) if self._welfare() else ""

    def get_counterparty(self, line) -> str:
        return "" if self._welfare() else line.counterparty

    def get_reverses(self, line) -> int | None:
        return line.reverses.position if line.reverses_id else None


class AttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["original_name", "content_type", "size", "sha256", "url"]

    def get_url(self, attachment) -> str:
        return attachment.get_absolute_url()


class RecordSerializer(serializers.ModelSerializer):
    chain = ChainEntrySerializer(source="chain_entry", read_only=True, allow_null=True)
    url = serializers.SerializerMethodField(help_text="The record's public page.")

    class Meta:
        model = Record
        fields = [
            "id",
            "council",
            "kind",
            "record_type",
            "period_kind",
            "period_start",
            "period_end",
            "title",
            "published_at",
            "corrects",
            "chain",
            "url",
        ]

    def get_url(self, record) -> str:
        return record.get_absolute_url()


class RecordTotalsSerializer(serializers.Serializer):
    income = serializers.DecimalField(max_digits=16, decimal_places=2)
    expense = serializers.DecimalField(max_digits=16, decimal_places=2)


class RecordDetailSerializer(RecordSerializer):
    lines = serializers.SerializerMethodField()
    totals = serializers.SerializerMethodField()
    attachments = AttachmentSerializer(many=True, read_only=True)
    corrections = serializers.SerializerMethodField(
        help_text="Ids of the published records that correct this one."
    )
    canonical = serializers.SerializerMethodField(
        help_text=(
            "The record's content exactly as hashed into its council's chain (canonical JSON, "
            "docs/ledgers.md): sha256 of this text, as UTF-8, is chain.content_hash."
        )
    )

    class Meta(RecordSerializer.Meta):
        fields = [
            *RecordSerializer.Meta.fields,
            "body",
            "correction_reason",
            "totals",
            "lines",
            "attachments",
            "corrections",
            "canonical",
        ]

    def _lines(self, record) -> list[LineItem]:
        # Read once for the lines and the canonical content.
        if not hasattr(record, "_api_lines"):
            record._api_lines = list(record.lines.select_related("reverses").order_by("position"))
        return record._api_lines

    @extend_schema_field(LineSerializer(many=True))
    def get_lines(self, record):
        return LineSerializer(
            self._lines(record), many=True, context={**self.context, "record": record}
        ).data

    def get_canonical(self, record) -> str:
        content = canonical_content(record, self._lines(record), record.attachments.all())
        return canonical_bytes(content).decode("utf-8")

    @extend_schema_field(RecordTotalsSerializer)
    def get_totals(self, record):
        zero = Decimal("0")
        totals = record.lines.aggregate(
            income=Sum("income", default=zero), expense=Sum("expense", default=zero)
        )
        return RecordTotalsSerializer(totals).data

    def get_corrections(self, record) -> list[int]:
        return list(record.corrections.published().order_by("pk").values_list("pk", flat=True))


# --- budgets ------------------------------------------------------------------------------------


class PhaseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Phase
        fields = ["kind", "starts_at", "ends_at"]


class SubBudgetSerializer(serializers.ModelSerializer):
    class Meta:
        model = SubBudget
        fields = ["id", "council", "amount"]


class CycleSerializer(serializers.ModelSerializer):
    phases = PhaseSerializer(many=True, read_only=True)
    results_url = serializers.SerializerMethodField(
        help_text="The stored results, once published; null before."
    )
    url = serializers.SerializerMethodField(help_text="The cycle's public page.")

    class Meta:
        model = BudgetCycle
        fields = [
            "id",
            "council",
            "title",
            "total_amount",
            "ballot_type",
            "min_choices",
            "max_choices",
            "points",
            "eligibility",
            "rule",
            "satisfaction",
            "complete_greedy",
            "phases",
            "results_published_at",
            "results_url",
            "url",
        ]

    def get_results_url(self, cycle) -> str | None:
        if cycle.results_published_at is None:
            return None
        return f"/api/v1/cycles/{cycle.pk}/results/"

    def get_url(self, cycle) -> str:
        return cycle.get_absolute_url()


class ProposalSerializer(serializers.ModelSerializer):
    cost = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        read_only=True,
        help_text="The cost on the ballot: the checked cost when there is one.",
    )
    review_reason = serializers.SerializerMethodField()
    sub_budget_council = serializers.SerializerMethodField(
        help_text="A township cycle's proposals compete within their village's share."
    )
    url = serializers.SerializerMethodField()

    class Meta:
        model = Proposal
        fields = [
            "id",
            "title",
            "description",
            "category",
            "location",
            "beneficiaries",
            "estimated_cost",
            "checked_cost",
            "cost",
            "status",
            "review_reason",
            "sub_budget_council",
            "url",
        ]

    def get_review_reason(self, proposal) -> str:
        return "" if proposal.status == ProposalStatus.SUBMITTED else proposal.review_reason

    def get_sub_budget_council(self, proposal) -> int | None:
        return proposal.sub_budget.council_id if proposal.sub_budget_id else None

    def get_url(self, proposal) -> str:
        return proposal.get_absolute_url()


class CycleDetailSerializer(CycleSerializer):
    sub_budgets = SubBudgetSerializer(many=True, read_only=True)
    proposals = ProposalSerializer(many=True, read_only=True)
    pabulib_url = serializers.SerializerMethodField(
        help_text="The anonymous ballots as a pabulib file, once the results are published."
    )

    class Meta(CycleSerializer.Meta):
        fields = [
            *CycleSerializer.Meta.fields,
            "description",
            "sub_budgets",
            "proposals",
            "pabulib_url",
        ]

    def get_pabulib_url(self, cycle) -> str | None:
        if cycle.results_published_at is None:
            return None
        return f"/api/v1/cycles/{cycle.pk}/pabulib/"


class StoredResultSerializer(serializers.Serializer):
    cycle = serializers.IntegerField()
    version = serializers.IntegerField(help_text="Overrides after publication add versions.")
    reason = serializers.CharField()
    stored_at = serializers.DateTimeField()
    previous_digest = serializers.CharField()
    digest = serializers.CharField(
        help_text="sha256(previous digest + canonical JSON of content): docs/budgets.md."
    )
    content = serializers.JSONField(
        help_text="The stored results as published (budgets.services.RESULT_SNAPSHOT_SCHEMA)."
    )


# --- halls --------------------------------------------------------------------------------------


class TopicSerializer(serializers.ModelSerializer):
    council = serializers.IntegerField(source="hall.council_id", read_only=True)
    hall_title = serializers.CharField(source="hall.title", read_only=True)
    support_count = serializers.IntegerField(read_only=True)
    oppose_count = serializers.IntegerField(read_only=True)
    rating = serializers.SerializerMethodField(
        help_text="The asker's rating of the answer, 1 to 5, once given."
    )
    url = serializers.SerializerMethodField()

    class Meta:
        model = Topic
        fields = [
            "id",
            "council",
            "hall",
            "hall_title",
            "title",
            "description",
            "category",
            "location",
            "status",
            "status_reason",
            "official_answer",
            "answered_at",
            "merged_into",
            "created",
            "support_count",
            "oppose_count",
            "rating",
            "url",
        ]

    def get_rating(self, topic) -> int | None:
        rating = getattr(topic, "rating", None)
        return rating.score if rating is not None else None

    def get_url(self, topic) -> str:
        return topic.get_absolute_url()


# --- figures ------------------------------------------------------------------------------------


class MetricValueSerializer(serializers.ModelSerializer):
    unit = serializers.SerializerMethodField(help_text="percent, count, rating or hours.")

    class Meta:
        model = MetricValue
        fields = [
            "id",
            "council",
            "council_level",
            "metric",
            "unit",
            "period_kind",
            "period_start",
            "numerator",
            "denominator",
            "value",
            "computed_at",
        ]

    def get_unit(self, value) -> str:
        metric = METRICS.get(value.metric)
        return metric.unit if metric else ""


class IndexScoreSerializer(serializers.ModelSerializer):
    index = serializers.IntegerField(source="version.index_id", read_only=True)
    index_name = serializers.CharField(source="version.index.name", read_only=True)
    index_owner = serializers.IntegerField(source="version.index.owner_id", read_only=True)
    version = serializers.IntegerField(source="version.number", read_only=True)
    version_status = serializers.CharField(source="version.status", read_only=True)

    class Meta:
        model = IndexScore
        fields = [
            "id",
            "index",
            "index_name",
            "index_owner",
            "version",
            "version_status",
            "council",
            "council_level",
            "period_kind",
            "period_start",
            "score",
            "stars",
            "breakdown",
            "computed_at",
        ]


class CaseFigureSerializer(serializers.ModelSerializer):
    """One row of counts. Rows of fewer than YISHI_API_CASE_MIN_COUNT reported cases are never
    listed (api.views.CaseFigureViewSet), and the sum of the ratings only from that many
    ratings on: a count of one is one household's matter, a rating of one is one person's."""

    month = serializers.DateField(format="%Y-%m")
    satisfaction_sum = serializers.SerializerMethodField(
        help_text=(
            "The ratings (1 to 5) added up; null when fewer cases than the API's minimum count "
            "were rated."
        )
    )

    class Meta:
        model = CaseFigure
        fields = [
            "id",
            "council",
            "township",
            "month",
            "level",
            "category",
            "reported",
            "closed",
            "closed_on_time",
            "reopened",
            "rated",
            "satisfaction_sum",
            "overdue_open",
            "built_at",
        ]

    def get_satisfaction_sum(self, figure) -> int | None:
        if figure.rated < settings.YISHI_API_CASE_MIN_COUNT:
            return None
        return figure.satisfaction_sum
