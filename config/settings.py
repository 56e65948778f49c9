"""Passerelles settings.

The environment is read here, once. With no environment at all the site runs on the embedded
default (SQLite, in-memory channel layer, local-memory cache, database search, immediate tasks).
Production switches components on with DATABASE_URL, REDIS_URL and ELASTICSEARCH_URL and must
provide SECRET_KEY and ALLOWED_HOSTS (DEBUG off).
"""

import os
from pathlib import Path

import dj_database_url
import machina
from django.core.exceptions import ImproperlyConfigured

# Pure checks of the Elasticsearch connection settings (no Django, no client), shared with the store.
from search.stores.credentials import settings_problem

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PASSERELLES_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_UNIQUE_CHARACTERS = 5

if DEBUG:
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-insecure-key-passerelles-not-for-production")
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
else:
    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])
    if not SECRET_KEY:
        raise ImproperlyConfigured("SECRET_KEY doit être défini quand DEBUG est désactivé.")
    # The bar of Django's own `check --deploy` (security.W009), enforced at startup instead of warned
    # about: sessions, password-reset links and signed values are only as safe as this key.
    if (len(SECRET_KEY) < SECRET_KEY_MIN_LENGTH or len(set(SECRET_KEY)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS
            or SECRET_KEY.startswith("django-insecure-")):
        raise ImproperlyConfigured(
            f"SECRET_KEY est trop faible : il faut au moins {SECRET_KEY_MIN_LENGTH} caractères, dont "
            f"{SECRET_KEY_MIN_UNIQUE_CHARACTERS} différents, sans le préfixe « django-insecure- » des clés de "
            "développement de Django. Pour en générer une : "
            'python -c "import secrets; print(secrets.token_urlsafe(50))"'
        )
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS doit être défini quand DEBUG est désactivé.")

CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "")
ELASTICSEARCH_URL = os.environ.get("ELASTICSEARCH_URL", "")
# Elasticsearch's security (README, "Variables d'environnement"): a CA bundle for an https:// URL whose
# certificate is not publicly trusted, and an API key (the base64 `encoded` form) unless a user and
# password sit in the URL. Contradictions and a missing CA file stop the startup here, in French.
ELASTICSEARCH_CA_CERTS = os.environ.get("ELASTICSEARCH_CA_CERTS", "")
ELASTICSEARCH_API_KEY = os.environ.get("ELASTICSEARCH_API_KEY", "")
_elasticsearch_problem = settings_problem(ELASTICSEARCH_URL, api_key=ELASTICSEARCH_API_KEY,
                                          ca_certs=ELASTICSEARCH_CA_CERTS)
if _elasticsearch_problem:
    raise ImproperlyConfigured(_elasticsearch_problem)

# --- Applications -------------------------------------------------------------------------------
# Our `forum` package is installed with the label "exchange" and listed after machina's apps, so
# machina's class loader (machina.core.loading) keeps resolving "forum.*" to machina's own app.
INSTALLED_APPS = [
    "daphne",
    # The shared bottom layer (backup, restore, run_schedule); it imports no project app.
    "core.apps.CoreConfig",
    "core.outbox.apps.OutboxConfig",
    "directory.apps.DirectoryConfig",
    "moderation.apps.ModerationConfig",
    "cms.apps.CmsConfig",
    "chat.apps.ChatConfig",
    "membership.apps.MembershipConfig",
    "parrainage.apps.ParrainageConfig",
    "search.apps.SearchConfig",
    # Wagtail
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.contrib.routable_page",
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
    "django_filters",
    # django-machina and what it needs
    "mptt",
    "haystack",
    "widget_tweaks",
    "machina",
    "machina.apps.forum",
    "forum.overrides.forum_conversation",
    "forum.overrides.forum_conversation.forum_attachments",
    "machina.apps.forum_conversation.forum_polls",
    "machina.apps.forum_feeds",
    "forum.overrides.forum_moderation",
    "machina.apps.forum_search",
    "forum.overrides.forum_tracking",
    "forum.overrides.forum_member",
    "forum.overrides.forum_permission",
    "forum.apps.ExchangeConfig",
    # Demo data (seed_demo), after the domain apps it fills
    "demo.apps.DemoConfig",
    # Real time and background work
    "channels",
    "django_tasks",
    "django_tasks_db",
    # Django
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
    # Content-Security-Policy, Permissions-Policy, framing of the admin areas (core/security.py).
    "core.security.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "directory.middleware.MembersOnlyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # machina's permission handler on each request, without machina's session write for anonymous
    # visitors (forum/middleware.py).
    "forum.middleware.ForumPermissionMiddleware",
    "forum.middleware.ForumVisibilityMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates", machina.MACHINA_MAIN_TEMPLATE_DIR],
        "OPTIONS": {
            # Templates are read and compiled once per process, then kept (the cached loader): what Django
            # does by default when no loader is named, written out so that it stays so. Under DEBUG the
            # development server's autoreloader empties this cache when a template changes.
            # tests/core/test_templates_cached.py checks it with DEBUG off.
            "loaders": [("django.template.loaders.cached.Loader", [
                "django.template.loaders.filesystem.Loader",
                "django.template.loaders.app_directories.Loader",
            ])],
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "machina.core.context_processors.metadata",
                "directory.context_processors.navigation",
                "forum.context_processors.notifications",
                "chat.context_processors.chat",
            ],
        },
    },
]

# --- Data -----------------------------------------------------------------------------------------
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_health_checks=True)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # A pool of connections per server process (Django's psycopg pool): a request borrows a connection
        # and gives it back at its end, open. Keeping connections per thread instead (CONN_MAX_AGE > 0) does
        # not work under ASGI: each request's synchronous code runs in a thread of its own, a kept connection
        # outlives its thread until the garbage collector closes it, and 200 members (bench/bench_load.py)
        # held PostgreSQL's 100 connections within a minute. A connection per request (CONN_MAX_AGE = 0 with
        # no pool) costs a connection set-up per request. The pool needs CONN_MAX_AGE = 0 (Django refuses
        # both), and with conn_health_checks it checks a connection before lending it (a restarted server).
        # Sizes per process: the defaults, 2 to 8, hold for uvicorn --workers 2 + daphne + the task worker
        # (4 processes, at most 32 connections, under PostgreSQL's 100 with room for migrations and psql).
        pool_min = int(os.environ.get("DATABASE_POOL_MIN", "2"))
        pool_max = int(os.environ.get("DATABASE_POOL_MAX", "8"))
        if not 0 <= pool_min <= pool_max or pool_max < 1:
            raise ImproperlyConfigured("DATABASE_POOL_MIN et DATABASE_POOL_MAX : 0 ≤ minimum ≤ maximum, maximum ≥ 1.")
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": pool_min,
            "max_size": pool_max,
            # A request waits this long for a free connection, then fails (rather than queueing forever).
            "timeout": float(os.environ.get("DATABASE_POOL_TIMEOUT", "10")),
            # Idle connections above min_size are closed after this long.
            "max_idle": 300,
        }
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "passerelles.sqlite3",
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite's default page cache is 2 MB per connection: a search over thousands of matches reads
    # their rows at random and spent a third of its time re-reading pages from the OS (measured in
    # bench/bench_search.py). 64 MB of cache and memory-mapped reads are an upper bound, not an
    # allocation.
    DATABASES["default"].setdefault("OPTIONS", {})["init_command"] = (
        "PRAGMA cache_size = -65536; PRAGMA mmap_size = 268435456"
    )
    # Test database in a file rather than SQLite's in-memory default, so that the daphne server started
    # by the browser tests (tests/browser) opens the very database the tests write to. One file per
    # process: several test runs may share this working tree.
    (VAR_DIR / "test").mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test" / f"passerelles-{os.getpid()}.sqlite3")}

# machina's migrations use AutoField: keep the global default as machina expects; our own apps set
# default_auto_field = BigAutoField in their AppConfig.
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

AUTH_USER_MODEL = "directory.User"

# Several sites (or test runs) may share one Redis: this prefix keeps their cache keys and channel
# layer keys apart.
REDIS_KEY_PREFIX = os.environ.get("REDIS_KEY_PREFIX", "")

if REDIS_URL:
    CACHES = {
        "default": {
            # django-redis; Redis being down is a cache miss, not a 500 (IGNORE_EXCEPTIONS, and
            # core/cache.py for what that option leaves out); the timeouts bound what a Redis that does
            # not answer at all costs a request.
            "BACKEND": "core.cache.FailOpenRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_KEY_PREFIX,
            "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
        },
        "machina_attachments": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": VAR_DIR / "machina_attachments",
        },
    }
    # Redis pub/sub by default: one PUBLISH per broadcast, fanned out inside each server process, where
    # channels_redis' list-based layer ("core") pops one Redis entry per receiving connection (measured
    # in bench/bench_chat.py). Its at-most-once delivery is enough: chat messages are saved before they
    # are broadcast and clients resume what they missed (chat/PROTOCOL.md).
    CHANNEL_LAYER_BACKENDS = {
        "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "core": "channels_redis.core.RedisChannelLayer",
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": CHANNEL_LAYER_BACKENDS[os.environ.get("REDIS_CHANNEL_LAYER", "pubsub")],
            "CONFIG": {"hosts": [REDIS_URL], "prefix": REDIS_KEY_PREFIX or "asgi"},
        }
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "machina_attachments": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": VAR_DIR / "machina_attachments",
        },
    }
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Background work: immediate by default, stored in the database (run by `manage.py db_worker`)
# in production.
TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks.backends.immediate.ImmediateBackend"),
    }
}

# --- Search (machina still needs haystack configured; our own search lives in search/) -----------
HAYSTACK_CONNECTIONS = {"default": {"ENGINE": "haystack.backends.simple_backend.SimpleEngine"}}
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
SEARCH_ELASTICSEARCH_URL = ELASTICSEARCH_URL
SEARCH_ELASTICSEARCH_CA_CERTS = ELASTICSEARCH_CA_CERTS
SEARCH_ELASTICSEARCH_API_KEY = ELASTICSEARCH_API_KEY
# The alias searches and updates go through; rebuilds write `<alias>-<stamp>` then swap it.
SEARCH_ELASTICSEARCH_INDEX = os.environ.get("SEARCH_ELASTICSEARCH_INDEX", "passerelles")

# --- Authentication -------------------------------------------------------------------------------
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if os.environ.get("PASSERELLES_FAST_PASSWORD_HASHER") == "1":
    # Tests and benchmarks only: hashing with PBKDF2 dominates login-heavy test runs.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# --- I18N -----------------------------------------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français")]
WAGTAIL_CONTENT_LANGUAGES = LANGUAGES
WAGTAILADMIN_PERMITTED_LANGUAGES = LANGUAGES
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

# --- Static and media -----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static", machina.MACHINA_MAIN_STATIC_DIR]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # DEBUG off: names carry a hash of the content, cached for a year by the proxy (core/staticfiles.py).
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage" if DEBUG
        else "core.staticfiles.HashedStaticFilesStorage",
    },
}

# --- E-mail ---------------------------------------------------------------------------------------
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Passerelles <ne-pas-repondre@passerelles.local>")

# --- Wagtail --------------------------------------------------------------------------------------
WAGTAIL_SITE_NAME = "Passerelles"
# The site's public address: every absolute link (e-mails, calendars) starts with it, never with the
# request's Host header (core/links.py); its origin may open websockets (core/origins.py).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
WAGTAILADMIN_BASE_URL = SITE_URL
WAGTAILDOCS_EXTENSIONS = ["pdf", "odt", "ods", "docx", "xlsx", "txt"]
WAGTAILDOCS_SERVE_METHOD = "serve_view"
# Documents carry a kind and themes (cms.PasserellesDocument); they are always downloaded as
# attachments, never shown inline under the site's origin.
WAGTAILDOCS_DOCUMENT_MODEL = "cms.PasserellesDocument"
WAGTAILDOCS_INLINE_CONTENT_TYPES: list[str] = []
# Wagtail has no size limit of its own for documents: our form base adds one (cms/forms_documents.py).
WAGTAILDOCS_DOCUMENT_FORM_BASE = "cms.forms_documents.DocumentForm"
CMS_DOCUMENT_MAX_BYTES = int(os.environ.get("CMS_DOCUMENT_MAX_BYTES", str(20 * 1024 * 1024)))
WAGTAILIMAGES_MAX_UPLOAD_SIZE = int(os.environ.get("WAGTAILIMAGES_MAX_UPLOAD_SIZE", str(10 * 1024 * 1024)))
# Decompression bombs: a small file may still claim a huge canvas (Wagtail's default is 128 megapixels).
WAGTAILIMAGES_MAX_IMAGE_PIXELS = 40_000_000
# Restricted pages send anonymous visitors to our own login page.
WAGTAIL_FRONTEND_LOGIN_URL = LOGIN_URL
# Wagtail's admin login counts and refuses failures like the site's (directory/lockout.py).
WAGTAILADMIN_USER_LOGIN_FORM = "directory.forms_account.WagtailLoginForm"
WAGTAIL_I18N_ENABLED = False
# "Brouillon → relu → publié": the second staff member's approval publishes (cms.workflows).
WAGTAIL_FINISH_WORKFLOW_ACTION = "cms.workflows.publish_after_review"
# No avatars fetched from a third party (it would send staff e-mail hashes out of the platform).
WAGTAIL_GRAVATAR_PROVIDER_URL = None
# Nor a call from staff browsers to wagtail.org on the dashboard (and the CSP allows no other origin).
WAGTAIL_ENABLE_UPDATE_CHECK = False
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000
# Request bodies. Form fields other than files: 5 MB in all (a long Wagtail page with its StreamField
# stays far below); more is refused with a 400. Files: each one has its own limit, checked by its form
# (FORUM_ATTACHMENT_MAX_BYTES, MEMBERSHIP_UPLOAD_MAX_BYTES, CMS_DOCUMENT_MAX_BYTES,
# WAGTAILIMAGES_MAX_UPLOAD_SIZE) with a French message; above 2.5 MB an upload is streamed to a
# temporary file instead of memory. The whole body is capped by nginx (client_max_body_size).
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = int(2.5 * 1024 * 1024)

# --- django-machina -------------------------------------------------------------------------------
MACHINA_FORUM_NAME = "Forum Passerelles"
MACHINA_BASE_TEMPLATE_NAME = "base.html"
MACHINA_DEFAULT_AUTHENTICATED_USER_FORUM_PERMISSIONS: list[str] = []
MACHINA_MARKUP_LANGUAGE = ("core.markup.render", {})
MACHINA_MARKUP_WIDGET = "django.forms.Textarea"
# No MACHINA_POST_CONTENT_MAX_LENGTH: it changes a validator on machina's Post model, hence a
# migration inside machina's package. Our renderer caps the rendered source instead (core.markup).
MACHINA_TOPIC_POSTS_NUMBER_PER_PAGE = 20
MACHINA_FORUM_TOPICS_NUMBER_PER_PAGE = 25
# Attachments are private: stored under private/ (never served as plain media), downloaded only
# through machina's permission-checked view.
MACHINA_ATTACHMENT_FILE_UPLOAD_TO = "private/forum/pieces-jointes"
MACHINA_ATTACHMENT_MAX_FILES_PER_POST = 5
FORUM_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
# Our overrides of machina's apps (forum/overrides/, machina's recipe) keep machina's models and migrations.
MIGRATION_MODULES = {
    "forum_attachments": "machina.apps.forum_conversation.forum_attachments.migrations",
    "forum_conversation": "machina.apps.forum_conversation.migrations",
    "forum_member": "machina.apps.forum_member.migrations",
    "forum_permission": "machina.apps.forum_permission.migrations",
    "forum_tracking": "machina.apps.forum_tracking.migrations",
}

# --- Passerelles ----------------------------------------------------------------------------------
# seed_demo writes accounts with a published password: with DEBUG off it runs only on a server declared
# a demonstration (PASSERELLES_DEMO_SERVER=1, or `seed_demo --demo-server`).
DEMO_SERVER = env_bool("PASSERELLES_DEMO_SERVER", False)
DIRECTORY_PAGE_SIZE = 20
# Parrainage (issue 7): a parrain association accompanies at most this many filleuls at a time
# (pending proposals count); a parrainage without a chat message for this many days is flagged.
PARRAINAGE_MAX_FILLEULS = int(os.environ.get("PARRAINAGE_MAX_FILLEULS", "2"))
PARRAINAGE_NO_CONTACT_DAYS = 30
# A member admitted less than this many days ago, without a parrain, awaits one.
PARRAINAGE_NEW_MEMBER_DAYS = 365

# Live chat (chat/PROTOCOL.md documents how clients see these limits).
CHAT_MAX_MESSAGE_LENGTH = int(os.environ.get("CHAT_MAX_MESSAGE_LENGTH", "4000"))  # characters
CHAT_MAX_FRAME_BYTES = int(os.environ.get("CHAT_MAX_FRAME_BYTES", "32768"))  # one websocket frame, UTF-8
# Per person, across rooms and connections: at most CHAT_RATE_LIMIT messages per CHAT_RATE_LIMIT_SECONDS
# (core/ratelimit.py, as the other abuse limits below).
CHAT_RATE_LIMIT = int(os.environ.get("CHAT_RATE_LIMIT", "10"))
CHAT_RATE_LIMIT_SECONDS = int(os.environ.get("CHAT_RATE_LIMIT_SECONDS", "10"))
CHAT_RESUME_LIMIT = 200  # messages replayed by one `resume`; beyond, the client pages
CHAT_HISTORY_PAGE_SIZE = 50
CHAT_PRESENCE_TTL_SECONDS = 90  # a connection not refreshed for this long is no longer "online"
CHAT_PRESENCE_REFRESH_SECONDS = 30
# The `presence` frame sent on connect names at most this many people (sorted by name) and gives the count.
CHAT_PRESENCE_LIST_MAX = int(os.environ.get("CHAT_PRESENCE_LIST_MAX", "100"))
# Joins and departures are sent to the room in one `presence` frame per process every this many seconds
# (a reconnect storm of n people would otherwise send n² frames; each batch still costs one frame per
# connection of the room: at 400 members, 0.5 s batches spent seconds of server CPU per storm, bench/bench_chat.py).
CHAT_PRESENCE_BATCH_SECONDS = float(os.environ.get("CHAT_PRESENCE_BATCH_SECONDS", "2"))
# Open connections re-check their access when told (access_changed), and this often in any case.
CHAT_ACCESS_RECHECK_SECONDS = 300
CHAT_TYPING_INTERVAL_SECONDS = 3
# Each server process checks that its channel layer (Redis) still carries frames this often while it has
# open connections, and closes them (4503: reconnect and resume) when it does not (chat/layer_watch.py).
CHAT_LAYER_CHECK_SECONDS = float(os.environ.get("CHAT_LAYER_CHECK_SECONDS", "2"))  # 0: no check
CHAT_LAYER_CHECK_TIMEOUT_SECONDS = 5.0
# A direct message unread for this long is e-mailed to its recipient (send_chat_notices).
CHAT_NOTICE_DELAY_MINUTES = int(os.environ.get("CHAT_NOTICE_DELAY_MINUTES", "15"))
# Recurring jobs (core/schedule.py, `manage.py run_schedule`): unread direct messages looked for this
# often, the forum's daily digest at this local time, and a daily backup where BACKUP_DIR is set (only the
# BACKUP_KEEP newest archives stay there).
CHAT_NOTICES_EVERY_MINUTES = max(1, int(os.environ.get("CHAT_NOTICES_EVERY_MINUTES", "5")))
FORUM_DIGEST_TIME = os.environ.get("FORUM_DIGEST_TIME", "07:00")
BACKUP_DIR = os.environ.get("BACKUP_DIR", "")
BACKUP_TIME = os.environ.get("BACKUP_TIME", "03:00")
BACKUP_KEEP = max(1, int(os.environ.get("BACKUP_KEEP", "14")))
SCHEDULE_STATE_FILE = VAR_DIR / "schedule.json"
# Membership applications (issue 7): statutes, activity report and answers are PDF/ODT/DOCX up to this size.
MEMBERSHIP_UPLOAD_MAX_BYTES = 10 * 1024 * 1024
MEMBERSHIP_PAGE_SIZE = 20  # applications per page of the commission's list
# Invitations of imported people (issue 14, directory.invitations): the link to choose a password lasts this long.
INVITATION_EXPIRY_DAYS = int(os.environ.get("INVITATION_EXPIRY_DAYS", "14"))
# URL prefixes anonymous visitors may reach; everything else redirects to the login page.
PUBLIC_URL_PREFIXES = [
    "/compte/connexion/",
    "/compte/mot-de-passe/reinitialisation/",
    "/compte/reinitialisation/",
    "/invitation/",
    "/compte/deverrouillage/",
    "/adhesion/",
    "/static/",
    "/media/images/",
    "/favicon.ico",
]
PUBLIC_EXACT_URLS = ["/"]

# --- Abuse limits (core/ratelimit.py: `<NAME>_RATE_LIMIT` events per `<NAME>_RATE_LIMIT_SECONDS`;
# 0 switches a limit off, e.g. for benchmarks that replay many requests as one person) -------------
# Failed logins (directory/lockout.py, README "Connexion : échecs, blocages et déverrouillage"): per
# (account name, client address) pair, 5 in 30 minutes, then that pair is refused without checking the
# password; per address across accounts, 50 an hour (an office shares one address); per account from
# any address, 30 an hour from at least LOGIN_ACCOUNT_LOCK_ADDRESSES addresses lock the account until
# its owner follows the link e-mailed to them (valid LOGIN_UNLOCK_LINK_SECONDS) or staff lift it.
LOGIN_RATE_LIMIT = int(os.environ.get("LOGIN_RATE_LIMIT", "5"))
LOGIN_RATE_LIMIT_SECONDS = int(os.environ.get("LOGIN_RATE_LIMIT_SECONDS", "1800"))
LOGIN_ADDRESS_RATE_LIMIT = int(os.environ.get("LOGIN_ADDRESS_RATE_LIMIT", "50"))
LOGIN_ADDRESS_RATE_LIMIT_SECONDS = int(os.environ.get("LOGIN_ADDRESS_RATE_LIMIT_SECONDS", "3600"))
LOGIN_ACCOUNT_RATE_LIMIT = int(os.environ.get("LOGIN_ACCOUNT_RATE_LIMIT", "30"))
LOGIN_ACCOUNT_RATE_LIMIT_SECONDS = int(os.environ.get("LOGIN_ACCOUNT_RATE_LIMIT_SECONDS", "3600"))
LOGIN_ACCOUNT_LOCK_ADDRESSES = int(os.environ.get("LOGIN_ACCOUNT_LOCK_ADDRESSES", "5"))
LOGIN_UNLOCK_LINK_SECONDS = int(os.environ.get("LOGIN_UNLOCK_LINK_SECONDS", "86400"))
# Ended blocks and lifted locks are kept this long for staff to look at, then deleted.
LOGIN_BLOCK_KEEP_DAYS = int(os.environ.get("LOGIN_BLOCK_KEEP_DAYS", "30"))
# New forum topics and replies, per person (machina's creation views, forum/overrides).
FORUM_POSTING_RATE_LIMIT = int(os.environ.get("FORUM_POSTING_RATE_LIMIT", "10"))
FORUM_POSTING_RATE_LIMIT_SECONDS = int(os.environ.get("FORUM_POSTING_RATE_LIMIT_SECONDS", "300"))
# Searches (/recherche/ with a query) and header suggestions (one per pause in typing), per person.
SEARCH_RATE_LIMIT = int(os.environ.get("SEARCH_RATE_LIMIT", "30"))
SEARCH_RATE_LIMIT_SECONDS = int(os.environ.get("SEARCH_RATE_LIMIT_SECONDS", "60"))
SEARCH_SUGGEST_RATE_LIMIT = int(os.environ.get("SEARCH_SUGGEST_RATE_LIMIT", "120"))
SEARCH_SUGGEST_RATE_LIMIT_SECONDS = int(os.environ.get("SEARCH_SUGGEST_RATE_LIMIT_SECONDS", "60"))
# Password-reset e-mails: per client address, and per e-mail address asked for (whether or not an
# account has it, so that the answer never tells which addresses are known).
PASSWORD_RESET_RATE_LIMIT = int(os.environ.get("PASSWORD_RESET_RATE_LIMIT", "5"))
PASSWORD_RESET_RATE_LIMIT_SECONDS = int(os.environ.get("PASSWORD_RESET_RATE_LIMIT_SECONDS", "3600"))
PASSWORD_RESET_EMAIL_RATE_LIMIT = int(os.environ.get("PASSWORD_RESET_EMAIL_RATE_LIMIT", "3"))
PASSWORD_RESET_EMAIL_RATE_LIMIT_SECONDS = int(os.environ.get("PASSWORD_RESET_EMAIL_RATE_LIMIT_SECONDS", "3600"))
# New membership applications (/adhesion/, public: each draft sends its private link by e-mail), per
# client address; invalid forms and a form sent twice create nothing and are not counted.
MEMBERSHIP_DRAFT_RATE_LIMIT = int(os.environ.get("MEMBERSHIP_DRAFT_RATE_LIMIT", "5"))
MEMBERSHIP_DRAFT_RATE_LIMIT_SECONDS = int(os.environ.get("MEMBERSHIP_DRAFT_RATE_LIMIT_SECONDS", "3600"))
# Part of every counter's cache key (tests give each test its own, see the root conftest.py).
RATE_LIMIT_NAMESPACE = os.environ.get("RATE_LIMIT_NAMESPACE", "")

# --- Security -------------------------------------------------------------------------------------
# Headers Django does not set (Content-Security-Policy, Permissions-Policy): core/security.py.
SESSION_COOKIE_HTTPONLY = True
# Nothing of the site is framed, except Wagtail's preview inside its own editor: core/security.py
# lets the Wagtail admin frame itself (X-Frame-Options SAMEORIGIN and CSP frame-ancestors 'self').
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # TLS ends before nginx (deploy/nginx.conf), which passes the original scheme on.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
