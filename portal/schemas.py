"""The JSON API's documents, as published in its OpenAPI description."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, create_model

from storage.readindex import FACETS, LEVELS, STATE_NAMES
from storage.search import SORTS

State = Literal[STATE_NAMES]
Sort = Literal[tuple(SORTS)]
Level = Literal[LEVELS]


class Named(BaseModel):
    name: str
    label: str


class OrganisationRef(BaseModel):
    id: int
    name: str
    legal_name: str | None = Field(default=None, description="as the platform states it")
    siret: str | None = Field(default=None, description="French establishment number")


class TopicRef(BaseModel):
    slug: str
    label: str


class Duration(BaseModel):
    weeks_min: float | None
    weeks_max: float | None
    hours_min: float | None
    hours_max: float | None


class Effort(BaseModel):
    hours_per_week_min: float | None
    hours_per_week_max: float | None


class Qualification(BaseModel):
    """Qualification levels (not difficulty): ``sans_niveau`` or European levels "1"-"8"."""

    entry: str | None = Field(description="the level required to enter")
    exit: str | None = Field(description="the level the training leads to")


class SessionDuration(Duration):
    text: str | None = Field(description="the session's own duration, as stated")


class SessionEffort(Effort):
    text: str | None = Field(description="the session's own effort, as stated")


class Price(BaseModel):
    amount: float | None
    currency: str | None


class Certificate(BaseModel):
    kind: str | None = Field(description="none, attestation, certificate or diploma")
    price: float | None


class Rating(BaseModel):
    value: float | None = Field(description="the rating on its scale, as stated")
    scale: float | None = Field(description="the best rating possible on that scale")
    count: int | None = Field(description="how many ratings it averages")
    value_5: float | None = Field(description="the rating brought to /5")


class RatingSource(Rating):
    platform: str
    platform_label: str


class CourseRating(Rating):
    sources: list[RatingSource] | None = Field(
        default=None,
        description="(course detail) each platform's rating; the course's combines them, "
        "weighted by count, on /5",
    )


class Stated(BaseModel):
    """The platform's own words, beside the normalised values."""

    level: str | None
    duration: str | None
    effort: str | None
    price: str | None
    certificate: str | None


class Completeness(BaseModel):
    score: float = Field(description="share of the key facts the record states, 0 to 1")
    missing: list[str]


class SessionOut(BaseModel):
    id: int
    platform: str
    platform_label: str
    url: str = Field(description="where to enrol: the listing's page on its platform")
    start: datetime | None
    end: datetime | None
    enrolment_start: datetime | None
    enrolment_end: datetime | None
    pace: str | None
    language: str | None
    price: float | None
    currency: str | None
    offer: str | None
    certificate: str | None
    certificate_price: float | None
    duration: SessionDuration = Field(description="what this session alone states")
    effort: SessionEffort = Field(description="what this session alone states")
    state: State
    states: list[State]


class CourseSummary(BaseModel):
    id: int
    url: str = Field(description="the course's page on this portal")
    title: str
    language: str | None
    level: Level | None
    qualification: Qualification
    duration: Duration
    effort: Effort
    free: bool | None
    price: Price
    certificate: Certificate
    rating: CourseRating
    enrolments: int | None
    created_at: datetime
    updated_at: datetime
    organisations: list[OrganisationRef]
    topics: list[TopicRef]
    platforms: list[Named]
    state: State = Field(description="the course's main state at the time of the request")
    states: list[State]
    next_session: SessionOut | None
    completeness: Completeness


class ListingOut(BaseModel):
    platform: str
    platform_label: str
    external_id: str
    url: str
    title: str
    first_seen: datetime
    last_seen: datetime
    rating: Rating
    enrolments: int | None
    stated: Stated


class PredictionEvidence(BaseModel):
    sessions: int = Field(description="past runs the prediction rests on")
    first: datetime = Field(description="the first run's start")
    last: datetime = Field(description="the last run's start")
    gap_days: int = Field(description="the typical gap between runs, in days")


class PredictedSession(BaseModel):
    """An estimate, not a session: one typical gap after the last run (storage/predict.py)."""

    expected: datetime = Field(description="the expected start")
    start: datetime = Field(description="the window's beginning: expected − 31 days")
    end: datetime = Field(description="the window's end: expected + 31 days")
    evidence: PredictionEvidence


class JobLink(BaseModel):
    """A job profile (ROME 4.0) the course prepares for, and why (docs/JOBS.md)."""

    code: str = Field(description="the ROME code, e.g. M1811")
    label: str
    url: str = Field(description="the job's page on this portal")
    domain: str | None = Field(description="the professional domain's label")
    method: Literal["code", "text", "override"] = Field(
        description="code: stated by the platform; text: found in the course's text; "
        "override: set by a maintainer"
    )
    score: float = Field(description="1 for a stated code; the text match's cosine otherwise")
    reasons: list[str] = Field(description="the job's skills and knowledge items the course covers")


class QualificationCode(BaseModel):
    registry: Literal["RNCP", "RS"] = Field(description="Répertoire national / spécifique")
    code: str
    label: str = Field(description="as France Compétences writes it, e.g. RNCP35030")


class CourseDetail(CourseSummary):
    description: str | None = Field(description="sanitised HTML (allow-list)")
    stated: Stated = Field(description="the first words each fact is stated in, by listing")
    sessions: list[SessionOut]
    listings: list[ListingOut]
    predicted_next_session: PredictedSession | None = Field(
        None,
        description="when the past runs show a regular cadence and no session is known "
        "after now, the window the next one should start in; null otherwise",
    )
    jobs: list[JobLink] = Field(
        default_factory=list, description="the ROME job profiles it prepares for, best first"
    )
    qualifications: list[QualificationCode] = Field(
        default_factory=list, description="the certifications its listings state it leads to"
    )


class FacetValue(BaseModel):
    value: str | int | bool
    label: str | None = None
    count: int


Facets = create_model(
    "Facets",
    __doc__="Each facet's values, each with the courses it would give if also chosen.",
    **{facet.name: (list[FacetValue], Field(description=facet.label)) for facet in FACETS},
)


class CoursePage(BaseModel):
    total: int
    page: int
    per_page: int
    sort: Sort
    now: datetime = Field(description="the time states were computed at")
    courses: list[CourseSummary]
    facets: Facets | None


class TopicOut(BaseModel):
    slug: str
    label: str
    parent: str | None
    courses: int


class PlatformOut(BaseModel):
    name: str
    label: str
    base_url: str | None
    courses: int
    listings: int
    last_crawl: datetime | None
    last_crawl_healthy: bool | None


class OrganisationOut(BaseModel):
    id: int
    name: str
    courses: int


class OrganisationPage(BaseModel):
    total: int
    page: int
    per_page: int
    organisations: list[OrganisationOut]


class StatsOut(BaseModel):
    now: datetime
    courses: int
    listings: int
    sessions: int
    platforms: int
    organisations: int
    by_state: dict[str, int]
    by_platform: dict[str, int]
    last_crawl: datetime | None


class JobHit(BaseModel):
    code: str
    label: str
    url: str = Field(description="the job's page on this portal")
    score: float = Field(description="how closely the text names one of its titles")
    courses: int = Field(description="visible courses linked to it")


class JobSearch(BaseModel):
    q: str | None
    jobs: list[JobHit] = Field(description="best first; empty when the text names no job")
    attribution: str | None = Field(description="the referential's source and version")


class CodeLabel(BaseModel):
    code: str | None
    label: str | None


class Skill(BaseModel):
    label: str
    kind: str = Field(description="savoir_faire, savoir_etre or savoir (knowledge)")


class JobCourse(BaseModel):
    id: int
    url: str = Field(description="the course's page on this portal")
    title: str
    method: Literal["code", "text", "override"]
    score: float
    actionable: bool = Field(description="open for enrolment, starting soon or upcoming now")
    reasons: list[str]
    core_covered: list[str] = Field(description="the job's core skills the course covers")
    closeness: str = Field(description="« couvre k des n compétences clés »")


class JobOffers(BaseModel):
    """Current job offers for the job on France Travail, as last read (docs/JOBS.md)."""

    count: int = Field(description="offers France Travail's « Offres d'emploi » API held")
    fetched_at: datetime = Field(description="when that number was read")
    search_url: str = Field(description="France Travail's public job search for this job")


class JobDetail(BaseModel):
    code: str
    label: str
    url: str = Field(description="the job's page on this portal")
    domain: CodeLabel
    grand_domain: CodeLabel
    tags: dict = Field(description="transition tags as the referential states them")
    definition: str | None
    access: str | None = Field(description="how one gets into the job")
    titles: list[str]
    synonyms: list[str]
    core_skills: list[Skill] = Field(description="« compétences clés » (cœur de métier)")
    other_skills: list[Skill]
    attribution: str | None
    total: int = Field(description="visible courses linked to the job")
    page: int
    per_page: int
    courses: list[JobCourse] = Field(description="open and upcoming ones first, then by score")
    offers: JobOffers | None = Field(
        None, description="current job offers, when `moisson jobs refresh-offers` has read them"
    )


class ValidationProblem(BaseModel):
    message: str
    detail: list[dict]
