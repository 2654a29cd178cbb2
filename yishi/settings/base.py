"""Settings shared by every environment.

The environment is read here and only here (`env`, `env_list`); dev, test and production
settings override a few values on top of this module.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env(name: str, default: str | None = None) -> str | None:
    """One place where settings read the process environment."""
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in (env(name, default) or "").split(",") if item.strip()]


SECRET_KEY = env("DJANGO_SECRET_KEY", "dev-only-insecure-key-never-used-in-production-0123456789")


def ballot_keys() -> list[bytes]:
    """YISHI_BALLOT_KEYS: base64 32-byte keys, comma-separated, the sealing one first
    (budgets/sealing.py). Kept outside the database so that a database reader cannot open a
    sealed ballot. Without it (development, tests) a key is derived from SECRET_KEY."""
    import base64
    import hashlib

    raw = env_list("YISHI_BALLOT_KEYS")
    if raw:
        return [base64.b64decode(item) for item in raw]
    return [hashlib.sha256(b"yishi-dev-ballot-key:" + SECRET_KEY.encode()).digest()]


YISHI_BALLOT_KEYS = ballot_keys()
DEBUG = False
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # daphne first so that `runserver` speaks websockets in development.
    "daphne",
    "core",
    "home",
    "councils",
    "notifications",
    "deliberation",
    "budgets",
    "disclosure",
    "meetings",
    "cases",
    "assets",
    "governance",
    "api",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "allauth",
    "allauth.account",
    "rules.apps.AutodiscoverRulesConfig",
    "channels",
    "django_tasks",
    "django_tasks_db",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "core.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "core.middleware.RateLimitedMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    "core.middleware.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "yishi.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "core.context_processors.display_preferences",
            ],
        },
    },
]

WSGI_APPLICATION = None
ASGI_APPLICATION = "yishi.asgi.application"


def database_pool_options() -> dict:
    """psycopg pool settings: DATABASE_POOL connections per worker process.

    With CONN_HEALTH_CHECKS (set below) Django gives the pool `check=check_connection`: a
    pooled connection is tested before it is lent, so after PostgreSQL restarts no request gets
    a dead one. `timeout` is how long a request waits for a connection (while PostgreSQL is
    down, that long until the 503 page: docs/deploy.md).
    """
    return {
        "min_size": 1,
        "max_size": int(env("DATABASE_POOL", "8")),
        "timeout": float(env("DATABASE_POOL_TIMEOUT", "20")),
    }


DATABASES = {
    "default": dj_database_url.parse(env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"))
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env("DATABASE_POOL"):
    # Under ASGI every sync view may run in a fresh thread, so persistent connections pile up
    # until PostgreSQL refuses clients (measured by bench/bench_ballots.py): use psycopg's pool.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {"pool": database_pool_options()}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Parameters bound by the server, and a query run twice on a connection is prepared: its
    # plan is kept, not made again for every run. Planning a join of a topic with its hall and
    # council took PostgreSQL 1.7 ms, longer than running it (0.4 ms); a live post makes six
    # such queries (bench/bench_fanout.py, docs/performance.md). DATABASE_PREPARE_THRESHOLD=off
    # prepares nothing (behind PgBouncer in transaction mode: docs/deploy.md).
    threshold = env("DATABASE_PREPARE_THRESHOLD", "2")
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        server_side_binding=True, prepare_threshold=None if threshold == "off" else int(threshold)
    )
# A persistent connection (CONN_MAX_AGE > 0) that died with a database restart is replaced at the
# start of the next request instead of failing it.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "rules.permissions.ObjectPermissionBackend",
    # allauth's backend, loading each request's user with their memberships in one query.
    "councils.backends.AuthenticationBackend",
    # Username + password, for the Wagtail admin's superusers.
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Accounts: phone + SMS code, password optional (allauth) ---------------------------
ACCOUNT_ADAPTER = "core.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"phone"}
ACCOUNT_SIGNUP_FIELDS = ["phone*"]
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_BY_CODE_MAX_ATTEMPTS = 3
ACCOUNT_LOGIN_BY_CODE_TIMEOUT = 300
ACCOUNT_PHONE_VERIFICATION_ENABLED = True
ACCOUNT_PHONE_VERIFICATION_SUPPORTS_RESEND = True
# One lifetime for every SMS code, so that the SMS can say it (core.adapters).
ACCOUNT_PHONE_VERIFICATION_TIMEOUT = ACCOUNT_LOGIN_BY_CODE_TIMEOUT
# Six digits: what every Chinese SMS code looks like, easy to read aloud and type on a keypad.
ALLAUTH_USER_CODE_FORMAT = {"numeric": True, "length": 6, "dashed": False}
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_USER_MODEL_EMAIL_FIELD = None
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    # allauth names the phone-code action "verify_phone" ("confirm_phone" was never read). Per
    # IP 60 an hour: on a registration day a whole village signs up behind the office's one
    # address, about one person a minute; SMS cost stays bounded.
    "verify_phone": "1/60s/key,60/h/ip",
    "request_login_code": "20/m/ip,3/5m/key",
}
# Wrong codes count per number and per day too (core.sms), however many codes were asked for.
ACCOUNT_FORMS = {
    "confirm_login_code": "core.forms.ConfirmLoginCodeForm",
    "verify_phone": "core.forms.VerifyPhoneForm",
}
# The client's address is REMOTE_ADDR, which uvicorn sets from the TCP peer or, for the proxy's
# address only (--forwarded-allow-ips, docs/deploy.md), from the X-Forwarded-For nginx wrote.
# allauth must never read forwarded headers itself: a client could choose its rate-limit bucket.
ALLAUTH_TRUSTED_PROXY_COUNT = 0
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = None
LOGIN_REDIRECT_URL = "/"
LOGIN_URL = "account_login"
ACCOUNT_LOGOUT_REDIRECT_URL = "/"

# SMS: where verification codes go. See docs/sms.md to plug in a real provider.
YISHI_SMS_BACKEND = env("YISHI_SMS_BACKEND", "core.sms.ConsoleSmsBackend")
YISHI_SMS_SETTINGS = {
    "ACCESS_KEY_ID": env("YISHI_SMS_ACCESS_KEY_ID"),
    "ACCESS_KEY_SECRET": env("YISHI_SMS_ACCESS_KEY_SECRET"),
    "SIGN_NAME": env("YISHI_SMS_SIGN_NAME", "议事"),
    "TEMPLATE_CODE": env("YISHI_SMS_TEMPLATE_CODE"),
}
# What SMS may cost (docs/sms.md, "Spend"). Only mainland mobile numbers receive SMS, plus these
# (E.164, e.g. +447700900123, comma-separated).
YISHI_SMS_ALLOWED_NUMBERS = env_list("YISHI_SMS_ALLOWED_NUMBERS")
YISHI_SMS_CODES_PER_NUMBER_PER_DAY = int(env("YISHI_SMS_CODES_PER_NUMBER_PER_DAY", "10"))
# Wrong codes per number per day before the number is locked out until the next day.
YISHI_SMS_WRONG_CODES_PER_NUMBER_PER_DAY = int(
    env("YISHI_SMS_WRONG_CODES_PER_NUMBER_PER_DAY", "10")
)
# SMS per day for the whole site; when spent, sending stops and the admin home shows an alert.
YISHI_SMS_DAILY_BUDGET = int(env("YISHI_SMS_DAILY_BUDGET", "2000"))

# Notifications (docs/notifications.md). Outside channels this deployment has: "sms", "email",
# and "wechat" once an official account is plugged in (YISHI_WECHAT_BACKEND, the template ids
# it registered in YISHI_WECHAT_TEMPLATES).
YISHI_NOTIFY_CHANNELS = env_list("YISHI_NOTIFY_CHANNELS") or ["sms", "email"]
YISHI_WECHAT_BACKEND = env("YISHI_WECHAT_BACKEND", "notifications.channels.ConsoleWechatBackend")
YISHI_WECHAT_TEMPLATES = {
    name: env(f"YISHI_WECHAT_TEMPLATE_{name.upper()}", name)
    for name in ("account", "topic", "record", "budget", "meeting", "case", "digest")
}
# Days of notice a meeting's roster must have, by kind, beyond the law's ten for a villagers'
# assembly (meetings.services.notice_days): a village's own rules, e.g. YISHI_MEETING_NOTICE_DAYS
# ="representatives:3,two_committees:1".
YISHI_MEETING_NOTICE_DAYS = {
    kind: int(days)
    for kind, _sep, days in (item.partition(":") for item in env_list("YISHI_MEETING_NOTICE_DAYS"))
    if days.strip().isdigit()
}
# The provider template approved for each kind of notice (Aliyun and the like send templates
# only): YISHI_SMS_TEMPLATE_<KIND>, e.g. YISHI_SMS_TEMPLATE_TOPIC_ANSWERED=SMS_123456789. A kind
# without one is not sent by such a provider (docs/notifications.md lists kinds and variables).
YISHI_SMS_NOTICE_TEMPLATES = {
    name[len("YISHI_SMS_TEMPLATE_") :].lower(): value
    for name, value in os.environ.items()
    if name.startswith("YISHI_SMS_TEMPLATE_") and name != "YISHI_SMS_TEMPLATE_CODE" and value
}
# The SMS provider's rate limit (every task worker together), each council's monthly SMS for
# notices (a council's own SmsBudget overrides it) and the share of the day's budget notices may
# use (the rest is kept for sign-in codes).
YISHI_NOTIFY_SMS_PER_SECOND = int(env("YISHI_NOTIFY_SMS_PER_SECOND", "20"))
YISHI_NOTIFY_SMS_MONTHLY_PER_COUNCIL = int(env("YISHI_NOTIFY_SMS_MONTHLY_PER_COUNCIL", "2000"))
YISHI_NOTIFY_SMS_SHARE_OF_DAILY_BUDGET = float(env("YISHI_NOTIFY_SMS_SHARE_OF_DAILY_BUDGET", "0.8"))

# --- Language and time -----------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
WAGTAIL_I18N_ENABLED = False
WAGTAILADMIN_PERMITTED_LANGUAGES = LANGUAGES
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
LANGUAGE_COOKIE_SECURE = False

# --- Static and media --------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("DJANGO_MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
# Uploaded photos and attachments live under MEDIA_ROOT, import spreadsheets under
# PRIVATE_MEDIA_ROOT; neither is served by any web server directly: each file goes through a
# view that checks who may see its record (docs/files.md). MEDIA_URL is never routed.
PRIVATE_MEDIA_ROOT = Path(env("DJANGO_PRIVATE_MEDIA_ROOT", str(BASE_DIR / "var" / "private")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT, "base_url": "/no-public-url/"},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Storage alias -> nginx `internal` location that serves it (X-Accel-Redirect, docs/nginx.conf).
# Empty: Django streams the file itself (development, tests). Production sets both.
YISHI_FILES_ACCEL_REDIRECT = {}

# --- Background tasks (django-tasks; Django's own tasks framework from 6.0) ------------------
# Imports, big exports and the open-data bundle run on the task runner, never in the web worker
# (docs/architecture.md, "Background tasks"). YISHI_TASK_BACKEND picks the queue: "db"
# (django-tasks-db, `manage.py db_worker`; the embedded default) or "rq" (django-tasks-rq on
# REDIS_URL, `manage.py rqworker --job-class django_tasks_rq.Job`; production's default).
TASK_APPS = {"db": [], "rq": ["django_rq", "django_tasks_rq"]}


def task_settings(backend: str, redis_url: str | None) -> tuple[dict, dict]:
    """(TASKS, RQ_QUEUES) for a YISHI_TASK_BACKEND value."""
    if backend == "rq":
        if not redis_url:
            raise ImproperlyConfigured("YISHI_TASK_BACKEND=rq needs REDIS_URL.")
        # RQ stops a job after DEFAULT_TIMEOUT: longer than any tracked job's own timeout.
        return (
            {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}},
            {"default": {"URL": redis_url, "DEFAULT_TIMEOUT": 3600}},
        )
    if backend != "db":
        raise ImproperlyConfigured("YISHI_TASK_BACKEND is 'db' or 'rq'.")
    return {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}, {}


# Exports of more published lines than this run on the task runner (docs/finance-tools.md).
YISHI_EXPORT_TASK_ABOVE_LINES = int(env("YISHI_EXPORT_TASK_ABOVE_LINES", "5000"))

# --- Cache, channel layer: Redis when REDIS_URL is set, in-process otherwise ------------
# A dead Redis must not take the site down (docs/realtime.md, "When Redis is down"): the cache
# backend gives up fast (short socket timeouts, no retries) and falls back for RETRY_AFTER
# seconds (core/cache.py): sessions read the database, rate limits count per worker process.
REDIS_URL = env("REDIS_URL")
YISHI_TASK_BACKEND = env("YISHI_TASK_BACKEND", "db")
TASKS, RQ_QUEUES = task_settings(YISHI_TASK_BACKEND, REDIS_URL)
INSTALLED_APPS += TASK_APPS[YISHI_TASK_BACKEND]


def redis_cache_options() -> dict:
    return {"socket_connect_timeout": 1, "socket_timeout": 1, "RETRY_AFTER": 5}


def channel_layer(url: str) -> dict:
    """The live layer on Redis: one PUBLISH per broadcast, pushed to every worker's hub over
    its subscription (core/realtime/pubsub.py; docs/realtime.md). A Redis that cannot be reached
    within a second, or does not answer within five, fails the command, and the hub tells its
    sockets the layer is down."""
    return {"BACKEND": "core.realtime.pubsub.RedisPubSubLayer", "CONFIG": {"hosts": [url]}}


if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "core.cache.FaultTolerantRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": redis_cache_options(),
        }
    }
    CHANNEL_LAYERS = {"default": channel_layer(REDIS_URL)}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# --- Discussion halls --------------------------------------------------------------------------
# Words that hold a message for the committee's review instead of publishing it (more can be
# added in the admin as snippets). Comma-separated in the environment.
YISHI_SENSITIVE_WORDS = env_list("YISHI_SENSITIVE_WORDS")
# Posts per user per window: (count, seconds). Counted in the shared cache, across workers.
YISHI_DELIBERATION_POST_RATE = (
    int(env("YISHI_DELIBERATION_POST_COUNT", "6")),
    int(env("YISHI_DELIBERATION_POST_WINDOW", "60")),
)

# --- Three openings (disclosure) -------------------------------------------------------------
YISHI_QUESTION_DEADLINE_DAYS = int(env("YISHI_QUESTION_DEADLINE_DAYS", "10"))
YISHI_DISCLOSURE_GRACE_DAYS = int(env("YISHI_DISCLOSURE_GRACE_DAYS", "10"))
YISHI_DISCLOSURE_LOOKBACK_MONTHS = int(env("YISHI_DISCLOSURE_LOOKBACK_MONTHS", "12"))
YISHI_DISCLOSURE_MAX_UPLOAD_MB = int(env("YISHI_DISCLOSURE_MAX_UPLOAD_MB", "10"))

# --- The open read API (/api/v1/, docs/api.md) ------------------------------------------------
# Read-only, public data only, for anyone: JSON and DRF's browsable pages (which need no
# JavaScript). These defaults reach Wagtail's admin API too (DRF as well): the limits are ample
# for it; the API's own refusals (api/errors.py) are set on its views only. Requests per client
# and minute: anonymous clients by address (REMOTE_ADDR, which
# only uvicorn sets from the proxy: NUM_PROXIES 0 so that DRF never reads X-Forwarded-For),
# signed-in ones by account. Counted in the default cache (Redis in production). A rate of "off"
# switches a limit off.
REST_FRAMEWORK = {
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_THROTTLE_CLASSES": [
        "api.throttles.AnonymousClientThrottle",
        "api.throttles.SignedInClientThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "api_anonymous": env("YISHI_API_ANONYMOUS_RATE", "120/min"),
        "api_user": env("YISHI_API_USER_RATE", "600/min"),
    },
    "NUM_PROXIES": 0,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Yishi open data API",
    "DESCRIPTION": (
        "Public data of Yishi's councils, read-only: the council tree, published records with "
        "their hash chain, budget cycles and their stored results, hall topics and answers, "
        "governance figures and index scores, case counts. No personal data. See docs/api.md."
    ),
    "VERSION": "v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Only /api/v1/ is described (Wagtail's admin has a DRF API of its own, not for the public).
    "PREPROCESSING_HOOKS": ["api.schema.only_open_data"],
    "ENUM_NAME_OVERRIDES": {
        "RecordKindEnum": "disclosure.models.Kind",
        "RecordPeriodKindEnum": "disclosure.models.PeriodKind",
        "FigurePeriodKindEnum": "governance.models.PeriodKind",
        "PhaseKindEnum": "budgets.models.PhaseKind",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
# Seconds shared caches and browsers may keep an API answer before asking again (with its ETag).
YISHI_API_MAX_AGE = int(env("YISHI_API_MAX_AGE", "60"))
# Case figures: a row of fewer reported cases is not in the API, and a sum of fewer ratings is
# null (small counts point at a household; docs/api.md).
YISHI_API_CASE_MIN_COUNT = int(env("YISHI_API_CASE_MIN_COUNT", "3"))

# --- Wagtail -------------------------------------------------------------------------------
WAGTAIL_SITE_NAME = "议事 Yishi"
WAGTAILADMIN_BASE_URL = env("WAGTAILADMIN_BASE_URL", "http://127.0.0.1:8000")
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["pdf", "xlsx", "xls", "csv", "docx", "doc", "jpg", "jpeg", "png"]

# --- Security defaults (production tightens further) -----------------------------------
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
YISHI_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self' ws: wss:; frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        # Wagtail logs every page creation and django-tasks every immediate task at INFO.
        "wagtail": {"level": "WARNING"},
        "django_tasks": {"level": "WARNING"},
    },
}
