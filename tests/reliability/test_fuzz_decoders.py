"""Fuzzing the decoders: only SDK errors escape, and valid answers always decode.

- every model class in ``api4gpt_async.models``: valid examples generated from its field types
  decode (and keep ``raw``); the same with fields missing, extra and wrongly typed, or any JSON
  at all, decodes or raises ``ResponseDecodeError``; every property of a decoded model reads;
- every task family's reader (snapshot, result, media files) on fuzzed statuses;
- the error decoders (``error_from_response`` / ``_envelope`` / ``_event``) on any body;
- every envelope and answer through the wire: random bodies and statuses served by the
  emulator for each family's status query and submit, chats and streams;
- the SSE decoder: a valid stream split at random points gives the same events; garbage never
  raises.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import importlib
import json
import pkgutil
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import api4gpt_async.models
from api4gpt_async import API4GPTError, AsyncAPI4GPT, RetryPolicy
from api4gpt_async._convert import structure
from api4gpt_async._sse import ServerSentEvent, SSEDecoder
from api4gpt_async._transport import unwrap_envelope
from api4gpt_async.errors import (
    APIError,
    APIStatusError,
    ResponseDecodeError,
    error_from_envelope,
    error_from_event,
    error_from_response,
)
from api4gpt_async.models._base import Model
from api4gpt_async.models.midjourney import MidjourneySubmitResult, MidjourneyTask
from api4gpt_async.testing import Emulator
from api4gpt_async.testing._workloads import WORKLOADS, Workload


def service_of(client: AsyncAPI4GPT, workload: Workload) -> Any:
    """``client.suno.v3_5`` for the workload ``"suno.v3_5"``."""
    return functools.reduce(getattr, workload.name.split("."), client)


# -- strategies ------------------------------------------------------------------------------


def _json(floats: st.SearchStrategy[float]) -> st.SearchStrategy[Any]:
    leaves = st.none() | st.booleans() | st.integers() | floats | st.text(max_size=6)
    return st.recursive(
        leaves,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
        ),
        max_leaves=6,
    )


#: Any JSON, NaN and infinities included (json.loads accepts them).
json_values = _json(st.floats())
#: JSON a valid answer may carry where a model takes anything (NaN never equals itself).
finite_json_values = _json(st.floats(allow_nan=False))


def _models() -> list[type[Model]]:
    found = []
    for info in pkgutil.iter_modules(api4gpt_async.models.__path__):
        module = importlib.import_module(f"api4gpt_async.models.{info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Model)
                and value is not Model
                and value.__module__ == module.__name__
            ):
                found.append(value)
    return found


MODELS = _models()
#: Examples per model and test: the profile's budget spread over the many models.
PER_MODEL = settings(max_examples=max(5, settings.default.max_examples // 20))
#: Examples per family or per call, for the costlier cases (deep statuses, a request each).
PER_CASE = settings(max_examples=max(10, settings.default.max_examples // 4))


def _wire_fields(cls: type[Model]) -> Iterator[tuple[attrs.Attribute[Any], Any]]:
    """The fields read from the wire, with their resolved types."""
    hints = typing.get_type_hints(cls)
    for field in attrs.fields(cls):
        if field.name in ("raw", "request_id") or not field.init or field.name.startswith("_"):
            continue
        yield field, hints[field.name]


def valid(tp: Any) -> st.SearchStrategy[Any]:
    """Wire values that a field of type ``tp`` must accept."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(st.none() if a is type(None) else valid(a) for a in args))
    if origin is typing.Literal:
        return st.sampled_from(args)
    if origin in (list, typing.List):  # noqa: UP006
        return st.lists(valid(args[0]), max_size=2)
    if origin in (dict, Mapping) or tp in (dict, Mapping):
        return st.dictionaries(st.text(max_size=4), finite_json_values, max_size=2)
    if tp is Any:
        return finite_json_values
    if tp is str:
        return st.text(max_size=8) | st.integers()  # ids arrive as numbers too
    if tp is bool:
        return st.booleans()
    if tp is int:
        return st.integers(-(2**53), 2**53)
    if tp is float:
        return st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**53), 2**53)
    if tp is dt.datetime:
        moments = st.datetimes(
            min_value=dt.datetime(1971, 1, 1), max_value=dt.datetime(2200, 1, 1),
            timezones=st.just(dt.timezone.utc),
        )  # fmt: skip
        return moments.map(lambda m: m.isoformat().replace("+00:00", "Z")) | moments.map(
            lambda m: int(m.timestamp())
        )
    if isinstance(tp, type) and issubclass(tp, Model):
        return valid_object(tp)
    raise NotImplementedError(f"no strategy for {tp!r}")


def valid_object(cls: type[Model]) -> st.SearchStrategy[dict[str, Any]]:
    required: dict[str, st.SearchStrategy[Any]] = {}
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for field, tp in _wire_fields(cls):
        (optional if field.default is not attrs.NOTHING else required)[field.name] = st.deferred(
            lambda tp=tp: valid(tp)
        )
    return st.fixed_dictionaries(required, optional=optional)


@st.composite
def spoiled_object(draw: st.DrawFn, cls: type[Model]) -> Any:
    """A valid object with fields dropped, added and given values of any type."""
    obj = dict(draw(valid_object(cls)))
    names = [field.name for field, _ in _wire_fields(cls)]
    for name in draw(st.lists(st.sampled_from(names), max_size=3)) if names else []:
        if draw(st.booleans()):
            obj.pop(name, None)
        else:
            obj[name] = draw(json_values)
    obj.update(draw(st.dictionaries(st.text(max_size=8), json_values, max_size=2)))
    return obj


#: Properties documented to raise something else when the answer lacks what they read.
DOCUMENTED_RAISES: Mapping[tuple[type[Any], str], type[Exception]] = {
    (MidjourneySubmitResult, "task_id"): ValueError,  # the service turns it into a decode error
}


def _read_properties(obj: Any) -> None:
    """Read every property: each gives a value or raises an SDK error (or its documented
    error)."""
    for name, value in vars(type(obj)).items():
        if isinstance(value, property):
            allowed = DOCUMENTED_RAISES.get((type(obj), name), API4GPTError)
            with contextlib.suppress(API4GPTError, allowed):
                getattr(obj, name)


def _decode_or_refuse(data: Any, cls: type[Model]) -> Model | None:
    """``structure`` decodes ``data`` or raises ``ResponseDecodeError``, nothing else."""
    try:
        obj = structure(data, cls)
    except ResponseDecodeError:
        return None
    _read_properties(obj)
    return obj


# -- models ----------------------------------------------------------------------------------


def test_every_model_is_fuzzed() -> None:
    assert len(MODELS) >= 30
    for cls in MODELS:
        valid_object(cls)  # a strategy exists for every field type


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
@PER_MODEL
@given(data=st.data())
def test_valid_answers_decode(cls: type[Model], data: st.DataObject) -> None:
    wire = data.draw(valid_object(cls))
    obj = structure(json.loads(json.dumps(wire)), cls)
    assert obj.raw == wire
    _read_properties(obj)


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
@PER_MODEL
@given(data=st.data())
def test_spoiled_answers_decode_or_raise_decode_errors(
    cls: type[Model], data: st.DataObject
) -> None:
    _decode_or_refuse(data.draw(spoiled_object(cls) | json_values), cls)


# -- task family readers -----------------------------------------------------------------------


def _families() -> list[Any]:
    client = AsyncAPI4GPT(api_key="sk-fuzz", base_url="http://127.0.0.1:9")
    tasks = [w for w in WORKLOADS if w.shape == "task"]
    return [service_of(client, w)._kind for w in tasks]


@pytest.mark.parametrize("kind", _families(), ids=lambda k: k.name)
@PER_CASE
@given(data=st.data())
def test_family_readers_take_any_status(kind: Any, data: st.DataObject) -> None:
    cls = kind.family.status_model
    status = _decode_or_refuse(data.draw(spoiled_object(cls)), cls)
    if status is None:
        return
    try:
        snap = kind.snapshot("job-1", status)
        if snap.state.terminal:
            result = kind.result(status)
            kind.media_urls(result)
    except API4GPTError:
        pass


# -- error decoders --------------------------------------------------------------------------

raw_bodies = (
    json_values.map(lambda v: json.dumps(v).encode())
    | st.binary(max_size=64)
    | st.text(max_size=64).map(lambda t: f"<html><title>{t}</title></html>".encode())
)


@given(status=st.integers(300, 599), raw=raw_bodies, rid=st.none() | st.text(max_size=8))
def test_error_from_response_types_any_body(status: int, raw: bytes, rid: str | None) -> None:
    headers = {"X-Oneapi-Request-Id": rid} if rid else {}
    error = error_from_response(status, headers, raw)
    assert isinstance(error, APIStatusError)
    str(error)
    repr(error)


@given(body=st.dictionaries(st.text(max_size=8), json_values, max_size=5) | json_values)
def test_error_from_envelope_and_event_type_any_body(body: Any) -> None:
    if isinstance(body, dict):
        assert isinstance(error_from_envelope(body, None), APIError)
    error = error_from_event(body, None)
    assert isinstance(error, APIError)
    str(error)


# -- SSE --------------------------------------------------------------------------------------

sse_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=30
)
sse_events = st.lists(
    st.tuples(st.none() | sse_text.filter(bool), st.lists(sse_text, min_size=1, max_size=3)),
    max_size=6,
)
line_ends = st.sampled_from(["\n", "\r\n", "\r"])


def _feed_all(decoder: SSEDecoder, chunks: list[bytes]) -> list[ServerSentEvent]:
    events: list[ServerSentEvent] = []
    for chunk in chunks:
        events += decoder.feed(chunk)
    return events + decoder.flush()


def _split(raw: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(raw)) for c in cuts})
    return [raw[a:b] for a, b in zip([0, *points], [*points, len(raw)], strict=True)]


@given(events=sse_events, eol=line_ends, cuts=st.lists(st.integers(0, 2000), max_size=12))
def test_sse_split_anywhere_gives_the_same_events(
    events: list[tuple[str | None, list[str]]], eol: str, cuts: list[int]
) -> None:
    text = ": PING" + eol + eol
    for name, lines in events:
        if name is not None:
            text += f"event: {name}{eol}"
        text += "".join(f"data: {line}{eol}" for line in lines) + eol
    raw = text.encode()
    got = _feed_all(SSEDecoder(), _split(raw, cuts))
    assert [(e.event, e.data) for e in got] == [(n, "\n".join(lines)) for n, lines in events]
    assert got == _feed_all(SSEDecoder(), [raw])


@given(chunks=st.lists(st.binary(max_size=40), max_size=8))
def test_sse_garbage_never_raises(chunks: list[bytes]) -> None:
    for event in _feed_all(SSEDecoder(), chunks):
        assert isinstance(event.data, str)


# -- what the fuzzing found ---------------------------------------------------------------------


@pytest.mark.parametrize("code", [[], {}, [200], {"success": 1}, 0.0, False, True, None])
def test_an_envelope_whose_code_is_not_a_string_or_number_is_a_failure(code: Any) -> None:
    # Found by test_any_answer_raises_only_sdk_errors: {"data": null, "code": []} raised
    # TypeError (unhashable) while unwrapping; False and 0.0 passed as success codes.
    with pytest.raises(APIError) as caught:
        unwrap_envelope({"code": code, "data": {"id": "x"}}, {})
    assert caught.value.code == code


@pytest.mark.parametrize("code", [[], {}, [1], True, 1.0])
def test_a_midjourney_answer_whose_code_is_not_a_string_or_number_is_a_failure(code: Any) -> None:
    # Found by test_any_answer_raises_only_sdk_errors: {"code": []} raised TypeError.
    with pytest.raises(APIError):
        unwrap_envelope({"code": code, "result": "1"}, {}, style="midjourney")


@pytest.mark.parametrize("ms", [-62_135_596_800_001, 10**20, -(10**20)])
def test_a_midjourney_time_no_datetime_can_hold_reads_as_unknown(ms: int) -> None:
    # Found by test_family_readers_take_any_status: submitTime -62135596800001 raised
    # ValueError ("year 0 is out of range") from the submitted_at property.
    task = structure({"id": "1", "submitTime": ms, "startTime": ms}, MidjourneyTask)
    assert (task.submitted_at, task.started_at) == (None, None)


# -- every envelope and answer, through the wire ----------------------------------------------

answers = st.tuples(
    st.sampled_from([200, 200, 200, 201, 400, 404, 429, 500, 502, 503]),
    raw_bodies
    | st.dictionaries(
        st.sampled_from(["code", "message", "data", "error", "msg"]), json_values
    ).map(lambda v: json.dumps(v).encode()),
    st.sampled_from(["application/json", "text/html", "text/plain", "text/event-stream"]),
)


def _calls() -> list[tuple[str, str, Callable[[AsyncAPI4GPT], Any]]]:
    """(name, emulator route, call) for every status query and submit of every workload."""
    calls: list[tuple[str, str, Callable[[AsyncAPI4GPT], Any]]] = []
    for workload in WORKLOADS:
        route = sorted(workload.routes)[0]

        async def submit(client: AsyncAPI4GPT, workload: Any = workload) -> Any:
            answer = await workload.submit(client, "fuzz")
            if workload.shape == "stream":
                async with answer as stream:
                    async for _chunk in stream:
                        pass

        calls.append((f"{workload.name}-submit", route, submit))
        if workload.status_route is not None:

            async def query(client: AsyncAPI4GPT, workload: Any = workload) -> Any:
                return await service_of(client, workload).get("job-1")

            calls.append((f"{workload.name}-query", workload.status_route, query))
    return calls


@pytest.fixture(scope="module")
def wire() -> Iterator[tuple[asyncio.AbstractEventLoop, Emulator, AsyncAPI4GPT]]:
    # One loop for every example (asyncio.Runner would do, from Python 3.11).
    loop = asyncio.new_event_loop()
    try:
        emu = Emulator(time_scale=0)
        loop.run_until_complete(emu.start())
        client = emu.client(retry=RetryPolicy.disabled(), timeout=5)
        try:
            yield loop, emu, client
        finally:
            loop.run_until_complete(client.aclose())
            loop.run_until_complete(emu.stop())
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


@pytest.mark.parametrize(
    ("name", "route", "call"), _calls(), ids=lambda v: v if isinstance(v, str) else ""
)
@PER_CASE
@given(answer=answers)
def test_any_answer_raises_only_sdk_errors(
    wire: tuple[asyncio.AbstractEventLoop, Emulator, AsyncAPI4GPT],
    name: str,
    route: str,
    call: Callable[[AsyncAPI4GPT], Any],
    answer: tuple[int, bytes, str],
) -> None:
    loop, emu, client = wire
    status, body, content_type = answer
    emu.clear_faults()
    emu.fail(route, status=status, body=body, headers={"Content-Type": content_type})

    async def attempt() -> None:
        with contextlib.suppress(API4GPTError):
            await call(client)

    loop.run_until_complete(attempt())
