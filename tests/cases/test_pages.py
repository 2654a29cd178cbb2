"""A case's page and its steps, its photos, "my cases" and a hall topic made a case.

Each page renders for who may see it and refuses the others; each step is a POST calling one
service, shown only to who may take it; refusals show the service's message and change nothing.
"""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.models import (
    Case,
    CaseEvent,
    CaseParty,
    CasePhoto,
    Category,
    EventKind,
    Mediation,
    Source,
    Status,
    Whistle,
)
from councils.models import Level
from tests.cases.conftest import grid_report
from tests.core.test_files_uploads import jpeg
from tests.councils.factories import make_council, member
from tests.deliberation.factories import HallFactory, TopicFactory

pytestmark = pytest.mark.django_db

ID_NUMBER = "110105194912310021"


def case_url(case):
    return reverse("cases:case", args=[case.pk])


def step_url(case, step):
    return reverse(f"cases:case_{step}", args=[case.pk])


def html_of(response) -> str:
    return response.content.decode()


def photo(name="p.jpg"):
    return SimpleUploadedFile(name, jpeg(), "image/jpeg")


def private_demand(tree, people, **kwargs):
    """A resident's demand about their own welfare: never public."""
    return services.report_case(
        reporter=kwargs.pop("reporter", people["resident"]),
        council=tree["village"],
        source=Source.DEMAND,
        category=Category.WELFARE,
        level=Whistle.ROUTINE,
        title=kwargs.pop("title", "低保申请没有回音"),
        description="三月交的材料，至今没有消息",
        **kwargs,
    )


def dispute(tree, people):
    return services.report_case(
        reporter=people["resident"],
        council=tree["village"],
        source=Source.DISPUTE,
        category=Category.NEIGHBOURS,
        level=Whistle.ROUTINE,
        title="宅基地边界",
        description="两家为院墙位置争执",
        parties=[("applicant", "王大"), ("respondent", "李二")],
    )


def events_of(case) -> list[str]:
    return list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))


# -- who sees a case -------------------------------------------------------------------------------


def test_a_public_case_shows_what_happened_but_not_who_reported_it(client, tree, people):
    case = grid_report(tree, people, public=True)
    html = html_of(client.get(case_url(case)))
    assert "路灯不亮" in html and "村口第三根路灯坏了一周" in html
    assert people["grid_worker"].public_name not in html
    assert 'id="history-heading"' not in html
    client.force_login(people["neighbour"])
    html = html_of(client.get(case_url(case)))
    assert people["grid_worker"].public_name not in html and 'id="history-heading"' not in html


def test_those_concerned_see_the_reporter_and_the_history(client, tree, people):
    case = grid_report(tree, people, public=True)
    client.force_login(people["committee"])
    html = html_of(client.get(case_url(case)))
    assert people["grid_worker"].public_name in html
    assert 'id="history-heading"' in html and "Reported" in html


@pytest.mark.parametrize("who", ["resident", "committee", "official", "district_official"])
def test_a_private_case_is_seen_by_its_reporter_and_handlers(client, tree, people, who):
    case = private_demand(tree, people)
    client.force_login(people[who])
    response = client.get(case_url(case))
    assert response.status_code == 200
    assert "至今没有消息" in html_of(response)


@pytest.mark.parametrize(
    "who",
    [
        "neighbour",
        "supervisor",
        "representative",
        "grid_worker",
        "other_committee",
        "other_official",
    ],
)
def test_a_private_case_is_refused_to_everyone_else(client, tree, people, who):
    case = private_demand(tree, people)
    client.force_login(people[who])
    response = client.get(case_url(case))
    assert response.status_code == 403
    assert "至今没有消息" not in html_of(response)
    assert "seen only by its reporter, its parties and those who handle it" in html_of(response)


def test_an_anonymous_visitor_is_asked_to_sign_in_for_a_private_case(client, tree, people):
    case = private_demand(tree, people)
    response = client.get(case_url(case))
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert client.get(reverse("cases:case", args=[case.pk + 1000])).status_code == 404


def test_deadlines_and_an_overdue_mark(client, tree, people):
    earlier = timezone.now() - datetime.timedelta(days=3)
    late = grid_report(tree, people, public=True, now=earlier)
    fresh = grid_report(tree, people, public=True, title="井盖松动")
    late_html = html_of(client.get(case_url(late)))
    assert "Accept by" in late_html and "Resolve by" in late_html
    assert "overdue" in late_html
    assert "overdue" not in html_of(client.get(case_url(fresh)))


# -- which steps are offered -----------------------------------------------------------------------


def test_the_handler_is_offered_accept_and_the_reporter_is_not(client, tree, people):
    case = private_demand(tree, people)
    client.force_login(people["committee"])
    html = html_of(client.get(case_url(case)))
    assert step_url(case, "accept") in html and step_url(case, "note") in html
    assert step_url(case, "confirm") not in html and step_url(case, "resolve") not in html
    client.force_login(people["resident"])
    html = html_of(client.get(case_url(case)))
    for step in ("accept", "note", "resolve", "whistle", "confirm", "mediator"):
        assert step_url(case, step) not in html


def test_the_whistle_form_lists_only_the_departments_serving_the_case(client, tree, people):
    official = people["official"]
    here = services.register_department(
        user=official, council=tree["township"], name="白沙派出所", kind="police"
    )
    services.register_department(
        user=people["other_official"],
        council=tree["other_township"],
        name="桃源司法所",
        kind="justice",
    )
    case = grid_report(tree, people)
    client.force_login(official)
    html = html_of(client.get(case_url(case)))
    assert step_url(case, "whistle") in html
    assert f'<option value="{here.pk}">白沙派出所' in html
    assert "桃源司法所" not in html
    client.force_login(people["committee"])  # handles it, but does not whistle
    html = html_of(client.get(case_url(case)))
    assert step_url(case, "accept") in html and step_url(case, "whistle") not in html


# -- taking the steps ------------------------------------------------------------------------------


def test_a_case_goes_from_report_to_closure_through_its_page(client, tree, people):
    case = private_demand(tree, people)
    client.force_login(people["committee"])
    assert client.post(step_url(case, "accept")).status_code == 302
    assert client.post(step_url(case, "start"), {"text": "明天去民政办"}).status_code == 302
    assert client.post(step_url(case, "note"), {"text": "已催办"}).status_code == 302
    response = client.post(
        step_url(case, "resolve"), {"outcome": "材料已补齐，本月起发放", "photo_1": photo()}
    )
    assert response.status_code == 302 and response["Location"] == case_url(case)
    assert Case.objects.get(pk=case.pk).status == Status.RESOLVED
    client.force_login(people["resident"])
    html = html_of(client.get(case_url(case)))
    assert step_url(case, "confirm") in html and "材料已补齐，本月起发放" in html
    response = client.post(step_url(case, "confirm"), {"satisfaction": "5", "comment": "谢谢"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.CLOSED and case.satisfaction == 5
    assert events_of(case) == [
        "reported",
        "accepted",
        "started",
        "note",
        "resolved",
        "confirmed",
        "closed",
    ]
    assert CasePhoto.objects.filter(event__kind=EventKind.RESOLVED, event__case=case).exists()
    html = html_of(client.get(case_url(case)))
    assert "Thank you. The case is closed." in html
    assert people["committee"].public_name in html and "已催办" in html


def test_a_dissatisfied_rating_reopens_the_case(client, tree, people):
    case = grid_report(tree, people, level=Whistle.DIFFICULT)
    services.accept_case(user=people["official"], case=case)
    services.resolve_case(user=people["official"], case=case, outcome="已处理")
    client.force_login(people["grid_worker"])
    response = client.post(step_url(case, "confirm"), {"satisfaction": "1"}, follow=True)
    assert "The case is reopened." in html_of(response)
    case.refresh_from_db()
    assert case.status == Status.IN_HAND and case.reopened == 1
    html = html_of(response)
    assert 'id="done-heading"' not in html  # the outcome no longer stands
    assert "Rating: 1 / 5" in html


def test_the_history_names_the_system_for_an_overdue_escalation(client, tree, people):
    earlier = timezone.now() - datetime.timedelta(days=2)
    case = grid_report(tree, people, public=True, now=earlier)
    assert services.escalate_overdue() == 1
    client.force_login(people["grid_worker"])
    html = html_of(client.get(case_url(case)))
    assert "Escalated, overdue" in html and "the system" in html
    assert "Not accepted in time." in html


def test_a_closed_case_offers_no_steps(client, tree, people):
    case = grid_report(tree, people, level=Whistle.DIFFICULT)
    services.accept_case(user=people["official"], case=case)
    services.resolve_case(user=people["official"], case=case, outcome="已处理")
    services.confirm_case(user=people["grid_worker"], case=case, satisfaction=4)
    client.force_login(people["official"])
    html = html_of(client.get(case_url(case)))
    assert 'id="steps-heading"' not in html and "已处理" in html
    response = client.post(step_url(case, "note"), {"text": "补充"})
    assert response.status_code == 403
    assert events_of(case)[-1] == "closed"


@pytest.mark.parametrize("rating", ["0", "6", "", "五"])
def test_a_rating_outside_1_to_5_is_refused(client, tree, people, rating):
    case = grid_report(tree, people, level=Whistle.DIFFICULT)
    services.accept_case(user=people["official"], case=case)
    services.resolve_case(user=people["official"], case=case, outcome="已处理")
    client.force_login(people["grid_worker"])
    response = client.post(step_url(case, "confirm"), {"satisfaction": rating, "comment": "还行"})
    assert response.status_code == 400
    html = html_of(response)
    assert "Rate from 1 (very dissatisfied) to 5 (very satisfied)." in html
    assert "还行</textarea>" in html
    case.refresh_from_db()
    assert case.status == Status.RESOLVED and case.satisfaction is None
    assert "confirmed" not in events_of(case)


def test_only_the_reporter_confirms(client, tree, people):
    case = grid_report(tree, people, level=Whistle.DIFFICULT)
    services.accept_case(user=people["official"], case=case)
    services.resolve_case(user=people["official"], case=case, outcome="已处理")
    client.force_login(people["official"])
    response = client.post(step_url(case, "confirm"), {"satisfaction": "5"})
    assert response.status_code == 403
    assert "Only the person who reported the case confirms it." in html_of(response)
    assert Case.objects.get(pk=case.pk).status == Status.RESOLVED


def test_resolving_without_saying_what_was_done_is_refused(client, tree, people):
    case = private_demand(tree, people)
    services.accept_case(user=people["committee"], case=case)
    client.force_login(people["committee"])
    response = client.post(step_url(case, "resolve"), {"outcome": "  ", "photo_1": photo()})
    assert response.status_code == 400
    html = html_of(response)
    assert "Say what was done." in html and "Choose the photos again" in html
    assert Case.objects.get(pk=case.pk).status == Status.ACCEPTED
    assert not CasePhoto.objects.filter(event__kind=EventKind.RESOLVED).exists()


def test_an_id_number_in_a_note_is_refused_on_its_field(client, tree, people):
    case = private_demand(tree, people)
    client.force_login(people["committee"])
    response = client.post(step_url(case, "note"), {"text": f"户主{ID_NUMBER}"})
    assert response.status_code == 400
    html = html_of(response)
    assert "Remove the ID card number" in html and ID_NUMBER in html
    assert events_of(case) == ["reported"]


def test_accepting_twice_says_so_and_changes_nothing(client, tree, people):
    case = private_demand(tree, people)
    services.accept_case(user=people["committee"], case=case)
    client.force_login(people["committee"])
    response = client.post(step_url(case, "accept"))
    assert response.status_code == 400
    assert "This case has already been accepted." in html_of(response)
    assert events_of(case) == ["reported", "accepted"]


@pytest.mark.parametrize(
    ("step", "refusal"),
    [
        ("accept", "Only those who handle this case can do that."),
        ("start", "Only those who handle this case can do that."),
        ("note", "Only those who handle this case can do that."),
        ("resolve", "Only those who handle this case can do that."),
        ("mediator", "Only those who handle this case can do that."),
        ("whistle", "Only the township&#x27;s officials whistle in a department."),
    ],
)
def test_the_reporter_cannot_handle_or_whistle_their_own_demand(
    client, tree, people, step, refusal
):
    case = private_demand(tree, people)
    client.force_login(people["resident"])
    # Whatever is typed, even nothing: refused for who they are, not for what they typed.
    for data in ({}, {"text": "x", "outcome": "x", "reason": "x"}):
        response = client.post(step_url(case, step), data)
        assert response.status_code == 403
        assert refusal in html_of(response)
    assert events_of(case) == ["reported"]
    assert Case.objects.get(pk=case.pk).status == Status.REPORTED


def test_a_resident_trying_to_whistle_gets_the_services_refusal(client, tree, people):
    department = services.register_department(
        user=people["official"], council=tree["township"], name="白沙派出所", kind="police"
    )
    case = private_demand(tree, people)
    client.force_login(people["resident"])
    response = client.post(step_url(case, "whistle"), {"department": department.pk})
    assert response.status_code == 403
    assert "Only the township&#x27;s officials whistle in a department." in html_of(response)
    assert Case.objects.get(pk=case.pk).department is None


@pytest.mark.parametrize("who", ["neighbour", "other_official"])
def test_outsiders_cannot_post_steps_to_a_private_case(client, tree, people, who):
    case = private_demand(tree, people)
    client.force_login(people[who])
    for step in ("accept", "note", "confirm"):
        response = client.post(step_url(case, step), {"text": "x", "satisfaction": "5"})
        assert response.status_code == 403
    assert events_of(case) == ["reported"]


def test_steps_need_a_post_and_a_signed_in_person(client, tree, people):
    case = grid_report(tree, people, public=True)
    response = client.post(step_url(case, "accept"))
    assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(people["committee"])
    assert client.get(step_url(case, "accept")).status_code == 405
    assert events_of(case) == ["reported"]


def test_whistling_a_department_and_passing_it_on_needs_a_reason(client, tree, people):
    official = people["official"]
    police = services.register_department(
        user=official, council=tree["township"], name="白沙派出所", kind="police"
    )
    justice = services.register_department(
        user=people["district_official"],
        council=tree["district"],
        name="江北区司法局",
        kind="justice",
    )
    elsewhere = services.register_department(
        user=people["other_official"],
        council=tree["other_township"],
        name="桃源司法所",
        kind="justice",
    )
    case = grid_report(tree, people)
    client.force_login(official)
    response = client.post(step_url(case, "whistle"), {"department": elsewhere.pk})
    assert response.status_code == 400
    assert "Choose a department that serves where the case is." in html_of(response)
    assert client.post(step_url(case, "whistle"), {"department": police.pk}).status_code == 302
    case.refresh_from_db()
    assert case.department == police and case.status == Status.REPORTED
    response = client.post(step_url(case, "whistle"), {"department": justice.pk})
    assert response.status_code == 400
    assert "Say why the case passes to another department." in html_of(response)
    assert Case.objects.get(pk=case.pk).department == police
    response = client.post(
        step_url(case, "whistle"), {"department": justice.pk, "reason": "涉及调解"}
    )
    assert response.status_code == 302
    assert events_of(case) == ["reported", "whistled", "transferred"]


# -- disputes and mediation ------------------------------------------------------------------------


def test_a_dispute_shows_its_parties_only_to_those_concerned(client, tree, people):
    case = dispute(tree, people)
    client.force_login(people["committee"])
    html = html_of(client.get(case_url(case)))
    assert "王大" in html and "李二" in html and "Respondent" in html
    assert 'id="mediation-heading"' in html
    client.force_login(people["neighbour"])
    assert client.get(case_url(case)).status_code == 403


def test_a_party_with_an_account_sees_the_dispute(client, tree, people):
    case = dispute(tree, people)
    party = people["neighbour"]
    CaseParty.objects.filter(case=case, name="李二").update(user=party)
    client.force_login(party)
    response = client.get(case_url(case))
    assert response.status_code == 200 and "王大" in html_of(response)
    assert step_url(case, "accept") not in html_of(response)


def test_a_dispute_is_mediated_by_a_rural_worthy(client, tree, people):
    worthies = make_council(tree["township"], level=Level.WORTHIES, title="白沙镇乡贤参事会")
    worthy = member(worthies)
    case = dispute(tree, people)
    client.force_login(people["committee"])
    html = html_of(client.get(case_url(case)))
    assert f'<option value="{worthy.pk}">{worthy.public_name}</option>' in html
    assert f'<option value="{people["neighbour"].pk}">' not in html
    # Someone not on the list is refused.
    response = client.post(step_url(case, "mediator"), {"mediator": people["neighbour"].pk})
    assert response.status_code == 400
    assert "Choose one of the mediators listed." in html_of(response)
    assert not Mediation.objects.exists()
    assert client.post(step_url(case, "mediator"), {"mediator": worthy.pk}).status_code == 302
    mediation = Mediation.objects.get()
    assert mediation.mediator == worthy and mediation.mediator_council == worthies
    # The mediator now sees the case and records the session, the agreement, the follow-up.
    client.force_login(worthy)
    html = html_of(client.get(case_url(case)))
    assert step_url(case, "mediation") in html and step_url(case, "agreement") in html
    assert step_url(case, "follow_up") not in html and step_url(case, "accept") not in html
    response = client.post(step_url(case, "mediation"), {"text": "双方到场，各自陈述"})
    assert response.status_code == 302
    follow_up_on = (timezone.localdate() + datetime.timedelta(days=30)).isoformat()
    response = client.post(
        step_url(case, "agreement"),
        {"agreement": "院墙后退半米，费用平摊", "follow_up_on": follow_up_on},
    )
    assert response.status_code == 302
    html = html_of(client.get(case_url(case)))
    assert "院墙后退半米，费用平摊" in html and follow_up_on in html
    assert step_url(case, "agreement") not in html
    assert client.post(step_url(case, "follow_up"), {"text": "协议履行良好"}).status_code == 302
    assert events_of(case) == ["reported", "mediator", "mediation", "agreement", "follow_up"]


def test_a_village_committee_member_may_be_named_mediator(client, tree, people):
    case = dispute(tree, people)
    client.force_login(people["official"])
    response = client.post(step_url(case, "mediator"), {"mediator": people["committee"].pk})
    assert response.status_code == 302
    assert Mediation.objects.get().mediator_council == tree["village"]


def test_an_agreement_in_the_past_or_without_a_mediator_is_refused(client, tree, people):
    case = dispute(tree, people)
    client.force_login(people["committee"])
    response = client.post(step_url(case, "agreement"), {"agreement": "和解"})
    assert response.status_code == 400
    assert "Name a mediator before recording an agreement." in html_of(response)
    services.name_mediator(user=people["committee"], case=case, mediator=people["committee"])
    yesterday = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    response = client.post(
        step_url(case, "agreement"), {"agreement": "和解", "follow_up_on": yesterday}
    )
    assert response.status_code == 400
    assert "The follow-up date cannot be in the past." in html_of(response)
    assert "和解</textarea>" in html_of(response)
    assert Mediation.objects.get().agreed_at is None
    response = client.post(step_url(case, "follow_up"), {"text": "还没达成"})
    assert response.status_code == 400
    assert "Record the agreement before following it up." in html_of(response)


def test_a_mediation_session_before_the_report_is_refused(client, tree, people):
    """Found by tests/fuzz: on 0001-01-01 before 08:00 Shanghai time, the instant is before
    year 1 in UTC and the database could not store it (a 500)."""
    case = dispute(tree, people)
    services.name_mediator(user=people["committee"], case=case, mediator=people["committee"])
    client.force_login(people["committee"])
    for held_at in ("0001-01-01T00:00", "2020-05-01T09:00"):
        response = client.post(
            step_url(case, "mediation"), {"text": "双方到场", "held_at": held_at}
        )
        assert response.status_code == 400
        assert "recorded from the day the dispute was reported" in html_of(response)
    assert not case.events.filter(kind="mediation").exists()


def test_the_mediator_cannot_mediate_a_case_that_is_not_a_dispute(client, tree, people):
    case = private_demand(tree, people)
    client.force_login(people["committee"])
    assert step_url(case, "mediator") not in html_of(client.get(case_url(case)))
    response = client.post(step_url(case, "mediation"), {"text": "谈话"})
    assert response.status_code == 400
    assert "Only a dispute is mediated." in html_of(response)


# -- photos ----------------------------------------------------------------------------------------


def test_a_private_cases_photo_is_served_only_to_who_may_see_the_case(client, tree, people):
    case = private_demand(tree, people, photos=[photo()])
    stored = CasePhoto.objects.get(event__case=case)
    url = reverse("cases:photo", args=[stored.pk])
    client.force_login(people["resident"])
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert url in html_of(client.get(case_url(case)))
    for who in ("neighbour", "other_official", "grid_worker"):
        client.force_login(people[who])
        assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 404
    assert client.get(reverse("cases:photo", args=[stored.pk + 1000])).status_code == 404


def test_a_public_cases_photo_is_shown_to_everyone(client, tree, people):
    case = grid_report(tree, people, public=True, photos=[photo()])
    stored = CasePhoto.objects.get(event__case=case)
    url = reverse("cases:photo", args=[stored.pk])
    assert url in html_of(client.get(case_url(case)))
    assert client.get(url).status_code == 200


# -- my cases --------------------------------------------------------------------------------------


def test_my_cases_lists_what_i_reported_and_my_disputes_newest_first(client, tree, people):
    first = private_demand(tree, people, title="第一件")
    other = private_demand(tree, people, reporter=people["neighbour"], title="别人的事")
    theirs = services.report_case(
        reporter=people["neighbour"],
        council=tree["village"],
        source=Source.DISPUTE,
        category=Category.NEIGHBOURS,
        level=Whistle.ROUTINE,
        title="我是当事人",
        description="邻居告我占道",
        parties=[("applicant", "邻居"), ("respondent", "我")],
    )
    CaseParty.objects.filter(case=theirs, name="我").update(user=people["resident"])
    client.force_login(people["resident"])
    html = html_of(client.get(reverse("cases:mine")))
    assert "第一件" in html and "我是当事人" in html and other.title not in html
    assert html.index("我是当事人") < html.index("第一件")
    assert case_url(first) in html


def test_my_cases_needs_a_signed_in_person(client):
    response = client.get(reverse("cases:mine"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_my_cases_query_count_does_not_grow_with_the_cases(
    client, tree, people, django_assert_max_num_queries
):
    resident = people["resident"]
    for n in range(2):
        private_demand(tree, people, title=f"诉求{n}")
    client.force_login(resident)
    client.get(reverse("cases:mine"))  # warm the session and the site-root cache
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("cases:mine"))
    for n in range(2, 25):
        private_demand(tree, people, title=f"诉求{n}")
    with django_assert_max_num_queries(len(few)):
        response = client.get(reverse("cases:mine"))
    html = html_of(response)
    assert "诉求24" in html and "诉求4" not in html  # the first page: 20 of 25
    assert "Page 1 of 2" in html
    assert "诉求4" in html_of(client.get(reverse("cases:mine"), {"page": 2}))


# -- a hall topic becomes a case -------------------------------------------------------------------


def escalate_url(topic):
    return reverse("cases:escalate_topic", args=[topic.pk])


def test_the_committee_turns_a_hall_topic_into_a_case(client, tree, people):
    topic = TopicFactory(hall=HallFactory(council=tree["village"]), title="村口路面积水")
    client.force_login(people["committee"])
    assert client.get(escalate_url(topic)).status_code == 200
    response = client.post(escalate_url(topic), {"level": "difficult", "category": "roads"})
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == case_url(case)
    assert case.source == Source.TOPIC and case.topic == topic
    assert case.level == Whistle.DIFFICULT and case.handler_council == tree["township"]
    assert case.description == topic.description
    # Not twice while the case is open.
    response = client.post(escalate_url(topic), {"level": "routine", "category": "roads"})
    assert response.status_code == 302 and Case.objects.count() == 1
    assert case_url(case) in html_of(client.get(escalate_url(topic)))


def test_escalating_without_a_category_is_refused(client, tree, people):
    topic = TopicFactory(hall=HallFactory(council=tree["village"]))
    client.force_login(people["committee"])
    response = client.post(escalate_url(topic), {"level": "routine"})
    assert response.status_code == 400
    assert "Choose a category." in html_of(response)
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    "who", ["resident", "grid_worker", "supervisor", "other_committee", "other_official"]
)
def test_only_the_committee_and_officials_escalate_a_topic(client, tree, people, who):
    topic = TopicFactory(hall=HallFactory(council=tree["village"]))
    client.force_login(people[who])
    assert client.get(escalate_url(topic)).status_code == 403
    response = client.post(escalate_url(topic), {"level": "routine", "category": "roads"})
    assert response.status_code == 403
    assert "Only the committee turns a hall topic into a case." in html_of(response)
    assert not Case.objects.exists()


def test_an_anonymous_visitor_cannot_escalate_a_topic(client, tree):
    topic = TopicFactory(hall=HallFactory(council=tree["village"]))
    response = client.post(escalate_url(topic), {"level": "routine", "category": "roads"})
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not Case.objects.exists()
