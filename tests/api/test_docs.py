"""docs/api.md's examples are the API's real answers: each curl command followed by its answer
is sent to the API (on tests/api/world.py, whose objects stand in for the ids the document
uses), and the answer must have the document's status and shape: the same fields, at every
depth, with values of the same JSON type (null stands for any). Refusals are quoted exactly."""

import json
import re
import shlex
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.DOTALL)
HOST = "https://yishi.example.cn"


def examples() -> list[tuple[str, str, str]]:
    """(curl command, language of the answer, answer) for each curl block followed by one."""
    blocks = BLOCK.findall(DOC.read_text(encoding="utf-8"))
    found = []
    for (language, text), (answer_language, answer) in zip(blocks, blocks[1:], strict=False):
        if language == "sh" and text.startswith("curl ") and answer_language in ("json", "text"):
            found.append((text.strip(), answer_language, answer))
    return found


# The document's ids -> the world's objects, per place in the address.
DOC_IDS = {
    "councils": {7: "village", 6: "township"},
    "records": {1: "welfare", 2: "statement", 3: "draft_record"},
    "cycles": {1: "published_cycle", 2: "unpublished_cycle"},
    "topics": {1: "topic"},
    "council": {7: "village", 8: "grid"},
    "parent": {6: "township"},
    "index": {1: "index"},
    "hall": {1: "public_hall"},
}


def world_object(world, name):
    return world.tree[name] if name in world.tree else world.objects[name]


def world_url(url: str, world) -> str:
    def path_id(match):
        name = DOC_IDS[match[1]][int(match[2])]
        return f"/{match[1]}/{world_object(world, name).pk}/"

    def query_id(match):
        name = DOC_IDS[match[2]][int(match[3])]
        return f"{match[1]}{match[2]}={world_object(world, name).pk}"

    url = re.sub(r"/(councils|records|cycles|topics)/(\d+)/", path_id, url)
    return re.sub(r"([?&])(council|parent|index|hall)=(\d+)", query_id, url)


def request_of(command: str) -> tuple[str, dict, int]:
    """The address, the headers and the expected status of a curl command (`# 404` after it)."""
    lines = command.splitlines()
    status = 200
    for line in lines[1:]:
        if match := re.fullmatch(r"#\s*(\d{3})", line.strip()):
            status = int(match[1])
    words = shlex.split(lines[0])
    url = next(word for word in words if word.startswith(HOST))
    headers = {}
    for flag, value in zip(words, words[1:], strict=False):
        if flag == "--cookie":
            headers["HTTP_COOKIE"] = value
        elif flag == "-H":
            name, _, text = value.partition(":")
            headers["HTTP_" + name.strip().upper().replace("-", "_")] = text.strip()
    return url.removeprefix(HOST), headers, status


def json_type(value) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean"}.get(
        type(value), "number"
    )


def shape_differences(documented, actual, where="answer") -> list[str]:
    if documented is None or actual is None:
        return []
    if json_type(documented) != json_type(actual):
        return [f"{where}: {json_type(documented)} in the doc, {json_type(actual)} in the API"]
    if isinstance(documented, dict):
        if set(documented) != set(actual):
            return [f"{where}: fields {sorted(documented)} in the doc, {sorted(actual)} in the API"]
        return [
            problem
            for key in documented
            for problem in shape_differences(documented[key], actual[key], f"{where}.{key}")
        ]
    if isinstance(documented, list):
        return [
            problem
            for n, (doc_item, item) in enumerate(zip(documented, actual, strict=False))
            for problem in shape_differences(doc_item, item, f"{where}[{n}]")
        ]
    return []


def test_the_document_has_an_example_for_every_endpoint():
    commands = " ".join(command for command, _language, _answer in examples())
    for path in [
        "/councils/",
        "/records/?",
        "/records/1/",
        "/cycles/?",
        "/cycles/1/",
        "/results/",
        "/pabulib/",
        "/topics/1/",
        "/metrics/",
        "/index-scores/",
        "/case-figures/",
    ]:
        assert path in commands, f"docs/api.md has no example of {path}"


@pytest.mark.parametrize("command, language, answer", examples(), ids=lambda value: value[:70])
def test_each_example_is_what_the_api_answers(client, api_world, command, language, answer):
    url, headers, status = request_of(command)
    response = client.get(world_url(url, api_world), **headers)
    assert response.status_code == status, (url, response.content[:300])
    if language == "text":
        documented_sections = [line for line in answer.splitlines() if line.isupper()]
        actual = response.content.decode()
        assert [line for line in actual.splitlines() if line.isupper()] == documented_sections
        return
    problems = shape_differences(json.loads(answer), json.loads(response.content))
    assert problems == [], problems
    if status >= 400:  # a refusal is quoted word for word
        assert json.loads(answer) == json.loads(response.content)
