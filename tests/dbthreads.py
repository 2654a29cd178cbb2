"""Closing a helper thread's database connections before the thread ends.

Django ignores `close()` on SQLite's in-memory test database, since closing its last connection
would drop it. A connection opened by a thread that a test starts therefore outlives the thread,
held in the reference cycles of its DatabaseWrapper, until the garbage collector frees it. That
can happen anywhere: once it happened inside a SQL function (Django's date_trunc, written in
Python) of another query on the same shared-cache database, whose lock that query holds, and
sqlite3_close then waited on that lock forever (tests/browser/test_governance_screen.py hung CI).
So every thread a test starts closes its connections itself, in its own thread, at a safe point.
The test's own connection keeps the shared in-memory database alive.
"""

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper


def close_this_threads_connections() -> None:
    """Close, for good, every database connection the calling thread opened."""
    for conn in connections.all(initialized_only=True):
        if conn.vendor == "sqlite" and conn.is_in_memory_db():
            # What SQLite's close() skips for an in-memory database.
            BaseDatabaseWrapper.close(conn)
        else:
            conn.close()
