"""The emulator's own routes, for tools and tests in another process than the emulator.

======================  ==========================  =========================================
route name              path                        answer
======================  ==========================  =========================================
``emulator.requests``   GET /_emulator/requests     the request log so far, oldest first
======================  ==========================  =========================================

``GET /_emulator/requests`` needs the emulator's key like every API route and takes optional
``route`` (a route name, e.g. ``luma.generate``; an unknown one is a 400 naming the closest
route names, as :meth:`Emulator.count` raises) and ``path`` filters. Each item is
``{"method", "path", "route", "query", "status", "at", "json"}``: ``json`` is the request body
parsed as JSON (None when it is not JSON); headers and raw bodies are left out. Requests to the
emulator's own routes are not listed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from aiohttp import web

from ._http import json_response, openai_error
from ._routes import unknown_route

if TYPE_CHECKING:
    from ._emulator import Emulator

__all__ = ["REQUESTS_PATH", "register"]

REQUESTS_PATH: Final = "/_emulator/requests"
_OWN_PREFIX: Final = "emulator."


def register(emu: Emulator, app: web.Application) -> None:
    """Add the emulator's own named routes to ``app``."""

    async def requests(request: web.Request) -> web.Response:
        route, path = request.query.get("route"), request.query.get("path")
        if route is not None and route not in emu.routes:  # else an empty list, silently
            return openai_error(400, unknown_route(route, emu.routes), type="invalid_request_error")
        return json_response(
            [
                {
                    "method": r.method,
                    "path": r.path,
                    "route": r.route,
                    "query": r.query,
                    "status": r.status,
                    "at": r.at,
                    "json": r.json,
                }
                for r in list(emu.requests)
                if not (r.route or "").startswith(_OWN_PREFIX)
                and (route is None or r.route == route)
                and (path is None or r.path == path)
            ]
        )

    app.router.add_get(REQUESTS_PATH, requests, name="emulator.requests")
