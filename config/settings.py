"""Settings for the health data catalog.

Every deployment-specific value comes from an environment variable prefixed ``HDC_``
(or from a ``.env`` file beside manage.py). Defaults are the safe production ones:
debug off, no allowed hosts, a secret key required. The embedded first-run setup
(``make run``) sets ``HDC_DEBUG=1`` and uses SQLite with jobs run in-process.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def setting(name: str, *args, cast=str, **kwargs):
    """Read ``HDC_<name>`` from the environment (the one helper all settings use)."""
    reader = {bool: env.bool, int: env.int, list: env.list, str: env.str}[cast]
    return reader(f"HDC_{name}", *args, **kwargs)


DEBUG = setting("DEBUG", cast=bool, default=False)
SECRET_KEY = setting("SECRET_KEY", default="" if not DEBUG else "insecure-development-key")
if not SECRET_KEY:
    raise environ.ImproperlyConfigured("Set HDC_SECRET_KEY (or HDC_DEBUG=1 for development).")
ALLOWED_HOSTS = setting(
    "ALLOWED_HOSTS", cast=list, default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = setting("CSRF_TRUSTED_ORIGINS", cast=list, default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "axes",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "guardian",
    "simple_history",
    "accounts",
    "catalog",
    "access",
    "audit",
    "registry",
    "inbox",
    "rights",
    "inventory",
    "reports",
    "api",
    "exchange",
    "django_celery_beat",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "catalog.history.LedgerContextMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url(
        "HDC_DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'catalog.sqlite3'}"
    )
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Enough memory per sort or hash that a bitmap over a common search term stays exact
    # (a lossy one re-checks every row of its pages, some 20 times slower); no JIT, whose
    # compile time costs the short catalog queries more than it saves.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "options", f"-c work_mem={setting('DB_WORK_MEM', default='64MB')} -c jit=off"
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default runs the web server and the job scheduler (beat, which works due
    # jobs in its own process) on one file: a writer waits up to `timeout` seconds for the
    # other's transaction instead of failing with "database is locked"; transactions take the
    # write lock when they begin, so two never deadlock upgrading a read lock; and with WAL
    # the pages read on while a chunk of a run is written.
    _sqlite = DATABASES["default"].setdefault("OPTIONS", {})
    _sqlite.setdefault("timeout", setting("SQLITE_TIMEOUT", cast=int, default=30))
    _sqlite.setdefault("transaction_mode", "IMMEDIATE")
    _sqlite.setdefault("init_command", "PRAGMA journal_mode=WAL")
DATABASES["default"].setdefault("CONN_MAX_AGE", setting("DB_CONN_MAX_AGE", cast=int, default=60))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out sign-in before any password is checked. It needs the
    # request, so tests sign in with force_login (or login(request=HttpRequest(), ...)).
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Object permissions answer through the one scoping rule, so that an expired grant or
    # a lost role counts nowhere (guardian's own backend knows nothing of expiry).
    "access.backends.AssetPermissionBackend",
]
# guardian warns when its own object backend is missing: it is left out on purpose (above),
# its permission models are used through the scoping rule instead.
SILENCED_SYSTEM_CHECKS = ["guardian.W001"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "catalog:asset_list"
LOGOUT_REDIRECT_URL = "catalog:asset_list"

# 简体中文 by default, English on request.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = setting("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # Chart.js as npm installed it (make install; the Dockerfile copies the same folder).
    ("vendor/chartjs", BASE_DIR / "node_modules" / "chart.js" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = BASE_DIR / "var" / "media"
# The report archive's files: never served as media, only through the download view that
# checks who asks. In production a volume shared by the web and worker containers.
STORAGES["reports"] = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": setting("REPORT_DIR", default=str(BASE_DIR / "var" / "reports"))},
}

REDIS_URL = setting("REDIS_URL", default="")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}
# Keys carry the database's name: catalogs sharing one Redis never read each other's counts.
CACHES["default"]["KEY_PREFIX"] = setting(
    "CACHE_PREFIX", default=f"hdc:{Path(str(DATABASES['default']['NAME'])).name}"
)

# Jobs: Celery with Redis in production; without a Redis URL they run in-process.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
# No results are kept, so beat needs no nightly `celery.backend_cleanup` task.
CELERY_RESULT_EXPIRES = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
# A task not acknowledged within this many seconds is delivered again (a dead worker's
# task); every chunk is far shorter than this.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": setting("CELERY_VISIBILITY_TIMEOUT", cast=int, default=3600),
}
CELERY_TASK_DEFAULT_QUEUE = setting("CELERY_QUEUE", default="celery")
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "resume-stalled-runs": {"task": "inventory.tasks.resume_stalled_runs", "schedule": 600.0},
    # The monthly report of every commission, for the month just ended.
    "monthly-reports": {
        "task": "reports.tasks.make_monthly_reports",
        "schedule": crontab(minute=0, hour=3, day_of_month=1),
    },
    "tidy-report-archive": {"task": "reports.tasks.tidy_archive", "schedule": 3600.0},
    # The report figures of every jurisdiction, counted again when something changed.
    "refresh-report-figures": {"task": "reports.tasks.refresh_figures", "schedule": 300.0},
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Inventory and rights review: assets per chunk (one transaction each), and how a chunk
# that fails is retried.
INVENTORY_CHUNK_SIZE = setting("INVENTORY_CHUNK_SIZE", cast=int, default=50_000)
INVENTORY_CHUNK_SOFT_TIME_LIMIT = setting("INVENTORY_CHUNK_SECONDS", cast=int, default=10 * 60)
INVENTORY_CHUNK_RETRIES = setting("INVENTORY_CHUNK_RETRIES", cast=int, default=3)

# The report archive: how long requested exports and monthly reports are kept, and how long
# producing one file may take.
REPORT_ARCHIVE_DAYS = setting("REPORT_ARCHIVE_DAYS", cast=int, default=30)
REPORT_MONTHLY_ARCHIVE_DAYS = setting("REPORT_MONTHLY_ARCHIVE_DAYS", cast=int, default=3 * 365)
REPORT_FILE_TIME_LIMIT = setting("REPORT_FILE_SECONDS", cast=int, default=30 * 60)
# Report figures are counted once per scope, filter and change (reports.cache); 0: always.
REPORT_CACHE_SECONDS = setting("REPORT_CACHE_SECONDS", cast=int, default=15 * 60)
# Reports without filters are summed from the background counting of the catalog
# (reports.rollup) when it is at most this old; 0: always count.
REPORT_ROLLUP_MAX_AGE = setting("REPORT_ROLLUP_MAX_AGE", cast=int, default=15 * 60)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",  # machines
        "rest_framework.authentication.SessionAuthentication",  # the browser
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_RENDERER_CLASSES": [
        "api.renderers.FastJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.exceptions.exception_handler",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": [
        "api.throttling.AnonRateThrottle",
        "api.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": setting("API_ANON_RATE", default="60/minute"),
        "user": setting("API_USER_RATE", default="1200/minute"),
    },
}
# DCAT-AP export (exchange/): the base of dataset URIs (default: the request's host), page
# sizes of the catalog export, and the catalog's publisher.
DCAT_BASE_URL = setting("DCAT_BASE_URL", default="")
DCAT_PAGE_SIZE = setting("DCAT_PAGE_SIZE", cast=int, default=500)
DCAT_MAX_PAGE_SIZE = setting("DCAT_MAX_PAGE_SIZE", cast=int, default=1000)
DCAT_PUBLISHER_NAME = setting("DCAT_PUBLISHER_NAME", default="国家卫生健康委员会")
SPECTACULAR_SETTINGS = {
    "TITLE": "Health Data Asset Catalog API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The documentation page's scripts and styles are served by the app (no CDN).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Choice sets whose field name ("kind", "status") other choice sets share.
    "ENUM_NAME_OVERRIDES": {
        "RunKindEnum": "inventory.choices.RunKind",
        "ApplicationKindEnum": "registry.choices.ApplicationKind",
        "ApplicationStateEnum": "registry.choices.ApplicationState",  # + from/to_state
        "AssetStatusEnum": "catalog.choices.AssetStatus",
        "InstitutionTypeEnum": "accounts.choices.InstitutionType",
        "ReportKindEnum": "reports.choices.ReportKind",
        "ReportFileStatusEnum": "reports.choices.FileStatus",
        "ReportFormatEnum": "reports.choices.ExportFormat",
        "HistoryEntryTypeEnum": [("+", "created"), ("~", "changed"), ("-", "deleted")],
        "AllocationCurrentStatusEnum": "api.allocations.CURRENT_STATUS_CHOICES",
    },
}

GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None

SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True
SIMPLE_HISTORY_REVERT_DISABLED = True

# Security: strict by default, relaxed only for the local development server.
SESSION_COOKIE_AGE = setting("SESSION_AGE_SECONDS", cast=int, default=8 * 60 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
# No script reads the CSRF cookie: forms carry the token, and so does the DRF browsable API.
CSRF_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = setting("SECURE_SSL_REDIRECT", cast=bool, default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = setting("HSTS_SECONDS", cast=int, default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Brute-force protection (django-axes): after AXES_FAILURE_LIMIT failed sign-ins of one
# username from one client address, that pair is refused (HTTP 429, the lockout page) for the
# cool-off period, even with the right password. Other usernames from the address, and the
# username from other addresses, are not affected. A successful sign-in clears the count.
AXES_FAILURE_LIMIT = setting("AXES_FAILURE_LIMIT", cast=int, default=5)
# 0: no cool-off, a locked pair stays locked until an administrator resets it (delete its
# access attempts in the admin, or ``manage.py axes_reset_username <username>``).
AXES_COOLOFF_TIME = timedelta(minutes=setting("AXES_COOLOFF_MINUTES", cast=int, default=30)) or None
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
AXES_USERNAME_FORM_FIELD = "username"
AXES_HTTP_RESPONSE_CODE = 429
# The client address. HDC_PROXY_COUNT MUST be set in production to the number of reverse
# proxies in front of the app (TLS terminator, load balancer, ...), or every sign-in seems to
# come from the nearest proxy. With 0 (the default, no proxy) only the socket address is used
# and X-Forwarded-For is ignored, as a client can forge it. With N proxies the client is the
# address the outermost proxy appended to X-Forwarded-For: the nearest proxy is REMOTE_ADDR
# and appears in no header, so N - 1 proxy addresses follow the client's there (ipware's
# proxy count). Not strict: entries a client put in front of the header are skipped, not
# taken, and do not make the header be ignored.
PROXY_COUNT = setting("PROXY_COUNT", cast=int, default=0)
if PROXY_COUNT > 0:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    AXES_IPWARE_PROXY_COUNT = PROXY_COUNT - 1
else:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)
    AXES_IPWARE_PROXY_COUNT = 0
AXES_IPWARE_PROXY_ORDER = "left-most"
IPWARE_STRICT = False

EMAIL_BACKEND = setting("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = setting("DEFAULT_FROM_EMAIL", default="catalog@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": setting("LOG_LEVEL", default="INFO")},
}

# Catalog behaviour.
CATALOG_PAGE_SIZE = setting("CATALOG_PAGE_SIZE", cast=int, default=25)
# How long the facet counts of one scope and filter are reused (0: always count afresh).
# The anonymous public's API list pages are kept this long at most (api/public_cache.py);
# any write to the catalog makes them stale at once. 0: not cached.
API_PUBLIC_CACHE_SECONDS = setting("API_PUBLIC_CACHE_SECONDS", cast=int, default=300)
CATALOG_FACET_CACHE_SECONDS = setting("CATALOG_FACET_CACHE_SECONDS", cast=int, default=60)
# When more rows than this would be counted (the planner's estimate), the list page is
# served first and its facet counts are fetched afterwards, so counting never delays rows.
CATALOG_FACETS_INLINE_MAX_ROWS = setting("CATALOG_FACETS_INLINE_MAX_ROWS", cast=int,
                                         default=5000)
CATALOG_SITE_NAME = _("Health Data Asset Catalog")
# A TrueType (.ttf/.ttc) font with Chinese glyphs for the registration certificate PDF;
# empty: the first found of the Debian packages' (fonts-wqy-microhei, …) — registry.certificate.
CJK_FONT = setting("CJK_FONT", default="")
# Bulk registration (registry.bulk): the largest spreadsheet accepted, in bytes, and the most
# data rows one file may hold.
BULK_MAX_BYTES = setting("BULK_MAX_BYTES", cast=int, default=32 * 1024 * 1024)
BULK_MAX_ROWS = setting("BULK_MAX_ROWS", cast=int, default=50_000)
