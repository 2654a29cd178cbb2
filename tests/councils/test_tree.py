import pytest
from django.core.exceptions import ValidationError

from councils.models import CouncilPage, Level, check_parent_level
from tests.councils.factories import home_page, make_council

pytestmark = pytest.mark.django_db

ALLOWED = [
    (Level.CITY, None),
    (Level.DISTRICT, Level.CITY),
    (Level.TOWNSHIP, Level.DISTRICT),
    (Level.VILLAGE, Level.TOWNSHIP),
    (Level.GRID, Level.VILLAGE),
    (Level.WORTHIES, Level.TOWNSHIP),
    (Level.WORTHIES, Level.VILLAGE),
    (Level.CHILDREN, Level.VILLAGE),
]
REFUSED = [
    (Level.DISTRICT, None),
    (Level.VILLAGE, None),
    (Level.VILLAGE, Level.CITY),
    (Level.VILLAGE, Level.DISTRICT),
    (Level.GRID, Level.TOWNSHIP),
    (Level.GRID, Level.GRID),
    (Level.CITY, Level.CITY),
    (Level.TOWNSHIP, Level.VILLAGE),
    (Level.WORTHIES, Level.GRID),
    (Level.CHILDREN, Level.CITY),
]


def parent_at(level, tree):
    if level is None:
        return home_page()
    return {
        Level.CITY: tree["city"],
        Level.DISTRICT: tree["district"],
        Level.TOWNSHIP: tree["township"],
        Level.VILLAGE: tree["village"],
        Level.GRID: tree["grid"],
    }[level]


@pytest.mark.parametrize(("level", "parent_level"), ALLOWED)
def test_allowed_placements(tree, level, parent_level):
    check_parent_level(level, parent_at(parent_level, tree))


@pytest.mark.parametrize(("level", "parent_level"), REFUSED)
def test_refused_placements_name_both_levels(tree, level, parent_level):
    with pytest.raises(ValidationError) as error:
        check_parent_level(level, parent_at(parent_level, tree))
    assert "cannot be placed under" in str(error.value)


def test_saving_a_misplaced_council_is_refused(tree):
    page = CouncilPage(title="错位的村", slug="wrong", level=Level.VILLAGE)
    tree["district"].add_child(instance=page)
    with pytest.raises(ValidationError):
        page.full_clean()


def test_council_page_shows_breadcrumbs_and_sub_councils(client, tree):
    response = client.get(tree["village"].url)
    html = response.content.decode()
    assert response.status_code == 200
    crumbs = html[
        html.index('class="breadcrumbs"') : html.index("</nav>", html.index("breadcrumbs"))
    ]
    assert [name in crumbs for name in ("青山市", "江北区", "白沙镇")] == [True] * 3
    assert "第1网格" in html
    assert "石桥村" not in html  # a sibling is not a sub-council
    assert "No discussion halls yet." in html


def test_council_page_queries_do_not_grow_with_sub_councils(
    client, tree, django_assert_max_num_queries
):
    township = tree["township"]
    client.get(township.url)  # warm Wagtail's site-root cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(township.url)
    for i in range(25):
        make_council(township, level=Level.VILLAGE, title=f"新村{i}")
    with CaptureQueriesContext(connection) as many:
        response = client.get(township.url)
    assert "新村24" in response.content.decode()
    assert len(many) == len(few)


def test_search_finds_councils_by_part_of_the_name(client, tree):
    response = client.get("/councils/search/", {"q": "柳树"})
    assert "柳树村" in response.content.decode()
    response = client.get("/councils/search/", {"q": "树村"})
    assert "柳树村" in response.content.decode()
    assert "石桥村" not in response.content.decode()


def test_search_shows_the_parent_and_handles_no_match(client, tree):
    html = client.get("/councils/search/", {"q": "柳树村"}).content.decode()
    assert "白沙镇" in html
    html = client.get("/councils/search/", {"q": "不存在的地方"}).content.decode()
    assert "No council has that name" in html


def test_search_query_count_is_constant(client, tree):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get("/councils/search/", {"q": "村"})
    with CaptureQueriesContext(connection) as few:
        client.get("/councils/search/", {"q": "村"})
    for i in range(15):
        make_council(tree["other_township"], level=Level.VILLAGE, title=f"后加村{i}")
    with CaptureQueriesContext(connection) as many:
        html = client.get("/councils/search/", {"q": "村"}).content.decode()
    assert "后加村" in html
    assert len(many) == len(few)


def test_overlong_search_is_rejected_quietly(client, tree):
    response = client.get("/councils/search/", {"q": "村" * 200})
    assert response.status_code == 200
    assert "Ensure this value has at most 60 characters" in response.content.decode()


def test_search_also_finds_councils_by_words_of_the_name_through_the_index(client, search_index):
    township = make_council(level=Level.TOWNSHIP, title="Willow Creek Township")
    make_council(township, level=Level.VILLAGE, title="Willow Creek Village")
    # Not a substring of either name: only the search index's words find them.
    html = client.get("/councils/search/", {"q": "willow village"}).content.decode()
    assert "Willow Creek Village" in html
    assert "Willow Creek Township</a>" not in html
