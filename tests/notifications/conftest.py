"""The deliberation tests' fixtures (a hall, a topic, its asker, the committee), for the tests of
what topics tell people; a test module's own fixture of the same name wins."""

from tests.deliberation.conftest import committee, hall, resident, topic  # noqa: F401
