import pytest


@pytest.fixture(autouse=True)
def _site_root(request):
    """The demo city hangs under the site's home page, which a migration creates and a
    transactional test's flush removes: whatever ran before in this process, it is there."""
    if request.node.get_closest_marker("django_db"):
        from tests.councils.factories import home_page

        home_page()
