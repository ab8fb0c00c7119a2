"""The catalogue's tables.

Every datetime column is timezone-aware and stored in UTC (``UTCDateTime``): SQLite has
no timezone type, so values are normalised to UTC on the way in and marked UTC on the
way out, which keeps SQLite and PostgreSQL answering the same.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage import ratings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONType = JSON().with_variant(JSONB(), "postgresql")
# SQLite's INTEGER PRIMARY KEY is its rowid; BigInteger would lose that alias.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r} refused: the catalogue stores aware times")
    return value


class UTCDateTime(TypeDecorator):
    """A timezone-aware datetime, stored in UTC on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        value = _aware(value).astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


class EpochMicroseconds(TypeDecorator):
    """A timezone-aware instant stored as microseconds since 1970 (UTC): for the read
    index's spans, compared by the thousand per query, where an integer compares faster
    and takes less room than text."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else (_aware(value) - EPOCH) // MICROSECOND

    def process_result_value(self, value, dialect):
        return None if value is None else EPOCH + value * MICROSECOND


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


course_organisation = Table(
    "course_organisation",
    Base.metadata,
    Column("course_id", ForeignKey("course.id", ondelete="CASCADE"), primary_key=True),
    Column("organisation_id", ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True),
)

course_topic = Table(
    "course_topic",
    Base.metadata,
    Column("course_id", ForeignKey("course.id", ondelete="CASCADE"), primary_key=True),
    Column("topic_id", ForeignKey("topic.id", ondelete="CASCADE"), primary_key=True),
)


class Platform(Base):
    __tablename__ = "platform"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    label: Mapped[str | None] = mapped_column(String(200))
    base_url: Mapped[str | None] = mapped_column(String(500))
    spider: Mapped[str | None] = mapped_column(String(80))


class Organisation(Base):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(500))
    normalised_name: Mapped[str] = mapped_column(String(500), unique=True)
    aliases: Mapped[list | None] = mapped_column(JSONType)
    # as a platform states them (LHEO's raison-sociale and SIRET), when one does
    legal_name: Mapped[str | None] = mapped_column(String(500))
    siret: Mapped[str | None] = mapped_column(String(14))


class Topic(Base):
    __tablename__ = "topic"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("topic.id"))


class Workload:
    """Duration and effort ranges (records.Workload): a course's, or a session's own."""

    duration_weeks_min: Mapped[float | None] = mapped_column(Float)
    duration_weeks_max: Mapped[float | None] = mapped_column(Float)
    duration_hours_min: Mapped[float | None] = mapped_column(Float)
    duration_hours_max: Mapped[float | None] = mapped_column(Float)
    effort_hours_per_week_min: Mapped[float | None] = mapped_column(Float)
    effort_hours_per_week_max: Mapped[float | None] = mapped_column(Float)


class Course(Workload, Base):
    """The deduplicated course the portal shows; gathers listings of every platform."""

    __tablename__ = "course"
    __table_args__ = (
        Index("ix_course_created_at", "created_at"),
        # read side (migration 0012): sort=rating reads courses in this order, those with
        # enough ratings first (the number is a literal for the index to match)
        Index(
            "ix_course_best_rated",
            text(f"(coalesce(rating_count, 0) < {ratings.MIN_RATINGS})"),
            text("(rating IS NULL)"),
            text("rating DESC"),
            text("(coalesce(rating_count, 0)) DESC"),
            "id",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(8))
    level: Mapped[str | None] = mapped_column(String(20))
    # qualification level (pipelines/data/qualification_levels.json): required, reached
    qualification_entry: Mapped[str | None] = mapped_column(String(20))
    qualification_exit: Mapped[str | None] = mapped_column(String(20))
    free: Mapped[bool | None] = mapped_column(Boolean)
    price_amount: Mapped[float | None] = mapped_column(Float)
    currency: Mapped[str | None] = mapped_column(String(3))
    certificate: Mapped[str | None] = mapped_column(String(20))
    certificate_price: Mapped[float | None] = mapped_column(Float)
    rating: Mapped[float | None] = mapped_column(Float)
    rating_count: Mapped[int | None] = mapped_column(Integer)
    enrolments: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # read side (migration 0004, kept by storage.readindex): some listing is not hidden
    visible: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), index=True
    )

    listings: Mapped[list[Listing]] = relationship(back_populates="course")
    organisations: Mapped[list[Organisation]] = relationship(secondary=course_organisation)
    topics: Mapped[list[Topic]] = relationship(secondary=course_topic)


class CrawlRun(Base):
    __tablename__ = "crawl_run"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    spider: Mapped[str] = mapped_column(String(80), index=True)
    platform_id: Mapped[int | None] = mapped_column(ForeignKey("platform.id"))
    replay: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finish_reason: Mapped[str | None] = mapped_column(String(80))
    items_scraped: Mapped[int] = mapped_column(Integer, default=0)
    items_stored: Mapped[int] = mapped_column(Integer, default=0)
    items_dropped: Mapped[int] = mapped_column(Integer, default=0)
    dropped_by_reason: Mapped[dict | None] = mapped_column(JSONType)
    listings_new: Mapped[int] = mapped_column(Integer, default=0)
    listings_changed: Mapped[int] = mapped_column(Integer, default=0)
    listings_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    stats: Mapped[dict | None] = mapped_column(JSONType)
    healthy: Mapped[bool | None] = mapped_column(Boolean)
    health_reasons: Mapped[list | None] = mapped_column(JSONType)


class Listing(Base):
    """A course as one platform publishes it, keyed by the platform's own id."""

    __tablename__ = "listing"
    __table_args__ = (
        UniqueConstraint("platform_id", "external_id"),
        Index("ix_listing_course_id_hidden", "course_id", "hidden"),
        Index("ix_listing_platform_id_hidden", "platform_id", "hidden"),  # migration 0004
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id"))
    external_id: Mapped[str] = mapped_column(String(300))
    url: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    raw: Mapped[dict | None] = mapped_column(JSONType)
    record: Mapped[dict | None] = mapped_column(JSONType)
    content_hash: Mapped[str] = mapped_column(String(64))
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_run.id"))
    missing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    missing_runs: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    link_method: Mapped[str | None] = mapped_column(String(40))
    link_score: Mapped[float | None] = mapped_column(Float)
    course_id: Mapped[int | None] = mapped_column(
        ForeignKey("course.id", ondelete="SET NULL"), index=True
    )
    # Validators of the page the listing was last read from (migration 0009): an
    # incremental crawl skips the page or asks for it conditionally (crawlers/incremental.py).
    page_url: Mapped[str | None] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))  # HTTP-date, as sent
    # the change date the platform stated at that read, as written: the sitemap's
    # ``lastmod`` or the API record's modified field (``MoissonSpider.modified_field``)
    lastmod: Mapped[str | None] = mapped_column(String(100))
    # The list page (a sitemap, an API page) that listed it at its last read (migration
    # 0013): the listings of a list page answered ``304`` are the ones it names.
    listed_on: Mapped[str | None] = mapped_column(Text)

    course: Mapped[Course | None] = relationship(back_populates="listings")
    platform: Mapped[Platform] = relationship()
    sessions: Mapped[list[Session]] = relationship(
        back_populates="listing", cascade="all, delete-orphan"
    )


class ListPage(Base):
    """A list page (a sitemap, an API page) read in full whose courses all came into the
    catalogue: its validators, asked for next night (crawlers/incremental.py, migration
    0013). Its courses are the listings whose ``listed_on`` is its URL."""

    __tablename__ = "list_page"
    __table_args__ = (UniqueConstraint("spider", "url"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    spider: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))  # HTTP-date, as sent
    # the page after it, for paging on when it is answered 304 (no body to read it from)
    next_url: Mapped[str | None] = mapped_column(Text)


class Session(Workload, Base):
    """One run of a listing."""

    __tablename__ = "session"
    __table_args__ = (
        UniqueConstraint("listing_id", "key"),
        # read side (migration 0003): start sorts and state filters
        Index("ix_session_start", "start"),
        Index(
            "ix_session_listing_id_dates",
            "listing_id",
            "start",
            "end",
            "enrolment_start",
            "enrolment_end",
            "pace",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listing.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    enrolment_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    enrolment_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pace: Mapped[str | None] = mapped_column(String(20))
    language: Mapped[str | None] = mapped_column(String(8))
    price: Mapped[float | None] = mapped_column(Float)
    currency: Mapped[str | None] = mapped_column(String(3))
    offer: Mapped[str | None] = mapped_column(String(30))
    certificate: Mapped[str | None] = mapped_column(String(30))
    certificate_price: Mapped[float | None] = mapped_column(Float)
    # what this session alone states, as written and normalised
    duration_text: Mapped[str | None] = mapped_column(Text)
    effort_text: Mapped[str | None] = mapped_column(Text)

    listing: Mapped[Listing] = relationship(back_populates="sessions")


class ListingChange(Base):
    __tablename__ = "listing_change"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    listing_id: Mapped[int] = mapped_column(
        ForeignKey("listing.id", ondelete="CASCADE"), index=True
    )
    crawl_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_run.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    old_hash: Mapped[str | None] = mapped_column(String(64))
    new_hash: Mapped[str] = mapped_column(String(64))
    changed_fields: Mapped[list] = mapped_column(JSONType)


class QuarantinedRecord(Base):
    """A record the catalogue could not take, set aside with the reason (migration 0005).

    One row per listing (platform, external id): a record set aside again updates its row;
    stored later, it leaves the quarantine (``storage.catalogue``).
    """

    __tablename__ = "quarantine"
    __table_args__ = (UniqueConstraint("platform_id", "external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id"))
    external_id: Mapped[str] = mapped_column(String(300))
    url: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    record: Mapped[dict | None] = mapped_column(JSONType)
    raw: Mapped[dict | None] = mapped_column(JSONType)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    crawl_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_run.id"))


# -- the read side's derived tables (migrations 0004, 0007) -----------------------------------
# Written only by ``storage.readindex`` whenever a course is recomputed, read by
# ``storage.search``; ``moisson db reindex`` rebuilds them from the tables above, and
# ``moisson db check`` compares them with a fresh computation.


class CourseStateSpan(Base):
    """A stretch of time during which a visible course is in a state.

    A course's spans of one state are disjoint and merged, so at any instant a course has
    at most one span per state that contains it: ``since <= now < until``. Open ends are
    stored as ``readindex.FAR_PAST`` / ``FAR_FUTURE`` so that both bounds stay indexable.
    """

    __tablename__ = "course_state_span"
    __table_args__ = (
        Index("ix_course_state_span_state", "state", "until", "since", "course_id"),
        {"sqlite_with_rowid": False},  # a probe by course reads the key, which holds all
    )

    course_id: Mapped[int] = mapped_column(
        ForeignKey("course.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(String(20), primary_key=True)
    since: Mapped[datetime] = mapped_column(EpochMicroseconds, primary_key=True)
    until: Mapped[datetime] = mapped_column(EpochMicroseconds)


class CourseRunSpan(Base):
    """How many times a visible course has run (``storage.predict.runs``), as a step in
    time: from the start of its k-th run (``since``) to the start of the next (``until``,
    ``readindex.FAR_FUTURE`` after the last) it has run ``runs`` = k times. At any instant a
    course has at most one span holding it (none before its first run): ``sort=most_run``
    reads them in ``runs`` order (``ix_course_run_span_runs``)."""

    __tablename__ = "course_run_span"
    __table_args__ = (
        Index("ix_course_run_span_runs", text("runs DESC"), "course_id", "since", "until"),
        {"sqlite_with_rowid": False},
    )

    course_id: Mapped[int] = mapped_column(
        ForeignKey("course.id", ondelete="CASCADE"), primary_key=True
    )
    since: Mapped[datetime] = mapped_column(EpochMicroseconds, primary_key=True)
    until: Mapped[datetime] = mapped_column(EpochMicroseconds)
    runs: Mapped[int] = mapped_column(Integer)


class FacetValue(Base):
    """A filter value a course can have (``facet`` is the filter's name): numbered, so
    that a course's values are small integers to read and group."""

    __tablename__ = "facet_value"
    __table_args__ = (UniqueConstraint("facet", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    facet: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(100))


class CourseFacet(Base):
    """One filter value of a visible course."""

    __tablename__ = "course_facet"
    __table_args__ = (
        Index("ix_course_facet_value_id", "value_id", "course_id"),
        {"sqlite_with_rowid": False},
    )

    course_id: Mapped[int] = mapped_column(
        ForeignKey("course.id", ondelete="CASCADE"), primary_key=True
    )
    value_id: Mapped[int] = mapped_column(ForeignKey("facet_value.id"), primary_key=True)


# -- ROME 4.0, France Travail's référentiel of jobs and skills (migration 0008) ------------------
# Written only by ``storage.rome`` (one version at a time, replaced whole), read by
# ``storage.jobs``; a course's links to jobs (``CourseJob``) name the job by its code and no
# foreign key, so loading another version keeps them (docs/JOBS.md).


class RomeVersion(Base):
    """A release of the referential loaded into the catalogue; the newest row is in use."""

    __tablename__ = "rome_version"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[int] = mapped_column(Integer)  # 60 for "ROME 4.0 version 60"
    title: Mapped[str | None] = mapped_column(Text)  # « ROME 4.0 version 60 - 25M09 »
    published: Mapped[str | None] = mapped_column(String(20))  # as the release writes it
    source: Mapped[str] = mapped_column(Text)  # the file or URL it was loaded from
    counts: Mapped[dict | None] = mapped_column(JSONType)  # rows per table
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RomeJob(Base):
    """A job profile (fiche métier): code, label, its place in the tree, its tags."""

    __tablename__ = "rome_job"
    __table_args__ = (Index("ix_rome_job_domain", "domain"),)

    code: Mapped[str] = mapped_column(String(5), primary_key=True)  # "M1805"
    ogr: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(Text)
    domain: Mapped[str] = mapped_column(String(3))  # "M18"
    domain_label: Mapped[str | None] = mapped_column(Text)
    grand_domain: Mapped[str] = mapped_column(String(1))  # "M"
    grand_domain_label: Mapped[str | None] = mapped_column(Text)
    # as the referential states them: {"transition_eco": "Emploi Vert", "transition_num": …}
    tags: Mapped[dict | None] = mapped_column(JSONType)
    definition: Mapped[str | None] = mapped_column(Text)
    access: Mapped[str | None] = mapped_column(Text)  # « accès à l'emploi »


class RomeTitle(Base):
    """A job title (appellation): the main one or a synonym, each of one job."""

    __tablename__ = "rome_title"
    __table_args__ = (Index("ix_rome_title_job_code", "job_code"),)

    ogr: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_code: Mapped[str] = mapped_column(String(5))
    label: Mapped[str] = mapped_column(Text)
    short_label: Mapped[str | None] = mapped_column(Text)
    synonym: Mapped[bool] = mapped_column(Boolean)  # classification SYNONYME


class RomeItem(Base):
    """A skill (savoir-faire, savoir-être) or a knowledge item (savoir)."""

    __tablename__ = "rome_item"

    ogr: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # savoir_faire | savoir_etre | savoir
    label: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(Text)  # « Langages informatiques »…
    subcategory: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[dict | None] = mapped_column(JSONType)


class RomeJobItem(Base):
    """A job's skill or knowledge item, with its weight in the job (``coeur_metier``)."""

    __tablename__ = "rome_job_item"
    __table_args__ = (
        Index("ix_rome_job_item_item", "item_ogr", "job_code"),
        {"sqlite_with_rowid": False},
    )

    job_code: Mapped[str] = mapped_column(String(5), primary_key=True)
    item_ogr: Mapped[int] = mapped_column(Integer, primary_key=True)
    core: Mapped[str | None] = mapped_column(String(20))  # « Principale », « Émergente », None


class CourseJob(Base):
    """A course prepares for a job: how that was decided, how sure, and why."""

    __tablename__ = "course_job"
    __table_args__ = (
        Index("ix_course_job_job_code", "job_code", "score"),
        {"sqlite_with_rowid": False},
    )

    course_id: Mapped[int] = mapped_column(
        ForeignKey("course.id", ondelete="CASCADE"), primary_key=True
    )
    job_code: Mapped[str] = mapped_column(String(5), primary_key=True)
    method: Mapped[str] = mapped_column(String(10))  # code | text | override
    score: Mapped[float] = mapped_column(Float)
    # the matched skills and knowledge items: [{"ogr": 100023, "label": "Python"}]
    reasons: Mapped[list | None] = mapped_column(JSONType)


class CourseJobUnknown(Base):
    """A ROME code a listing states that the loaded referential does not know: kept aside,
    not linked, linked by the next relink if a later version knows it."""

    __tablename__ = "course_job_unknown"
    __table_args__ = ({"sqlite_with_rowid": False},)

    course_id: Mapped[int] = mapped_column(
        ForeignKey("course.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(40), primary_key=True)


class JobOffers(Base):
    """How many job offers France Travail's « Offres d'emploi » API held for a job, and
    when that was read (``moisson jobs refresh-offers``, docs/JOBS.md)."""

    __tablename__ = "job_offers"
    __table_args__ = ({"sqlite_with_rowid": False},)

    job_code: Mapped[str] = mapped_column(String(5), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)
