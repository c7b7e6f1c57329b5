"""Route names: the table of what an emulator serves, and the refusal of a name not in it.

Shared by :class:`~._emulator.Emulator` (``routes``, ``count``, ``fail``…) and the request-log
route of :mod:`._admin`, so that every place taking a route name refuses a wrong one alike.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from aiohttp import web

__all__ = ["route_table", "unknown_route"]


def route_table(app: web.Application) -> Mapping[str, str]:
    """The named routes of ``app``: name → ``"METHOD /path"``, in the order they were
    registered (the ``HEAD`` that ``add_get`` adds beside a ``GET`` is left out)."""
    table: dict[str, str] = {}
    for name, resource in app.router.named_resources().items():
        methods = [route.method for route in resource]
        if "GET" in methods and "HEAD" in methods:
            methods.remove("HEAD")
        table[name] = f"{'|'.join(methods)} {resource.canonical}"
    return MappingProxyType(table)


def unknown_route(name: str, routes: Iterable[str]) -> str:
    """Why ``name`` is refused: not a route name; the closest ones, and where the list is."""
    close = difflib.get_close_matches(name, list(routes), n=3)
    hint = f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""
    return (
        f"unknown route name {name!r}{hint}. Emulator.routes lists every route name with its "
        f"method and path, as does the page 'Testing with the emulator' (section 'Route "
        f"names'); a URL path starts with '/'"
    )
