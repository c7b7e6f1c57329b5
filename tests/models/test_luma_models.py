"""Luma generations decode from every shape the two flavours send, losing nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from api4gpt_async import ResponseDecodeError
from api4gpt_async._convert import structure
from api4gpt_async.models.luma import LumaGeneration

#: The documented example of ``GET /luma/task`` (the seed page), ``data`` part.
SEED_EXAMPLE = {
    "id": "9ec64da6-daa0-43f1-b7ee-9875eeb5bd34",
    "prompt": "move",
    "state": "completed",
    "created_at": "2024-07-05T14:28:26.711000Z",
    "video": {
        "url": "https://filesystem.site/cdn/20240705/mla6YIE26rF8S2aH8le7kuaYZDeWiX.mp4",
        "width": 512,
        "height": 512,
        "thumbnail": None,
    },
    "liked": None,
    "estimate_wait_seconds": None,
}


def test_seed_example_decodes() -> None:
    gen = structure(SEED_EXAMPLE, LumaGeneration, request_id="rid-1")
    assert gen.id == "9ec64da6-daa0-43f1-b7ee-9875eeb5bd34"
    assert gen.state == "completed"
    assert gen.created_at == dt.datetime(2024, 7, 5, 14, 28, 26, 711000, tzinfo=dt.timezone.utc)
    assert gen.video is not None
    assert (gen.video.width, gen.video.height, gen.video.thumbnail) == (512, 512, None)
    assert gen.video_url == SEED_EXAMPLE["video"]["url"]  # type: ignore[index]
    assert gen.request_id == "rid-1"
    assert gen.raw == SEED_EXAMPLE


def test_goamz_flavour_extras_are_kept_and_typed_where_known() -> None:
    data = {
        **SEED_EXAMPLE,
        "video": {
            "url": None,
            "download_url": "https://cdn/x.mp4",
            "thumbnail": "https://cdn/t.jpg",
        },
        "thumbnail": {"url": "https://cdn/t.jpg", "width": 1360, "height": 752},
        "queue_state": None,
        "batch_id": "b-1",
        "last_frame": {"url": "https://cdn/last.jpg", "width": 1360, "height": 752},
        "video_raw": {"url": "https://cdn/raw.mp4", "width": 1360, "height": 752},
        "request": {"prompt": "move", "aspect_ratio": "16:9"},
    }
    gen = structure(data, LumaGeneration)
    assert gen.video_url == "https://cdn/x.mp4"  # falls back to download_url
    assert gen.video is not None and gen.video.thumbnail is not None
    assert gen.video.thumbnail.url == "https://cdn/t.jpg"  # a bare URL string is accepted
    assert gen.thumbnail is not None and gen.thumbnail.width == 1360
    assert gen.batch_id == "b-1"
    assert gen.last_frame is not None and gen.last_frame.url == "https://cdn/last.jpg"
    assert gen.video_raw is not None and gen.video_raw.url == "https://cdn/raw.mp4"
    assert gen.raw["request"] == {"prompt": "move", "aspect_ratio": "16:9"}


def test_lenient_values() -> None:
    gen = structure(
        {"id": 123, "state": "pending", "created_at": 1720189706, "estimate_wait_seconds": ""},
        LumaGeneration,
    )
    assert gen.id == "123"
    assert gen.estimate_wait_seconds is None
    assert gen.created_at == dt.datetime.fromtimestamp(1720189706, tz=dt.timezone.utc)
    assert gen.video_url is None


def test_unknown_state_is_kept_verbatim() -> None:
    assert structure({"id": "a", "state": "teleporting"}, LumaGeneration).state == "teleporting"


@pytest.mark.parametrize(
    "bad",
    [{"state": "pending"}, ["not", "an", "object"], {"id": "a", "video": "x", "liked": "yes"}],
)
def test_malformed_answers_raise_decode_error(bad: object) -> None:
    with pytest.raises(ResponseDecodeError) as info:
        structure(bad, LumaGeneration)
    assert info.value.body == bad


@pytest.mark.parametrize(("wire", "expected"), [(True, True), ("false", False), (0, False)])
def test_booleans_read_strictly(wire: object, expected: bool) -> None:
    assert structure({"id": "a", "liked": wire}, LumaGeneration).liked is expected


def test_a_string_that_is_not_a_boolean_is_an_error() -> None:
    with pytest.raises(ResponseDecodeError, match="liked"):
        structure({"id": "a", "liked": "maybe"}, LumaGeneration)
