"""How many current job offers each ROME job has, from France Travail's « Offres d'emploi
v2 » API (``moisson jobs refresh-offers``, docs/JOBS.md).

OAuth2 client credentials give a token (``FRANCE_TRAVAIL_TOKEN_URL``, realm ``/partenaire``,
scopes ``api_offresdemploiv2 o2dsoffre``); each job is one search limited to one result,
``GET {FRANCE_TRAVAIL_API_URL}/v2/offres/search?codeROME=M1805&range=0-0``, whose total is in
the ``Content-Range`` header (``offres 0-0/312``); 204 means no offer. Calls are spaced to
stay under the API's published limit (``FRANCE_TRAVAIL_CALLS_PER_SECOND``); a 429 or 5xx
answer, or a dead connection, is asked again after a growing wait (``Retry-After`` when the
API gives one), at most ``FRANCE_TRAVAIL_RETRIES`` times; a 401 gets a fresh token once.
A job whose answer stays bad keeps its previous count and is counted as failed.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from storage import offers as cache

CONTENT_RANGE = re.compile(r"^\s*offres\s+\d+-\d+/(\d+)\s*$")
RETRIED = frozenset({429, 500, 502, 503, 504})
FAILURES = (urllib.error.URLError, http.client.HTTPException, OSError, TimeoutError)


class OffersError(Exception):
    """One job's count could not be read."""


class CredentialsRefused(OffersError):
    """The token endpoint refuses the credentials: nothing can be read."""


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class OffersClient:
    client_id: str
    client_secret: str
    token_url: str
    api_url: str
    scope: str = "api_offresdemploiv2 o2dsoffre"
    calls_per_second: float = 10.0
    retries: int = 4
    backoff: float = 1.0  # seconds before the first retry, doubled at each
    timeout: float = 20.0
    user_agent: str = "Moisson"
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    _token: str | None = field(default=None, repr=False)
    _token_until: float = 0.0
    _last_call: float | None = None

    @classmethod
    def from_settings(cls, settings) -> OffersClient | None:
        """The client the settings describe (an environment variable of the same name wins,
        as for every credential); None without credentials."""

        def get(name: str) -> str:
            return str(os.environ.get(name) or settings.get(name) or "").strip()

        client_id, secret = get("FRANCE_TRAVAIL_CLIENT_ID"), get("FRANCE_TRAVAIL_CLIENT_SECRET")
        if not client_id or not secret:
            return None
        return cls(
            client_id=client_id,
            client_secret=secret,
            token_url=get("FRANCE_TRAVAIL_TOKEN_URL"),
            api_url=get("FRANCE_TRAVAIL_API_URL").rstrip("/"),
            scope=get("FRANCE_TRAVAIL_SCOPE"),
            calls_per_second=float(get("FRANCE_TRAVAIL_CALLS_PER_SECOND")),
            retries=int(get("FRANCE_TRAVAIL_RETRIES")),
            user_agent=settings.get("USER_AGENT") or "Moisson",
        )

    # -- HTTP -------------------------------------------------------------------------------

    def _pace(self) -> None:
        """Space the calls at least 1 / calls_per_second apart."""
        if self._last_call is not None and self.calls_per_second > 0:
            wait = self._last_call + 1 / self.calls_per_second - self.clock()
            if wait > 0:
                self.sleep(wait)
        self._last_call = self.clock()

    def _send(self, request: urllib.request.Request) -> Answer:
        """One call, retried on 429, 5xx and dead connections with growing waits."""
        delay = self.backoff
        for attempt in range(self.retries + 1):
            self._pace()
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return Answer(response.status, dict(response.headers), response.read())
            except urllib.error.HTTPError as exc:
                answer = Answer(exc.code, dict(exc.headers or {}), exc.read() or b"")
                if exc.code not in RETRIED or attempt == self.retries:
                    return answer
                wait = _retry_after(answer.headers) or delay
            except FAILURES as exc:
                if attempt == self.retries:
                    raise OffersError(f"{request.full_url}: no answer ({exc})") from exc
                wait = delay
            self.sleep(wait)
            delay *= 2
        raise AssertionError("unreachable")

    def token(self, fresh: bool = False) -> str:
        """An access token, kept until shortly before it expires."""
        if self._token and not fresh and self.clock() < self._token_until:
            return self._token
        body = urllib.parse.urlencode(
            {
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "scope": self.scope,
            }
        ).encode()
        request = urllib.request.Request(
            self.token_url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "User-Agent": self.user_agent,
            },
        )
        answer = self._send(request)
        if answer.status in (400, 401, 403):
            raise CredentialsRefused(
                f"the token endpoint refuses the credentials (HTTP {answer.status}"
                f"{_error_text(answer.body)})"
            )
        try:
            if answer.status != 200:
                raise ValueError(f"HTTP {answer.status}")
            data = json.loads(answer.body)
            token, expires = str(data["access_token"]), float(data.get("expires_in") or 0)
        except (ValueError, KeyError, TypeError) as exc:
            raise CredentialsRefused(f"the token endpoint answered no token ({exc})") from exc
        self._token, self._token_until = token, self.clock() + max(0.0, expires - 60)
        return token

    def count(self, code: str) -> int:
        """The number of current offers for one ROME code."""
        query = urllib.parse.urlencode({"codeROME": code, "range": "0-0"})
        url = f"{self.api_url}/v2/offres/search?{query}"
        for fresh in (False, True):
            request = urllib.request.Request(
                url,
                headers={
                    "Authorization": f"Bearer {self.token(fresh=fresh)}",
                    "Accept": "application/json",
                    "User-Agent": self.user_agent,
                },
            )
            answer = self._send(request)
            if answer.status != 401:
                break
        return _total(code, answer)


def _retry_after(headers: dict[str, str]) -> float | None:
    value = {k.lower(): v for k, v in headers.items()}.get("retry-after")
    try:
        return min(60.0, max(0.0, float(value))) if value is not None else None
    except ValueError:
        return None


def _error_text(body: bytes) -> str:
    try:
        data = json.loads(body)
        return f": {data.get('error')}" if isinstance(data, dict) and data.get("error") else ""
    except ValueError:
        return ""


def _total(code: str, answer: Answer) -> int:
    """The total of a search answer: 204 is none; 200 and 206 say it in Content-Range."""
    if answer.status == 204:
        return 0
    if answer.status not in (200, 206):
        raise OffersError(f"{code}: HTTP {answer.status}{_error_text(answer.body)}")
    header = {k.lower(): v for k, v in answer.headers.items()}.get("content-range")
    match = CONTENT_RANGE.match(header or "")
    if match is None:
        raise OffersError(f"{code}: no total in Content-Range {header!r}")
    return int(match.group(1))


@dataclass
class RefreshCounts:
    jobs: int = 0
    stored: int = 0
    failed: int = 0
    failures: dict[str, str] = field(default_factory=dict)  # code -> why


def refresh(engine, client: OffersClient, codes: Iterable[str] | None = None, progress=None):
    """Ask the count of each job (default: those with linked courses) and store each good
    answer with its date; a bad one keeps the previous count and is counted. Raises
    ``CredentialsRefused`` (nothing stored by then is lost) when no token can be had."""
    codes = list(cache.codes_to_refresh(engine) if codes is None else codes)
    counts = RefreshCounts(jobs=len(codes))
    for done, code in enumerate(codes, start=1):
        try:
            total = client.count(code)
        except CredentialsRefused:
            raise
        except OffersError as exc:
            counts.failed += 1
            counts.failures[code] = str(exc)
        else:
            cache.store(engine, code, total, datetime.now(UTC))
            counts.stored += 1
        if progress:
            progress(done, len(codes))
    return counts
