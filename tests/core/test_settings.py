"""Production settings refuse to start without their secrets and pass `check --deploy`."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_ENV = {
    "DJANGO_SETTINGS_MODULE": "yishi.settings.production",
    "DJANGO_SECRET_KEY": "k" * 20 + "-production-secret-that-is-long-enough-!@#$%^&*()",
    "DJANGO_ALLOWED_HOSTS": "yishi.example.cn",
    "DATABASE_URL": "sqlite:///" + str(ROOT / "var" / "deploy-check.sqlite3"),
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "YISHI_SMS_BACKEND": "core.sms.AliyunSmsBackend",
    # base64 of 32 bytes: the key that seals ballots until the vote closes (budgets/sealing.py)
    "YISHI_BALLOT_KEYS": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
}


def run_manage(env_overrides, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "YISHI_"))}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "missing",
    ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "YISHI_BALLOT_KEYS"],
)
def test_production_refuses_to_start_without(missing):
    env = {k: v for k, v in GOOD_ENV.items() if k != missing}
    result = run_manage(env, "check")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and missing in result.stderr


def test_production_refuses_a_short_secret_key():
    result = run_manage({**GOOD_ENV, "DJANGO_SECRET_KEY": "short"}, "check")
    assert result.returncode != 0 and "at least 50 characters" in result.stderr


def test_production_refuses_a_ballot_key_of_the_wrong_size():
    result = run_manage({**GOOD_ENV, "YISHI_BALLOT_KEYS": "c2hvcnQ="}, "check")
    assert result.returncode != 0 and "32 bytes" in result.stderr


def test_production_refuses_the_console_sms_backend():
    env = {**GOOD_ENV, "YISHI_SMS_BACKEND": "core.sms.ConsoleSmsBackend"}
    result = run_manage(env, "check")
    assert result.returncode != 0 and "real SMS provider" in result.stderr


def test_check_deploy_is_clean():
    result = run_manage(GOOD_ENV, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_each_test_process_gets_its_own_redis_database_and_its_children_keep_it():
    """gw1 moves from REDIS_URL's database to the next one; a worker or server it starts
    (inheriting its environment) stays there instead of moving on again."""
    show = "import json, os, yishi.settings.test; print(os.environ['REDIS_URL'])"
    env = {
        k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "YISHI_TEST_REDIS_DB_CHOSEN")
    }

    def url_in(environment):
        done = subprocess.run(
            [sys.executable, "-c", show + "; print(json.dumps(dict(os.environ)))"],
            env=environment,
            capture_output=True,
            text=True,
            check=True,
        )
        url, inherited = done.stdout.splitlines()
        return url, json.loads(inherited)

    worker_url, worker_env = url_in(
        {**env, "PYTEST_XDIST_WORKER": "gw1", "REDIS_URL": "redis://127.0.0.1:6379/0"}
    )
    assert worker_url == "redis://127.0.0.1:6379/1"
    child_url, _ = url_in(worker_env)
    assert child_url == "redis://127.0.0.1:6379/1"
    first_url, _ = url_in(
        {**env, "PYTEST_XDIST_WORKER": "gw0", "REDIS_URL": "redis://127.0.0.1:6379/0"}
    )
    assert first_url == "redis://127.0.0.1:6379/0"


@pytest.mark.parametrize(
    ("database_url", "threshold", "expected"),
    [
        ("postgres://u@127.0.0.1:5432/x", None, {"server_side_binding": True, "threshold": 2}),
        ("postgres://u@127.0.0.1:5432/x", "off", {"server_side_binding": True, "threshold": None}),
        ("postgres://u@127.0.0.1:5432/x", "5", {"server_side_binding": True, "threshold": 5}),
        ("sqlite:///x.sqlite3", None, {"server_side_binding": None, "threshold": None}),
    ],
)
def test_postgresql_prepares_repeated_queries_unless_told_not_to(database_url, threshold, expected):
    """DATABASE_PREPARE_THRESHOLD=off for PgBouncer in transaction mode (docs/deploy.md)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    env.update(DJANGO_SETTINGS_MODULE="yishi.settings.base", DATABASE_URL=database_url)
    if threshold is not None:
        env["DATABASE_PREPARE_THRESHOLD"] = threshold
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        "o = settings.DATABASES['default'].get('OPTIONS', {}); "
        "print(json.dumps({'server_side_binding': o.get('server_side_binding'), "
        "'threshold': o.get('prepare_threshold')}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == expected
