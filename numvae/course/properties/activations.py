"""Properties of element-wise activations ``f(x)`` and ``f_backward(d_y, x, y)``.

Every forward is compared with a formula written differently from numvae's
(``np.logaddexp`` for softplus, ``expm1`` for tanh, the textbook
``1 / (1 + exp(-x))`` for sigmoid where it is stable), every backward with
central differences in float64, and sigmoid and softplus must be exact and
silent (no overflow) at x = ±1e4.
"""

import numpy as np

from . import strategies as S
from .core import (Property, PropertyFailure, call, call_twice, expect_close, expect_shape, first_match,
                   gradients_match, same_values, strict_numerics)

LEAKY_SLOPE = 0.01


def _backward_mistakes(name, d_y, x, y):
    """(text, d_x) pairs: what each known mistake in ``name_backward`` returns for these inputs."""
    s = 1 / (1 + np.exp(-x))  # |x| <= 4 here: no overflow
    derivative = {"relu": (x > 0) * 1.0, "tanh": 1 - y * y, "sigmoid": y * (1 - y), "softplus": s}[name]
    mistakes = [("the backward returns f'(x) alone: multiply it by the upstream gradient d_y", derivative),
                ("the sign is flipped", -d_y * derivative)]
    if name in ("tanh", "sigmoid"):
        mistakes.append((f"{name}'s derivative is written in its output y (the cache holds it): "
                         "you evaluated it at the input x", d_y * {"tanh": 1 - x * x, "sigmoid": x * (1 - x)}[name]))
    if name == "softplus":
        mistakes.append(("softplus' is sigmoid of the input x, not of the output y", d_y / (1 + np.exp(-y))))
        mistakes.append(("softplus' is sigmoid(x), not softplus(x) again", d_y * y))
    if name == "sigmoid":
        mistakes.append(("sigmoid'(x) = y (1 − y): a factor is missing", d_y * y))
    if name == "tanh":
        mistakes.append(("tanh'(x) is 1 − y²: the square is missing", d_y * (1 - y)))
    return mistakes


def backward_matches_central_differences(impl, name):
    """``name_backward(d_y, x, y)`` is the gradient of sum(d_y · name(x))."""
    rng = np.random.default_rng(12)
    # |x| in [0.01, 4]: far from the ReLU kink at 0 compared with the step h = 1e-5.
    x = rng.uniform(0.01, 4.0, size=(4, 5)) * rng.choice([-1.0, 1.0], size=(4, 5))
    d_y = rng.standard_normal((4, 5))
    y = expect_shape(f"{name}(x)", call_twice(impl, name, x.copy()), x.shape)
    analytic = call_twice(impl, f"{name}_backward", d_y, x, y)
    try:
        gradients_match(lambda: float(np.sum(d_y * call(impl, name, x))), {"x": x}, {"x": analytic})
    except PropertyFailure as failure:
        if name in ("relu", "tanh", "sigmoid", "softplus"):
            failure.hint = first_match(analytic, _backward_mistakes(name, d_y, x, y)) or failure.hint
        raise


def relu_subgradient_zero_at_the_kink(impl):
    """relu'(0) = 0, as PyTorch does."""
    x = np.array([-1.0, 0.0, 1.0])
    d_x = call(impl, "relu_backward", np.ones(3), x, call(impl, "relu", x))
    expect_close("relu_backward at x = -1, 0, 1", d_x, [0.0, 0.0, 1.0], 0, 0)


def relu_is_x_plus_abs_x_over_two(impl, x):
    expect_close("relu(x)", call(impl, "relu", x), (x + np.abs(x)) / 2, 0, 0)


def leaky_relu_is_max_of_x_and_slope_x(impl, x):
    # For a slope a < 1 the leaky ReLU is max(x, a x).
    expect_close("leaky_relu(x)", call(impl, "leaky_relu", x), np.maximum(x, LEAKY_SLOPE * x), 1e-15, 0)


def tanh_matches_its_exponential_definition(impl, x):
    # tanh x = (e^{2x} - 1) / (e^{2x} + 1), written with expm1 to stay accurate near 0.
    e = np.expm1(2 * x)
    expect_close("tanh(x)", call(impl, "tanh", x), e / (e + 2), 1e-13, 1e-300)


def sigmoid_matches_the_textbook_formula(impl, x):
    # For |x| <= 20, exp(-x) <= e^20 is far from overflow.
    expect_close("sigmoid(x)", call(impl, "sigmoid", x), 1 / (1 + np.exp(-x)), 1e-14, 0)


def softplus_matches_logaddexp(impl, x):
    # log(1 + e^x) = logaddexp(0, x), NumPy's own stable implementation.
    with np.errstate(over="ignore"):
        got = call(impl, "softplus", x)
    with np.errstate(over="ignore"):
        naive = np.log(1 + np.exp(x))
    expect_close("softplus(x)", got, np.logaddexp(0, x), 1e-14, 1e-300,
                 hint=lambda got, expected: _softplus_evidence(got, naive))


def _softplus_evidence(got, naive):
    """Name the mistake if ``got`` is what log(1 + exp(x)) gives (inf where exp overflows, 0 where 1 + tiny rounds to 1)."""
    if same_values(got, naive, 1e-12, 0):
        return "log(1 + exp(x)) overflows for large x and rounds to 0 for very negative x: rewrite it so that " \
               "exp only ever sees a number <= 0 (np.log1p helps)"
    return None


def sigmoid_is_exp_of_minus_softplus(impl, x):
    # sigmoid(x) = exp(-log(1 + e^-x)) = exp(-logaddexp(0, -x)).
    with np.errstate(over="ignore"):
        got = call(impl, "sigmoid", x)
    expect_close("sigmoid(x)", got, np.exp(-np.logaddexp(0, -x)), 1e-13, 1e-300)


def sigmoid_and_softplus_satisfy_their_identities(impl, x):
    s, sp = call(impl, "sigmoid", x), call(impl, "softplus", x)
    if not np.all((0 <= s) & (s <= 1)):
        raise PropertyFailure("sigmoid(x) outside [0, 1]")
    if not (np.all(sp >= 0) and np.all(sp >= x)):
        raise PropertyFailure("softplus(x) below max(x, 0)")
    # sigmoid(-x) = 1 - sigmoid(x), softplus(x) - softplus(-x) = x
    expect_close("sigmoid(-x)", call(impl, "sigmoid", -x), 1 - s, 0, 2e-16)
    expect_close("softplus(x) - softplus(-x)", sp - call(impl, "softplus", -x), x, 1e-14, 1e-15)


def exact_and_silent_at_plus_minus_1e4(impl, name, dtype):
    """sigmoid or softplus and its derivative at ±1e4: no overflow, the exact limits, the dtype kept."""
    dtype = np.dtype(dtype).type
    x = np.array([1e4, -1e4], dtype=dtype)
    overflow = (f"exp(-x) overflows at x = -1e4: write {name} so that exp only ever sees a number <= 0"
                if name == "sigmoid" else "log(1 + exp(x)) overflows: write softplus so that exp only ever sees "
                                          "a number <= 0 (np.log1p helps)")
    try:
        with strict_numerics():
            y = call(impl, name, x)
            d_x = call(impl, f"{name}_backward", np.ones_like(x), x, y)
    except PropertyFailure as failure:
        # the evidence: NumPy's warning (overflow, invalid, divide), turned into an error by strict_numerics
        if "overflow" in failure.detail or "invalid value" in failure.detail or "divide by zero" in failure.detail:
            failure.hint = overflow
        raise
    tiny = np.finfo(dtype).tiny
    if np.asarray(y).dtype != dtype or np.asarray(d_x).dtype != dtype:
        raise PropertyFailure(f"{name}: {np.dtype(dtype).name} in, {np.asarray(y).dtype} and "
                              f"{np.asarray(d_x).dtype} out", hint="keep the input's dtype")
    high = 1 if name == "sigmoid" else dtype(1e4)
    if not (y[0] == high and 0 <= y[1] < tiny):
        raise PropertyFailure(f"{name}(±1e4) = {y[0]!r}, {y[1]!r}; expected {high!r} and 0",
                              hint=overflow if not np.all(np.isfinite(y)) else None)
    if name == "sigmoid" and not (np.all(np.isfinite(d_x)) and np.all(np.abs(d_x) < tiny)):
        raise PropertyFailure(f"sigmoid'(±1e4) = {d_x}, expected 0, 0")
    if name == "softplus" and not np.array_equal(d_x, [1, 0]):
        raise PropertyFailure(f"softplus'(±1e4) = {d_x}, expected 1, 0")


def finite_and_same_dtype_for_large_inputs(impl, name, dtype, data):
    """Forward and backward are finite, silent and keep shape and dtype for |x| <= 1e4."""
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    x = data.draw(S.arrays(st, hnp, S.small_shapes(hnp), -1e4, 1e4, dtype), label="x")
    with strict_numerics():
        y = call(impl, name, x)
        d_x = call(impl, f"{name}_backward", np.ones_like(x), x, y)
    y, d_x = np.asarray(y), np.asarray(d_x)
    if y.dtype != dtype or d_x.dtype != dtype:
        raise PropertyFailure(f"{name}: {x.dtype} in, {y.dtype} and {d_x.dtype} out", {"x": x})
    if y.shape != x.shape or d_x.shape != x.shape:
        raise PropertyFailure(f"{name}: shape {x.shape} in, {y.shape} and {d_x.shape} out", {"x": x})
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(d_x))):
        raise PropertyFailure(f"{name} is not finite", {"x": x})


def _moderate(low=-20.0, high=20.0):
    return lambda st, hnp: {"x": S.arrays(st, hnp, S.small_shapes(hnp), low, high)}


def _large_inputs(name, dtype):
    def strategies(st, hnp):
        dtypes = st.just(dtype) if dtype else st.sampled_from([np.float32, np.float64])
        return {"name": st.just(name), "dtype": dtypes, "data": st.data()}
    return strategies


def gradient(name):
    return Property(f"{name}_backward matches central differences", backward_matches_central_differences,
                    cases=({"name": name},))


def extremes(name):
    return Property(f"{name} exact and silent at ±1e4", exact_and_silent_at_plus_minus_1e4,
                    cases=tuple({"name": name, "dtype": d} for d in ("float32", "float64")))


def large_inputs(name, dtype=None):
    """Large inputs in one dtype, or in a dtype Hypothesis picks."""
    return Property(f"{name} finite and keeps its dtype for |x| <= 1e4", finite_and_same_dtype_for_large_inputs,
                    strategies=_large_inputs(name, dtype))


RELU_SUBGRADIENT = Property("relu'(0) = 0", relu_subgradient_zero_at_the_kink, cases=({},))
RELU_DEFINITION = Property("relu(x) = (x + |x|)/2", relu_is_x_plus_abs_x_over_two, strategies=_moderate())
LEAKY_RELU_DEFINITION = Property("leaky_relu(x) = max(x, a x)", leaky_relu_is_max_of_x_and_slope_x,
                                 strategies=_moderate())
TANH_DEFINITION = Property("tanh(x) = (e^2x - 1)/(e^2x + 1)", tanh_matches_its_exponential_definition,
                           strategies=_moderate())
SIGMOID_DEFINITION = Property("sigmoid(x) = 1/(1 + e^-x)", sigmoid_matches_the_textbook_formula,
                              strategies=_moderate())
SOFTPLUS_LOGADDEXP = Property("softplus(x) = logaddexp(0, x) for |x| <= 1e4", softplus_matches_logaddexp,
                              strategies=_moderate(-1e4, 1e4))
SIGMOID_SOFTPLUS = Property("sigmoid(x) = exp(-softplus(-x)) for |x| <= 1e4", sigmoid_is_exp_of_minus_softplus,
                            strategies=_moderate(-1e4, 1e4))
IDENTITIES = Property("sigmoid(-x) = 1 - sigmoid(x), softplus(x) - softplus(-x) = x",
                      sigmoid_and_softplus_satisfy_their_identities, strategies=_moderate(-1e4, 1e4))
