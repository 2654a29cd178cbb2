"""Settings shared by every environment.

The environment is read here and only here (`env`, `env_list`); dev, test and production
settings override a few values on top of this module.
"""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env(name: str, default: str | None = None) -> str | None:
    """One place where settings read the process environment."""
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in (env(name, default) or "").split(",") if item.strip()]


SECRET_KEY = env("DJANGO_SECRET_KEY", "dev-only-insecure-key-never-used-in-production-0123456789")
DEBUG = False
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # daphne first so that `runserver` speaks websockets in development.
    "daphne",
    "core",
    "home",
    "councils",
    "deliberation",
    "budgets",
    "disclosure",
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
    "django_htmx",
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
    "django_htmx.middleware.HtmxMiddleware",
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
ACCOUNT_PHONE_VERIFICATION_TIMEOUT = 600
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
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Cache, channel layer: Redis when REDIS_URL is set, in-process otherwise ------------
# A dead Redis must not take the site down (docs/realtime.md, "When Redis is down"): the cache
# backend gives up fast (short socket timeouts, no retries) and falls back for RETRY_AFTER
# seconds (core/cache.py): sessions read the database, rate limits count per worker process.
REDIS_URL = env("REDIS_URL")


def redis_cache_options() -> dict:
    return {"socket_connect_timeout": 1, "socket_timeout": 1, "RETRY_AFTER": 5}


def redis_layer_host(url: str) -> dict:
    """channels_redis host: the socket timeout outlasts the layer's 5-second blocking pop, and a
    command is retried once, on a fresh connection, since the pooled ones die with a restart."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    return {
        "address": url,
        "socket_connect_timeout": 1,
        "socket_timeout": 10,
        "retry_on_error": [RedisConnectionError],
    }


if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "core.cache.FaultTolerantRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": redis_cache_options(),
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [redis_layer_host(REDIS_URL)],
                "capacity": 1000,
                "expiry": 30,
            },
        }
    }
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
