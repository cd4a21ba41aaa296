"""Tests of ``numvae.likelihoods``: the properties of ``numvae.course.properties.likelihoods``, and the wrappers."""

import numpy as np
import pytest

from numvae import likelihoods
from numvae.likelihoods import Bernoulli, Gaussian, bernoulli_nll
from numvae.course.properties import likelihoods as P
from numvae.course.properties import verify

def _cases(prop):
    return pytest.mark.parametrize("case", prop.cases, ids=prop.case_ids())


# --------------------------------------------------------------------------
# Gradient checks
# --------------------------------------------------------------------------


@_cases(P.BERNOULLI_GRADIENTS)
def test_bernoulli_d_logits_matches_central_differences(case):
    verify(P.BERNOULLI_GRADIENTS, likelihoods, case=case)


@_cases(P.GAUSSIAN_GRADIENTS)
def test_gaussian_d_mean_and_per_pixel_d_log_var_match_central_differences(case):
    verify(P.GAUSSIAN_GRADIENTS, likelihoods, case=case)


def test_gaussian_d_log_var_for_a_scalar_log_var_sums_to_its_derivative():
    verify(P.GAUSSIAN_SCALAR_LOG_VAR, likelihoods)


# --------------------------------------------------------------------------
# Values against direct formulas
# --------------------------------------------------------------------------


def test_bernoulli_nll_matches_the_cross_entropy_formula_for_moderate_logits():
    verify(P.BERNOULLI_CROSS_ENTROPY, likelihoods)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bernoulli_is_finite_and_correct_at_logits_of_plus_minus_1e4(dtype):
    verify(P.bernoulli_extremes(dtype), likelihoods)


def test_gaussian_nll_matches_the_textbook_density():
    verify(P.GAUSSIAN_DENSITY, likelihoods)


@_cases(P.GAUSSIAN_FAR_MEANS)
def test_gaussian_nll_is_finite_for_far_away_means(case):
    verify(P.GAUSSIAN_FAR_MEANS, likelihoods, case=case)


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


def test_bernoulli_nll_broadcasts_one_logit_vector_over_a_batch():
    # Lecture 08 scores every test image under one vector of pixel logits (a model that
    # ignores z): logits of shape (input_dim,) against x of shape (batch, input_dim).
    rng = np.random.default_rng(0)
    x, logits = rng.random((5, 7)), rng.normal(size=7)
    got = bernoulli_nll(x, logits)
    expected = [bernoulli_nll(row[None, :], logits[None, :])[0] for row in x]
    assert got.shape == (5,)
    np.testing.assert_allclose(got, expected, rtol=1e-15, atol=0)
