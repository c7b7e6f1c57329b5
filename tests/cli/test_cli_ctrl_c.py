"""Ctrl-C ends a command with code 130 and ``error: interrupted`` (0 for a server), its
cleanup run, wherever the signal lands: on Python 3.10 too, where ``asyncio.run`` raises
``KeyboardInterrupt`` at any point and one raised inside an ``exec`` of source text (a
dataclass's methods being made) used to end the process killed by SIGINT (-2)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

#: A command, run by the CLI's own runner, that gets a SIGINT (``WHERE``) and then waits. It
#: runs with ``-m``, as the CLI does: only then does the exit code say how the process ended
#: (a script's ``sys.exit`` exits at once).
_COMMAND = textwrap.dedent(
    """
    import asyncio, signal, sys
    import typer
    from api4gpt_async.cli._errors import run

    WHERE, SERVER = sys.argv[1], sys.argv[2] == "server"

    async def command():
        try:
            if WHERE == "exec":  # as when a dataclass is made: its methods are exec'd source
                exec("import signal\\nsignal.raise_signal(signal.SIGINT)\\n")
            else:  # from the loop, between two callbacks
                asyncio.get_running_loop().call_soon(signal.raise_signal, signal.SIGINT)
            await asyncio.sleep(30)
        finally:
            print("cleaned up", flush=True)

    try:
        run(command, until_interrupted=SERVER)
    except typer.Exit as exit:
        sys.exit(exit.exit_code)
    """
)


@pytest.mark.parametrize("where", ["exec", "loop"])
@pytest.mark.parametrize(
    ("kind", "code", "stderr"),
    [("command", 130, "error: interrupted\n"), ("server", 0, "")],
)
def test_ctrl_c_ends_a_command_with_its_exit_code_wherever_it_lands(
    tmp_path: Path, where: str, kind: str, code: int, stderr: str
) -> None:
    (tmp_path / "ctrl_c_command.py").write_text(_COMMAND)
    path = os.pathsep.join([str(tmp_path), *filter(None, [os.environ.get("PYTHONPATH")])])
    result = subprocess.run(
        [sys.executable, "-m", "ctrl_c_command", where, kind],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "PYTHONPATH": path},
    )  # fmt: skip
    assert (result.returncode, result.stderr) == (code, stderr)
    assert result.stdout == "cleaned up\n"
