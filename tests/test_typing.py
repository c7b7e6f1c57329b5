"""Types that serve the IDE: real upload types, ``gather`` overloads, narrowing outcomes, typed
re-attach. The static half is ``tests/typing/check_types.py``, checked here by mypy (and by
pyright in ``.ci/run``)."""

from __future__ import annotations

import sys
import typing
from pathlib import Path
from typing import Any

import pytest

from api4gpt_async import AsyncAPI4GPT, TaskOutcome
from api4gpt_async._uploads import FileContent, FileInput
from api4gpt_async.models.luma import LumaGeneration
from api4gpt_async.tasks import TaskNotSucceeded, TaskSucceeded
from api4gpt_async.testing import Emulator

pytestmark = pytest.mark.anyio

CHECKS = Path(__file__).parent / "typing" / "check_types.py"


@pytest.mark.parametrize("alias", [FileInput, FileContent])
def test_upload_types_are_real_types_not_strings(alias: Any) -> None:
    assert not isinstance(alias, str)
    members = typing.get_args(alias)
    assert bytes in members and memoryview in members


def test_the_static_checks_pass_under_mypy() -> None:
    mypy_api = pytest.importorskip("mypy.api")
    # mypy raises the process's recursion limit to 16,384: put it back for the tests after.
    limit = sys.getrecursionlimit()
    try:
        out, err, status = mypy_api.run(["--strict", "--no-error-summary", str(CHECKS)])
    finally:
        sys.setrecursionlimit(limit)
    assert status == 0, out + err


async def test_outcomes_are_one_of_two_classes(emulator: Emulator, make_client: Any) -> None:
    async with make_client() as client:
        handles = [await client.luma.generate(p) for p in ("a", f"b {Emulator.FAIL}")]
        emulator.advance(60)
        outcomes = sorted(
            [o async for o in client.tasks.as_completed(handles)], key=lambda o: o.index
        )
    good, bad = outcomes
    assert isinstance(good, TaskSucceeded) and isinstance(good, TaskOutcome)
    assert good.ok is True and good.error is None and isinstance(good.result, LumaGeneration)
    assert isinstance(bad, TaskNotSucceeded) and isinstance(bad, TaskOutcome)
    assert bad.ok is False and bad.result is None and bad.error is not None


async def test_gather_returns_results_and_in_place_errors(
    emulator: Emulator, make_client: Any
) -> None:
    async with make_client() as client:
        ok = [await client.luma.generate(p) for p in ("a", "b")]
        mixed = [*ok, await client.lumvip.generate(f"c {Emulator.FAIL}")]
        emulator.advance(60)
        results = await client.tasks.gather(ok)
        assert [type(r) for r in results] == [LumaGeneration, LumaGeneration]
        with_errors = await client.tasks.gather(mixed, return_exceptions=True)
        assert isinstance(with_errors[2], BaseException)


@pytest.mark.parametrize("form", ["mapping", "json", "short", "json-with-bom", "short-with-bom"])
async def test_resume_from_any_printed_ref_with_a_result_type(
    emulator: Emulator, client: AsyncAPI4GPT, form: str
) -> None:
    handle = await client.lumvip.generate("a cat")
    ref: Any = {
        "mapping": handle.ref,
        "json": f'{{"kind": "lumvip", "id": "{handle.id}"}}',
        "short": f"lumvip:{handle.id}",
        # Read back from a file a Windows editor saved: a BOM first.
        "json-with-bom": f'\ufeff{{"kind": "lumvip", "id": "{handle.id}"}}',
        "short-with-bom": f"\ufefflumvip:{handle.id}",
    }[form]
    again = client.tasks.resume(ref, LumaGeneration)
    assert (again.kind, again.id) == ("lumvip", handle.id)
    emulator.advance(60)
    assert isinstance(await again.wait(timeout=5), LumaGeneration)


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("lumvip", "kind:id"),
        ("lumvip:", "kind:id"),
        ('{"kind": ', r"invalid JSON \(Expecting value\)$"),  # json's words, no position
        pytest.param(
            '{"kind": ' + "[" * 100_000,
            r"invalid JSON \(nested too deeply to read\)$",
            id="too-deep-to-read",
        ),
        ("nope:1", "unknown task kind"),
        ({"kind": "luma"}, "not a task ref"),
    ],
)
async def test_a_malformed_ref_is_a_value_error(
    client: AsyncAPI4GPT, ref: Any, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        client.tasks.resume(ref)
