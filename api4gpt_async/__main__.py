"""``python -m api4gpt_async`` is the ``api4gpt`` command."""

from .cli import main

main()
