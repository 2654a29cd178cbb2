"""The production server command: the Dockerfile and docs/realtime.md give it identically, and its
websocket limits let the app answer oversized frames itself (issue 16)."""

import json
import re
import shlex
from pathlib import Path

from deliberation.consumers import MAX_FRAME_BYTES

ROOT = Path(__file__).resolve().parents[2]


def dockerfile_command() -> str:
    (line,) = [
        line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD ")
    ]
    shell, dash_c, command = json.loads(line.removeprefix("CMD "))
    assert (shell, dash_c) == ("sh", "-c")
    return command


def documented_command() -> str:
    text = (ROOT / "docs" / "realtime.md").read_text()
    commands = re.findall(r"^uvicorn yishi\.asgi:application .*$", text, flags=re.MULTILINE)
    assert len(commands) == 1, commands
    return commands[0]


def option(command: str, name: str) -> str:
    words = shlex.split(command.replace("${", "").replace("}", ""))
    return words[words.index(name) + 1]


def ws_options(command: str) -> tuple[str, ...]:
    """The `--ws…` options of a server command, each with its value, in order."""
    words = shlex.split(command.replace("${", "").replace("}", ""))
    options: list[str] = []
    for at, word in enumerate(words):
        if word.startswith("--ws"):
            options += [word, words[at + 1]]
    return tuple(options)


def production_ws_options() -> tuple[str, ...]:
    """The Dockerfile's websocket options (implementation, frame limit, compression), for the
    tests that start a real uvicorn: they test the protocol the production server speaks."""
    return ws_options(dockerfile_command())


def test_the_doc_and_the_dockerfile_give_the_identical_server_command():
    assert documented_command() == dockerfile_command()


def test_the_server_lets_frames_well_over_the_apps_limit_reach_the_app():
    command = dockerfile_command()
    assert int(option(command, "--ws-max-size")) >= 64 * MAX_FRAME_BYTES
    assert option(command, "--ws-per-message-deflate") == "false"


def test_every_documented_server_command_has_the_production_websocket_options():
    """An operator who runs uvicorn from docs/deploy.md gets the frame limits and protocol that
    the Dockerfile gives and the tests check, not uvicorn's defaults (16 MiB frames, deflate)."""
    wanted = production_ws_options()
    text = (ROOT / "docs" / "deploy.md").read_text()
    commands = re.findall(r"^.*\buvicorn yishi\.asgi:application .*$", text, flags=re.MULTILINE)
    assert commands
    for command in commands:
        assert ws_options(command) == wanted, command


def test_real_servers_in_the_tests_run_the_production_websocket_protocol():
    options = production_ws_options()
    assert options[options.index("--ws") + 1] == option(dockerfile_command(), "--ws")
    assert {"--ws", "--ws-max-size", "--ws-per-message-deflate"} <= set(options[::2])


def test_no_server_command_turns_the_lifespan_off():
    """A worker's start-up steps (core/lifespan.py: the live layer's connection, a live post's
    statements) run only when uvicorn sends the ASGI lifespan, as it does by default."""
    texts = [(ROOT / "Dockerfile").read_text()]
    texts += [(ROOT / "docs" / name).read_text() for name in ("deploy.md", "realtime.md")]
    texts += [(ROOT / "docker-compose.yml").read_text()]
    commands = [c for text in texts for c in re.findall(r"uvicorn yishi\.asgi:application.*", text)]
    assert len(commands) >= 3, commands
    for command in commands:
        assert not re.search(r"--lifespan[= ]+off", command), command
