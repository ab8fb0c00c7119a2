"""Scrapy settings shared by every Moisson spider, and ``project_settings()`` to load them.

Pipelines are ordered with gaps so a new step slots in without renumbering; each one is
described in docs/PIPELINES.md.
"""

import os

from scrapy.utils.project import get_project_settings

from crawlers.extensions.coverage import key_field_coverage
from crawlers.politeness import default_settings


def project_settings(**overrides):
    """This module's settings as Scrapy loads them, with ``overrides`` (None ones skipped)
    at command-line priority."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawlers.settings")
    settings = get_project_settings()
    for name, value in overrides.items():
        if value is not None:
            settings.set(name, value, priority="cmdline")
    return settings


BOT_NAME = "moisson"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"

# Politeness: identify ourselves, obey robots.txt, let AutoThrottle pace us per domain.
# The values are the default row of crawlers/data/politeness.json, the one table where
# each platform's own row changes them for its spider (crawlers/politeness.py).
MOISSON_BOT_URL = os.environ.get("MOISSON_BOT_URL", "https://github.com/moisson-catalogue/moisson")
MOISSON_BOT_CONTACT = os.environ.get("MOISSON_BOT_CONTACT", f"contact: {MOISSON_BOT_URL}/issues")
_politeness = default_settings(MOISSON_BOT_URL, MOISSON_BOT_CONTACT)
USER_AGENT = _politeness["USER_AGENT"]
ROBOTSTXT_OBEY = _politeness["ROBOTSTXT_OBEY"]
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = _politeness["CONCURRENT_REQUESTS_PER_DOMAIN"]
DOWNLOAD_DELAY = _politeness["DOWNLOAD_DELAY"]
AUTOTHROTTLE_ENABLED = _politeness["AUTOTHROTTLE_ENABLED"]
AUTOTHROTTLE_START_DELAY = _politeness["AUTOTHROTTLE_START_DELAY"]
AUTOTHROTTLE_MAX_DELAY = _politeness["AUTOTHROTTLE_MAX_DELAY"]
AUTOTHROTTLE_TARGET_CONCURRENCY = _politeness["AUTOTHROTTLE_TARGET_CONCURRENCY"]
DOWNLOAD_TIMEOUT = 60
DOWNLOAD_MAXSIZE = 64 * 1024 * 1024
DOWNLOAD_WARNSIZE = 16 * 1024 * 1024

# Retries go through Scrapy's RetryMiddleware: 5xx and 429 are tried again, after the
# wait a 429 or 503 asks for in Retry-After (crawlers/extensions/retry_after.py).
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawlers.extensions.retry_after.RetryAfterMiddleware": 550,
}
MOISSON_RETRY_AFTER_MAX = 300  # seconds; a longer Retry-After gives the page up
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]

TELNETCONSOLE_ENABLED = False
LOG_LEVEL = os.environ.get("MOISSON_LOG_LEVEL", "INFO")
FEED_EXPORT_ENCODING = "utf-8"
LOG_FORMATTER = "crawlers.logformatter.MoissonLogFormatter"

ITEM_PIPELINES = {
    "pipelines.provenance.ProvenancePipeline": 100,
    "pipelines.clean_text.CleanTextPipeline": 200,
    "pipelines.language.LanguagePipeline": 300,
    "pipelines.sessions.SessionsPipeline": 400,
    # The French free-text normalisers (docs/NORMALISATION.md).
    "pipelines.duration.DurationEffortPipeline": 500,
    "pipelines.level.LevelPipeline": 550,
    "pipelines.topics.TopicsPipeline": 600,
    "pipelines.price.PriceCertificatePipeline": 650,
    "pipelines.validate.ValidatePipeline": 800,
    "pipelines.run_duplicates.RunDuplicatesPipeline": 900,
    "pipelines.store.CatalogueStorePipeline": 1000,
}

# Moisson's own settings
MOISSON_DATABASE_URL = None  # None: --db, then $MOISSON_DATABASE_URL, then var/catalogue.sqlite3
MOISSON_REPLAY = False  # serve recorded responses instead of the network
MOISSON_RECORDINGS_DIR = None  # None: crawlers/recordings
MOISSON_REFERENCE_TIME = None  # ISO datetime of the crawl; None: the time the crawl starts
MOISSON_STORE_BATCH_SIZE = 500
# ROME 4.0 open-data CSV zip, fetched by `moisson rome update` (docs/JOBS.md)
MOISSON_ROME_URL = os.environ.get(
    "MOISSON_ROME_URL",
    "https://www.francetravail.org/files/live/sites/peorg/files/documents/"
    "Statistiques-et-analyses/Open-data/ROME/RefRomeCsv.zip",
)
# France Travail's « Offres d'emploi v2 » API, for `moisson jobs refresh-offers`: the number of
# current offers per ROME code (docs/JOBS.md). OAuth2 client credentials of an application
# subscribed to the API on francetravail.io; without them the command does nothing.
FRANCE_TRAVAIL_CLIENT_ID = os.environ.get("FRANCE_TRAVAIL_CLIENT_ID", "")
FRANCE_TRAVAIL_CLIENT_SECRET = os.environ.get("FRANCE_TRAVAIL_CLIENT_SECRET", "")
FRANCE_TRAVAIL_TOKEN_URL = os.environ.get(
    "FRANCE_TRAVAIL_TOKEN_URL",
    "https://entreprise.francetravail.fr/connexion/oauth2/access_token?realm=%2Fpartenaire",
)
FRANCE_TRAVAIL_API_URL = os.environ.get(
    "FRANCE_TRAVAIL_API_URL", "https://api.francetravail.io/partenaire/offresdemploi"
)
FRANCE_TRAVAIL_SCOPE = "api_offresdemploiv2 o2dsoffre"
FRANCE_TRAVAIL_CALLS_PER_SECOND = 10.0  # the API's published limit
FRANCE_TRAVAIL_RETRIES = 4  # a 429 or 5xx answer is asked again, with growing waits
# The most pages of its listings (API pages, lookups) a spider asks for in one run; paging
# that reaches it stops and the run is not healthy. A spider whose platform needs more
# sets its own in custom_settings. Paging also stops at a failing or empty page.
MOISSON_MAX_PAGES = 1000
# Ask again only for pages that may have changed: sitemap lastmod, ETag / Last-Modified
# (crawlers/incremental.py); False reads every page again.
MOISSON_INCREMENTAL = True
MOISSON_HIDE_AFTER_MISSED_RUNS = 3
MOISSON_MARK_MISSING = True  # off for the workers of a distributed crawl (Redis)

# Modes switched on by one setting (crawlers/extensions/addons.py), under moisson crawl,
# scrapy crawl and scrapyd alike.
ADDONS = {
    "crawlers.extensions.addons.ReplayAddon": 100,
    "crawlers.extensions.addons.RedisAddon": 200,
    # with the catalogue store: the run's crawl_run row, health verdict and missing-marking
    # (crawlers/extensions/crawl_run.py)
    "crawlers.extensions.addons.CrawlRunAddon": 300,
}
# Distributed crawl with scrapy-redis: every worker started with the same URL and crawl
# name shares one request queue and one duplicate filter.
MOISSON_REDIS_URL = os.environ.get("MOISSON_REDIS_URL")
MOISSON_REDIS_CRAWL = os.environ.get("MOISSON_REDIS_CRAWL")  # None: today's date
MOISSON_REDIS_IDLE_SECONDS = 30  # an idle worker waits this long for its peers' requests

# Health of a run: the spidermon suite of crawlers/monitors/run_health.py, run once by
# crawlers/health.py when the spider closes; only a healthy run marks unseen listings
# missing. Every threshold can be overridden in a spider's custom_settings or with --set;
# docs/OPERATIONS.md says what each failure means.
EXTENSIONS = {
    "crawlers.extensions.coverage.KeyFieldCoverage": 500,
    # log_count/<LEVEL> per spider, not per process (crawlers/extensions/logcount.py)
    "scrapy.extensions.logcount.LogCount": None,
    "crawlers.extensions.logcount.SpiderLogCount": 0,
}
SPIDERMON_EXPECTED_FINISH_REASONS = ["finished"]
SPIDERMON_MIN_ITEMS = 1  # items stored
MOISSON_HEALTH_MIN_SHARE_OF_PREVIOUS = 0.8  # of the items the last healthy run stored
# A failed page may hide courses that are still published: by default any error makes
# the run unfit for missing-marking. Raise it for platforms with known flaky pages.
SPIDERMON_MAX_ERRORS = 0
SPIDERMON_MAX_RETRIES = 0  # requests that gave up after their last retry
MOISSON_HEALTH_MAX_RETRY_SHARE = 0.25  # retries per request sent
# Share of the items (stored or dropped, not counting not_french) that fill each key field:
# title 95 %, URL 95 %, a session or a pace 50 %, language 90 % (crawlers/extensions/coverage.py).
SPIDERMON_FIELD_COVERAGE_RULES = key_field_coverage()

# Alerts for unhealthy runs (crawlers/notifiers.py): unset means not sent.
MOISSON_ALERT_SMTP_HOST = os.environ.get("MOISSON_ALERT_SMTP_HOST")
MOISSON_ALERT_SMTP_PORT = int(os.environ.get("MOISSON_ALERT_SMTP_PORT", "25"))
MOISSON_ALERT_SMTP_USER = os.environ.get("MOISSON_ALERT_SMTP_USER")
MOISSON_ALERT_SMTP_PASSWORD = os.environ.get("MOISSON_ALERT_SMTP_PASSWORD")
MOISSON_ALERT_SMTP_STARTTLS = os.environ.get("MOISSON_ALERT_SMTP_STARTTLS") == "1"
MOISSON_ALERT_EMAIL_FROM = os.environ.get("MOISSON_ALERT_EMAIL_FROM")
MOISSON_ALERT_EMAIL_TO = os.environ.get("MOISSON_ALERT_EMAIL_TO")
MOISSON_ALERT_WEBHOOK_URL = os.environ.get("MOISSON_ALERT_WEBHOOK_URL")
MOISSON_ALERT_TIMEOUT = 10

# Replay settings applied on top of the above by ReplayAddon when MOISSON_REPLAY is on.
REPLAY_OVERRIDES = {
    "DOWNLOAD_HANDLERS": {
        "http": "crawlers.replay.ReplayDownloadHandler",
        "https": "crawlers.replay.ReplayDownloadHandler",
    },
    "AUTOTHROTTLE_ENABLED": False,
    "DOWNLOAD_DELAY": 0,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
}
