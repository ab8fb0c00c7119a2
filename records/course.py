"""The normalised course: what the pipelines make of a listing and the catalogue stores.

Validated with pydantic; ``content_hash`` is how the catalogue tells a changed listing.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator


class Workload(BaseModel):
    """Duration and effort ranges, as the duration normaliser reads them: a course's, or what
    one session alone states."""

    duration_weeks_min: float | None = Field(default=None, ge=0)
    duration_weeks_max: float | None = Field(default=None, ge=0)
    duration_hours_min: float | None = Field(default=None, ge=0)
    duration_hours_max: float | None = Field(default=None, ge=0)
    effort_hours_per_week_min: float | None = Field(default=None, ge=0)
    effort_hours_per_week_max: float | None = Field(default=None, ge=0)


class SessionRecord(Workload):
    model_config = ConfigDict(extra="forbid")

    key: str
    start: AwareDatetime | None = None
    end: AwareDatetime | None = None
    enrolment_start: AwareDatetime | None = None
    enrolment_end: AwareDatetime | None = None
    pace: Literal["scheduled", "self_paced", "always_open"] | None = None
    language: str | None = None
    price: float | None = Field(default=None, ge=0)
    currency: str | None = None
    offer: str | None = None
    certificate: str | None = None
    certificate_price: float | None = Field(default=None, ge=0)
    # what this session alone states (schema.org CourseInstance.courseWorkload…)
    duration_text: str | None = None
    effort_text: str | None = None


class OrganisationIdentity(BaseModel):
    """An organisation as a platform identifies it: its name, legal name and SIRET."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    legal_name: str | None = None
    siret: str | None = Field(default=None, pattern=r"^\d{14}$")


class CourseRecord(Workload):
    """What one listing says once normalised; ``content_hash`` identifies its content."""

    model_config = ConfigDict(extra="forbid")

    platform: str = Field(min_length=1)
    external_id: str = Field(min_length=1)
    url: str
    title: str = Field(min_length=1)
    code: str | None = None
    introduction: str | None = None
    description: str | None = None
    language: str | None = None
    duration_text: str | None = None
    effort_text: str | None = None
    level_text: str | None = None
    categories: list[str] = Field(default_factory=list)
    organisations: list[str] = Field(default_factory=list)
    image: str | None = None
    kind: str | None = None
    price_text: str | None = None
    certificate_text: str | None = None
    qualification_entry_text: str | None = None  # the qualification required, as stated
    qualification_exit_text: str | None = None  # the qualification reached, as stated
    organisation_identities: list[OrganisationIdentity] = Field(default_factory=list)
    # official codes as stated, by register (crawlers.items.RawCourse.codes)
    codes: dict[str, list[str]] = Field(default_factory=dict)
    # normalised values (the free-text normalisers fill them; None = not understood)
    level: Literal["debutant", "intermediaire", "avance", "tous_niveaux"] | None = None
    topics: list[str] = Field(default_factory=list)  # slugs of the taxonomy (records.topics)
    # qualification levels (pipelines/data/qualification_levels.json ids): not a difficulty
    qualification_entry: str | None = None
    qualification_exit: str | None = None
    free: bool | None = None
    price_amount: float | None = Field(default=None, ge=0)
    currency: str | None = None
    certificate: Literal["none", "attestation", "certificate", "diploma"] | None = None
    certificate_price: float | None = Field(default=None, ge=0)
    # quality and reach, as the platform states them
    rating: float | None = Field(default=None, ge=0)  # on rating_scale, as stated
    rating_scale: float | None = Field(default=None, gt=0)  # the best rating possible
    rating_count: int | None = Field(default=None, ge=0)
    enrolments: int | None = Field(default=None, ge=0)
    sessions: list[SessionRecord] = Field(default_factory=list)
    # provenance, excluded from the content hash
    spider: str | None = None
    source_url: str | None = None
    fetched_at: datetime | None = None

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"not an http(s) URL: {value[:80]!r}")
        return value

    def content(self) -> dict:
        """The fields whose change is a change of the listing."""
        # a listing without codes hashes as it did before they were read
        exclude = {"spider", "source_url", "fetched_at"} | (set() if self.codes else {"codes"})
        return self.model_dump(mode="json", exclude=exclude)

    def content_hash(self) -> str:
        canonical = json.dumps(self.content(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
