"""Hypothesis profiles, chosen with ``HYPOTHESIS_PROFILE``: ``dev`` (the default) and ``ci``
(derandomized, no example database) are bounded so the fuzzing runs in seconds; ``thorough``
tries twenty times as many examples, for a run by hand."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
}
settings.register_profile("dev", max_examples=100, **_COMMON)
settings.register_profile("ci", max_examples=100, derandomize=True, database=None, **_COMMON)
settings.register_profile("thorough", max_examples=2000, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
