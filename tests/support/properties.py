"""Hypothesis profiles: reproducible in CI, randomised on a developer's machine.

Imported by tests/conftest.py (so the profile is loaded before any test) and by property
tests for ``examples``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# --- property tests: reproducible in CI, randomised on a developer's machine ---------------
# "ci" (CI=true, as .ci/run sets): the same examples every run (derandomize), no example
# database, a failure printed with its reproduction blob.  "dev" (the default): random
# examples, failures remembered in .hypothesis/.  "fuzz" (HYPOTHESIS_PROFILE=fuzz, README
# "Reliability"): random and FUZZ_FACTOR times as many examples, for long runs by hand.
# HYPOTHESIS_PROFILE names a profile explicitly.
FUZZ_FACTOR = 50
_BASE = settings.get_profile("default")  # Hypothesis's own (its import may load "ci")
settings.register_profile("dev", _BASE, deadline=None)
settings.register_profile("ci", _BASE, derandomize=True, database=None, print_blob=True,
                          deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("fuzz", _BASE, deadline=None, max_examples=100 * FUZZ_FACTOR,
                          print_blob=True, suppress_health_check=[HealthCheck.too_slow])
_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if _CI else "dev"))


def examples(n: int) -> int:
    """A property test's example count: ``n``, or FUZZ_FACTOR times more under "fuzz"."""
    return n * FUZZ_FACTOR if settings.get_current_profile_name() == "fuzz" else n

