"""tests/dbthreads.py: a thread's connection is closed in its thread, not left to the collector."""

import sqlite3
import threading

import pytest
from django.db import connection, connections

from councils.models import CouncilPage
from tests.dbthreads import close_this_threads_connections


def _raw_connection_of_a_thread(close) -> object:
    """Run a query in a new thread, call `close` there, and return the thread's raw connection."""
    seen = {}

    def work():
        CouncilPage.objects.count()
        seen["raw"] = connections["default"].connection
        close()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    return seen["raw"]


@pytest.mark.django_db
def test_the_threads_connection_is_closed_when_the_thread_ends():
    raw = _raw_connection_of_a_thread(close_this_threads_connections)
    if connection.vendor == "sqlite":
        with pytest.raises(sqlite3.ProgrammingError):
            raw.execute("SELECT 1")
    else:
        assert raw.closed
    # The test's own connection, and the database behind it, are still there.
    assert CouncilPage.objects.count() >= 0


@pytest.mark.django_db
def test_djangos_close_all_would_leave_sqlites_in_memory_connection_open():
    """Why the helper exists: on SQLite's in-memory test database Django ignores close()."""
    if not (connection.vendor == "sqlite" and connection.is_in_memory_db()):
        pytest.skip("only SQLite's in-memory test database ignores close()")
    raw = _raw_connection_of_a_thread(connections.close_all)
    assert raw.execute("SELECT 1").fetchone() == (1,)
    raw.close()
