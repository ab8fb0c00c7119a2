"""The portal's ASGI application: the JSON API under ``/api/v1`` and the French pages.

It reads a catalogue opened by ``storage.readonly.open_readonly``, so it cannot write.
``clock`` gives "now": course states depend on it, and tests freeze it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware

from portal import alerts as alert_routes
from portal import api, formatting, pages
from portal.params import DropEmptyParams
from portal.response_cache import AnswerStore, ResponseCache
from portal.urls import public_base_url, trusted_hosts
from storage.cache import MinuteCache

if TYPE_CHECKING:  # the portal gets its engine from storage.readonly, never builds one
    from sqlalchemy.engine import Engine

STATIC = Path(__file__).with_name("static")
DOCS = "/api/docs"
# Swagger UI's own files, served by the portal instead of a CDN: the fastapi-swagger
# package ships swagger-ui-dist's bundle, stylesheet and favicon in fastapi_swagger/resources.
SWAGGER_UI = ("fastapi_swagger", "resources")


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _problem_message(errors, lead: str = "invalid parameter", separator: str = ":") -> str:
    parts = []
    for error in errors:
        # a repeated parameter's position (``state.0``) is left out: the name is what to fix
        loc = [p for p in error.get("loc", ()) if p not in ("query", "path")]
        where = ".".join(str(p) for p in loc if not isinstance(p, int))
        msg = error.get("msg")
        parts.append(f"{where}{separator} {msg}" if where else str(msg))
    return f"{lead} — " + "; ".join(parts)


def _in_french(error: dict) -> str:
    """A validation error's message for a visitor; pydantic's English when we have none."""
    sentence = formatting.labels()["problem"].get(error.get("type"))
    try:
        return sentence.format(**error.get("ctx", {})) if sentence else error.get("msg")
    except (KeyError, IndexError):
        return error.get("msg")


def _operations(document: dict):
    for path in document.get("paths", {}).values():
        yield from path.values()


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def create_app(
    engine: Engine,
    clock: Callable[[], datetime] = _utc_now,
    cache_size: int = 512,
    public_url: str | None = None,
    hosts: Sequence[str] = (),
    alerts: alert_routes.Alerts | None = None,
) -> FastAPI:
    """The portal on ``engine``; ``cache_size`` 0 recomputes counts, facets and answers every time.

    ``public_url`` (``https://cours.example.fr``) builds every absolute URL; with it or with
    ``hosts``, a request for any other host is refused (400) before it reaches a route.
    ``alerts`` (docs/ALERTS.md) takes « Prévenez-moi » subscriptions; without it the portal
    has no way to write and shows no form.
    """
    public_url = public_base_url(public_url)
    allowed = trusted_hosts(public_url, hosts)
    app = FastAPI(
        title="Moisson",
        summary="Catalogue ouvert des cours en ligne en français",
        description=(
            "Read-only API of the Moisson catalogue: courses gathered from every platform, "
            "with their sessions, computed states (at the time of the request), facets "
            "and quality signals. See docs/PORTAL.md for examples."
        ),
        version="1",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # our own route below: FastAPI's page loads Swagger UI from a CDN
        redoc_url=None,
    )
    app.state.engine = engine
    app.state.public_url = public_url
    app.state.clock = lambda: clock().astimezone(UTC)
    app.state.cache = MinuteCache(cache_size)
    app.state.alerts = alerts
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(alert_routes.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.mount(f"{DOCS}/static", StaticFiles(packages=[SWAGGER_UI]), name="swagger-ui")
    # innermost: it keys on the query DropEmptyParams has cleaned, after the host check
    app.state.answers = AnswerStore(cache_size)
    app.add_middleware(ResponseCache, store=app.state.answers, clock=app.state.clock)
    app.add_middleware(DropEmptyParams)
    if allowed:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed)

    def openapi() -> dict:
        """FastAPI's document, saying what ``DropEmptyParams`` does: empty means absent."""
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
            )
            for operation in _operations(document):
                for parameter in operation.get("parameters", []):
                    if parameter["in"] == "query":
                        parameter["allowEmptyValue"] = True
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi

    @app.get(DOCS, include_in_schema=False)
    async def swagger_ui(request: Request):
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=root + app.openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{DOCS}/static/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS}/static/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS}/static/favicon-32x32.png",
            oauth2_redirect_url=f"{root}{DOCS}/oauth2-redirect",
        )

    @app.get(f"{DOCS}/oauth2-redirect", include_in_schema=False)
    async def swagger_ui_redirect():
        return get_swagger_ui_oauth2_redirect_html()

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        errors = [
            {k: v for k, v in e.items() if k in ("type", "loc", "msg", "input")}
            for e in exc.errors()
        ]
        for error in errors:  # a 10,000-character q is not echoed back whole
            if isinstance(error.get("input"), str) and len(error["input"]) > 100:
                error["input"] = error["input"][:100] + "…"
        if _wants_json(request):
            message = _problem_message(errors)
            return JSONResponse({"message": message, "detail": errors}, status_code=422)
        french = [
            {**e, "msg": _in_french(raw)} for e, raw in zip(errors, exc.errors(), strict=True)
        ]
        in_query = any(e.get("loc", ("query",))[0] == "query" for e in errors)
        return pages.templates.TemplateResponse(
            request,
            "error.html",
            {
                "title": "Recherche invalide" if in_query else "Adresse invalide",
                "message": _problem_message(french, "Paramètre invalide", " :"),
                "errors": french,
            },
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if _wants_json(request) or request.url.path.startswith("/static/"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        title = "Page introuvable" if exc.status_code == 404 else "Erreur"
        message = exc.detail if exc.status_code == 404 else str(exc.detail)
        return pages.templates.TemplateResponse(
            request,
            "error.html",
            {"title": title, "message": message, "errors": []},
            status_code=exc.status_code,
        )

    return app
