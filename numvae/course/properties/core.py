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

from ...gradcheck import check_gradients

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


def expect_shape(what, value, shape):
    """Fail unless ``value`` is an array of exactly ``shape``."""
    actual = np.shape(value) if value is not None else None
    if actual != tuple(shape):
        raise PropertyFailure(f"{what}: expected shape {tuple(shape)}, got {actual}")
    return np.asarray(value)


def expect_tuple(name, result, names):
    """``result`` of the function ``name``, which must be the tuple ``names``, e.g. ``("z", "std")``."""
    if not (isinstance(result, (tuple, list)) and len(result) == len(names)):
        raise PropertyFailure(f"{name} must return the tuple ({', '.join(names)}), got {kind(result)}", hint="")
    return tuple(result)


def expect_close(what, got, expected, rtol, atol, hint=None):
    """Fail unless ``got`` matches ``expected`` elementwise within rtol/atol (NaN never matches)."""
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if got.shape != expected.shape:
        raise PropertyFailure(f"{what}: expected shape {expected.shape}, got {got.shape}")
    with np.errstate(invalid="ignore", over="ignore"):
        bad = ~(np.abs(got - expected) <= atol + rtol * np.abs(expected))
    if np.any(bad):
        i = tuple(int(j) for j in np.argwhere(bad)[0]) if got.ndim else ()
        raise PropertyFailure(
            f"{what}: got {got[i]:.10g}, expected {expected[i]:.10g} (at index {i}; rtol {rtol:g}, atol {atol:g})",
            hint=hint,
        )


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
    hints : dict of float -> str, optional
        Analytic/numerical ratios at the worst entry that point at a known
        mistake, e.g. ``{2.0: "a missing ½"}``.

    Returns
    -------
    GradCheckReport, when every parameter passes.
    """
    for name, p in params.items():
        expect_shape(f"d_{name}", analytic.get(name), np.shape(p))
    return report_within_tolerance(check_gradients(f, params, analytic), tolerance, hints)


def report_within_tolerance(report, tolerance=1e-6, hints=None):
    """Fail unless every check of a :class:`~numvae.gradcheck.GradCheckReport` is below ``tolerance``.

    A NaN or infinite gradient never passes (``compare`` scores it +inf).
    Returns the report.
    """
    worst = report.worst
    if worst.relative_error < tolerance:
        return report
    hint = None
    if worst.numerical != 0 and np.isfinite(worst.analytic):
        ratio = worst.analytic / worst.numerical
        for known, text in (hints or {}).items():
            if abs(ratio - known) < 0.02 * abs(known):
                hint = f"d_{worst.name} is {ratio:.3g}× the finite difference: {text}"
    raise PropertyFailure(f"gradient check failed (tolerance {tolerance:.0e}): d_{worst}", hint=hint)


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
