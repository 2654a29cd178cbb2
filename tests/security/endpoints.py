"""The site's URLconf, walked: every view that accepts POST, found without a hand-kept list.

A view accepts POST when it is a class with a `post` method, or when the source of the function
(or of any function it wraps, decorators included) reads `request.POST`/`request.FILES`, compares
`request.method` with "POST" or is decorated with `require_POST`.
"""

import inspect
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

# The apps whose views must each have a row in the permission matrix.
OUR_APPS = (
    "core",
    "councils",
    "deliberation",
    "meetings",
    "budgets",
    "disclosure",
    "home",
    "cases",
    "governance",
    "assets",
)
POST_MARKERS = (
    "require_POST",
    "request.POST",
    "request.FILES",
    'request.method == "POST"',
    "request.method == 'POST'",
)


@dataclass(frozen=True)
class Endpoint:
    name: str  # "namespace:name", as reverse() takes it
    route: str
    callback: object

    @property
    def module(self) -> str:
        view = getattr(self.callback, "view_class", self.callback)
        return view.__module__

    @property
    def is_ours(self) -> bool:
        return self.module.split(".")[0] in OUR_APPS


def _walk(resolver, prefix="", namespace=None):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield Endpoint(name or "", prefix + str(pattern.pattern), pattern.callback)


def all_endpoints() -> list[Endpoint]:
    return list(_walk(get_resolver()))


def accepts_post(callback) -> bool:
    view_class = getattr(callback, "view_class", None)
    if view_class is not None:
        return "post" in getattr(view_class, "http_method_names", ()) and hasattr(
            view_class, "post"
        )
    return _reads_post(callback, seen=set())


def _reads_post(function, *, seen: set) -> bool:
    """True if `function`, what it wraps, or a helper of its own module that it calls reads POST.

    Helpers are followed because views delegate (`vote` -> `_ballot_page`, `submit` -> a step
    made by `_simple_step`): a new view built on a POST-reading helper is a write endpoint too.
    """
    while function is not None and function not in seen:
        seen.add(function)
        try:
            source = inspect.getsource(function)
        except (OSError, TypeError):
            source = ""
        if any(marker in source for marker in POST_MARKERS):
            return True
        code = getattr(function, "__code__", None)
        module = getattr(function, "__module__", None)
        for name in code.co_names if code else ():
            helper = getattr(function, "__globals__", {}).get(name)
            if (
                inspect.isfunction(helper)
                and helper.__module__ == module
                and _reads_post(helper, seen=seen)
            ):
                return True
        function = getattr(function, "__wrapped__", None)
    return False


def post_endpoints(*, ours: bool) -> list[Endpoint]:
    """POST-accepting endpoints of our apps (ours=True) or of the libraries we mount."""
    return [e for e in all_endpoints() if e.is_ours == ours and accepts_post(e.callback)]
