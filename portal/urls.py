"""The portal's absolute URLs: API ``url`` fields, sitemap, robots.txt, canonical links,
JSON-LD, Atom feeds and iCalendar files.

Behind a proxy the request's Host header is whatever the client sent, so a configured public
base URL (``MOISSON_PUBLIC_URL``) builds every absolute URL when there is one, and the
request only without it (development). ``absolute_url`` is the one place they are built.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import URLPath
from starlette.requests import Request
from starlette.routing import NoMatchFound

COURSE_PATH = "/cours/{course_id}"  # the course page's route (portal.pages), also in exports


def public_base_url(value: str | None) -> str | None:
    """The configured public base URL, checked: ``https://cours.example.fr`` or with a path."""
    if not value:
        return None
    parts = urlsplit(value)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.query
        or parts.fragment
        or any(ord(c) < 0x21 for c in value)
    ):
        raise ValueError(
            f"public URL {value!r} is not an http(s) base URL like https://cours.example.fr"
        )
    return value.rstrip("/")


def trusted_hosts(public_url: str | None, extra: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The Host headers the portal answers: the public URL's host and those configured."""
    hosts = [urlsplit(public_url).hostname] if public_url else []
    return hosts + [h.strip() for h in extra if h.strip() and h.strip() not in hosts]


def _path_for(app, name: str, path_params: dict) -> URLPath:
    """``app.url_path_for``, but from the route of that name at once.

    Starlette's own search asks every route in turn and each that does not match raises:
    a search page names about 150 URLs, and that search was a sixth of its cost.
    """
    routes = getattr(app.state, "routes_by_name", None)
    if routes is None:
        routes = {}
        for route in app.routes:
            routes.setdefault(getattr(route, "name", None), route)
        app.state.routes_by_name = routes
    route = routes.get(name)
    if route is not None:
        try:
            return route.url_path_for(name, **path_params)
        except NoMatchFound:
            pass  # another route of the same name may take these parameters
    return app.url_path_for(name, **path_params)


def absolute_url(request: Request, name: str, **path_params) -> str:
    """The absolute URL of the route ``name``: on the public base URL when one is set."""
    path = _path_for(request.app, name, path_params)
    base = request.app.state.public_url
    if base:
        return base + str(path)
    return str(path.make_absolute_url(request.base_url))


def base_url(request: Request) -> str:
    """The portal's base URL (no trailing slash): the public one, else the request's."""
    return request.app.state.public_url or str(request.base_url).rstrip("/")


def site_host(request: Request) -> str:
    """The portal's host name, for identifiers such as iCalendar UIDs."""
    base = request.app.state.public_url
    return (urlsplit(base).hostname if base else request.url.hostname) or "moisson"
