import fcntl
import hashlib
import os
import sqlite3
import sys
from pathlib import Path

import pytest
from django.db import transaction

from core.sms import MemorySmsBackend
from tests.councils.factories import UserFactory, home_page, make_tree

# Modules (node ids) whose tests share one council tree: see `_module_tree`.
_SHARED_TREE = pytest.StashKey[set]()

# Timing-sensitive tests (servers killed and restarted, live batching, a real browser): marked
# `serial`, they run after the rest in `make test`'s second pass, never next to the first pass's
# processes. Only these paths: each pass does not even collect the other's files.
SERIAL = ("tests/faults/", "tests/browser/", "tests/budgets/test_live.py")


NO_DATABASE_FIRST = (
    "tests/budgets/tally/test_reference.py",
    "tests/budgets/tally/test_rules_small.py",
)
# The longest files next, so that none of them is left to run alone at the end of the first pass.
# Only an ordering hint: a file missing here just runs in its usual place.
LONGEST_NEXT = (
    "tests/meetings/test_migration.py",
    "tests/fuzz/test_forms.py",
    "tests/fuzz/test_sockets.py",
    "tests/security/test_permission_matrix.py",
    "tests/deliberation/test_protocol_exact.py",
)


def pytest_ignore_collect(collection_path, config):
    serial_tests = config.getoption("--serial-tests")
    if not serial_tests or collection_path.suffix != ".py":
        return None
    try:
        relative = collection_path.relative_to(config.rootpath).as_posix()
    except ValueError:  # a file outside the project, named on the command line
        return None
    if not relative.startswith("tests/") or collection_path.name in ("conftest.py", "__init__.py"):
        return None
    is_serial = relative.startswith(SERIAL)
    return True if is_serial != (serial_tests == "only") else None


def pytest_addoption(parser):
    parser.addoption(
        "--serial-tests",
        choices=("skip", "only"),
        help="skip the tests marked serial, or run only them (make test's two passes); "
        "by default all tests run",
    )


# Migrated SQLite test databases, one per state of the migrations (see
# `django_db_modify_db_settings`).
MIGRATED = Path(__file__).resolve().parents[1] / "var" / "test-migrated"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings):
    """Migrate the in-memory SQLite test database once, not once per test process.

    Migrating takes about 40 s of CPU, and `make test` starts three processes (two workers, then
    the serial pass). The first process to migrate a given set of migration files keeps a copy
    of the result in var/test-migrated/; the others, and later runs, load that copy instead of
    migrating, as Django's own parallel runner hands its migrated database to its workers
    (DatabaseCreation.setup_worker_connection). Any change to any migration file, ours or a
    package's, makes a new copy. PostgreSQL (CI's second phase) still migrates every time.
    """
    from django.core.management.commands import migrate
    from django.db import connections

    default = connections["default"]
    if default.vendor != "sqlite" or not default.creation.is_in_memory_db(
        default.settings_dict["NAME"]
    ):
        yield
        return
    migrate_for_real = migrate.Command.handle

    def handle(self, *args, **options):
        connection = connections[options["database"]]
        if connection.alias != "default":
            return migrate_for_real(self, *args, **options)
        key = _migrations_key()
        if not key:
            return migrate_for_real(self, *args, **options)
        copy = MIGRATED / f"{key}.sqlite3"
        connection.ensure_connection()
        MIGRATED.mkdir(parents=True, exist_ok=True)
        # One process migrates; one arriving meanwhile waits for its copy (the first pass's
        # other worker is usually busy with the tally's files, which need no database).
        with open(MIGRATED / "lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if copy.exists() and _load_copy(copy, connection):
                # What migrating does in the process too: Wagtail connects its reference index
                # handlers after migrating; permissions and content types are there already.
                from django.core.management.sql import emit_post_migrate_signal

                emit_post_migrate_signal(0, False, connection.alias)
                return None
            result = migrate_for_real(self, *args, **options)
            for old in MIGRATED.glob("*.sqlite3"):
                if old != copy:
                    old.unlink(missing_ok=True)
            partial = MIGRATED / f"{key}.{os.getpid()}.tmp"
            target = sqlite3.connect(partial)
            connection.connection.backup(target)
            target.close()
            partial.replace(copy)
            return result

    migrate.Command.handle = handle
    try:
        yield
    finally:
        migrate.Command.handle = migrate_for_real


def _load_copy(copy: Path, connection) -> bool:
    try:
        source = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
        source.backup(connection.connection)
        source.close()
    except sqlite3.Error:  # removed or half-written meanwhile: migrate instead
        return False
    return True


def _migrations_key() -> str:
    """A digest of every migration file Django would apply, and of the SQLite version; empty
    when an app with models has no migrations (its tables come from the models: always build)."""
    from django.apps import apps
    from django.db.migrations.loader import MigrationLoader

    digest = hashlib.sha256(sqlite3.sqlite_version.encode())
    loader = MigrationLoader(None, ignore_no_migrations=True)
    if any(list(apps.get_app_config(label).get_models()) for label in loader.unmigrated_apps):
        return ""
    for key in sorted(loader.disk_migrations):
        path = sys.modules[loader.disk_migrations[key].__module__].__file__
        digest.update(f"{key}\0".encode())
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()[:20]


def pytest_collection_modifyitems(config, items):
    """Skip tests that need the production pair when it is not configured; choose the modules
    that share one council tree."""
    on_postgres = os.environ.get("DATABASE_URL", "").startswith("postgres")
    has_redis = bool(os.environ.get("REDIS_URL"))
    # The tally's comparisons need no database and are the heaviest files: first, so that one
    # worker runs them while the other migrates the test database (django_db_modify_db_settings).
    items.sort(
        key=lambda item: (
            0
            if item.nodeid.startswith(NO_DATABASE_FIRST)
            else 1
            if item.nodeid.startswith(LONGEST_NEXT)
            else 2
        )
    )
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)"))
        if "redis" in item.keywords and not has_redis:
            item.add_marker(pytest.mark.skip(reason="needs Redis (set REDIS_URL)"))
    for item in items:
        if item.nodeid.startswith(SERIAL):
            item.add_marker(pytest.mark.serial)
    serial_tests = config.getoption("--serial-tests")
    if serial_tests:
        wanted = serial_tests == "only"
        keep, drop = [], []
        for item in items:
            is_serial = item.get_closest_marker("serial") is not None
            (keep if is_serial == wanted else drop).append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep
    uses_tree, transactional = set(), set()
    for item in items:
        module = item.nodeid.split("::")[0]
        if "tree" in getattr(item, "fixturenames", ()):
            uses_tree.add(module)
        if _is_transactional(item):
            transactional.add(module)
    config.stash[_SHARED_TREE] = uses_tree - transactional


def _is_transactional(item) -> bool:
    """The test commits (live servers, threads, on_commit): it cannot run inside a transaction
    left open around it."""
    marker = item.get_closest_marker("django_db")
    if marker is not None and marker.kwargs.get("transaction", marker.args[:1] == (True,)):
        return True
    names = set(getattr(item, "fixturenames", ()))
    return bool(names & {"transactional_db", "live_server", "django_db_reset_sequences"})


def isolate_cache_and_layer(settings, request) -> None:
    """This test counts rate limits and broadcasts in its own process-local cache and layer.

    With REDIS_URL set the shared Redis would carry counts and groups between tests (and
    between runs on one machine); tests that need the real thing set up their own servers."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": request.node.nodeid,
        }
    }
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    settings.YISHI_SENSITIVE_WORDS = []


# Which page of make_tree() each page was added under (None: the site's home page).
TREE_PARENTS = {
    "district": "city",
    "township": "district",
    "village": "township",
    "grid": "village",
    "other_village": "township",
    "other_township": "district",
    "far_village": "other_township",
}


@pytest.fixture(scope="module", autouse=True)
def _module_tree(request):
    """One council tree for a whole module, when none of its tests commits.

    Building the tree (eight Wagtail pages: validation, search and reference index) is the most
    expensive step of most tests, and about half the suite asks for it. The tree is built once
    inside a transaction held open for the module and rolled back at its end, like the fuzz
    world (tests/fuzz/conftest.py); each test still runs in its own savepoint (pytest-django's
    `db`), so what a test writes, including changes to the tree, is gone for the next test.
    Modules with a transactional test build a tree per test as before: their commits, threads
    and on_commit callbacks need no transaction around them. Returns the pages' ids."""
    if request.node.nodeid not in request.config.stash.get(_SHARED_TREE, set()):
        yield None
        return
    request.getfixturevalue("django_db_setup")
    blocker = request.getfixturevalue("django_db_blocker")
    outer = transaction.atomic()
    with blocker.unblock():
        outer.__enter__()
        try:
            ids = {name: page.pk for name, page in make_tree().items()}
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    try:
        yield {name: (pk, TREE_PARENTS.get(name)) for name, pk in ids.items()}
    finally:
        with blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def tree(db, request, _module_tree):
    """make_tree()'s councils: this test's own, or fresh copies of the module's shared tree."""
    if _module_tree is None or _is_transactional(request.node):
        return make_tree()
    from councils.models import CouncilPage

    pages = CouncilPage.objects.in_bulk([pk for pk, _ in _module_tree.values()])
    tree = {name: pages[pk] for name, (pk, _) in _module_tree.items()}
    for name, (_, parent) in _module_tree.items():
        # As after add_child: a page knows its parent without a query (treebeard's cache).
        tree[name]._cached_parent_obj = tree[parent] if parent else home_page()
    return tree


@pytest.fixture(scope="session", autouse=True)
def _no_reference_index():
    """Wagtail's reference index (its admin's "usage" counts) is not updated on save in the
    test process: nothing of ours reads it, and updating it on every page save cost a tenth of
    the suite. Servers started by tests, and threads, keep it."""
    from wagtail.signal_handlers import reference_index_auto_update_disabled

    reference_index_auto_update_disabled.value = True
    yield
    reference_index_auto_update_disabled.value = False


@pytest.fixture
def search_index(settings):
    """Wagtail's search index kept up to date on save, as in production (the test settings
    leave it off for speed). Ask for it before the pages the test searches are made."""
    settings.WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def sms_outbox():
    MemorySmsBackend.outbox.clear()
    yield MemorySmsBackend.outbox
    MemorySmsBackend.outbox.clear()


@pytest.fixture(autouse=True)
def _turnout_unbatched(monkeypatch):
    """Each committed ballot reaches the turnout throttle at once, in the test's own thread (no
    timer thread outliving a test); tests/budgets/test_live.py tests the batching itself."""
    from budgets import live

    monkeypatch.setattr(live, "BATCH", 0)
    live._batches.clear()


@pytest.fixture(autouse=True)
def _process_wide_state_reset():
    """Every registered module-level cache, batch and hub starts empty (core.state)."""
    from core import state

    state.reset_all()
    yield
    state.reset_all()


@pytest.fixture(autouse=True)
def _english_by_default(settings):
    """Assertions read English; tests of the Chinese interface switch explicitly."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def redis_server():
    """A private `redis-server` (tests/faults/servers.py) for tests that stop and restart Redis
    or need one nobody else uses; the test skips where the binary is missing."""
    from tests.faults.servers import RedisServer

    if RedisServer.binary is None:
        pytest.skip("needs the redis-server binary")
    server = RedisServer()
    server.start()
    yield server
    server.kill()
