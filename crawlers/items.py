"""The one item every spider yields: a course exactly as its platform states it.

Spiders fill the raw fields; pipelines add the normalised ones (``record`` and the
``*_normalised`` keys) and never overwrite what the platform said.
"""

import scrapy


class RawCourse(scrapy.Item):
    # identity and provenance
    platform = scrapy.Field()  # platform name, e.g. "fun_mooc"
    external_id = scrapy.Field()  # the platform's own stable id
    url = scrapy.Field()  # the course page a learner visits
    spider = scrapy.Field()
    source_url = scrapy.Field()  # the response the item was read from
    fetched_at = scrapy.Field()  # ISO datetime, the crawl's reference time

    # raw fields, as the platform states them
    title = scrapy.Field()
    code = scrapy.Field()
    introduction = scrapy.Field()  # short text, may hold HTML
    description = scrapy.Field()  # long text, may hold HTML
    language = scrapy.Field()  # a language the platform declares for the whole course
    duration = scrapy.Field()  # free text: "6 semaines"
    effort = scrapy.Field()  # free text: "2 heures/semaine"
    level = scrapy.Field()
    categories = scrapy.Field()  # list of the platform's category names
    organisations = scrapy.Field()  # list of organisation names
    image = scrapy.Field()
    price = scrapy.Field()  # free text or number as stated: "Gratuit", "49,99 €", 0
    currency = scrapy.Field()
    certificate = scrapy.Field()  # free text: "Attestation de suivi", "Certificat payant"
    rating = scrapy.Field()  # average rating as stated (number or text)
    rating_scale = scrapy.Field()  # the best rating possible (schema.org bestRating); 5 if unset
    rating_count = scrapy.Field()
    enrolments = scrapy.Field()  # enrolment count as stated
    qualification = scrapy.Field()  # {"entry": required, "exit": reached}: diploma levels
    organisation_identities = scrapy.Field()  # [{"name", "legal_name", "siret"}] where stated
    # official codes the platform states, by register: {"rome": ["M1805"], "rncp": ["35030"],
    # "nsf": ["326"], "formacode": ["31054"]} (storage/joblinks.py links courses by them)
    codes = scrapy.Field()
    kind = scrapy.Field()  # the platform's kind of offer: "course", "path", "formation"…
    sessions = scrapy.Field()  # list of dicts, see RawSession keys below
    raw = scrapy.Field()  # the platform's record, untouched (JSON-serialisable)
    # the page's validators (crawlers/incremental.py): page_url, etag, last_modified, lastmod
    validators = scrapy.Field()

    # filled by pipelines
    sessions_normalised = scrapy.Field()
    normalised = scrapy.Field()  # dict of CourseRecord fields set by the normalisers
    record = scrapy.Field()  # the validated CourseRecord (pipelines.validate)


# Keys a spider may set on each dict of ``RawCourse.sessions``; all optional except key.
RAW_SESSION_KEYS = (
    "key",  # stable id of the run within its listing
    "start",
    "end",
    "enrolment_start",
    "enrolment_end",
    "languages",
    "price",
    "currency",
    "offer",
    "certificate_offer",
    "certificate_price",
    "pace",
    "duration",  # free text this session alone states: "6 semaines"
    "effort",  # free text this session alone states: "3 heures/semaine"
    "timezone",  # IANA zone of the session's dates written without an offset
)
