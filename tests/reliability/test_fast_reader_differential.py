"""The converter's fast reader against its generic path, on random answers of every model.

For valid answers (every field type's usual and unusual wire forms), the same with fields
dropped, added and given values of any type, and camelCase models' answers in either spelling:
whatever the fast reader returns equals, field by field all the way down, what the generic path
reads (``raw`` the very object sent), and ``structure`` gives the generic path's value or its
error message, whichever reader took the answer.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from _same import same
from hypothesis import given
from hypothesis import strategies as st

from api4gpt_async import AsyncAPI4GPT, ResponseDecodeError
from api4gpt_async._convert import _fast_by_class, structure
from api4gpt_async.models._base import Model
from api4gpt_async.models.chat import ChatCompletion, ChatCompletionChunk
from api4gpt_async.testing._workloads import WORKLOADS

from .test_fuzz_decoders import (
    MODELS,
    PER_CASE,
    json_values,
    service_of,
    spoiled_object,
    valid_object,
)


@contextmanager
def _generic_only(cls: type[Any]) -> Iterator[None]:
    """``structure`` without the fast reader of ``cls`` (nested models are then read by the
    generic hooks too)."""
    fast = _fast_by_class[cls]
    _fast_by_class[cls] = None
    try:
        yield
    finally:
        _fast_by_class[cls] = fast


def _outcome(data: Any, cls: type[Any]) -> tuple[str, Any]:
    try:
        return "ok", structure(data, cls, request_id="rid")
    except ResponseDecodeError as exc:
        return "error", str(exc)


@st.composite
def _spellings(draw: st.DrawFn, answer: Any, cls: type[Any]) -> Any:
    """A camelCase model's answer in its wire spelling (``imageUrl``), in snake_case, or mixed."""
    wire_keys = cls.__dict__.get("_wire_keys")
    if wire_keys is None or not isinstance(answer, dict):
        return answer
    camel_of = {name: camel for camel, name in wire_keys.renames.items()}
    mode = draw(st.sampled_from(["wire", "snake_case", "mixed"]))
    return {
        camel_of[key]
        if key in camel_of and (mode == "wire" or (mode == "mixed" and draw(st.booleans())))
        else key: value
        for key, value in answer.items()
    }


@st.composite
def _blanks(draw: st.DrawFn, answer: dict[str, Any]) -> dict[str, Any]:
    """A valid answer with some fields null or ``""`` (the gateways' "none")."""
    blank = draw(st.sets(st.sampled_from(sorted(answer)))) if answer else set()
    return {k: draw(st.sampled_from([None, ""])) if k in blank else v for k, v in answer.items()}


@st.composite
def _elsewhere(draw: st.DrawFn, answer: Any, cls: type[Any]) -> Any:
    """A ``read_with_fallbacks`` model's answer with some fields moved to where its fallbacks
    look (a Suno clip's ``metadata``, ``clip_id`` for ``id``), the own key then absent, null,
    ``""`` or kept; the nested object sometimes no object at all."""
    fallbacks = cls.__dict__.get("_fallbacks")
    if fallbacks is None or not isinstance(answer, dict):
        return answer
    out, nested = dict(answer), {}
    movable = sorted(fallbacks.nested_fields | set(fallbacks.aliases))
    for name in draw(st.sets(st.sampled_from(movable))):
        value = out.pop(name, draw(json_values))
        if name in fallbacks.nested_fields and (
            name not in fallbacks.aliases or draw(st.booleans())
        ):
            nested[name] = value
        else:
            out[fallbacks.aliases[name]] = value
        own = draw(st.sampled_from(["absent", None, "", "kept"]))
        if own == "kept":
            out[name] = value
        elif own != "absent":
            out[name] = own
    if fallbacks.nested is not None:
        out[fallbacks.nested] = draw(st.sampled_from([nested, nested, None, "x", [nested]]))
    return out


def _answers(cls: type[Model]) -> st.SearchStrategy[Any]:
    shapes = valid_object(cls) | valid_object(cls).flatmap(_blanks) | spoiled_object(cls)
    return shapes.flatmap(lambda a: _spellings(a, cls)).flatmap(lambda a: _elsewhere(a, cls))


def _status_models() -> set[type[Any]]:
    client = AsyncAPI4GPT(api_key="sk-fuzz", base_url="http://127.0.0.1:9")
    tasks = [w for w in WORKLOADS if w.shape == "task"]
    return {service_of(client, w).status_model for w in tasks}


def test_every_status_model_and_the_chat_answers_have_a_fast_reader() -> None:
    models = {ChatCompletion, ChatCompletionChunk, *_status_models()}
    assert len(models) >= 7  # chat, chunk, Luma, Midjourney, Suno, Zhipu, digital human
    for cls in models:
        with contextlib.suppress(ResponseDecodeError):
            structure({}, cls)
    assert [cls.__name__ for cls in models if _fast_by_class[cls] is None] == []


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
@PER_CASE
@given(data=st.data())
def test_the_fast_reader_reads_what_the_generic_path_reads(
    cls: type[Model], data: st.DataObject
) -> None:
    answer = data.draw(_answers(cls))
    got = _outcome(answer, cls)
    with _generic_only(cls):
        expected = _outcome(answer, cls)
    assert got[0] == expected[0], answer
    if got[0] == "ok":
        same(got[1], expected[1])
        assert got[1].raw is answer
    else:
        assert got[1] == expected[1]
    fast = _fast_by_class[cls]
    if fast is None:  # a model read by a custom hook (lenient, bare URL): the generic path only
        return
    try:
        direct = fast(answer, "rid")
    except Exception:  # not the fast reader's shape: structure read it by the generic path
        return
    assert expected[0] == "ok", answer
    same(direct, expected[1])
