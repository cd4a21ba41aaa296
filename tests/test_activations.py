"""Tests of ``numvae.activations``: gradients, values, stability and dtypes.

Every forward is compared with a formula written differently from the
library's (``np.logaddexp`` for softplus, ``expm1`` for tanh, the textbook
``1 / (1 + exp(-x))`` for sigmoid where it is stable), and every backward with
central differences in float64.
"""

import contextlib
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from numvae import activations
from numvae.gradcheck import check_gradients

NAMES = ["identity", "relu", "leaky_relu", "tanh", "sigmoid", "softplus"]

small_shapes = array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=6)


def moderate_arrays(low=-20.0, high=20.0):
    return arrays(np.float64, small_shapes, elements=st.floats(low, high))


def test_the_registry_holds_exactly_the_six_activations_with_a_gain_each():
    assert sorted(activations.ACTIVATIONS) == sorted(NAMES)
    assert sorted(activations.GAINS) == sorted(NAMES)


# --------------------------------------------------------------------------
# Gradients
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_backward_matches_central_differences(name, assert_gradients):
    forward, backward = activations.ACTIVATIONS[name]
    rng = np.random.default_rng(12)
    # |x| in [0.01, 4]: far from the ReLU kink at 0 compared with the step h = 1e-6.
    x = rng.uniform(0.01, 4.0, size=(4, 5)) * rng.choice([-1.0, 1.0], size=(4, 5))
    d_y = rng.standard_normal((4, 5))

    analytic = backward(d_y, x, forward(x))
    report = check_gradients(lambda: float(np.sum(d_y * forward(x))), {"x": x}, {"x": analytic})
    assert_gradients(report)


def test_relu_uses_the_subgradient_zero_at_the_kink():
    x = np.array([-1.0, 0.0, 1.0])
    d_x = activations.relu_backward(np.ones(3), x, activations.relu(x))
    np.testing.assert_array_equal(d_x, [0.0, 0.0, 1.0])


# --------------------------------------------------------------------------
# Values against independent formulas
# --------------------------------------------------------------------------


@given(x=moderate_arrays())
def test_piecewise_linear_activations_match_their_definitions(x):
    np.testing.assert_array_equal(activations.identity(x), x)
    np.testing.assert_array_equal(activations.relu(x), (x + np.abs(x)) / 2)
    # For a slope a < 1, the leaky ReLU is max(x, a x).
    slope = activations.LEAKY_SLOPE
    np.testing.assert_allclose(activations.leaky_relu(x), np.maximum(x, slope * x), rtol=1e-15, atol=0)


@given(x=moderate_arrays())
def test_tanh_matches_its_exponential_definition(x):
    # tanh x = (e^{2x} - 1) / (e^{2x} + 1), written with expm1 to stay accurate near 0.
    e = np.expm1(2 * x)
    np.testing.assert_allclose(activations.tanh(x), e / (e + 2), rtol=1e-13, atol=1e-300)


@given(x=moderate_arrays())
def test_sigmoid_matches_the_textbook_formula_where_it_is_stable(x):
    # For |x| <= 20, exp(-x) <= e^20 is far from overflow.
    np.testing.assert_allclose(activations.sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-14, atol=0)


@given(x=moderate_arrays(-1e4, 1e4))
def test_softplus_matches_logaddexp_everywhere(x):
    # log(1 + e^x) = logaddexp(0, x), NumPy's own stable implementation.
    np.testing.assert_allclose(activations.softplus(x), np.logaddexp(0, x), rtol=1e-14, atol=1e-300)


@given(x=moderate_arrays(-1e4, 1e4))
def test_sigmoid_matches_exp_of_minus_softplus_everywhere(x):
    # sigma(x) = 1 / (1 + e^-x) = exp(-log(1 + e^-x)) = exp(-logaddexp(0, -x)).
    np.testing.assert_allclose(activations.sigmoid(x), np.exp(-np.logaddexp(0, -x)), rtol=1e-13, atol=1e-300)


@given(x=moderate_arrays(-1e4, 1e4))
def test_sigmoid_and_softplus_are_in_range_and_satisfy_their_identities(x):
    s, sp = activations.sigmoid(x), activations.softplus(x)
    assert np.all((0 <= s) & (s <= 1)), f"sigmoid out of [0, 1] for x={x}"
    assert np.all(sp >= 0) and np.all(sp >= x), f"softplus below max(x, 0) for x={x}"
    # sigma(-x) = 1 - sigma(x), softplus(x) - softplus(-x) = x
    np.testing.assert_allclose(activations.sigmoid(-x), 1 - s, rtol=0, atol=2e-16)
    np.testing.assert_allclose(sp - activations.softplus(-x), x, rtol=1e-14, atol=1e-15)


# --------------------------------------------------------------------------
# Extreme inputs, dtypes
# --------------------------------------------------------------------------


@contextlib.contextmanager
def strict_numerics():
    """Make any warning an error, and overflow, division by zero and NaN raise.

    Underflow is left alone: exp(-|x|) for |x| = 1e4 rounding to 0 is exactly
    the intended result of the stable formulas (NumPy ignores underflow by
    default, too).
    """
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
        warnings.simplefilter("error")
        yield


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_and_softplus_are_exact_and_silent_at_plus_minus_1e4(dtype):
    x = np.array([1e4, -1e4], dtype=dtype)
    with strict_numerics():
        s = activations.sigmoid(x)
        sp = activations.softplus(x)
        d_s = activations.sigmoid_backward(np.ones_like(x), x, s)
        d_sp = activations.softplus_backward(np.ones_like(x), x, sp)
    tiny = np.finfo(dtype).tiny
    assert s.dtype == dtype and sp.dtype == dtype
    assert s[0] == 1, f"sigmoid(1e4) = {s[0]!r}"
    assert 0 <= s[1] < tiny, f"sigmoid(-1e4) = {s[1]!r}"
    assert sp[0] == dtype(1e4), f"softplus(1e4) = {sp[0]!r}"
    assert 0 <= sp[1] < tiny, f"softplus(-1e4) = {sp[1]!r}"
    # Their derivatives, sigma(1 - sigma) and sigma, at the same points.
    assert np.all(np.isfinite(d_s)) and np.all(np.abs(d_s) < tiny), f"sigmoid' = {d_s}"
    np.testing.assert_array_equal(d_sp, [1, 0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(data=st.data())
def test_every_activation_is_finite_and_keeps_the_dtype_for_large_inputs(dtype, data):
    width = 32 if dtype == np.float32 else 64
    x = data.draw(arrays(dtype, small_shapes, elements=st.floats(-1e4, 1e4, width=width)))
    d_y = np.ones_like(x)
    for name, (forward, backward) in activations.ACTIVATIONS.items():
        with strict_numerics():
            y = forward(x)
            d_x = backward(d_y, x, y)
        assert y.dtype == dtype and d_x.dtype == dtype, f"{name}: {x.dtype} -> {y.dtype}, {d_x.dtype}"
        assert y.shape == x.shape and d_x.shape == x.shape, name
        assert np.all(np.isfinite(y)) and np.all(np.isfinite(d_x)), f"{name} not finite at x={x}"
