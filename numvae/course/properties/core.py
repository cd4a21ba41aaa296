r"""The machinery of properties: failures, guarded calls, gradient checks (the runner is :mod:`.runner`).

A gradient check here is numvae's own (:mod:`numvae.gradcheck`): central
differences in float64 with step h = 1e-5, relative error = worst absolute
disagreement over the largest gradient entry, tolerance 1e-6 (a correct
backward scores ~1e-9, a wrong one ~1e-2 or worse; CS231n's thresholds).
"""

import contextlib
import inspect
import warnings
from dataclasses import dataclass

import numpy as np

from ...gradcheck import check_gradients, numerical_gradient


def _short(value):
    """A compact, readable rendering of one input for a failure message."""
    if isinstance(value, np.ndarray):
        text = np.array2string(value, precision=6, threshold=12, separator=", ").replace("\n", "")
        return f"array({' '.join(text.split())}, dtype={value.dtype.name})" if value.dtype != np.float64 else text
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value)


class PropertyFailure(AssertionError):
    """A property does not hold: which one, for which input, and both values.

    Attributes
    ----------
    property : str
        The property's name, e.g. ``"KL >= 0"``.
    detail : str
        What came and what was expected.
    inputs : dict
        The (shrunk) counterexample.
    hint : str or None
        The likely mistake, when it is recognisable; None lets the property
        give its own, "" gives none (a str returned needs no hint of the math).
    """

    def __init__(self, detail, inputs=None, hint=None, property=None):
        self.detail, self.inputs, self.hint, self.property = detail, dict(inputs or {}), hint, property
        super().__init__(detail)

    def counterexample(self):
        return ", ".join(f"{k}={_short(v)}" for k, v in self.inputs.items())

    def __str__(self):
        text = f"{self.property or 'property'}: {self.detail}"
        if self.inputs:
            text += f" [counterexample: {self.counterexample()}]"
        if self.hint:
            text += f" (hint: {self.hint})"
        return text


def _parameter(function, index):
    try:
        return list(inspect.signature(function).parameters)[index]
    except (TypeError, ValueError, IndexError):
        return f"number {index + 1}"


def describe(exc, limit=300):
    """``Type: message`` of a student's exception, on one line, its message cut at ``limit`` characters."""
    try:
        message = " ".join(str(exc).split()) if not (isinstance(exc, SystemExit) and exc.code is None) else ""
    except (Exception, SystemExit) as inner:  # a __str__ of the student's that fails
        message = f"(its message could not be printed: str() raised {type(inner).__name__})"
    if len(message) > limit:
        message = f"{message[:limit]}... ({len(message):,} characters)"
    return f"{type(exc).__name__}: {message or '(no message)'}"


def kind(value):
    """What ``value`` is, for a message: "an array of shape (2, 3)", "a tuple of 3", "a str"."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    name = type(value).__name__
    return f"{'an' if name[:1] in 'aeiou' else 'a'} {name}"


def _unusable(name, result):
    """(detail, hint) when ``result``, or an item of it, can be no answer at all (a generator, a str...); else None."""
    for value in (result, *(result if isinstance(result, (tuple, list)) else ())):
        if inspect.isgenerator(value):
            made = "(... for ...) is a generator" if value.gi_code.co_name == "<genexpr>" else "yield makes a generator"
            value.close()
            return (f"{name} returned a generator, expected a NumPy array",
                    f"{made}: compute the array with NumPy operations and return it")
        if inspect.iscoroutine(value):
            value.close()  # never started: closing it spares the student Python's "never awaited" warning
            return f"{name} returned a coroutine, expected a NumPy array", "async def makes a coroutine: write def"
        if isinstance(value, (str, bytes, dict, set)):
            return f"{name} returned {kind(value)}, expected a NumPy array", ""
        if isinstance(value, np.matrix):
            return (f"{name} returned a numpy.matrix, expected an ndarray",
                    "* multiplies np.matrix objects as matrices: keep plain arrays (np.asarray)")
        if isinstance(value, np.ndarray) and value.dtype == object:
            return (f"{name} returned an array of dtype object, expected numbers",
                    "np.array of a list of arrays of different shapes, or of Python objects, has dtype object")
    return None


def call(impl, name, *args, **kwargs):
    """``impl.name(*args)``, turning a missing function, any exception or a changed input into a failure."""
    function = getattr(impl, name, None)
    if function is None:
        raise PropertyFailure(f"{name} is missing", hint="")
    inputs = {k: (a, a.copy()) for k, a in (*enumerate(args), *kwargs.items()) if isinstance(a, np.ndarray)}
    try:
        result = function(*args, **kwargs)
        # The caller still needs its inputs (the VAE caches x for backward): a changed one is a bug.
        for key, (array, before) in inputs.items():
            if not _same(array, before):
                key = _parameter(function, key) if isinstance(key, int) else key
                raise PropertyFailure(f"{name} changed its argument {key} in place: compute a new array instead",
                                      hint="x[...] = ..., x += ... and out=x write into the caller's array")
        if result is None:
            raise PropertyFailure(f"{name} returned None: is its return statement missing?")
        if isinstance(result, list) and not any(isinstance(r, np.ndarray) for r in result):
            raise PropertyFailure(f"{name} returned a list, expected a NumPy array: compute it with array "
                                  "operations (np.sum(..., axis=...)) instead of a Python loop")
        unusable = _unusable(name, result)
        if unusable:
            detail, hint = unusable
            raise PropertyFailure(detail, hint=hint)
        return result
    except PropertyFailure:
        raise
    except NotImplementedError:
        raise PropertyFailure(f"{name} is not implemented yet (it raises NotImplementedError)") from None
    except (Exception, SystemExit) as exc:  # a student's bug (even exit()) is a failure, never the checker's end
        raise PropertyFailure(f"{name} raised {describe(exc)}") from None


HIDDEN_RANDOMNESS = ("does it draw random numbers of its own (np.random...)? Every function here is deterministic: "
                     "the sampler's noise comes in as eps, so that a check and the backward pass can replay it")


def _same(a, b):
    """``a`` and ``b`` equal, NaN included, through tuples and lists (True for what cannot be compared)."""
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    try:
        return bool(np.array_equal(a, b, equal_nan=True))
    except (TypeError, ValueError):  # not numbers: leave it to the properties that check types
        return True


def call_twice(impl, name, *args, **kwargs):
    """:func:`call`, twice on the same inputs: two different results are a failure (hidden randomness)."""
    first = call(impl, name, *args, **kwargs)
    second = call(impl, name, *args, **kwargs)
    if not _same(first, second):
        raise PropertyFailure(f"{name} gave two different results for the same inputs", hint=HIDDEN_RANDOMNESS)
    return second


def _shape_evidence(actual, expected):
    """What a wrong shape shows, when it shows something (a transpose, an axis of length 1 dropped), else None."""
    if actual is None:
        return None
    if len(actual) == 2 and actual == expected[::-1] and actual != expected:
        return f"{actual} is the transpose of {expected}"
    if tuple(d for d in expected if d != 1) == actual and actual != expected:
        return "an axis of length 1 was dropped (np.squeeze, or [0] on a batch of one?)"
    if len(actual) == len(expected) + 1 and actual[1:] == expected:
        return f"one axis too many: is it still to be summed over the batch (axis 0, of length {actual[0]})?"
    return None


def expect_shape(what, value, shape):
    """Fail unless ``value`` is an array of exactly ``shape``; a transpose or a dropped axis is named."""
    actual = np.shape(value) if value is not None else None
    if actual != tuple(shape):
        raise PropertyFailure(f"{what}: expected shape {tuple(shape)}, got {actual}",
                              hint=_shape_evidence(actual, tuple(shape)))
    return np.asarray(value)


def expect_tuple(name, result, names):
    """``result`` of the function ``name``, which must be the tuple ``names``, e.g. ``("z", "std")``."""
    if not (isinstance(result, (tuple, list)) and len(result) == len(names)):
        raise PropertyFailure(f"{name} must return the tuple ({', '.join(names)}), got {kind(result)}", hint="")
    return tuple(result)


def two_numbers(got, expected):
    """``got`` and ``expected`` written with as many digits as it takes to tell them apart (6 to 17)."""
    for digits in range(6, 18):
        a, b = f"{got:.{digits}g}", f"{expected:.{digits}g}"
        if a != b:
            break
    return a, b


def relative_error(got, expected):
    """|got − expected| / |expected| (inf where expected is 0 and got is not), for a message."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(abs(got - expected) / abs(expected)) if expected != 0 else (0.0 if got == 0 else float("inf"))


def expect_close(what, got, expected, rtol, atol, hint=None):
    """Fail unless ``got`` matches ``expected`` elementwise within rtol/atol (NaN never matches).

    ``hint`` is a text, or a function ``(got, expected) -> text or None`` that
    reads the evidence (both as float64 arrays) and names the mistake it shows.
    The message gives both values with enough digits to differ, and the relative error.
    """
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if got.shape != expected.shape:
        raise PropertyFailure(f"{what}: expected shape {expected.shape}, got {got.shape}",
                              hint=_shape_evidence(got.shape, expected.shape))
    with np.errstate(invalid="ignore", over="ignore"):
        bad = ~(np.abs(got - expected) <= atol + rtol * np.abs(expected))
    if np.any(bad):
        i = tuple(int(j) for j in np.argwhere(bad)[0]) if got.ndim else ()
        a, b = two_numbers(got[i], expected[i])
        where = f"at index {i}; " if got.ndim else ""
        raise PropertyFailure(
            f"{what}: got {a}, expected {b} (relative error {relative_error(got[i], expected[i]):.1e}; "
            f"{where}rtol {rtol:g}, atol {atol:g})",
            hint=hint(got, expected) if callable(hint) else hint,
        )


def same_values(got, candidate, rtol=1e-6, atol=1e-12):
    """Whether ``got`` equals ``candidate`` (the value a known mistake gives) within rtol/atol."""
    try:
        got, candidate = np.asarray(got, dtype=np.float64), np.asarray(candidate, dtype=np.float64)
        with np.errstate(all="ignore"):
            return got.shape == candidate.shape and bool(np.all(np.abs(got - candidate) <= atol + rtol * np.abs(candidate)))
    except (TypeError, ValueError):
        return False


def first_match(got, candidates, rtol=1e-6, atol=1e-12):
    """The text of the first ``(text, value)`` candidate that ``got`` equals, or None: the evidence of a known mistake."""
    for text, value in candidates:
        if same_values(got, value, rtol, atol):
            return text
    return None


def consistent_ratio(analytic, numerical):
    """The one ratio analytic / numerical shared by every entry (within 2 %), or None.

    Entries whose numerical gradient is below 1e-3 of the largest are left
    out of the ratio, but must then be small in ``analytic`` too.
    """
    a = np.ravel(np.asarray(analytic, dtype=np.float64))
    n = np.ravel(np.asarray(numerical, dtype=np.float64))
    scale = np.max(np.abs(n), initial=0.0)
    if a.shape != n.shape or scale == 0 or not np.all(np.isfinite(a)):
        return None
    keep = np.abs(n) > 1e-3 * scale
    ratios = a[keep] / n[keep]
    ratio = float(np.median(ratios))
    if ratio == 0 or not np.all(np.abs(ratios - ratio) <= 0.02 * abs(ratio)):
        return None
    if np.any(np.abs(a[~keep]) > 1e-2 * abs(ratio) * scale):
        return None
    return ratio


@contextlib.contextmanager
def strict_numerics():
    """Warnings, overflow, division by zero and invalid operations raise; underflow does not.

    exp(-|x|) rounding to 0 for |x| = 1e4 is the intended result of the stable
    formulas, so underflow is left alone (as NumPy does by default).
    """
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
        warnings.simplefilter("error")
        yield


def gradients_match(f, params, analytic, tolerance=1e-6, hints=None):
    """The gradient property: each ``analytic[name]`` equals central differences of ``f()``.

    Parameters
    ----------
    f : callable with no arguments returning a float; reads the live ``params``
    params : dict of str -> float64 ndarray, perturbed in place and restored
    analytic : dict of str -> array, the gradients under test (same keys)
    tolerance : float
        Largest relative error accepted; NaN or infinite gradients never pass.
    hints : dict of (name, ratio) -> str, optional
        Known mistakes, each identified by its evidence: the parameter whose
        gradient is off (``name``; None for any) and the ratio analytic /
        numerical shared by *every* entry of it, e.g.
        ``{("log_var", 2.0): "a missing ½"}``. A failure with no such
        evidence gets no hint; when its ratio is one number, the message says so.

    Returns
    -------
    GradCheckReport, when every parameter passes.
    """
    for name, p in params.items():
        expect_shape(f"d_{name}", analytic.get(name), np.shape(p))
    report = check_gradients(f, params, analytic)
    try:
        return report_within_tolerance(report, tolerance)
    except PropertyFailure as failure:
        name = report.worst.name
        ratio = consistent_ratio(analytic[name], numerical_gradient(f, params[name]))
        if ratio is not None:
            failure.detail += f"; d_{name} is {ratio:.4g}× the finite difference in every entry"
            for (param, known), text in (hints or {}).items():
                if param in (None, name) and abs(ratio - known) < 0.02 * abs(known):
                    failure.hint = text
        raise


def report_within_tolerance(report, tolerance=1e-6):
    """Fail unless every check of a :class:`~numvae.gradcheck.GradCheckReport` is below ``tolerance``.

    A NaN or infinite gradient never passes (``compare`` scores it +inf).
    Returns the report.
    """
    worst = report.worst
    if worst.relative_error < tolerance:
        return report
    raise PropertyFailure(f"gradient check failed (tolerance {tolerance:.0e}): d_{worst}", hint="")


@dataclass(frozen=True)
class Property:
    """A named property and where its inputs come from.

    Exactly one of ``cases`` (a list of keyword dicts) and ``strategies`` (a
    function ``(st, hnp) -> dict of Hypothesis strategies``) is given;
    ``examples`` are keyword dicts Hypothesis always tries first.
    """

    name: str
    check: callable
    cases: tuple = ()
    strategies: callable = None
    examples: tuple = ()
    hint: str = None

    def case_ids(self):
        return ["-".join(f"{k}={v}" for k, v in c.items()) or "case" for c in self.cases]
