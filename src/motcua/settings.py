"""Settings for motcua, read from environment variables (12-factor).

Every variable has a default that makes the embedded mode (SQLite, one machine) work with no
configuration at all. docs/configuration.md lists them.
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent  # src/motcua
PROJECT_DIR = BASE_DIR.parent.parent  # the repository / install root
VAR_DIR = Path(os.environ.get("MOTCUA_VAR_DIR", PROJECT_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# The default key is only for the embedded demo; production sets SECRET_KEY.
SECRET_KEY = os.environ.get("SECRET_KEY", "motcua-insecure-embedded-default-change-me")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "motcua.core.admin_site.MotcuaAdminConfig",  # django.contrib.admin behind the second factor
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "motcua.core",
    "motcua.agencies",
    "motcua.catalog",
    "motcua.accounts",
    "motcua.dossiers",
    "motcua.submissions",
    "motcua.printing",
    "motcua.notifications",
    "motcua.portal",
    "motcua.backoffice",
    "motcua.monitoring",
    "motcua.demo",
    "motcua.api",
    "huey.contrib.djhuey",
]

MIDDLEWARE = [
    # First: Prometheus metrics of every request, then the in-flight bound (docs/deployment.md).
    "motcua.ops.metrics.MetricsMiddleware",
    "motcua.ops.shedding.SheddingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Sign-in, membership, second factor and role of every page under /can-bo/.
    "motcua.backoffice.middleware.BackofficeAccessMiddleware",
    # Last: turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "motcua.urls"
WSGI_APPLICATION = "motcua.wsgi.application"

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
                "motcua.backoffice.context.backoffice",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# SQLite (embedded, WAL, synchronous=FULL so an acknowledged write survives a crash) unless
# DATABASE_URL points elsewhere (postgresql://user:pass@host:5432/name in production).
DEFAULT_SQLITE_URL = f"sqlite:///{VAR_DIR / 'motcua.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", DEFAULT_SQLITE_URL),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;"
            ),
            # Writers take the lock up front: no "database is locked" upgrade deadlocks.
            "transaction_mode": "IMMEDIATE",
        }
    )
    if DATABASES["default"]["NAME"] != ":memory:":
        Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Sign-in (officers' back office) --------------------------------------------------------
# django-axes first: it refuses a locked-out user before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "backoffice:login"
LOGIN_REDIRECT_URL = "backoffice:home"
# After this many failed sign-ins from one address for one user name, that pair is locked for
# MOTCUA_LOGIN_LOCKOUT_MINUTES (a success resets the count; more failures while locked do not
# lengthen the lock). Operators unlock early with `manage.py axes_reset_username NAME`.
AXES_FAILURE_LIMIT = int(os.environ.get("MOTCUA_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("MOTCUA_LOGIN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "motcua.backoffice.views.auth.locked_out"
# Behind a reverse proxy every request comes from the proxy's address: name the header the proxy
# sets to the client's address (as a META key, e.g. HTTP_X_REAL_IP) so lockouts are per client.
MOTCUA_CLIENT_IP_HEADER = os.environ.get("MOTCUA_CLIENT_IP_HEADER", "")
AXES_CLIENT_IP_CALLABLE = "motcua.core.http.client_ip"
# Successful sign-ins are logged too (Axes "access logs" in the admin).
AXES_DISABLE_ACCESS_LOG = False
AXES_VERBOSE = False  # no start-up banner; lockouts are still logged
# Second factor (TOTP) for leaders, administrators and superusers: the issuer shown in the
# authenticator app, and how long a password-checked sign-in waits for its code.
OTP_TOTP_ISSUER = os.environ.get("MOTCUA_OTP_ISSUER", "motcua")
MOTCUA_OTP_PENDING_SECONDS = int(os.environ.get("MOTCUA_OTP_PENDING_SECONDS", "600"))
# The Django admin asks staff for the same TOTP code (motcua.core.admin_site); off only by choice.
MOTCUA_ADMIN_REQUIRE_OTP = env_bool("MOTCUA_ADMIN_REQUIRE_OTP", True)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Citizens' accounts on the portal (docs/citizens-portal.md) -----------------------------
# Registration codes: minutes valid, wrong tries allowed per code, seconds before another code
# may be sent to the same address, codes per address and per client address in an hour.
MOTCUA_CITIZEN_CODE_MINUTES = int(os.environ.get("MOTCUA_CITIZEN_CODE_MINUTES", "10"))
MOTCUA_CITIZEN_CODE_ATTEMPTS = int(os.environ.get("MOTCUA_CITIZEN_CODE_ATTEMPTS", "5"))
MOTCUA_CITIZEN_CODE_RESEND_SECONDS = int(os.environ.get("MOTCUA_CITIZEN_CODE_RESEND_SECONDS", "60"))
MOTCUA_CITIZEN_CODES_PER_HOUR = int(os.environ.get("MOTCUA_CITIZEN_CODES_PER_HOUR", "5"))
MOTCUA_CITIZEN_CODES_PER_HOUR_PER_CLIENT = int(
    os.environ.get("MOTCUA_CITIZEN_CODES_PER_HOUR_PER_CLIENT", "20")
)
# Single sign-on through an OpenID Connect provider (the national VNeID-style login): on only
# when the client id and the provider's endpoints are set; the sign-in page then shows its
# button. mozilla-django-oidc reads these names.
OIDC_PROVIDER_NAME = os.environ.get("OIDC_PROVIDER_NAME", "VNeID")
OIDC_RP_CLIENT_ID = os.environ.get("OIDC_RP_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = os.environ.get("OIDC_RP_CLIENT_SECRET", "")
OIDC_OP_ISSUER = os.environ.get("OIDC_OP_ISSUER", "")
OIDC_OP_AUTHORIZATION_ENDPOINT = os.environ.get("OIDC_OP_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = os.environ.get("OIDC_OP_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = os.environ.get("OIDC_OP_USER_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = os.environ.get("OIDC_OP_JWKS_ENDPOINT", "")
OIDC_RP_SIGN_ALGO = os.environ.get("OIDC_RP_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = os.environ.get("OIDC_RP_SCOPES", "openid profile email phone")
OIDC_USE_PKCE = env_bool("OIDC_USE_PKCE", True)
OIDC_TOKEN_USE_BASIC_AUTH = env_bool("OIDC_TOKEN_USE_BASIC_AUTH", False)
OIDC_TIMEOUT = int(os.environ.get("OIDC_TIMEOUT", "10"))
OIDC_VERIFY_SSL = env_bool("OIDC_VERIFY_SSL", True)
# Which claims (of the ID token or the user info) carry the person's details.
OIDC_CLAIM_NAME = os.environ.get("OIDC_CLAIM_NAME", "name")
OIDC_CLAIM_PHONE = os.environ.get("OIDC_CLAIM_PHONE", "phone_number")
OIDC_CLAIM_EMAIL = os.environ.get("OIDC_CLAIM_EMAIL", "email")
OIDC_CLAIM_PERSONAL_ID = os.environ.get("OIDC_CLAIM_PERSONAL_ID", "personal_id")
OIDC_AUTHENTICATION_CALLBACK_URL = "portal:account:oidc_callback"
if (
    OIDC_RP_CLIENT_ID
    and OIDC_OP_AUTHORIZATION_ENDPOINT
    and OIDC_OP_TOKEN_ENDPOINT
    and OIDC_OP_JWKS_ENDPOINT
):
    AUTHENTICATION_BACKENDS = [
        *AUTHENTICATION_BACKENDS,
        "motcua.portal.account.oidc.CitizenOIDCBackend",
    ]

# --- Online submission on the portal (docs/citizens-portal.md) ------------------------------
# A draft is kept this many days after its last save; an unfinished upload waits this many hours
# for its next chunk; files and bytes per draft (each file at most MOTCUA_MAX_UPLOAD_BYTES).
MOTCUA_DRAFT_DAYS = int(os.environ.get("MOTCUA_DRAFT_DAYS", "30"))
MOTCUA_UPLOAD_HOURS = int(os.environ.get("MOTCUA_UPLOAD_HOURS", "24"))
MOTCUA_MAX_UPLOADS_PER_DRAFT = int(os.environ.get("MOTCUA_MAX_UPLOADS_PER_DRAFT", "50"))
MOTCUA_MAX_DRAFT_BYTES = int(os.environ.get("MOTCUA_MAX_DRAFT_BYTES", str(200 * 1024 * 1024)))
# Where unfinished uploads are written: a local folder (random access), shared by every web
# server. Unset: MEDIA_ROOT/partial.
MOTCUA_PARTIAL_UPLOAD_ROOT = os.environ.get("MOTCUA_PARTIAL_UPLOAD_ROOT") or None

# --- Language and time ----------------------------------------------------------------------
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Tiếng Việt")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_TZ = True

# --- Static and media files -----------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", PROJECT_DIR / "staticfiles"))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# Uploaded files (scans, results): local disk, or an S3-compatible bucket (AWS, MinIO, …) when
# MOTCUA_S3_BUCKET is set. Files are private: links are signed and expire.
MOTCUA_S3_BUCKET = os.environ.get("MOTCUA_S3_BUCKET", "")
if MOTCUA_S3_BUCKET:
    DEFAULT_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": MOTCUA_S3_BUCKET,
            "endpoint_url": os.environ.get("MOTCUA_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("MOTCUA_S3_REGION") or None,
            "access_key": os.environ.get("MOTCUA_S3_ACCESS_KEY") or None,
            "secret_key": os.environ.get("MOTCUA_S3_SECRET_KEY") or None,
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": 600,
            "file_overwrite": False,
        },
    }
else:
    DEFAULT_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": DEFAULT_STORAGE,
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("STATIC_MANIFEST", False)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", True)

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- motcua ---------------------------------------------------------------------------------
# Where the real public data sets live (../shared/data beside the repository by default).
MOTCUA_SHARED_DATA = Path(
    os.environ.get("MOTCUA_SHARED_DATA", PROJECT_DIR.parent / "shared" / "data")
)
# Name of the demo province (GSO code) loaded by `manage.py load_demo`.
MOTCUA_DEMO_PROVINCE = os.environ.get("MOTCUA_DEMO_PROVINCE", "38")

# Time-limit classification: "date" (compare calendar dates, the default) or "exact".
MOTCUA_TIMELINESS_PRECISION = os.environ.get("MOTCUA_TIMELINESS_PRECISION", "date")
# At most this many extensions with apology per dossier (Decree 118 practice: once).
MOTCUA_MAX_EXTENSIONS = int(os.environ.get("MOTCUA_MAX_EXTENSIONS", "1"))
# Whether waiting for a financial obligation stops the clock (sector rules differ).
MOTCUA_PAYMENT_STOPS_CLOCK = env_bool("MOTCUA_PAYMENT_STOPS_CLOCK", True)
# Largest scan accepted, in bytes.
MOTCUA_MAX_UPLOAD_BYTES = int(os.environ.get("MOTCUA_MAX_UPLOAD_BYTES", str(20 * 1024 * 1024)))
# Public lookup: requests per client (address) and period, e.g. "120/m".
MOTCUA_LOOKUP_RATE = os.environ.get("MOTCUA_LOOKUP_RATE", "120/m")
# Public address of the site, printed in the QR code of Mẫu 01.
MOTCUA_BASE_URL = os.environ.get("MOTCUA_BASE_URL", "http://127.0.0.1:8000")

# --- Notifications (docs/notifications.md) ---------------------------------------------------
# E-mail goes through Django's backend: SMTP when EMAIL_HOST is set, otherwise printed to the
# worker's console (the embedded mode sends nothing out).
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST") or "localhost"
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)  # STARTTLS, usually on port 587
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)  # implicit TLS, usually on port 465
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587" if EMAIL_USE_TLS else "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "30"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Một cửa <no-reply@localhost>")
# The provider behind each channel: a dotted path (a motcua.notifications Provider) and its
# options as a JSON object. SMS and Zalo stay in the sandbox until a provider is contracted.
MOTCUA_NOTIFY_EMAIL_PROVIDER = os.environ.get(
    "MOTCUA_NOTIFY_EMAIL_PROVIDER", "motcua.notifications.providers.DjangoEmailProvider"
)
MOTCUA_NOTIFY_SMS_PROVIDER = os.environ.get(
    "MOTCUA_NOTIFY_SMS_PROVIDER", "motcua.notifications.providers.SandboxProvider"
)
MOTCUA_NOTIFY_ZALO_PROVIDER = os.environ.get(
    "MOTCUA_NOTIFY_ZALO_PROVIDER", "motcua.notifications.providers.SandboxProvider"
)
MOTCUA_NOTIFY_EMAIL_OPTIONS = os.environ.get("MOTCUA_NOTIFY_EMAIL_OPTIONS", "{}")
MOTCUA_NOTIFY_SMS_OPTIONS = os.environ.get("MOTCUA_NOTIFY_SMS_OPTIONS", "{}")
MOTCUA_NOTIFY_ZALO_OPTIONS = os.environ.get("MOTCUA_NOTIFY_ZALO_OPTIONS", "{}")
# SMS with diacritics (UCS-2: 70 characters a message instead of 160).
MOTCUA_NOTIFY_SMS_UNICODE = env_bool("MOTCUA_NOTIFY_SMS_UNICODE", False)
# A message still "sending" after this many seconds is taken as lost in a crash: marked
# "unknown" and not sent again automatically (at most once). Longer than any send may take.
MOTCUA_NOTIFY_SENDING_TIMEOUT = int(os.environ.get("MOTCUA_NOTIFY_SENDING_TIMEOUT", "600"))

# --- Cache and background work --------------------------------------------------------------
# REDIS_URL (redis://127.0.0.1:6379/0) makes Redis the cache (throttles shared by every worker)
# and the Huey queue; without it the cache is per process and Huey keeps its queue in SQLite.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "motcua.cache.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Tasks run at once, in the caller, under the test runner (HUEY_IMMEDIATE=1 does it elsewhere).
HUEY_IMMEDIATE = env_bool("HUEY_IMMEDIATE", "pytest" in sys.modules)
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "motcua",
        "url": REDIS_URL,
        "immediate": HUEY_IMMEDIATE,
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "motcua",
        "filename": str(VAR_DIR / "huey.sqlite3"),
        "immediate": HUEY_IMMEDIATE,
    }

# --- Production serving: metrics and load shedding (docs/deployment.md) ----------------------
# /metrics answers a bearer token equal to MOTCUA_METRICS_TOKEN, or a client whose address
# (MOTCUA_CLIENT_IP_HEADER behind a proxy) is in one of these networks.
MOTCUA_METRICS_TOKEN = os.environ.get("MOTCUA_METRICS_TOKEN", "")
MOTCUA_METRICS_ALLOW = env_list("MOTCUA_METRICS_ALLOW", "127.0.0.1/32,::1/128")
# At most this many requests in flight per web process (0: no bound); the next get 503 with
# Retry-After. scripts/serve.sh sets it with the gthread workers' threads.
MOTCUA_MAX_IN_FLIGHT = int(os.environ.get("MOTCUA_MAX_IN_FLIGHT", "0"))
# A request that waited longer than this before a thread took it up is shed (0: never).
MOTCUA_MAX_QUEUE_MS = int(os.environ.get("MOTCUA_MAX_QUEUE_MS", "1000"))
# The header (as a META key, e.g. HTTP_X_REQUEST_START) in which a reverse proxy on the same
# clock writes when it received the request; empty: not used.
MOTCUA_REQUEST_START_HEADER = os.environ.get("MOTCUA_REQUEST_START_HEADER", "")
MOTCUA_RETRY_AFTER_SECONDS = int(os.environ.get("MOTCUA_RETRY_AFTER_SECONDS", "2"))
MOTCUA_SHED_EXEMPT_PATHS = env_list("MOTCUA_SHED_EXEMPT_PATHS", "/healthz,/readyz,/metrics")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Failed sign-ins and lockouts are warnings; every successful sign-in would be noise.
        "axes": {"level": "WARNING"},
    },
}
