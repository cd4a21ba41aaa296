"""Tests of ``numvae.likelihoods``: Bernoulli from logits, Gaussian with fixed or learned σ."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from numvae.gradcheck import check_gradients
from numvae.likelihoods import (
    Bernoulli,
    Gaussian,
    bernoulli_nll,
    bernoulli_nll_backward,
    gaussian_nll,
    gaussian_nll_backward,
)

shapes = st.tuples(st.integers(1, 4), st.integers(1, 5))


def grids(shape, low, high, dtype=np.float64):
    width = 32 if dtype == np.float32 else 64
    return arrays(dtype, shape, elements=st.floats(low, high, width=width))


# --------------------------------------------------------------------------
# Gradient checks
# --------------------------------------------------------------------------


@pytest.mark.parametrize("batch, input_dim", [(1, 1), (3, 5)])
def test_bernoulli_d_logits_matches_central_differences(batch, input_dim, assert_gradients):
    rng = np.random.default_rng(batch + input_dim)
    x = rng.uniform(0, 1, size=(batch, input_dim))  # grey levels, not only {0, 1}
    x[0, 0] = 1.0
    logits = rng.uniform(-4, 4, size=(batch, input_dim))
    d_nll = rng.standard_normal(batch)

    analytic = bernoulli_nll_backward(d_nll, x, logits)
    report = check_gradients(
        lambda: float(np.sum(d_nll * bernoulli_nll(x, logits))), {"logits": logits}, {"logits": analytic}
    )
    assert_gradients(report)


@pytest.mark.parametrize("batch, input_dim", [(1, 1), (3, 5)])
def test_gaussian_d_mean_and_per_pixel_d_log_var_match_central_differences(batch, input_dim, assert_gradients):
    rng = np.random.default_rng(10 + batch + input_dim)
    x = rng.standard_normal((batch, input_dim))
    mean = rng.standard_normal((batch, input_dim))
    log_var = rng.uniform(-2, 1, size=input_dim)  # one per pixel, shared by the batch
    d_nll = rng.standard_normal(batch)

    d_mean, d_log_var = gaussian_nll_backward(d_nll, x, mean, log_var)
    assert d_log_var.shape == (input_dim,)
    report = check_gradients(
        lambda: float(np.sum(d_nll * gaussian_nll(x, mean, log_var))),
        {"mean": mean, "log_var": log_var},
        {"mean": d_mean, "log_var": d_log_var},
    )
    assert_gradients(report)


@pytest.mark.parametrize("sigma", [0.1, 1.0, 3.0])
def test_gaussian_with_fixed_sigma_d_mean_matches_central_differences(sigma, assert_gradients):
    rng = np.random.default_rng(int(sigma * 10))
    x = rng.standard_normal((4, 3))
    mean = rng.standard_normal((4, 3))
    log_var = 2 * np.log(sigma)
    d_nll = rng.standard_normal(4)

    d_mean, d_log_var = gaussian_nll_backward(d_nll, x, mean, log_var, need_d_log_var=False)
    assert d_log_var is None
    report = check_gradients(
        lambda: float(np.sum(d_nll * gaussian_nll(x, mean, log_var))), {"mean": mean}, {"mean": d_mean}
    )
    assert_gradients(report)


def test_gaussian_d_log_var_for_a_scalar_log_var_sums_to_its_derivative(assert_gradients):
    # The docstring: for a scalar log_var, d_log_var comes per pixel; summed,
    # it is the derivative with respect to that scalar.
    rng = np.random.default_rng(3)
    x, mean = rng.standard_normal((2, 4, 3))
    log_var = np.array(0.3)  # 0-d, perturbed in place by the check
    _, d_log_var = gaussian_nll_backward(1.0, x, mean, log_var)
    report = check_gradients(
        lambda: float(np.sum(gaussian_nll(x, mean, log_var))), {"log_var": log_var}, {"log_var": np.sum(d_log_var)}
    )
    assert_gradients(report)


# --------------------------------------------------------------------------
# Values against direct formulas
# --------------------------------------------------------------------------


@given(shape=shapes, data=st.data())
def test_bernoulli_nll_matches_the_cross_entropy_formula_for_moderate_logits(shape, data):
    x = data.draw(grids(shape, 0, 1), label="x")
    logits = data.draw(grids(shape, -20, 20), label="logits")
    p = 1 / (1 + np.exp(-logits))  # stable for |l| <= 20: p and 1 - p stay above 2e-9
    expected = -np.sum(x * np.log(p) + (1 - x) * np.log(1 - p), axis=1)
    # log(1 - p) loses about eps / (1 - p) relative precision when p is near 1.
    np.testing.assert_allclose(bernoulli_nll(x, logits), expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(bernoulli_nll_backward(1.0, x, logits), p - x, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(data=st.data())
def test_bernoulli_is_finite_and_correct_at_logits_of_plus_minus_1e4(dtype, data):
    x = data.draw(grids((2, 3), 0, 1, dtype), label="x")
    logits = np.array([[1e4] * 3, [-1e4] * 3], dtype=dtype)
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
        warnings.simplefilter("error")
        nll = bernoulli_nll(x, logits)
        d_logits = bernoulli_nll_backward(1.0, x, logits)
    assert nll.dtype == dtype and d_logits.dtype == dtype
    assert np.all(np.isfinite(nll)) and np.all(np.isfinite(d_logits)), f"nll {nll}, d_logits {d_logits}"
    # log(1 + e^L) = L + log(1 + e^-L) and e^-1e4 is 0 in both dtypes, so
    # -log p(x | +L) = L (1 - x) and -log p(x | -L) = L x; p is exactly 1 or 0.
    x64 = x.astype(np.float64)
    expected = [1e4 * np.sum(1 - x64[0]), 1e4 * np.sum(x64[1])]
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(nll, expected, rtol=rtol, atol=rtol * 1e4)
    np.testing.assert_allclose(d_logits, [1 - x64[0], -x64[1]], rtol=rtol, atol=rtol)


@given(shape=shapes, data=st.data())
def test_gaussian_nll_matches_the_textbook_density(shape, data):
    x = data.draw(grids(shape, -3, 3), label="x")
    mean = data.draw(grids(shape, -3, 3), label="mean")
    log_var = data.draw(grids(shape[1], -2, 2), label="log_var")
    var = np.exp(log_var)
    # N(x; m, s^2) = exp(-(x - m)^2 / (2 s^2)) / sqrt(2 pi s^2); no underflow for these bounds.
    density = np.exp(-((x - mean) ** 2) / (2 * var)) / np.sqrt(2 * np.pi * var)
    expected = -np.sum(np.log(density), axis=1)
    np.testing.assert_allclose(gaussian_nll(x, mean, log_var), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gaussian_nll_is_finite_for_far_away_means(dtype):
    x = np.zeros((2, 3), dtype=dtype)
    mean = np.array([[1e4] * 3, [-1e4] * 3], dtype=dtype)
    log_var = dtype(2 * np.log(0.1))
    with np.errstate(over="raise", invalid="raise"):
        nll = gaussian_nll(x, mean, log_var)
    # 0.5 * 3 * (1e8 / 0.01 + log(0.01) + log(2 pi)) per example.
    expected = 1.5 * (1e10 + np.log(0.01) + np.log(2 * np.pi))
    assert nll.dtype == dtype
    np.testing.assert_allclose(nll, [expected, expected], rtol=1e-6)


# --------------------------------------------------------------------------
# The stateful wrappers
# --------------------------------------------------------------------------


@pytest.mark.parametrize("likelihood", [Bernoulli(), Gaussian(0.5, 3)], ids=["bernoulli", "gaussian"])
def test_backward_before_nll_raises_a_clear_error(likelihood):
    with pytest.raises(RuntimeError, match=r"backward\(\) called before nll\(\)"):
        likelihood.backward(1.0)


def test_bernoulli_mean_is_the_sigmoid_of_the_logits():
    logits = np.array([[-2.0, 0.0, 3.0]])
    np.testing.assert_allclose(Bernoulli().mean(logits), 1 / (1 + np.exp(-logits)), rtol=1e-15)


def test_gaussian_with_fixed_sigma_has_no_parameters_and_log_var_two_log_sigma():
    g = Gaussian(0.1, 4)
    assert g.params == {} and g.grads == {}
    assert g.log_var == pytest.approx(np.log(0.01), rel=1e-15)
    out = np.arange(4.0).reshape(1, 4)
    assert g.mean(out) is out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gaussian_with_learned_sigma_fills_its_per_pixel_gradient(dtype):
    rng = np.random.default_rng(6)
    g = Gaussian(0.5, 3, learn_sigma=True, dtype=dtype)
    assert g.params["log_var"].shape == (3,) and g.params["log_var"].dtype == dtype
    np.testing.assert_allclose(g.params["log_var"], 2 * np.log(0.5), rtol=1e-6)
    x, mean = rng.standard_normal((2, 5, 3)).astype(dtype)
    g.nll(x, mean)
    g.nll(mean, x + 1, keep_cache=False)  # must not replace the cached batch
    d_mean = g.backward(dtype(0.2))
    var = 0.25
    np.testing.assert_allclose(d_mean, 0.2 * (mean - x) / var, rtol=1e-5)
    np.testing.assert_allclose(g.grads["log_var"], np.sum(0.2 * 0.5 * (1 - (x - mean) ** 2 / var), axis=0), rtol=1e-5)
    assert d_mean.dtype == dtype and g.grads["log_var"].dtype == dtype
