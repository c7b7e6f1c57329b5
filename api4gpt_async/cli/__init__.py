"""The ``api4gpt`` command. Built on the public API only; needs the ``cli`` extra."""

from __future__ import annotations

import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    try:
        from . import _avatar, _doctor, _suno, _zhipu  # noqa: F401  (each adds its commands)
        from ._app import app
        from ._batch import batch_app  # noqa: F401  (importing it adds `api4gpt batch`)
        from ._midjourney import mj_app  # noqa: F401  (importing it adds `api4gpt mj`)
    except ImportError as exc:  # rich / typer are optional
        sys.stderr.write(
            f"the api4gpt command needs the 'cli' extra ({exc.name} is missing):\n"
            "    pip install 'api4gpt-async[cli]'\n"
        )
        raise SystemExit(2) from None
    app(args=argv, prog_name="api4gpt")
