"""Pytest setup for the tally engine tests (plain functions, no Django, no database)."""


def pytest_configure(config):  # noqa: D103 - pytest hook
    config.addinivalue_line("markers", "reference: live comparison against pabutools (slow)")
