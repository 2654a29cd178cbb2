"""Sign-in, SMS and deployment hold against a hostile client (issue 13, points 12-15).

Test settings switch the daily SMS caps off; `caps` puts back the production values, in a cache
of this test's own. Each test tries to break one promise of docs/sms.md or docs/deploy.md.
"""

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import allauth.urls
import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver
from django.utils import translation
from django.utils.translation import gettext

from core import sms
from core.sms import MemorySmsBackend, SmsRefused
from core.text import validate_display_name
from councils.forms import ProfileForm
from tests.conftest import isolate_cache_and_layer
from tests.core.test_settings import GOOD_ENV, run_manage
from tests.councils.factories import UserFactory
from tests.dbthreads import close_this_threads_connections
from yishi.settings import base

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def caps(settings, request):
    isolate_cache_and_layer(settings, request)
    settings.YISHI_SMS_CODES_PER_NUMBER_PER_DAY = base.YISHI_SMS_CODES_PER_NUMBER_PER_DAY
    settings.YISHI_SMS_WRONG_CODES_PER_NUMBER_PER_DAY = (
        base.YISHI_SMS_WRONG_CODES_PER_NUMBER_PER_DAY
    )
    settings.YISHI_SMS_DAILY_BUDGET = base.YISHI_SMS_DAILY_BUDGET
    return settings


def in_language(language: str, text: str) -> str:
    with translation.override(language):
        return gettext(text)


def ask_code(phone: str) -> tuple[Client, object]:
    client = Client()
    return client, client.post("/accounts/login/code/", {"phone": phone})


def code_sent_to(outbox, phone: str) -> str:
    texts = [text for to, text in outbox if to == phone]
    assert texts, f"no SMS to {phone}"
    return re.search(r"\b(\d{6})\b", texts[-1]).group(1)


# --- 12. SMS spend is bounded ------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "phone",
    ["+447700900123", "+1 202 555 0143", "+86 10 6512 3456", "0086 21 5555 1234", "+85291234567"],
)
def test_no_sms_goes_to_a_number_outside_mainland_mobiles(caps, sms_outbox, phone):
    for path, field in [("/accounts/signup/", "phone"), ("/accounts/login/code/", "phone")]:
        response = Client().post(path, {field: phone})
        assert response.status_code == 200
    assert not sms_outbox
    with pytest.raises(SmsRefused):
        sms.send_sms(phone=phone.replace(" ", ""), message="x")
    assert not sms_outbox


@pytest.mark.django_db
def test_the_destination_refusal_is_explained_in_both_languages(caps, sms_outbox):
    for language in ("en", "zh-hans"):
        client = Client()
        client.cookies["django_language"] = language
        page = client.post("/accounts/signup/", {"phone": "+447700900123"}).content.decode()
        expected = in_language(
            language,
            "Codes can only be sent to mainland China mobile numbers (11 digits starting with 1).",
        )
        assert expected in page


@pytest.mark.django_db
def test_a_number_on_the_allow_list_gets_its_code(caps, sms_outbox):
    caps.YISHI_SMS_ALLOWED_NUMBERS = ["+447700900123"]
    assert Client().post("/accounts/signup/", {"phone": "+44 7700 900123"}).status_code == 302
    assert [to for to, _ in sms_outbox] == ["+447700900123"]


@pytest.mark.django_db
def test_codes_per_number_per_day_are_capped_across_sessions(caps, sms_outbox):
    caps.YISHI_SMS_CODES_PER_NUMBER_PER_DAY = 3
    user = UserFactory()
    for _ in range(3):
        assert ask_code(user.phone)[1].status_code == 302  # each a fresh client: no session
    _client, response = ask_code(user.phone)
    assert response.status_code == 200
    assert "as many codes as it can today" in response.content.decode()
    assert len(sms_outbox) == 3
    # The cap holds even when a request gets past the form (two racing): nothing is sent.
    with pytest.raises(SmsRefused):
        sms.send_sms(phone=user.phone, message="x")
    assert len(sms_outbox) == 3


@pytest.mark.django_db
def test_wrong_codes_lock_the_number_for_the_day_and_new_codes_do_not_reset_it(caps, sms_outbox):
    caps.YISHI_SMS_WRONG_CODES_PER_NUMBER_PER_DAY = 4
    user = UserFactory()
    patient, response = ask_code(user.phone)  # an attempt kept open, with its right code
    patient_url, right_code = response["Location"], code_sent_to(sms_outbox, user.phone)
    wrong = "000000" if right_code != "000000" else "111111"
    # An attacker guesses, asking for a new code (a new attempt) whenever allauth ends one.
    guesses = 0
    while guesses < 4:
        attacker, response = ask_code(user.phone)
        assert response.status_code == 302
        for _ in range(min(2, 4 - guesses)):
            attacker.post(response["Location"], {"code": wrong})
            guesses += 1
    sent = len(sms_outbox)
    # Locked: a new code is neither sent nor ...
    _client, response = ask_code(user.phone)
    assert response.status_code == 200
    assert "Too many wrong codes were entered for this number today" in response.content.decode()
    assert len(sms_outbox) == sent
    # ... is the right code of the open attempt accepted.
    response = patient.post(patient_url, {"code": right_code})
    assert "_auth_user_id" not in patient.session


@pytest.mark.django_db
def test_wrong_codes_at_sign_up_count_too(caps, sms_outbox):
    caps.YISHI_SMS_WRONG_CODES_PER_NUMBER_PER_DAY = 2
    phone = "13812349876"
    client = Client()
    response = client.post("/accounts/signup/", {"phone": phone})
    code = code_sent_to(sms_outbox, phone)
    wrong = "000000" if code != "000000" else "111111"
    client.post(response["Location"], {"code": wrong})
    client.post(response["Location"], {"code": wrong})
    assert sms.is_locked_out(phone)
    client.post(response["Location"], {"code": code})
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_the_daily_budget_stops_sending_and_alerts_the_admin(caps, sms_outbox):
    caps.YISHI_SMS_DAILY_BUDGET = 2
    admin = UserFactory(is_superuser=True, is_staff=True)
    staff = Client()
    staff.force_login(admin)
    assert "sms-budget-alert" not in staff.get("/admin/").content.decode()
    for n in range(2):
        assert ask_code(f"1350000{n:04d}")[1].status_code == 302
    _client, response = ask_code("13500009999")
    assert response.status_code == 200
    assert "Codes cannot be sent any more today" in response.content.decode()
    with pytest.raises(SmsRefused) as refused:
        sms.send_sms(phone="13500008888", message="x")
    assert refused.value.reason == "budget"
    assert len(sms_outbox) == 2
    page = staff.get("/admin/").content.decode()
    assert "sms-budget-alert" in page and "No more SMS today." in page


@pytest.mark.django_db
def test_counters_are_atomic_under_concurrent_sends(caps, sms_outbox):
    caps.YISHI_SMS_DAILY_BUDGET = 25
    results = []

    def send(n):
        try:
            sms.send_sms(phone=f"1360000{n:04d}", message="x")
            results.append("sent")
        except SmsRefused:
            results.append("refused")
        finally:
            close_this_threads_connections()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(60)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count("sent") == len(MemorySmsBackend.outbox) == 25


@pytest.mark.redis
@pytest.mark.django_db
def test_counters_are_shared_by_every_worker_through_redis(caps, sms_outbox):
    """Two cache clients (two workers) count into one Redis: the cap holds across them."""
    from django.core.cache import caches

    caps.CACHES = {
        "default": {
            "BACKEND": "core.cache.FaultTolerantRedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "KEY_PREFIX": f"test-sms-{os.getpid()}-{threading.get_ident()}",
            "OPTIONS": base.redis_cache_options(),
        }
    }
    caches["default"].clear()
    caps.YISHI_SMS_CODES_PER_NUMBER_PER_DAY = 3
    errors = []

    def worker():
        try:
            sms.send_sms(phone="13700001111", message="x")
        except SmsRefused:
            errors.append(1)
        finally:
            close_this_threads_connections()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(sms_outbox) == 3 and len(errors) == 5
    caches["default"].clear()


@pytest.mark.django_db
@pytest.mark.parametrize("seconds,minutes", [(300, 5), (180, 3), (60, 1)])
def test_the_sms_states_the_real_lifetime_of_the_code(settings, sms_outbox, seconds, minutes):
    settings.ACCOUNT_LOGIN_BY_CODE_TIMEOUT = seconds
    settings.ACCOUNT_PHONE_VERIFICATION_TIMEOUT = seconds
    user = UserFactory()
    ask_code(user.phone)
    text = sms_outbox[-1][1]
    assert f"Valid for {minutes} minute" in text
    assert "10 minutes" not in text or minutes == 10


def test_the_production_code_lifetimes_agree():
    assert base.ACCOUNT_PHONE_VERIFICATION_TIMEOUT == base.ACCOUNT_LOGIN_BY_CODE_TIMEOUT


# --- 13. Unused endpoints are off --------------------------------------------------------------

# Every page allauth mounts, classified: a new one in an allauth upgrade fails this file.
NEEDED = {
    "account_login",
    "account_logout",
    "account_signup",
    "account_inactive",
    "account_request_login_code",
    "account_confirm_login_code",
    "account_verify_phone",
    "account_change_phone",
}
SWITCHED_OFF = {
    "account_email",
    "account_email_verification_sent",
    "account_confirm_email",
    "account_change_password",
    "account_set_password",
    "account_reset_password",
    "account_reset_password_done",
    "account_reset_password_from_key",
    "account_reset_password_from_key_done",
    "account_reauthenticate",
}


def allauth_paths():
    def walk(patterns, prefix):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                route = str(pattern.pattern).lstrip("^").rstrip("$")
                route = re.sub(r"\(\?P<uidb36>[^)]*\)", "2s", route)
                route = re.sub(r"\(\?P<key>[^)]*\)", "set-password", route)
                yield pattern.name, "/accounts/" + prefix + route

    return dict(walk(allauth.urls.urlpatterns, ""))


def test_every_allauth_page_is_either_needed_or_switched_off():
    assert set(allauth_paths()) == NEEDED | SWITCHED_OFF


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(SWITCHED_OFF))
def test_email_and_password_pages_answer_404(name):
    path = allauth_paths()[name]
    resident = Client()
    resident.force_login(UserFactory())
    for client in (Client(), resident):
        for variant in (path, path.rstrip("/"), path + "x/"):
            assert client.get(variant).status_code == 404, variant
            assert client.post(variant, {"email": "a@b.cn"}).status_code == 404, variant


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["account_login", "account_signup", "account_request_login_code"])
def test_sign_in_pages_still_answer(name):
    assert Client().get(allauth_paths()[name]).status_code == 200


# --- 14. No DEBUG outside development; production refuses to start without secrets ----------


def import_asgi(env_overrides: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "YISHI_"))}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-c", "import yishi.asgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_asgi_refuses_debug_unless_development_is_chosen():
    refused = import_asgi({"DJANGO_SETTINGS_MODULE": "yishi.settings.dev"})
    assert refused.returncode != 0 and "DEBUG is on" in refused.stderr
    chosen = import_asgi({"DJANGO_SETTINGS_MODULE": "yishi.settings.dev", "YISHI_DEVELOPMENT": "1"})
    assert chosen.returncode == 0, chosen.stderr


def test_asgi_without_a_settings_module_is_production_and_needs_its_secrets():
    result = import_asgi({})
    assert result.returncode != 0
    assert "Production settings need these environment variables" in result.stderr
    assert import_asgi(GOOD_ENV).returncode == 0


def test_production_refuses_to_trust_every_forwarder():
    result = run_manage({**GOOD_ENV, "YISHI_PROXY_ADDRESS": "*"}, "check")
    assert result.returncode != 0 and "YISHI_PROXY_ADDRESS" in result.stderr


def test_every_command_in_the_deploy_guide_sets_the_settings_module():
    text = (ROOT / "docs" / "deploy.md").read_text()
    commands = re.findall(
        r"^(?!```)(\S.*)$", "\n".join(re.findall(r"```sh\n(.*?)```", text, re.S)), re.M
    )
    commands += re.findall(r"`([^`\n]*(?:manage\.py|uvicorn yishi|docker compose)[^`\n]*)`", text)
    runnable = [c for c in commands if re.search(r"manage\.py \w|uvicorn yishi|docker compose", c)]
    assert len(runnable) >= 6
    for command in runnable:
        assert "DJANGO_SETTINGS_MODULE=yishi.settings." in command, command
        if "runserver" not in command:
            assert "DJANGO_SETTINGS_MODULE=yishi.settings.production" in command, command


def test_compose_and_image_run_production_settings():
    assert "DJANGO_SETTINGS_MODULE=yishi.settings.production" in (ROOT / "Dockerfile").read_text()
    assert (
        "DJANGO_SETTINGS_MODULE: yishi.settings.production"
        in (ROOT / "docker-compose.yml").read_text()
    )


# --- 15. Display names ---------------------------------------------------------------------

INVISIBLE_NAMES = [
    "\u200b\u200b\u200b",  # zero-width spaces
    "\u200d\u200c\ufeff",  # joiners, BOM
    "\u3164\u3164",  # Hangul filler
    "\u2800\u2800",  # braille blank
    "\u00ad\u00ad",  # soft hyphens
    "\u0301\u0301",  # combining marks alone
    "王\u200b大伯",  # a visible name with a zero-width space inside
    "\x07王大伯",  # a control character
]
BIDI_NAMES = [f"王{chr(c)}大伯" for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]
OFFICE_NAMES = [
    "村委会",
    "村 委 会",
    "村·委·会",
    "ＸＸ村委会",
    "幸福居委会老张",
    "监委会",
    "官方",
    "官方通知",
    "管理员",
    "客服小王",
    "镇党委",
    "区政府",
    "系统消息",
    "admin",
    "ADMIN",
    "ａｄｍｉｎ",
    "Ad-min",
    "Admin Zhang",
    "the official",
    "村\u200b委会",
]
GOOD_NAMES = ["王大伯", "Li Ming", "张　三", "Badminton Li", "老李头", "阿花"]


@pytest.mark.parametrize("name", INVISIBLE_NAMES + BIDI_NAMES + OFFICE_NAMES)
def test_a_misleading_display_name_is_refused(user, name):
    form = ProfileForm({"display_name": name, "real_name": ""}, instance=user)
    assert not form.is_valid()
    assert "display_name" in form.errors


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_ordinary_display_names_are_kept(user, name):
    form = ProfileForm({"display_name": name, "real_name": ""}, instance=user)
    assert form.is_valid(), form.errors
    validate_display_name(name)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_profile_page_explains_the_refusal(language):
    from core.models import User

    person = UserFactory(display_name="王大伯")
    client = Client()
    client.cookies["django_language"] = language
    client.force_login(person)
    response = client.post("/councils/me/", {"display_name": "官 方", "real_name": ""})
    assert response.status_code == 400  # the form again, with its error
    expected = in_language(
        language,
        "A display name cannot look like an office or the site itself "
        "(for example 村委会, 官方, 管理员 or admin). Choose a personal name.",
    )
    assert expected in response.content.decode()
    assert User.objects.get(pk=person.pk).display_name == "王大伯"
