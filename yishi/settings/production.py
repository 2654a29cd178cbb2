"""Production: everything from the environment; refuse to start without the secrets."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import TASK_APPS, database_pool_options, env, env_list, task_settings

REQUIRED = [
    "DJANGO_SECRET_KEY",
    "DJANGO_ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "YISHI_BALLOT_KEYS",
]
missing = [name for name in REQUIRED if not env(name)]
if missing:
    raise ImproperlyConfigured(
        "Production settings need these environment variables: " + ", ".join(missing)
    )
if len(env("DJANGO_SECRET_KEY")) < 50:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be at least 50 characters long.")
if any(len(key) != 32 for key in YISHI_BALLOT_KEYS):  # noqa: F405
    raise ImproperlyConfigured(
        "YISHI_BALLOT_KEYS: base64 keys of 32 bytes each "
        "(python -c 'import base64,os;print(base64.b64encode(os.urandom(32)).decode())')."
    )
if (
    env("YISHI_SMS_BACKEND", "core.sms.ConsoleSmsBackend")
    in (
        "core.sms.ConsoleSmsBackend",
        "core.sms.MemorySmsBackend",
    )
    and env("YISHI_ALLOW_CONSOLE_SMS") != "1"
):
    raise ImproperlyConfigured(
        "Production needs a real SMS provider (YISHI_SMS_BACKEND, see docs/sms.md); "
        "set YISHI_ALLOW_CONSOLE_SMS=1 only for a closed trial."
    )

if any("*" in (env(name) or "") for name in ("YISHI_PROXY_ADDRESS", "FORWARDED_ALLOW_IPS")):
    raise ImproperlyConfigured(
        "YISHI_PROXY_ADDRESS must be the proxy's address, not '*': with '*' anyone could choose "
        "the address that rate limits and logs see (docs/deploy.md)."
    )

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS") or [
    f"https://{host}" for host in ALLOWED_HOSTS
]
# Pooled connections (see base.py): DATABASE_POOL is the pool size per worker process.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
    DATABASES["default"]["OPTIONS"] = {"pool": database_pool_options()}  # noqa: F405

# nginx sends uploaded files once Django has checked who may see them (docs/nginx.conf,
# docs/files.md). Set YISHI_FILES_X_ACCEL=0 only when no nginx is in front (Django streams).
if env("YISHI_FILES_X_ACCEL", "1") == "1":
    YISHI_FILES_ACCEL_REDIRECT = {"default": "/_files/media/", "private": "/_files/private/"}

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env("DJANGO_SECURE_SSL_REDIRECT", "1") == "1"
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = int(env("DJANGO_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True

# Tasks run on RQ workers over Redis (`manage.py rqworker --job-class django_tasks_rq.Job`, the
# compose `worker` service); YISHI_TASK_BACKEND=db keeps them in the database (db_worker).
if env("YISHI_TASK_BACKEND", "rq") != YISHI_TASK_BACKEND:  # noqa: F405
    INSTALLED_APPS = [app for app in INSTALLED_APPS if app not in TASK_APPS[YISHI_TASK_BACKEND]]  # noqa: F405
    YISHI_TASK_BACKEND = env("YISHI_TASK_BACKEND", "rq")
    TASKS, RQ_QUEUES = task_settings(YISHI_TASK_BACKEND, env("REDIS_URL"))
    INSTALLED_APPS += TASK_APPS[YISHI_TASK_BACKEND]
