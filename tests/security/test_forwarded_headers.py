"""A client cannot choose the address that rate limits and logs see (issue 13, point 11).

The address is REMOTE_ADDR, which uvicorn fills from the TCP peer, or from X-Forwarded-For only
when the peer is the proxy (--forwarded-allow-ips); nginx overwrites that header with the peer it
saw. Forged X-Forwarded-For / X-Real-IP headers must change neither the rate-limit bucket nor the
logged address, even if someone turns on allauth's own proxy settings.
"""

import json
import logging
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.test import Client

from yishi.settings import base

ROOT = Path(__file__).resolve().parents[2]
FORGED = [(f"203.0.113.{n}", f"198.51.100.{n}") for n in range(1, 60)]


def per_ip(action: str) -> int:
    rules = base.ACCOUNT_RATE_LIMITS[action].split(",")
    return next(int(rule.split("/")[0]) for rule in rules if rule.endswith("/ip"))


@pytest.fixture
def limits(settings):
    settings.ACCOUNT_RATE_LIMITS = dict(base.ACCOUNT_RATE_LIMITS)


def forged_post(path: str, data: dict, n: int):
    xff, real_ip = FORGED[n]
    return Client(REMOTE_ADDR="192.0.2.10").post(
        path, data, HTTP_X_FORWARDED_FOR=f"{xff}, 10.0.0.1", HTTP_X_REAL_IP=real_ip
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "allauth_proxy_settings",
    [{}, {"ALLAUTH_TRUSTED_PROXY_COUNT": 2}, {"ALLAUTH_TRUSTED_CLIENT_IP_HEADER": "X-Real-IP"}],
    ids=["default", "proxy-count-set", "ip-header-set"],
)
def test_forged_forwarded_headers_do_not_open_a_new_rate_limit_bucket(
    limits, settings, sms_outbox, allauth_proxy_settings
):
    for name, value in allauth_proxy_settings.items():
        setattr(settings, name, value)
    allowed = per_ip("request_login_code")
    for n in range(allowed):
        response = forged_post("/accounts/login/code/", {"phone": f"1390000{n:04d}"}, n)
        assert response.status_code == 302
    # One more, with yet another forged address: the same client, so the same bucket.
    response = forged_post("/accounts/login/code/", {"phone": "13911119999"}, allowed)
    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()
    assert not [to for to, _text in sms_outbox if to == "13911119999"]


@pytest.mark.django_db
def test_logged_address_is_the_peer_not_a_forged_header(settings, sms_outbox, caplog):
    settings.ALLAUTH_TRUSTED_CLIENT_IP_HEADER = "X-Real-IP"  # even so
    with caplog.at_level(logging.INFO, logger="yishi.sms"):
        forged_post("/accounts/login/code/", {"phone": "13900001234"}, 0)
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "192.0.2.10" in logged
    assert "203.0.113." not in logged and "198.51.100." not in logged
    assert "13900001234" not in logged  # the number is masked


def test_nginx_overwrites_the_forwarded_headers():
    conf = (ROOT / "docs" / "nginx.conf").read_text()
    headers = dict(re.findall(r"proxy_set_header\s+(X-Forwarded-For|X-Real-IP)\s+(\S+);", conf))
    assert headers.get("X-Forwarded-For") == "$remote_addr"
    assert headers.get("X-Real-IP", "$remote_addr") == "$remote_addr"
    assert "$proxy_add_x_forwarded_for" not in conf


# --- the real uvicorn, with the Dockerfile's own command line --------------------------------


def dockerfile_command() -> str:
    line = next(
        line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD ")
    )
    argv = json.loads(line.removeprefix("CMD "))
    assert argv[:2] == ["sh", "-c"]
    return argv[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def client_seen_by_uvicorn(proxy_address: str, forged: str) -> str:
    command = dockerfile_command()
    assert "yishi.asgi:application" in command and "--host 0.0.0.0 --port 8000" in command
    port = free_port()
    command = command.replace("yishi.asgi:application", "tests.security.asgi_echo:app").replace(
        "--host 0.0.0.0 --port 8000", f"--host 127.0.0.1 --port {port} --log-level warning"
    )
    command = command.replace("uvicorn ", f"{shlex.quote(sys.executable)} -m uvicorn ", 1)
    env = {
        **{k: v for k, v in os.environ.items() if k != "FORWARDED_ALLOW_IPS"},
        "WEB_CONCURRENCY": "1",
        "YISHI_PROXY_ADDRESS": proxy_address,
    }
    server = subprocess.Popen(
        ["sh", "-c", f"exec {command}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/", headers={"X-Forwarded-For": forged}
            )
            try:
                with urllib.request.urlopen(request, timeout=2) as response:
                    return json.loads(response.read())["client"]
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(server.stderr.read().decode()) from None
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_uvicorn_ignores_x_forwarded_for_from_anyone_but_the_proxy():
    # The proxy is elsewhere (10.255.0.1); this test connects straight to uvicorn from 127.0.0.1.
    assert client_seen_by_uvicorn("10.255.0.1", forged="203.0.113.9") == "127.0.0.1"


def test_uvicorn_takes_the_address_the_proxy_wrote():
    # Here 127.0.0.1 is the proxy: what it writes is the client (so the flags really are on).
    assert client_seen_by_uvicorn("127.0.0.1", forged="203.0.113.9") == "203.0.113.9"


def test_no_shipped_command_trusts_every_forwarder():
    for path in ("Dockerfile", "docker-compose.yml", "docs/deploy.md"):
        text = (ROOT / path).read_text()
        assert "forwarded-allow-ips='*'" not in text and 'forwarded-allow-ips="*"' not in text
        assert "FORWARDED_ALLOW_IPS: '*'" not in text
    assert "--forwarded-allow-ips" in dockerfile_command()
