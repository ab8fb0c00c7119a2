"""« Prévenez-moi »: subscribing a search or a course to e-mail alerts, without an account.

Present only when the portal is given an alerts configuration (``Alerts``); without it the
routes answer 404 and the templates hide the forms, and the portal stays read-only.
Double opt-in: a subscription is stored unconfirmed with its confirmation mail in the outbox,
and nothing else is ever sent to the address before its link is followed. Pages never write
the address back. Links are confirmed and unsubscriptions done by ``POST`` (the ``GET`` of a
link only shows a button), so a mail scanner that opens links acts on nothing; an
unsubscription ``POST`` is also RFC 8058's one-click from the mail client.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from portal import mailing
from portal.params import CourseId, SearchParams, search_params
from portal.urls import absolute_url
from storage import alerts as store
from storage.search import course_detail

if TYPE_CHECKING:  # the alerts engine comes from storage.alerts, never built here
    from sqlalchemy.engine import Engine

router = APIRouter(include_in_schema=False)
MAX_FORM = 2048  # bytes of a subscription form: an address and a button


@dataclass
class Alerts:
    """What the portal needs to take subscriptions."""

    engine: Engine
    links: mailing.Links
    smtp: mailing.SmtpSettings | None = None  # without it, confirmations wait for `alerts send`
    clients: ClientLimit = field(default_factory=lambda: ClientLimit(*mailing.PER_CLIENT))


class ClientLimit:
    """At most ``count`` subscriptions per client address in ``window`` (in this process)."""

    def __init__(self, count: int, window):
        self.count, self.window = count, window.total_seconds()
        self._seen: dict[str, deque] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, client: str) -> bool:
        now = time.monotonic()
        with self._lock:
            seen = self._seen[client]
            while seen and seen[0] <= now - self.window:
                seen.popleft()
            if len(seen) >= self.count:
                return False
            seen.append(now)
            if len(self._seen) > 100_000:  # forget idle clients rather than grow without end
                for key in [k for k, v in self._seen.items() if not v]:
                    del self._seen[key]
            return True


def _alerts(request: Request) -> Alerts:
    alerts = getattr(request.app.state, "alerts", None)
    if alerts is None:
        raise HTTPException(status_code=404, detail="Les alertes ne sont pas proposées ici")
    return alerts


def _page(request: Request, title: str, message: str, status_code: int = 200, form=None):
    from portal.pages import templates

    return templates.TemplateResponse(
        request,
        "alert.html",
        {"title": title, "message": message, "form": form},
        status_code=status_code,
    )


async def _address(request: Request) -> str | None:
    body = await request.body()
    if len(body) > MAX_FORM:
        return None
    values = parse_qs(body.decode("utf-8", "replace"))
    return mailing.valid_address((values.get("adresse") or [""])[0])


async def _subscribe(
    request: Request, tasks: BackgroundTasks, alerts: Alerts, search=None, course_id=None
):
    address = await _address(request)
    if address is None:
        return _page(
            request,
            "Adresse invalide",
            "Cette adresse électronique n'est pas utilisable. Vérifiez-la et recommencez.",
            status_code=422,
        )
    client = request.client.host if request.client else "?"
    if not alerts.clients.allow(client):
        return _page(
            request,
            "Trop de demandes",
            "Trop d'alertes demandées depuis votre connexion. Réessayez dans une heure.",
            status_code=429,
        )
    now = request.app.state.clock()
    count, window = mailing.PER_ADDRESS
    recent = await run_in_threadpool(
        store.recent_subscriptions, alerts.engine, address, now - window
    )
    if recent < count:  # past the limit, the same page: it says nothing about the address
        await run_in_threadpool(
            _store_subscription, request, alerts, address, now, search, course_id
        )
        if alerts.smtp is not None:
            tasks.add_task(mailing.send_outbox, alerts.engine, alerts.smtp, now, store.CONFIRM)
    return _page(
        request,
        "Vérifiez votre messagerie",
        "Si l'adresse est valide, un message vient d'y être envoyé. L'alerte ne commence "
        "qu'une fois le lien de ce message suivi, dans les 48 heures ; sans cela, l'adresse "
        "est effacée au bout de 7 jours.",
    )


def _store_subscription(request, alerts: Alerts, address, now, search, course_id) -> None:
    confirm_nonce, unsubscribe_nonce = alerts.links.nonce(), alerts.links.nonce()
    what = "cette recherche" if search is not None else "ce cours"

    def mail(sub_id: int) -> str:
        confirm = alerts.links.confirm_token(sub_id, confirm_nonce)
        leave = alerts.links.unsubscribe_token(sub_id, unsubscribe_nonce)
        sender = alerts.smtp.sender if alerts.smtp else mailing.default_sender()
        return mailing.message(
            sender,
            address,
            "Confirmez votre alerte Moisson",
            "confirm",
            {
                "what": what,
                "confirm_url": absolute_url(request, "alert_confirm", token=confirm),
                "target_url": _target_url(request, search, course_id),
                "hours": int(mailing.CONFIRM_FOR.total_seconds() // 3600),
            },
            unsubscribe_url=absolute_url(request, "alert_unsubscribe", token=leave),
            now=now,
        ).as_string()

    store.subscribe(
        alerts.engine,
        address,
        now,
        store.token_hash(confirm_nonce),
        unsubscribe_nonce,
        mail,
        search=search,
        course_id=course_id,
    )


def _target_url(request, search, course_id) -> str:
    if course_id is not None:
        return absolute_url(request, "course_page", course_id=course_id)
    return absolute_url(request, "search_page") + (f"?{search}" if search else "")


@router.post("/alertes/recherche", name="alert_search", response_class=HTMLResponse)
async def alert_search(
    request: Request,
    tasks: BackgroundTasks,
    params: Annotated[SearchParams, Depends(search_params)],
    alerts: Annotated[Alerts, Depends(_alerts)],
):
    """The search of the query string, any filters: kept as its canonical query string."""
    search = params.query(page=None, per_page=None, sort=None)
    return await _subscribe(request, tasks, alerts, search=search)


@router.post("/cours/{course_id}/alerte", name="alert_course", response_class=HTMLResponse)
async def alert_course(
    request: Request,
    tasks: BackgroundTasks,
    course_id: CourseId,
    alerts: Annotated[Alerts, Depends(_alerts)],
):
    now = request.app.state.clock()
    found = await run_in_threadpool(course_detail, request.app.state.engine, course_id, now)
    if found is None:
        raise HTTPException(status_code=404, detail=f"Aucun cours n° {course_id}")
    return await _subscribe(request, tasks, alerts, course_id=course_id)


BAD_LINK = (
    "Ce lien n'est pas valable : il a expiré, a déjà servi ou a été mal copié. "
    "Vous pouvez demander une nouvelle alerte."
)


def _button_page(request: Request, valid: bool, route: str, token: str, texts: tuple):
    """The page a mailed link opens: a button that ``POST``s to it (nothing done on ``GET``)."""
    if not valid:
        return _page(request, "Lien expiré", BAD_LINK, status_code=400)
    title, message, label = texts
    action = absolute_url(request, route, token=token)
    return _page(request, title, message, form={"action": action, "label": label})


@router.get("/alertes/confirmer/{token}", name="alert_confirm", response_class=HTMLResponse)
def confirm_page(request: Request, token: str, alerts: Annotated[Alerts, Depends(_alerts)]):
    texts = (
        "Confirmer l'alerte",
        "Un clic encore pour recevoir les nouveautés par courriel.",
        "Confirmer",
    )
    valid = alerts.links.read_confirm(token) is not None
    return _button_page(request, valid, "alert_confirm", token, texts)


@router.post("/alertes/confirmer/{token}", response_class=HTMLResponse)
def confirm(request: Request, token: str, alerts: Annotated[Alerts, Depends(_alerts)]):
    found = alerts.links.read_confirm(token)
    now = request.app.state.clock()
    catalogue = request.app.state.engine

    def matches(search: str) -> list[int] | None:
        try:
            return [course_id for course_id, _t in mailing.search_matches(catalogue, search, now)]
        except RequestValidationError:  # kept searches are checked when made: not expected
            return None

    if found is None or not store.confirm(
        alerts.engine, found[0], store.token_hash(found[1]), now, search_matches=matches
    ):
        return _page(request, "Lien expiré", BAD_LINK, status_code=400)
    return _page(
        request,
        "Alerte confirmée",
        "C'est fait : vous recevrez au plus un courriel par jour, seulement quand il y a du "
        "nouveau. Chaque courriel contient un lien pour arrêter.",
    )


@router.get("/alertes/desinscription/{token}", name="alert_unsubscribe")
def unsubscribe_page(request: Request, token: str, alerts: Annotated[Alerts, Depends(_alerts)]):
    texts = (
        "Arrêter les alertes",
        "Votre adresse et toutes ses alertes seront effacées.",
        "Effacer mon adresse",
    )
    valid = alerts.links.read_unsubscribe(token) is not None
    return _button_page(request, valid, "alert_unsubscribe", token, texts)


@router.post("/alertes/desinscription/{token}", response_class=HTMLResponse)
def unsubscribe(request: Request, token: str, alerts: Annotated[Alerts, Depends(_alerts)]):
    """Also RFC 8058's one-click POST (body ``List-Unsubscribe=One-Click``)."""
    found = alerts.links.read_unsubscribe(token)
    if found is None or not store.unsubscribe(alerts.engine, found[0], found[1]):
        return _page(request, "Lien expiré", BAD_LINK, status_code=400)
    return _page(
        request,
        "Adresse effacée",
        "Votre adresse et ses alertes sont effacées. Vous ne recevrez plus rien.",
    )
