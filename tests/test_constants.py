"""Status values and event names are constants, never bare strings (issue 15, point 6).

Walks the source of every app (migrations and tests aside) and fails where a string literal that
is a value of one of the project's TextChoices enums (`"open"`, `"create_hall"`, `"grid"`...) is
compared with `==`/`!=`, tested with `in`/`not in` against a tuple, list or set of literals, passed
as a keyword named after a choices field (`status=`, `kind=`, `verb=`, `status__in=`,
`stances__value=`...), assigned to such an attribute or name, or given as such a parameter's
default. Write `TopicStatus.OPEN`, `ActionVerb.CREATE_HALL`, `Level.GRID` instead: a renamed or
removed value then fails at import, not silently in a query that matches nothing.

Templates too: an `{% if %}`/`{% elif %}` that compares with `==`, `!=`, `in` or `not in` to a
quoted choice value (`{% if p.status == "rejected" %}`) fails; ask a model property
(`p.is_rejected`) or a flag the view computed with the constant (`is_voting`) instead.
"""

import ast
import importlib
import inspect
import pathlib
import re

import pytest
from django.apps import apps
from django.db import models

ROOT = pathlib.Path(__file__).resolve().parent.parent
APPS = ("core", "councils", "home", "deliberation", "meetings", "budgets", "disclosure")
# Keywords, attributes and parameters that always hold a choice value, whatever the field's name
# (the names of the apps' fields with choices are added to these).
CHOICE_NAMES = {"status", "kind", "phase", "verb", "level", "attendance", "action"}

# Packages that cannot import the models: budgets/tally/ is pure Python without Django and speaks
# pabulib's vocabulary ("approval", "cost", "utility"), which our enums mirror.
SKIPPED = ("budgets/tally/",)

# (file, enclosing function, literal): each one a string that only looks like a choice value.
ALLOWED = {
    # URL segments of the chair's buttons (<slug:action>), not a session's or motion's status.
    ("meetings/views.py", "session_action", "open"),
    ("meetings/views.py", "motion_action", "open"),
    ("meetings/views.py", "motion_action", "implementation"),
    # Error codes of a ValidationError raised by the service, not statuses.
    ("budgets/views.py", "answer_objection", "answered"),
    # A yes/no radio button of a form, not a roll-call VoteChoice.
    ("budgets/forms.py", "<lambda>", "yes"),
}

# (template, literal): a quoted string in an {% if %} that only looks like a choice value, e.g. a
# GET parameter's tab name. Keep it short; each entry says why.
TEMPLATE_ALLOWED: set[tuple[str, str]] = set()


def _enum_values() -> dict[str, list[str]]:
    """Every value of a TextChoices enum in the apps, with the enums that have it."""
    values: dict[str, list[str]] = {}
    for label in APPS:
        module = importlib.import_module(f"{label}.models")
        for source in _modules_defining_choices(label) | {module}:
            for name, obj in vars(source).items():
                if (
                    inspect.isclass(obj)
                    and issubclass(obj, models.TextChoices)
                    and obj.__module__ == source.__name__
                ):
                    for member in obj:
                        values.setdefault(member.value, []).append(f"{name}.{member.name}")
    return values


def _modules_defining_choices(label: str) -> set:
    """Modules besides models.py that declare a TextChoices (computed states, e.g. schedule.py)."""
    found = set()
    for path in _sources(label):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and any(
                getattr(base, "attr", getattr(base, "id", None)) == "TextChoices"
                for base in node.bases
            ):
                name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
                found.add(importlib.import_module(name))
                break
    return found


def _choice_names() -> set[str]:
    names = set(CHOICE_NAMES)
    for label in APPS:
        for model in apps.get_app_config(label).get_models():
            for field in model._meta.get_fields():
                if isinstance(field, models.CharField) and field.choices:
                    names.add(field.name)
    return names


def _sources(label: str):
    for path in sorted((ROOT / label).rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if "/migrations/" in relative or relative.startswith(SKIPPED):
            continue
        yield path


def _strings(node) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [literal for element in node.elts for literal in _strings(element)]
    return []


class _Finder(ast.NodeVisitor):
    def __init__(self, values, names):
        self.values, self.names = values, names
        self.scope = ["<module>"]
        self.found: list[tuple[int, str, str]] = []  # (line, function, literal)

    def _report(self, node, candidates):
        for literal in _strings(candidates):
            if literal in self.values:
                self.found.append((node.lineno, self.scope[-1], literal))

    def _is_choice_name(self, name: str | None) -> bool:
        return bool(name) and any(part in self.names for part in name.split("__"))

    def _function(self, node):
        arguments = node.args
        positional = arguments.posonlyargs + arguments.args
        with_defaults = positional[len(positional) - len(arguments.defaults) :]
        for arg, default in zip(with_defaults, arguments.defaults, strict=True):
            if self._is_choice_name(arg.arg):
                self._report(default, default)
        for arg, default in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True):
            if default is not None and self._is_choice_name(arg.arg):
                self._report(default, default)
        self.scope.append(getattr(node, "name", "<lambda>"))
        self.generic_visit(node)
        self.scope.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_Compare(self, node):
        left = node.left
        for op, right in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, (ast.Eq, ast.NotEq)):
                for side in (left, right):
                    if isinstance(side, ast.Constant):
                        self._report(node, side)
            elif isinstance(op, (ast.In, ast.NotIn)) and isinstance(
                right, (ast.Tuple, ast.List, ast.Set)
            ):
                self._report(node, right)
            left = right
        self.generic_visit(node)

    def visit_Call(self, node):
        for keyword in node.keywords:
            if self._is_choice_name(keyword.arg):
                self._report(keyword.value, keyword.value)
        self.generic_visit(node)

    def visit_Assign(self, node):
        for target in node.targets:
            name = getattr(target, "attr", getattr(target, "id", None))
            if isinstance(target, (ast.Attribute, ast.Name)) and self._is_choice_name(name):
                self._report(node, node.value)
        self.generic_visit(node)

    def visit_AnnAssign(self, node):
        name = getattr(node.target, "attr", getattr(node.target, "id", None))
        if node.value is not None and self._is_choice_name(name):
            self._report(node, node.value)
        self.generic_visit(node)


def find_bare_choice_values(path: pathlib.Path, values, names) -> list[tuple[int, str, str]]:
    finder = _Finder(values, names)
    finder.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    return finder.found


# Django tags never span lines, so the check reads a template line by line.
_CONDITION = re.compile(r"{%-?\s*(?:if|elif)\s+(.*?)\s*-?%}")
_QUOTED = re.compile(r""""([^"]*)"|'([^']*)'""")
_OPERATOR_BEFORE = re.compile(r"(?:==|!=|\bin)\s*$")  # `not in` ends with `in`
_OPERATOR_AFTER = re.compile(r"^\s*(?:==|!=|(?:not\s+)?in\b)")


def _templates():
    for base in [ROOT / "templates", *(ROOT / label / "templates" for label in APPS)]:
        for path in sorted(base.rglob("*")):
            if path.suffix in (".html", ".txt"):
                yield path


def find_bare_choice_values_in_template(path: pathlib.Path, values) -> list[tuple[int, str]]:
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        for condition in _CONDITION.finditer(line):
            text = condition.group(1)
            for quoted in _QUOTED.finditer(text):
                literal = quoted.group(1) if quoted.group(1) is not None else quoted.group(2)
                if literal in values and (
                    _OPERATOR_BEFORE.search(text[: quoted.start()])
                    or _OPERATOR_AFTER.match(text[quoted.end() :])
                ):
                    found.append((number, literal))
    return found


@pytest.fixture(scope="module")
def enum_values():
    return _enum_values()


def test_enum_values_are_collected(enum_values):
    assert {"open", "create_hall", "grid", "proxy", "vote", "published"} <= set(enum_values)
    assert "overdue" in enum_values  # disclosure.schedule.ObligationStatus, outside models.py


def test_status_and_event_values_are_constants_not_bare_strings(enum_values):
    names = _choice_names()
    problems, used = [], set()
    for label in APPS:
        for path in _sources(label):
            relative = path.relative_to(ROOT).as_posix()
            for line, function, literal in find_bare_choice_values(path, enum_values, names):
                if (relative, function, literal) in ALLOWED:
                    used.add((relative, function, literal))
                    continue
                enums = " or ".join(enum_values[literal])
                problems.append(f'{relative}:{line} ({function}): "{literal}"; use {enums}')
    assert not problems, "Bare choice values, write the constant:\n" + "\n".join(problems)
    assert not ALLOWED - used, f"Stale allow-list entries: {sorted(ALLOWED - used)}"


@pytest.mark.parametrize(
    "source",
    [
        'Topic.objects.filter(status="open")',
        'if topic.status == "closed": pass',
        'if council.level in ("grid", "worthies"): pass',
        'log_action(council=c, actor=u, verb="create_hall", target="t")',
        'Session.objects.filter(kind="representatives", status__in=["open"])',
        'Count("stances", filter=Q(stances__value="support"))',
        'entry.attendance = "present"',
        'def f(*, phase="vote"): pass',
    ],
)
def test_the_finder_catches_each_form(tmp_path, enum_values, source):
    planted = tmp_path / "planted.py"
    planted.write_text(source + "\n", encoding="utf-8")
    assert find_bare_choice_values(planted, enum_values, _choice_names())


def test_the_finder_leaves_constants_and_other_strings_alone(tmp_path, enum_values):
    planted = tmp_path / "planted.py"
    planted.write_text(
        'Topic.objects.filter(status=TopicStatus.OPEN)\nif request.method == "POST": pass\n'
        'group_send({"type": "closed"})\nreverse("budgets:vote")\n',
        encoding="utf-8",
    )
    assert find_bare_choice_values(planted, enum_values, _choice_names()) == []


def test_templates_compare_no_bare_choice_values(enum_values):
    problems, used = [], set()
    for path in _templates():
        relative = path.relative_to(ROOT).as_posix()
        for line, literal in find_bare_choice_values_in_template(path, enum_values):
            if (relative, literal) in TEMPLATE_ALLOWED:
                used.add((relative, literal))
                continue
            enums = " or ".join(enum_values[literal])
            problems.append(
                f'{relative}:{line}: "{literal}" ({enums}); use a model property or a view flag'
            )
    assert not problems, "Templates compare to bare choice values:\n" + "\n".join(problems)
    assert not TEMPLATE_ALLOWED - used, f"Stale entries: {sorted(TEMPLATE_ALLOWED - used)}"


@pytest.mark.parametrize(
    "source",
    [
        '{% if p.status == "rejected" %}x{% endif %}',
        "{% if phase != 'vote' %}x{% endif %}",
        '{% if a %}{% elif batch.status == "ready" and b %}x{% endif %}',
        '{% if level in "grid worthies" or "grid" in levels %}x{% endif %}',
        '{% if kind not in "finance" %}x{% endif %}',
        '{%- if x and run.status=="queued" -%}x{% endif %}',
    ],
)
def test_the_template_finder_catches_each_form(tmp_path, enum_values, source):
    planted = tmp_path / "planted.html"
    planted.write_text(source + "\n", encoding="utf-8")
    assert find_bare_choice_values_in_template(planted, enum_values)


def test_the_template_finder_leaves_flags_and_other_strings_alone(tmp_path, enum_values):
    planted = tmp_path / "planted.html"
    planted.write_text(
        '{% if p.is_rejected %}{% trans "rejected" %}{% endif %}\n'
        '{% if LANGUAGE_CODE == "en" %}{% endif %}{{ x|default:"open" }}\n'
        '{% if request.GET.council == council.pk|stringformat:"s" %}{% endif %}\n'
        '<p class="open">{% if value == status %}{% endif %}</p>\n',
        encoding="utf-8",
    )
    assert find_bare_choice_values_in_template(planted, enum_values) == []
