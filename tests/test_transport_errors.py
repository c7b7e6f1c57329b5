"""How failures on the wire become SDK errors: each aiohttp exception class, envelopes, ids.

``map_client_error`` is the one place aiohttp's exceptions are mapped, so its table is checked
class by class; the classes a loopback server can provoke are then checked end to end, with the
number of attempts each took.
"""

from __future__ import annotations

import asyncio
import errno
import ssl
from typing import Any

import aiohttp
import pytest
from _loopback import serve
from aiohttp import web
from aiohttp.client_reqrep import ConnectionKey

from api4gpt_async import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AsyncAPI4GPT,
    BadRequestError,
    RetryPolicy,
    ServerError,
    SubmissionUncertainError,
)
from api4gpt_async._transport import map_client_error
from api4gpt_async.testing import Emulator

pytestmark = pytest.mark.anyio

_KEY = ConnectionKey(
    host="one.api4gpt.com", port=443, is_ssl=True, ssl=True, proxy=None, proxy_auth=None,
    proxy_headers_hash=None, server_hostname=None,
)  # fmt: skip
_REFUSED = ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")

#: Failures before a byte of the request left: safe to re-send, billable or not.
NEVER_SENT = [
    aiohttp.ClientConnectorError(_KEY, _REFUSED),
    aiohttp.ClientConnectorDNSError(_KEY, OSError(errno.ENOENT, "Name does not resolve")),
    aiohttp.ClientProxyConnectionError(_KEY, _REFUSED),
    aiohttp.ClientConnectorSSLError(_KEY, ssl.SSLError("handshake failed")),
    aiohttp.ClientConnectorCertificateError(_KEY, ssl.CertificateError("bad certificate")),
    aiohttp.ConnectionTimeoutError("Connection timeout to host"),
]
#: Failures after the request may have arrived: a billable one must not be re-sent.
MAYBE_SENT = [
    aiohttp.ServerDisconnectedError(),
    aiohttp.ClientPayloadError("Response payload is not completed"),
    aiohttp.ClientOSError(errno.ECONNRESET, "Connection reset by peer"),
    aiohttp.ClientConnectionResetError("Cannot write to closing transport"),
    aiohttp.ServerConnectionError("closed"),
]
#: Timeouts once connected (reading the answer): the deadline is spent.
READ_TIMEOUTS = [
    asyncio.TimeoutError(),
    aiohttp.SocketTimeoutError("Timeout on reading data from socket"),
    aiohttp.ServerTimeoutError("Timeout on reading data from socket"),
]


def _ids(excs: list[BaseException]) -> list[str]:
    return [type(e).__name__ for e in excs]


@pytest.mark.parametrize("billable", [False, True])
@pytest.mark.parametrize("exc", NEVER_SENT, ids=_ids(NEVER_SENT))
def test_failures_before_sending_say_so(exc: BaseException, billable: bool) -> None:
    err = map_client_error(exc, billable=billable, what="POST /x")
    assert err.request_sent is False
    assert not isinstance(err, SubmissionUncertainError)
    timeout = isinstance(exc, aiohttp.ConnectionTimeoutError)
    assert type(err) is (APITimeoutError if timeout else APIConnectionError)


@pytest.mark.parametrize("exc", MAYBE_SENT, ids=_ids(MAYBE_SENT))
def test_failures_after_sending_a_billable_request_are_uncertain(exc: BaseException) -> None:
    err = map_client_error(exc, billable=True, what="POST /x")
    assert type(err) is SubmissionUncertainError
    assert err.request_sent is True
    assert type(exc).__name__ in str(err)


@pytest.mark.parametrize("exc", MAYBE_SENT, ids=_ids(MAYBE_SENT))
def test_failures_after_sending_a_safe_request_are_plain(exc: BaseException) -> None:
    err = map_client_error(exc, billable=False, what="GET /x")
    assert type(err) is APIConnectionError
    assert err.request_sent is not False  # it may have arrived: never claimed unsent


@pytest.mark.parametrize("billable", [False, True])
@pytest.mark.parametrize("exc", READ_TIMEOUTS, ids=_ids(READ_TIMEOUTS))
def test_read_timeouts(exc: BaseException, billable: bool) -> None:
    err = map_client_error(exc, billable=billable, what="GET /x")
    assert err.request_sent is not False
    if billable:
        assert isinstance(err, (APITimeoutError, SubmissionUncertainError))
    else:
        assert type(err) is APITimeoutError
    assert "timed out" in str(err)


# -- the same, end to end ------------------------------------------------------------------------

_RETRY = RetryPolicy(max_retries=2, initial_delay=0.001, max_delay=0.001)


async def _cut_short(request: web.Request) -> web.StreamResponse:
    """Promise 1000 bytes, send 5 and hang up: aiohttp raises ClientPayloadError."""
    await request.read()
    response = web.StreamResponse(headers={"Content-Length": "1000"})
    response.content_type = "application/json"
    await response.prepare(request)
    await response.write(b'{"co')
    assert request.transport is not None
    request.transport.close()
    return response


async def test_a_body_cut_short_is_retried_for_a_query_and_uncertain_for_a_submit() -> None:
    app = web.Application()
    app.router.add_get("/luma/task", _cut_short)
    app.router.add_post("/luma/generations", _cut_short)
    async with serve(app) as url, AsyncAPI4GPT(api_key="k", base_url=url, retry=_RETRY) as client:
        with pytest.raises(APIConnectionError) as query:
            await client.lumvip.get("x")
        with pytest.raises(SubmissionUncertainError) as submit:
            await client.lumvip.generate("a fox")
    assert type(query.value) is APIConnectionError
    # aiohttp's error is summarised (its repr can hold our headers), never chained.
    assert "ClientPayloadError" in (query.value.cause_summary or "")
    assert query.value.__cause__ is None
    assert submit.value.request_sent is True
    assert "ClientPayloadError" in (submit.value.cause_summary or "")


async def test_a_read_timeout_on_a_submit_is_never_retried(
    client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    fault = emulator.delay("luma.generate", 30, times=None)
    with pytest.raises(APIConnectionError) as info:
        await client.luma.generate("a fox", timeout=0.3)
    assert isinstance(info.value, (APITimeoutError, SubmissionUncertainError))
    assert info.value.request_sent is not False
    assert fault.hits == 1  # one attempt reached the server, and no other was sent


# -- envelopes: every success code unwraps, anything else raises --------------------------------

GENERATION = {"id": "gen-1", "state": "completed", "created_at": "2024-07-05T14:28:26.000Z"}


@pytest.mark.parametrize("code", ["success", 200, 0, "200", "0"])
async def test_every_envelope_success_code_unwraps(
    code: object, client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    emulator.fail("lumvip.task", status=200, body={"code": code, "message": "", "data": GENERATION})
    generation = await client.lumvip.get("gen-1")
    assert (generation.id, generation.state) == ("gen-1", "completed")
    emulator.fail(
        "lumvip.generate", status=200, body={"code": code, "message": "", "data": GENERATION}
    )
    handle = await client.lumvip.generate("a fox")
    assert handle.id == "gen-1"


@pytest.mark.parametrize(
    "code", ["quota_not_enough", "fail", "error", "SUCCESS ", -1, 1, "", None, False, True]
)
async def test_a_failed_envelope_raises(
    code: object, client: AsyncAPI4GPT, emulator: Emulator
) -> None:
    body = {"code": code, "message": "余额不足", "data": GENERATION}
    emulator.fail("lumvip.task", status=200, body=body)
    with pytest.raises(APIError) as info:
        await client.lumvip.get("gen-1")
    assert info.value.code == (None if code == "" else code)  # "" reads as absent
    assert "余额不足" in str(info.value)
    assert emulator.count("lumvip.task") == 1


# -- request ids, end to end: each source alone -------------------------------------------------


def _answering(status: int, body: Any, headers: dict[str, str]) -> web.Application:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response(body, status=status, headers=headers)

    app = web.Application()
    app.router.add_get("/luma/task", handler)
    return app


@pytest.mark.parametrize(
    ("headers", "expected"),
    [({"X-Request-Id": "rid-plain"}, "rid-plain"), ({"X-Oneapi-Request-Id": "rid-one"}, "rid-one")],
)
async def test_a_model_takes_its_request_id_from_either_header(
    headers: dict[str, str], expected: str
) -> None:
    app = _answering(200, {"code": "success", "data": GENERATION}, headers)
    async with serve(app) as url, AsyncAPI4GPT(api_key="k", base_url=url) as client:
        generation = await client.lumvip.get("gen-1")
    assert generation.request_id == expected


@pytest.mark.parametrize(("status", "cls"), [(400, BadRequestError), (503, ServerError)])
@pytest.mark.parametrize(
    ("headers", "message", "expected"),
    [
        ({"X-Request-Id": "rid-plain"}, "bad", "rid-plain"),
        ({"X-Oneapi-Request-Id": "rid-one"}, "bad", "rid-one"),
        ({}, "bad (request id: rid-in-message)", "rid-in-message"),
    ],
)
async def test_an_error_takes_its_request_id_from_each_source(
    status: int, cls: type[APIError], headers: dict[str, str], message: str, expected: str
) -> None:
    body = {"error": {"message": message, "type": "new_api_error", "code": "x"}}
    retry = RetryPolicy.disabled()
    app = _answering(status, body, headers)
    async with serve(app) as url, AsyncAPI4GPT(api_key="k", base_url=url, retry=retry) as client:
        with pytest.raises(cls) as info:
            await client.lumvip.get("gen-1")
    assert info.value.request_id == expected
