"""Running a property: fixed cases, or inputs drawn by Hypothesis and shrunk on failure.

Hypothesis is imported only here, and only when a randomized property runs,
so that importing numvae (and ``numvae train``) never pays for it. The
exercise checker runs derandomized (:func:`hypothesis_settings`): a student
and a lecturer see the same result.
"""

from .core import PropertyFailure

HYPOTHESIS_MISSING = (
    "this check needs the hypothesis package: pip install hypothesis (or pip install -e \".[test]\")"
)


def require_hypothesis():
    """Import hypothesis, or raise ImportError with the one-line install hint."""
    try:
        import hypothesis  # noqa: F401
        import hypothesis.extra.numpy  # noqa: F401
    except ImportError:
        raise ImportError(HYPOTHESIS_MISSING) from None
    return hypothesis


def _private_storage():
    """Keep Hypothesis's caches out of the student's working directory (a temporary one, once per process)."""
    import atexit
    import os
    import shutil
    import tempfile

    from hypothesis import configuration

    if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY") and not getattr(_private_storage, "done", False):
        home = tempfile.mkdtemp(prefix="numvae-hypothesis-")
        atexit.register(shutil.rmtree, home, True)
        configuration.set_hypothesis_home_dir(home)
        _private_storage.done = True


def hypothesis_settings(max_examples=50):
    """Derandomized settings for the exercise checker: a student and a lecturer see the same result.

    Nothing is stored: no example database, and Hypothesis's own caches go to a
    temporary directory instead of ``.hypothesis/`` in the working directory.
    """
    hypothesis = require_hypothesis()
    _private_storage()
    return hypothesis.settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        report_multiple_bugs=False,
        verbosity=hypothesis.Verbosity.quiet,
        suppress_health_check=list(hypothesis.HealthCheck),
        print_blob=False,
    )


def _label(failure, prop, inputs):
    failure.property = failure.property or prop.name
    if not failure.inputs:
        failure.inputs = {k: v for k, v in inputs.items() if k != "data"}
    if failure.hint is None:  # "": a failure whose cause is plain (a str returned), which no hint of the math explains
        failure.hint = prop.hint
    return failure


def verify(prop, impl, settings=None, case=None):
    """Check ``prop`` for ``impl``: every case (or just ``case``), or Hypothesis-drawn inputs.

    ``settings`` are Hypothesis settings (default: the loaded profile, as in
    the tests). Raises :class:`PropertyFailure` naming the property and the
    (shrunk) counterexample.
    """
    if prop.strategies is None:
        for inputs in [case] if case is not None else prop.cases:
            try:
                prop.check(impl, **inputs)
            except PropertyFailure as failure:
                raise _label(failure, prop, inputs) from None
        return
    hypothesis = require_hypothesis()
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    def run(**inputs):
        try:
            prop.check(impl, **inputs)
        except PropertyFailure as failure:
            raise _label(failure, prop, inputs) from None

    test = hypothesis.given(**prop.strategies(st, hnp))(run)
    for example in reversed(prop.examples):
        test = hypothesis.example(**example)(test)
    if settings is not None:
        test = settings(test)
    try:
        test()
    except hypothesis.errors.FlakyFailure as exc:
        inner = [e for e in exc.exceptions if isinstance(e, PropertyFailure)]
        failure = inner[0] if inner else PropertyFailure("failed once, then passed on the same input")
        failure.detail += " (the result changed between two runs on the same input: hidden randomness?)"
        raise failure from None
