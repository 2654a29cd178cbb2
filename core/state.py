"""Process-wide state, listed in one place (docs/architecture.md, "Process-wide state").

Every module-level mutable (a cache, a client pool, a batch, a hub) registers here, at import,
the function that empties it. Tests call `reset_all()` from one autouse fixture
(tests/conftest.py), so no test sees what another left behind.
"""

from collections.abc import Callable

_resetters: dict[str, Callable[[], None]] = {}


def register(name: str, reset: Callable[[], None]) -> None:
    """Register the process-wide state `name` ("module.variable") and what empties it."""
    _resetters[name] = reset


def registered() -> list[str]:
    return sorted(_resetters)


def reset_all() -> None:
    """Empty every registered process-wide state (tests; never needed in production)."""
    for reset in list(_resetters.values()):
        reset()
