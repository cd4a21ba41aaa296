"""Shared pytest configuration: the Hypothesis profiles.

``dev`` (the default) draws fresh examples on every run; ``ci`` is derandomized
(the same examples on every run, so CI is reproducible) and prints the blob that
reproduces a failure. Neither has a deadline: the property tests run numerical
code whose timing on a shared machine says nothing about correctness.

The ``ci`` profile is loaded when the environment variable ``CI`` is truthy (as
GitHub Actions and most CI services set it); otherwise ``HYPOTHESIS_PROFILE``
names the profile, defaulting to ``dev``.

The ``assert_gradients`` fixture is how the engine tests judge a gradient-check
report; it defers to ``numvae.course.properties``, where the properties live.
"""

import os

import pytest
from hypothesis import settings

from numvae.course.properties import report_within_tolerance

# Runs that the tests compare bit for bit (resume against an uninterrupted run,
# same seed twice) must use the same BLAS thread count, and numvae's default
# count follows the machine's load (numvae/training/threads.py), which may change
# between two runs. Tests that exercise that choice set the variable themselves.
os.environ.setdefault("NUMVAE_NUM_THREADS", "1")

settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile("ci", max_examples=100, deadline=None, derandomize=True, print_blob=True)


def _truthy(value):
    return value.strip().lower() not in ("", "0", "false", "no", "off")


settings.load_profile("ci" if _truthy(os.environ.get("CI", "")) else os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture
def assert_gradients(request):
    """Return ``check(report)``: the gradient property for a report (see ``report_within_tolerance``).

    Prints the worst parameter (visible with ``pytest -s``), so a run can list
    the relative error of every check.
    """

    def check(report, tolerance=1e-6):
        print(f"\nGRADCHECK {request.node.name} | worst {report.worst}")
        report_within_tolerance(report, tolerance)

    return check
