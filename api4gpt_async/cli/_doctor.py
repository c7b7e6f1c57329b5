"""``api4gpt doctor``: is the key right, the base URL a gateway, TLS fine, the clock sane, and
which task endpoints (and which of their candidate paths) does the gateway serve?

Only non-billable requests are sent: ``GET /v1/models`` for the key, then each family's
*status* queries with a made-up id (a job lookup costs nothing, a submit is never sent). An
answer with a JSON body — even 400 ``task_not_exist`` — came from a handler: the endpoint is
served there. An HTML page, a 404 that is not JSON, or the router's own JSON 404 for a path
it has no route for (``Invalid URL (GET /x)``, ``api_not_found``) means no handler took it; any
other JSON 404 is only *maybe*: a handler that does not know the made-up id, or a router's
"no such path" the SDK does not recognise. Each endpoint's row that the client *uses* is
marked: by the client's rule for candidate paths (``_paths``), the first candidate whose answer
is not proof that no handler took it (a "maybe" included); it never tries the ones after. The
report ends with the ``paths={...}`` to pass to ``AsyncAPI4GPT`` so that no probing is needed.

This talks HTTP itself (aiohttp), not through the client: it must see raw statuses, content
types, the ``Date`` header and the TLS session, which the client rightly hides.
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import json
import ssl
import time
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Final, Literal
from urllib.parse import urlsplit

import aiohttp
import attrs
import typer
from rich.table import Table

from .._paths import DEFAULT_PATHS, expand, no_handler_answered
from .._transport import DEFAULT_BASE_URL, base_url_hint, normalize_base_url
from ._app import ApiKey, BaseUrl, app, console
from ._errors import require_api_key, run

__all__ = ["PROBES", "Check", "Probe", "Report", "diagnose"]

#: The id every status probe asks for: no job has it, so the answer is "not found".
MADE_UP_ID: Final = "api4gpt-doctor-0000000000"
#: A server clock this far from ours (seconds) is reported.
MAX_SKEW: Final = 60.0

Verdict = Literal["ok", "warn", "fail", "skip"]
#: A JSON answer; a JSON 404 (the id unknown, or the path?); proof that no handler took it; no
#: answer or another one (a 5xx page, a timeout).
Served = Literal["served", "maybe", "not served", "unknown"]


@attrs.frozen
class ProbeSpec:
    """One non-billable request to an endpoint key: a status query of :data:`MADE_UP_ID`."""

    key: str
    method: Literal["GET", "POST"] = "GET"
    #: Where the id goes: the path (``{id}``), a query parameter, or a JSON list body.
    id_in: Literal["path", "query", "ids"] = "path"


#: One entry per family endpoint that can be asked without billing (status and list queries).
#: ``tests/cli/test_doctor.py`` checks that every task kind of the client has one.
PROBES: Final[tuple[ProbeSpec, ...]] = (
    ProbeSpec("luma.task", id_in="query"),
    ProbeSpec("lumvip.task", id_in="query"),
    ProbeSpec("midjourney.fetch"),
    ProbeSpec("midjourney.list_by_condition", "POST", id_in="ids"),
    ProbeSpec("midjourney.image_seed"),
    ProbeSpec("midjourney.queue"),
    ProbeSpec("suno.fetch"),
    ProbeSpec("suno.fetch_many", "POST", id_in="ids"),
    ProbeSpec("suno.v3_0.fetch"),
    ProbeSpec("suno.v3_5.fetch"),
    ProbeSpec("zhipu_video.result"),
    ProbeSpec("digital_human.task"),
)


@attrs.frozen(kw_only=True)
class Check:
    """One check's outcome: ``verdict`` ok / warn / fail / skip, and what was seen."""

    name: str
    verdict: Verdict
    detail: str


@attrs.frozen(kw_only=True)
class Probe:
    """What one candidate path of an endpoint answered, and whether the client sends that
    endpoint's requests there (``used``: see the module)."""

    key: str
    path: str
    served: Served
    answer: str
    used: bool = False


@attrs.frozen(kw_only=True)
class Report:
    base_url: str
    checks: list[Check]
    probes: list[Probe]
    #: What to pass as ``AsyncAPI4GPT(paths=...)``: the served path of each endpoint with
    #: candidates, and of its sibling endpoints (same position in their candidate lists).
    paths: dict[str, str]

    @property
    def ok(self) -> bool:
        return all(check.verdict != "fail" for check in self.checks)

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "base_url": self.base_url,
            "checks": [attrs.asdict(c) for c in self.checks],
            "endpoints": [attrs.asdict(p) for p in self.probes],
            "paths": self.paths,
        }


def _candidates(key: str) -> tuple[str, ...]:
    value = DEFAULT_PATHS[key]
    return (value,) if isinstance(value, str) else tuple(value)


def _describe(status: int, headers: Mapping[str, str], raw: bytes) -> tuple[Served, str]:
    content_type = headers.get("Content-Type", "").split(";")[0] or "no content type"
    if no_handler_answered(status, headers, raw):
        return "not served", f"{status} {content_type}"
    try:
        body = json.loads(raw)
    except ValueError:
        return "unknown", f"{status} {content_type}"
    code = None
    if isinstance(body, dict):
        error = body.get("error")
        code = body.get("code") or (error.get("code") if isinstance(error, dict) else None)
    answer = f"{status} JSON" + (f" ({code})" if code not in (None, "") else "")
    return ("maybe" if status == 404 else "served"), answer


class _Doctor:
    def __init__(self, session: aiohttp.ClientSession, base_url: str, api_key: str) -> None:
        self.session = session
        self.base_url = base_url
        self.headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}

    async def send(
        self, method: str, path: str, *, params: Any = None, json_body: Any = None
    ) -> tuple[int, Mapping[str, str], bytes, Any]:
        async with self.session.request(
            method, self.base_url + path, params=params, json=json_body, headers=self.headers,
            allow_redirects=False,
        ) as resp:  # fmt: skip
            raw = await resp.read()
            tls = None
            if resp.connection is not None and resp.connection.transport is not None:
                tls = resp.connection.transport.get_extra_info("ssl_object")
            return resp.status, resp.headers, raw, tls

    async def probe(self, spec: ProbeSpec) -> list[Probe]:
        results = []
        for template in _candidates(spec.key):
            path = expand(template, {"id": MADE_UP_ID}) if "{id}" in template else template
            params = {"id": MADE_UP_ID} if spec.id_in == "query" else None
            body = {"ids": [MADE_UP_ID]} if spec.id_in == "ids" else None
            try:
                status, headers, raw, _ = await self.send(
                    spec.method, path, params=params, json_body=body
                )
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                results.append(Probe(key=spec.key, path=template, served="unknown",
                                     answer=f"no answer ({type(exc).__name__})"))  # fmt: skip
                continue
            served, answer = _describe(status, headers, raw)
            results.append(Probe(key=spec.key, path=template, served=served, answer=answer))
        return _mark_used(results)


def _mark_used(candidates: list[Probe]) -> list[Probe]:
    """The probes of one endpoint, the one the client uses marked ``used``.

    The client's own rule (``_paths.request_path``): a single path is always used; among
    candidates, each is tried until an answer is not proof that no handler took it, and that
    path is kept (a JSON 404 included: it came from something that answers JSON).
    """
    for n, probe in enumerate(candidates):
        if len(candidates) == 1 or probe.served != "not served":
            return [*candidates[:n], attrs.evolve(probe, used=True), *candidates[n + 1 :]]
    return candidates  # no handler anywhere: every request fails with NotFoundError


def _check_base_url(base_url: str) -> tuple[Check, str | None]:
    try:
        root = normalize_base_url(base_url)
    except ValueError as exc:
        return Check(name="base URL", verdict="fail", detail=str(exc)), None
    url = urlsplit(root)
    detail = root + (" (the trailing /v1 is dropped)" if root != base_url.rstrip("/") else "")
    if url.scheme == "http" and not _is_loopback(url.hostname or ""):
        return Check(name="base URL", verdict="warn",
                     detail=f"{detail}: plain http sends your key unencrypted"), root  # fmt: skip
    return Check(name="base URL", verdict="ok", detail=detail), root


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_key(
    status: int, headers: Mapping[str, str], raw: bytes, not_found_hint: str = ""
) -> list[Check]:
    served, answer = _describe(status, headers, raw)
    if status == 404 and not_found_hint:  # a /V1 base URL: the transport's own hint
        detail = f"GET /v1/models: {answer}{not_found_hint}"
        return [Check(name="base URL reachable", verdict="fail", detail=detail)]
    if served == "not served" or "html" in headers.get("Content-Type", "").lower():
        hint = "an HTML page instead of JSON: is the base URL the API root, not a web page?"
        return [Check(name="base URL reachable", verdict="fail", detail=f"{answer}: {hint}")]
    reachable = Check(name="base URL reachable", verdict="ok", detail=f"GET /v1/models: {answer}")
    if status in (401, 403):
        return [reachable, Check(name="API key", verdict="fail", detail=f"refused ({answer})")]
    if status != 200 or served != "served":
        return [reachable, Check(name="API key", verdict="warn", detail=f"unexpected {answer}")]
    try:
        models = json.loads(raw).get("data") or []
    except (ValueError, AttributeError):
        models = []
    accepted = Check(name="API key", verdict="ok", detail=f"accepted; {len(models)} models")
    return [reachable, accepted]


def _check_tls(root: str, tls: Any) -> Check:
    if not root.startswith("https://"):
        return Check(name="TLS", verdict="skip", detail="plain http")
    if isinstance(tls, ssl.SSLObject):
        cert = tls.getpeercert() or {}
        expires = cert.get("notAfter")
        detail = f"{tls.version()}, certificate verified"
        detail += f", expires {expires}" if expires else ""
        return Check(name="TLS", verdict="ok", detail=detail)
    return Check(name="TLS", verdict="ok", detail="certificate verified")


def _check_clock(headers: Mapping[str, str], sent_at: float) -> Check:
    date = headers.get("Date")
    if not date:
        return Check(name="clock", verdict="skip", detail="the server sent no Date header")
    try:
        server = email.utils.parsedate_to_datetime(date)
    except (TypeError, ValueError):
        return Check(name="clock", verdict="skip", detail=f"unreadable Date header {date!r}")
    skew = server.timestamp() - sent_at
    if abs(skew) > MAX_SKEW:
        way = "behind" if skew > 0 else "ahead of"
        detail = f"this machine's clock is {abs(skew):.0f}s {way} the server's"
        return Check(name="clock", verdict="warn", detail=detail)
    return Check(name="clock", verdict="ok", detail=f"within {MAX_SKEW:.0f}s of the server")


def _recommend(probes: Sequence[Probe]) -> dict[str, str]:
    """``paths=`` for endpoints with candidates (siblings follow each): the first candidate
    whose answer was JSON, a 404 included, as the client would keep it."""
    paths: dict[str, str] = {}
    for probe in probes:
        candidates = _candidates(probe.key)
        if probe.served not in ("served", "maybe") or len(candidates) < 2 or probe.key in paths:
            continue
        index = candidates.index(probe.path)
        paths[probe.key] = probe.path
        family = probe.key.rpartition(".")[0]
        for key in DEFAULT_PATHS:
            siblings = _candidates(key)
            if key.rpartition(".")[0] == family and len(siblings) == len(candidates):
                paths.setdefault(key, siblings[index])
    return dict(sorted(paths.items()))


async def diagnose(
    *, base_url: str, api_key: str, timeout: float = 15.0, probes: Sequence[ProbeSpec] = PROBES
) -> Report:
    """Run every check and probe; never sends a billable request."""
    base_check, root = _check_base_url(base_url)
    checks = [base_check]
    if root is None:
        return Report(base_url=base_url, checks=checks, probes=[], paths={})
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with aiohttp.ClientSession(timeout=client_timeout) as session:
        doctor = _Doctor(session, root, api_key)
        sent_at = time.time()
        try:
            status, headers, raw, tls = await doctor.send("GET", _candidates("models")[0])
        except aiohttp.ClientConnectorCertificateError as exc:
            detail = f"certificate refused: {exc.certificate_error}"
            checks.append(Check(name="TLS", verdict="fail", detail=detail))
            return Report(base_url=root, checks=checks, probes=[], paths={})
        except aiohttp.ClientSSLError as exc:
            checks.append(Check(name="TLS", verdict="fail", detail=f"TLS failed: {exc}"))
            return Report(base_url=root, checks=checks, probes=[], paths={})
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            detail = f"cannot reach {root}: {type(exc).__name__} {exc}".strip()
            checks.append(Check(name="base URL reachable", verdict="fail", detail=detail))
            return Report(base_url=root, checks=checks, probes=[], paths={})
        checks.extend(_check_key(status, headers, raw, base_url_hint(root)))
        checks.append(_check_tls(root, tls))
        checks.append(_check_clock(headers, (sent_at + time.time()) / 2))
        results = await asyncio.gather(*(doctor.probe(spec) for spec in probes))
    found = [probe for group in results for probe in group]
    return Report(base_url=root, checks=checks, probes=found, paths=_recommend(found))


_STYLE: Final = {"ok": "green", "warn": "yellow", "fail": "red", "skip": "dim", "served": "green",
                 "maybe": "yellow", "not served": "red", "unknown": "yellow"}  # fmt: skip
#: Under the endpoints table: what "uses" and "maybe" mean.
LEGEND: Final = (
    "uses: the path the client sends that endpoint's requests to (the first candidate not proven "
    "unserved; the later ones are never tried). maybe: a JSON 404 that is not the router's "
    "'Invalid URL', from a handler that does not know the made-up id, or an unknown router."
)


def render(report: Report) -> None:
    checks = Table(title=f"api4gpt doctor: {report.base_url}", title_justify="left")
    for column in ("check", "result", "detail"):
        checks.add_column(column)
    for check in report.checks:
        style = _STYLE[check.verdict]
        checks.add_row(check.name, f"[{style}]{check.verdict}[/{style}]", check.detail)
    console.print(checks)
    if report.probes:
        table = Table(title="Task endpoints (status queries of a made-up id)", title_justify="left")
        for column in ("endpoint", "path", "answer", "served", "client"):
            table.add_column(column)
        for probe in report.probes:
            style = _STYLE[probe.served]
            served = f"[{style}]{probe.served}[/{style}]"
            used = "[bold]uses[/bold]" if probe.used else ""
            table.add_row(probe.key, probe.path, probe.answer, served, used)
        console.print(table)
        console.print(LEGEND, style="dim", highlight=False)
    if report.paths:
        console.print("Pin the paths this gateway answers at (no probing at run time):")
        console.print(f"  AsyncAPI4GPT(paths={report.paths!r})", markup=False, highlight=False)
    elif report.probes:
        console.print("No endpoint with candidate paths was found served: no paths= to pin.")


@app.command()
def doctor(
    base_url: BaseUrl = None,
    api_key: ApiKey = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds for each request.")] = 15.0,
) -> None:
    """Check the key, base URL, TLS and clock; find which task endpoints the gateway serves.

    Sends only non-billable requests (the model list and status queries of a made-up id).
    Exit code 1 when a check fails.
    """
    key = require_api_key(api_key)
    report = run(
        lambda: diagnose(base_url=base_url or DEFAULT_BASE_URL, api_key=key, timeout=timeout)
    )
    if as_json:
        console.print_json(json.dumps(report.as_json()))
    else:
        render(report)
    if not report.ok:
        raise typer.Exit(1)
