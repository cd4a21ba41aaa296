"""Shared pytest configuration: the Hypothesis profiles.

``dev`` (the default) draws fresh examples on every run; ``ci`` is derandomized
(the same examples on every run, so CI is reproducible) and prints the blob that
reproduces a failure. Neither has a deadline: the property tests run numerical
code whose timing on a shared machine says nothing about correctness.

The ``ci`` profile is loaded when the environment variable ``CI`` is truthy (as
GitHub Actions and most CI services set it); otherwise ``HYPOTHESIS_PROFILE``
names the profile, defaulting to ``dev``.

The ``assert_gradients`` fixture is how the engine tests judge a gradient check.
"""

import math
import os

import pytest
from hypothesis import settings

settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile("ci", max_examples=100, deadline=None, derandomize=True, print_blob=True)


def _truthy(value):
    return value.strip().lower() not in ("", "0", "false", "no", "off")


settings.load_profile("ci" if _truthy(os.environ.get("CI", "")) else os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture
def assert_gradients(request):
    """Return ``check(report)``: assert a gradient-check report is within tolerance.

    Prints the worst parameter (visible with ``pytest -s``), so a run can list
    the relative error of every check. Every error must also be finite: a NaN
    error means a NaN or infinite gradient, which must never pass.
    """

    def check(report, tolerance=1e-6):
        print(f"\nGRADCHECK {request.node.name} | worst {report.worst}")
        errors = [c.relative_error for c in report.checks]
        assert all(math.isfinite(e) for e in errors), f"non-finite relative error:\n{report}"
        report.assert_close(tolerance)

    return check
