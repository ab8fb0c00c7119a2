"""Scrapy settings shared by every Moisson spider.

Pipelines are ordered with gaps so a new step slots in without renumbering; each one is
described in docs/PIPELINES.md.
"""

import os

BOT_NAME = "moisson"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"

# Politeness: identify ourselves, obey robots.txt, let AutoThrottle pace us per domain.
MOISSON_BOT_URL = os.environ.get("MOISSON_BOT_URL", "https://github.com/moisson-catalogue/moisson")
USER_AGENT = f"Moisson/0.1 (+{MOISSON_BOT_URL}; catalogue of French-language courses)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 60
DOWNLOAD_MAXSIZE = 64 * 1024 * 1024
DOWNLOAD_WARNSIZE = 16 * 1024 * 1024

# Retries go through Scrapy's RetryMiddleware: 5xx and 429 are tried again.
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
# Health of a run (crawlers/health.py); only a healthy run marks unseen listings missing.
MOISSON_HEALTH_MIN_ITEMS = 1
MOISSON_HEALTH_MIN_SHARE_OF_PREVIOUS = 0.8
MOISSON_HEALTH_MAX_ERRORS = 0
MOISSON_HIDE_AFTER_MISSED_RUNS = 3

# Replay settings applied on top of the above by moisson.crawl when MOISSON_REPLAY is on.
REPLAY_OVERRIDES = {
    "DOWNLOAD_HANDLERS": {
        "http": "crawlers.replay.ReplayDownloadHandler",
        "https": "crawlers.replay.ReplayDownloadHandler",
    },
    "AUTOTHROTTLE_ENABLED": False,
    "DOWNLOAD_DELAY": 0,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
}
