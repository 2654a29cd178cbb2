"""Each endpoint shows exactly what the public pages show: drafts, private halls, unpublished
results, draft index versions and councils not yet published are absent from the lists and a
404 on their own address. Bad filter values are a 400 that says why, never a 500."""

import json
from hashlib import sha256

import pytest

from cases.models import CaseFigure
from disclosure.models import ChainEntry
from governance.models import IndexScore, MetricValue, VersionStatus
from tests.api.world import CASE_ROUTINE_REPORTS

pytestmark = pytest.mark.django_db

LISTS = [
    "/api/v1/councils/",
    "/api/v1/records/",
    "/api/v1/cycles/",
    "/api/v1/topics/",
    "/api/v1/metrics/",
    "/api/v1/index-scores/",
    "/api/v1/case-figures/",
]


def get(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, (url, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    return json.loads(response.content)


def ids(client, url) -> set[int]:
    return {item["id"] for item in get(client, url)["results"]}


# --- records ------------------------------------------------------------------------------------


def test_only_published_records_are_listed(client, api_world):
    o = api_world.objects
    assert ids(client, "/api/v1/records/") == {o["welfare"].pk, o["statement"].pk}


@pytest.mark.parametrize("name", ["draft_record", "in_review"])
def test_an_unpublished_record_is_a_404(client, api_world, name):
    body = get(client, f"/api/v1/records/{api_world.objects[name].pk}/", status=404)
    assert body == {"detail": "Not found: nothing public has this address."}


def test_a_published_record_of_an_unpublished_council_is_hidden(client, api_world):
    village = api_world.objects["hidden_village"]
    assert get(client, f"/api/v1/records/?council={village.pk}")["results"] == []
    record = village.disclosures.get()
    get(client, f"/api/v1/records/{record.pk}/", status=404)


@pytest.mark.parametrize("bad", ["abc", "0", "-1", "1.5", "99999999999999999999999", "%20"])
def test_a_bad_or_unknown_id_is_a_json_404(client, api_world, bad):
    for path in ("records", "councils", "cycles", "topics"):
        get(client, f"/api/v1/{path}/{bad}/", status=404)


def test_a_welfare_list_shows_only_masked_names_and_its_chain_entry(client, api_world):
    welfare = api_world.objects["welfare"]
    body = get(client, f"/api/v1/records/{welfare.pk}/")
    assert [(line["name"], line["counterparty"]) for line in body["lines"]] == [
        ("王*英", ""),
        ("李*明", ""),
    ]
    assert [line["expense"] for line in body["lines"]] == ["680.00", "720.00"]
    assert body["totals"] == {"income": "0.00", "expense": "1400.00"}
    entry = ChainEntry.objects.get(record=welfare)
    assert body["chain"]["entry_hash"] == entry.entry_hash
    assert body["chain"]["position"] == entry.position
    assert "created_by" not in body and "events" not in body and "questions" not in body


def test_the_chain_can_be_checked_from_the_api_alone(client, api_world):
    o = api_world.objects
    welfare = get(client, f"/api/v1/records/{o['welfare'].pk}/")
    statement = get(client, f"/api/v1/records/{o['statement'].pk}/")
    for body in (welfare, statement):
        chain = body["chain"]
        assert sha256(body["canonical"].encode()).hexdigest() == chain["content_hash"]
        link = (chain["previous_hash"] + chain["content_hash"]).encode()
        assert sha256(link).hexdigest() == chain["entry_hash"]
    # Published one after the other in the same village: the second links to the first.
    assert statement["chain"]["position"] == welfare["chain"]["position"] + 1
    assert statement["chain"]["previous_hash"] == welfare["chain"]["entry_hash"]
    # The hashed content is the public one: masked names, lines as listed.
    content = json.loads(welfare["canonical"])
    assert [line.get("person", line["counterparty"]) for line in content["lines"]] == [
        "王*英",
        "李*明",
    ]
    assert content["record"] == welfare["id"] and content["title"] == welfare["title"]


def test_the_records_list_shows_each_chain_entry(client, api_world):
    listed = {r["id"]: r for r in get(client, "/api/v1/records/")["results"]}
    for record in (api_world.objects["welfare"], api_world.objects["statement"]):
        entry = ChainEntry.objects.get(record=record)
        assert listed[record.pk]["chain"] == {
            "position": entry.position,
            "previous_hash": entry.previous_hash,
            "content_hash": entry.content_hash,
            "entry_hash": entry.entry_hash,
            "created": listed[record.pk]["chain"]["created"],
        }
        assert "canonical" not in listed[record.pk] and "lines" not in listed[record.pk]


def test_a_statement_keeps_its_counterparty_and_has_no_name_column(client, api_world):
    body = get(client, f"/api/v1/records/{api_world.objects['statement'].pk}/")
    assert body["lines"][0]["name"] == "" and body["lines"][0]["income"] == "1200.50"


# --- halls --------------------------------------------------------------------------------------


def test_a_private_halls_topics_are_neither_listed_nor_shown(client, api_world):
    o = api_world.objects
    assert ids(client, "/api/v1/topics/") == {o["topic"].pk}
    get(client, f"/api/v1/topics/{o['private_topic'].pk}/", status=404)
    assert get(client, f"/api/v1/topics/?hall={o['private_hall'].pk}")["results"] == []


def test_a_topic_shows_its_answer_and_counts_but_no_person_and_no_message(client, api_world):
    body = get(client, f"/api/v1/topics/{api_world.objects['topic'].pk}/")
    assert body["official_answer"] == "下周一换新灯" and body["support_count"] == 1
    assert not {"author", "messages", "author_name", "events"} & set(body)


def test_a_topic_of_an_unpublished_council_is_hidden(client, api_world):
    village = api_world.objects["hidden_village"]
    assert get(client, f"/api/v1/topics/?council={village.pk}")["results"] == []


# --- budgets ------------------------------------------------------------------------------------


def test_cycles_of_an_unpublished_council_are_not_listed(client, api_world):
    o = api_world.objects
    assert ids(client, "/api/v1/cycles/") == {o["published_cycle"].pk, o["unpublished_cycle"].pk}
    hidden = o["hidden_village"].budget_cycles.get()
    get(client, f"/api/v1/cycles/{hidden.pk}/", status=404)


@pytest.mark.parametrize("part", ["results", "pabulib"])
def test_results_and_ballots_are_a_404_until_published(client, api_world, part):
    cycle = api_world.objects["unpublished_cycle"]
    assert get(client, f"/api/v1/cycles/{cycle.pk}/")["results_url"] is None
    get(client, f"/api/v1/cycles/{cycle.pk}/{part}/", status=404)


def test_published_results_are_the_stored_snapshot_without_who_overrode(client, api_world):
    cycle = api_world.objects["published_cycle"]
    snapshot = cycle.result_snapshots.get()
    body = get(client, f"/api/v1/cycles/{cycle.pk}/results/")
    assert body["digest"] == snapshot.digest and body["version"] == 1
    projects = body["content"]["results"][0]["projects"]
    assert [(p["title"], p["funded"]) for p in projects] == [("修村道", True), ("装路灯", False)]
    assert all("by" not in override for override in body["content"]["overrides"])


def test_the_pabulib_file_is_the_results_pages_file(client, api_world):
    cycle = api_world.objects["published_cycle"]
    response = client.get(f"/api/v1/cycles/{cycle.pk}/pabulib/")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    page = client.get(f"/budgets/cycles/{cycle.pk}/ballots.pb")
    assert response.content == page.content and b"VOTES" in response.content
    assert response["ETag"]


def test_ballots_that_do_not_match_are_a_json_409_not_a_file(client, api_world, monkeypatch):
    from budgets import services

    def mismatch(cycle):
        raise services.BallotCountError(["one ballot too many"])

    monkeypatch.setattr(services, "check_ballot_counts", mismatch)
    cycle = api_world.objects["published_cycle"]
    body = get(client, f"/api/v1/cycles/{cycle.pk}/pabulib/", status=409)
    assert body == {"detail": "The ballots do not match the participations; results are withheld."}


def test_a_cycle_shows_its_proposals_public_fields_only(client, api_world):
    body = get(client, f"/api/v1/cycles/{api_world.objects['published_cycle'].pk}/")
    proposal = body["proposals"][0]
    assert proposal["cost"] == "60.00" and proposal["title"] == "修村道"
    assert not {"author", "reviewed_by", "external_id", "source_topic"} & set(proposal)


# --- figures ------------------------------------------------------------------------------------


def test_scores_of_a_draft_index_version_are_never_listed(client, api_world):
    results = get(client, "/api/v1/index-scores/")["results"]
    assert sorted((r["version"], r["version_status"]) for r in results) == [
        (1, VersionStatus.RETIRED),
        (2, VersionStatus.PUBLISHED),
    ]
    assert {r["score"] for r in results} == {"81.20"}


def test_index_scores_filter_by_index_and_council(client, api_world):
    index = api_world.objects["index"]
    assert len(get(client, f"/api/v1/index-scores/?index={index.pk}")["results"]) == 2
    assert get(client, f"/api/v1/index-scores/?index={index.pk + 1}")["results"] == []
    other = api_world.tree["other_village"].pk
    assert get(client, f"/api/v1/index-scores/?council={other}")["results"] == []


def test_metrics_filter_by_council_metric_and_period(client, api_world):
    village = api_world.tree["village"].pk
    body = get(client, f"/api/v1/metrics/?council={village}&period_start=2026-03")
    assert [(r["metric"], r["value"], r["unit"]) for r in body["results"]] == [
        ("disclosure_on_time", "75.00", "percent")
    ]
    assert get(client, "/api/v1/metrics/?period_start=2026-04-01")["results"] == []
    assert len(get(client, "/api/v1/metrics/?level=township")["results"]) == 1


def test_case_figures_are_counts_with_no_case_in_them(client, api_world):
    results = get(client, "/api/v1/case-figures/?month=" + _this_month())["results"]
    assert [(r["council"], r["level"], r["category"], r["reported"]) for r in results] == [
        (api_world.tree["grid"].pk, "routine", "roads", CASE_ROUTINE_REPORTS)
    ]
    assert not {"title", "reporter", "cases", "parties", "description"} & set(results[0])
    assert get(client, "/api/v1/case-figures/?month=2001-01")["results"] == []


def test_a_row_of_fewer_cases_than_the_minimum_is_not_listed(client, api_world, settings):
    # The lone dispute between neighbours: its row exists, the API does not show it.
    dispute = CaseFigure.objects.filter(council=api_world.tree["grid"], category="neighbours")
    assert dispute.get().reported == 1
    listed = get(client, "/api/v1/case-figures/?category=neighbours")["results"]
    assert listed == []
    settings.YISHI_API_CASE_MIN_COUNT = 1
    listed = get(client, "/api/v1/case-figures/?category=neighbours")["results"]
    assert [(r["level"], r["reported"]) for r in listed] == [("priority", 1)]


def test_a_sum_of_fewer_ratings_than_the_minimum_is_null(client, api_world, settings):
    figure = get(client, "/api/v1/case-figures/")["results"][0]
    assert figure["rated"] == 0 and figure["satisfaction_sum"] is None
    settings.YISHI_API_CASE_MIN_COUNT = 0
    figure = get(client, "/api/v1/case-figures/")["results"][0]
    assert figure["satisfaction_sum"] == 0


def _this_month() -> str:
    from django.utils import timezone

    return timezone.localdate().strftime("%Y-%m")


# --- councils -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, rows",
    [
        ("/api/v1/metrics/", lambda village: MetricValue.objects.filter(council=village)),
        ("/api/v1/index-scores/", lambda village: IndexScore.objects.filter(council=village)),
        ("/api/v1/case-figures/", lambda village: CaseFigure.objects.filter(council=village)),
    ],
)
def test_figures_of_an_unpublished_council_are_not_listed(client, api_world, url, rows, settings):
    village = api_world.objects["hidden_village"]
    assert rows(village).exists()  # the world has them: the API leaves them out
    settings.YISHI_API_CASE_MIN_COUNT = 1
    assert get(client, f"{url}?council={village.pk}")["results"] == []
    assert village.pk not in {row["council"] for row in get(client, url)["results"]}


def test_the_tree_lists_live_councils_with_their_ancestry(client, api_world):
    tree = api_world.tree
    listed = {c["id"]: c for c in get(client, "/api/v1/councils/")["results"]}
    assert set(listed) == {page.pk for page in tree.values()}
    grid = listed[tree["grid"].pk]
    assert grid["parent"] == tree["village"].pk and grid["depth"] == 4
    assert grid["ancestors"] == [tree[n].pk for n in ("city", "district", "township", "village")]
    assert listed[tree["city"].pk]["parent"] is None
    get(client, f"/api/v1/councils/{api_world.objects['hidden_village'].pk}/", status=404)


def test_councils_filter_by_parent_and_level(client, api_world):
    tree = api_world.tree
    children = ids(client, f"/api/v1/councils/?parent={tree['township'].pk}")
    assert children == {tree["village"].pk, tree["other_village"].pk}  # not the hidden one
    assert ids(client, "/api/v1/councils/?level=township") == {
        tree["township"].pk,
        tree["other_township"].pk,
    }
    assert ids(client, "/api/v1/councils/?parent=999999") == set()


# --- bad filters ----------------------------------------------------------------------------------


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize("bad", ["abc", "0", "1e3", "99999999999999999999999"])
def test_a_council_filter_that_is_not_an_id_is_a_400(client, api_world, url, bad):
    key = "parent" if url.endswith("/councils/") else "council"
    body = get(client, f"{url}?{key}={bad}", status=400)
    assert body == {key: ["Enter an id: a whole number, 1 or more."]}


@pytest.mark.parametrize(
    "query, key",
    [
        ("period_start=2026-13", "period_start"),
        ("period_start=2026-02-30", "period_start"),
        ("period_start=march", "period_start"),
        ("period_kind=year", "period_kind"),
        ("metric=happiness", "metric"),
        ("level=planet", "level"),
    ],
)
def test_a_bad_figure_filter_is_a_400_naming_the_parameter(client, api_world, query, key):
    body = get(client, f"/api/v1/metrics/?{query}", status=400)
    assert list(body) == [key] and body[key][0]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/case-figures/?month=2026-13",
        "/api/v1/case-figures/?month=2026",
        "/api/v1/case-figures/?level=loud",
        "/api/v1/records/?kind=secret",
        "/api/v1/records/?type=diary",
        "/api/v1/topics/?status=hidden",
        "/api/v1/topics/?hall=x",
        "/api/v1/index-scores/?index=-3",
        "/api/v1/councils/?level=galaxy",
        "/api/v1/councils/?cursor=not-a-cursor",
    ],
)
def test_other_bad_filters_are_a_400(client, api_world, url):
    get(client, url, status=400)


# --- the schema says where null may come -------------------------------------------------------


def _component(schema, reference: dict) -> dict:
    return schema["components"]["schemas"][reference["$ref"].rsplit("/", 1)[-1]]


def test_every_null_in_an_answer_is_allowed_by_the_schema(client, api_world, settings):
    """A client generated from the schema must not fail on a null the API sends."""
    settings.YISHI_API_CASE_MIN_COUNT = 1
    schema = json.loads(client.get("/api/v1/schema/?format=json").content)
    o = api_world.objects
    details = {
        "/api/v1/records/{id}/": o["welfare"].pk,
        "/api/v1/cycles/{id}/": o["unpublished_cycle"].pk,
        "/api/v1/topics/{id}/": o["topic"].pk,
        "/api/v1/councils/{id}/": api_world.tree["city"].pk,
    }
    answers = []
    for path in LISTS:
        page = _component(schema, _response_schema(schema, path))
        item = _component(schema, page["properties"]["results"]["items"])
        answers += [(path, item, row) for row in get(client, path)["results"]]
    for path, pk in details.items():
        item = _component(schema, _response_schema(schema, path))
        answers.append((path, item, get(client, path.replace("{id}", str(pk)))))
    nulls = set()
    for path, item, row in answers:
        for field, value in row.items():
            if value is None:
                nulls.add(field)
                assert item["properties"][field].get("nullable"), f"{path}: {field} may be null"
    assert {"parent", "results_url", "pabulib_url", "rating", "satisfaction_sum"} <= nulls


def _response_schema(schema, path: str) -> dict:
    return schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
