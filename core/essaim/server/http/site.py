"""Routes for people and machines that are not the API: the web app's pages
and files, ``/openapi.json`` and ``/asyncapi.json`` (``/healthz``, ``/readyz`` and ``/metrics``
are in :mod:`essaim.server.http.monitoring`)."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import TYPE_CHECKING

import orjson
import trio
from quart import Response

from essaim.plugin.phase_web import PLUGIN_ASSETS_PREFIX
from essaim.server.http.asyncapi import asyncapi_document
from essaim.server.http.openapi import openapi_document

if TYPE_CHECKING:
    from quart_trio import QuartTrio

    from essaim.server.context import ServerContext

__all__ = ["register_site_routes", "STATIC_DIR", "STATIC_MAX_AGE"]

#: The web app (engineer D's participant and facilitator pages, JS, CSS).
STATIC_DIR = Path(__file__).resolve().parents[2] / "web" / "static"
#: Seconds browsers may keep static files without asking again: short, since
#: file names carry no version and a fix should reach phones within minutes.
STATIC_MAX_AGE = 300


def _missing(what: str) -> Response:
    return Response(
        f"{what} is not installed (no {STATIC_DIR}); the API and /ws work without it.\n",
        status=404, mimetype="text/plain",
    )


async def _file(path: Path, *, max_age: int) -> Response:
    try:
        data = await trio.Path(path).read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return _missing(path.name)
    mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    response = Response(data, mimetype=mimetype)
    response.headers["Cache-Control"] = f"public, max-age={max_age}" if max_age else "no-cache"
    return response


def register_site_routes(app: QuartTrio, server: ServerContext) -> None:
    @app.get("/")
    async def participant_page() -> Response:
        return await _file(STATIC_DIR / "participant.html", max_age=0)

    @app.get("/join/<code>")
    async def join_page(code: str) -> Response:
        return await _file(STATIC_DIR / "participant.html", max_age=0)

    @app.get("/facilitator")
    async def facilitator_page() -> Response:
        return await _file(STATIC_DIR / "facilitator.html", max_age=0)

    @app.get("/present")
    async def presenter_page() -> Response:
        return await _file(STATIC_DIR / "presenter.html", max_age=0)

    @app.get("/favicon.ico")
    async def favicon() -> Response:
        # Browsers ask for it whatever the pages link: the same SVG icon.
        return await _file(STATIC_DIR / "favicon.svg", max_age=STATIC_MAX_AGE)

    @app.get("/static/<path:name>")
    async def static_file(name: str) -> Response:
        path = (STATIC_DIR / name).resolve()
        if not path.is_relative_to(STATIC_DIR):
            return _missing(name)  # no way out of the folder
        return await _file(path, max_age=STATIC_MAX_AGE)

    @app.get(PLUGIN_ASSETS_PREFIX + "/<phase_type>/<path:name>")
    async def plugin_file(phase_type: str, name: str) -> Response:
        """A plugin phase type's screen, panel and their files
        (:class:`~essaim.plugin.phase_web.PhaseWeb`), same origin as the app."""
        ptype = server.engine.host.registry.phase_types.get(phase_type)
        path = ptype.web.file(name) if ptype is not None and ptype.web is not None else None
        if path is None:
            return Response(f"no file {name!r} for phase type {phase_type!r}\n", status=404, mimetype="text/plain")
        return await _file(path, max_age=STATIC_MAX_AGE)

    @app.get("/openapi.json")
    async def openapi() -> Response:
        return Response(orjson.dumps(openapi_document(server.base_url)), mimetype="application/json")

    @app.get("/asyncapi.json")
    async def asyncapi() -> Response:
        return Response(orjson.dumps(asyncapi_document(server.engine.commands, server.base_url)),
                        mimetype="application/json")
