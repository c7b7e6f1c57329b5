"""An in-process fake of the API4GPT service, for tests, examples and offline demos.

```python
from api4gpt_async.testing import Emulator

async with Emulator(time_scale=0) as emu:  # serves http://127.0.0.1:<random port>
    ...  # point a client at emu.base_url with emu.api_key
    emu.advance(15)  # move the task clock: jobs progress without sleeping
    assert emu.count("luma.generate") == 1
```

See :class:`Emulator` for the clock, authentication, fault injection (:meth:`Emulator.fail`,
:meth:`Emulator.rate_limit`, :meth:`Emulator.delay`), the request log
(:attr:`Emulator.requests`, :class:`RecordedRequest`) and the route names they take
(:attr:`Emulator.routes`). Magic words in a prompt make it misbehave
on purpose: ``f"{Emulator.FAIL} a cat"`` makes a job fail, ``Emulator.STREAM_CUT`` cuts a stream
(see the list on :class:`Emulator`).
Run standalone (``api4gpt emulator``), it serves its request log to other processes at
``GET /_emulator/requests`` (optional ``route`` / ``path`` filters; the emulator's key required).
"""

from ._emulator import Emulator, Fault, RecordedRequest

__all__ = ["Emulator", "Fault", "RecordedRequest"]

for _public in (Emulator, Fault, RecordedRequest):
    _public.__module__ = __name__  # as re-exported
del _public
