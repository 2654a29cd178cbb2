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


def test_the_doc_and_the_dockerfile_give_the_identical_server_command():
    assert documented_command() == dockerfile_command()


def test_the_server_lets_frames_well_over_the_apps_limit_reach_the_app():
    command = dockerfile_command()
    assert int(option(command, "--ws-max-size")) >= 64 * MAX_FRAME_BYTES
    assert option(command, "--ws-per-message-deflate") == "false"
