import pytest
from django.db import transaction

from tests.api.world import build_world
from tests.councils.factories import make_tree


@pytest.fixture(scope="module")
def api_world(request, django_db_setup, django_db_blocker):
    """One world (tests/api/world.py) for a whole module, built inside a transaction held open
    for the module and rolled back at its end, like the shared council tree (tests/conftest.py);
    each test still runs in its own savepoint. For modules whose tests do not commit."""
    outer = transaction.atomic()
    with django_db_blocker.unblock():
        outer.__enter__()
        try:
            world = build_world(make_tree())
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    try:
        yield world
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
