"""The Gaussian pieces: the KL, the sampler and their gradients.

The first two tests are property tests written out in this file: Hypothesis
draws mu and log_var, and the KL must be non-negative, zero exactly at the
prior, and equal to its definition as an expectation; the sampler must give z
the variance exp(log_var). The gradient checks prove each backward matches
its forward; only the statistical properties can prove the forward itself
uses the right parameterization (variance exp(log_var), not exp(log_var)²).
The tests after them apply the same properties as ``numvae exercises check``
applies them to a student's code (``numvae.course.properties.gaussian``).
"""

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from numvae import gaussian
from numvae.course.properties import gaussian as P
from numvae.course.properties import PropertyFailure, verify

_moderate = st.floats(-5, 5, allow_nan=False, allow_infinity=False)


@given(mu=arrays(np.float64, (3, 4), elements=_moderate), log_var=arrays(np.float64, (3, 4), elements=_moderate))
def test_kl_is_non_negative_zero_only_at_the_prior_and_the_expectation_it_defines(mu, log_var):
    kl = gaussian.kl_standard_normal(mu, log_var)  # (3,): one KL per row
    assert kl.shape == (3,)
    assert np.all(kl >= 0), f"KL < 0: {kl} for mu={mu}, log_var={log_var}"
    at_prior = np.all((mu == 0) & (log_var == 0), axis=1)
    assert np.all(kl[at_prior] == 0), f"KL > 0 at the prior: {kl}"
    # Away from it the KL grows like mu²/2 + log_var²/4: a distance of 1e-6 leaves ≥ 2.5e-13, no underflow.
    away = np.max(np.maximum(np.abs(mu), np.abs(log_var)), axis=1) > 1e-6
    assert np.all(kl[away] > 0), f"KL = 0 away from the prior: {kl}"
    # D_KL = E_q[log q(z) - log p(z)], estimated by Monte Carlo on the first row.
    eps = np.random.default_rng(0).standard_normal((200_000, 4))
    z = mu[0] + np.exp(0.5 * log_var[0]) * eps
    log_ratio = gaussian.log_normal(z, mu[0], log_var[0]) - gaussian.log_standard_normal(z)
    standard_error = log_ratio.std() / np.sqrt(len(z))
    assert abs(log_ratio.mean() - kl[0]) < 5 * standard_error + 1e-12, (
        f"KL {kl[0]:.6g}, Monte Carlo {log_ratio.mean():.6g} ± {standard_error:.2g}")


@given(mu=_moderate, log_var=st.floats(-4, 4))
def test_reparameterized_samples_have_mean_mu_and_variance_exp_log_var(mu, log_var):
    eps = np.random.default_rng(1).standard_normal((100_000, 1))
    z, std = gaussian.reparameterize(np.full((1, 1), mu), np.full((1, 1), log_var), eps)
    variance = np.exp(log_var)
    # Standard errors of the sample mean and variance of a normal sample of n draws.
    n = len(z)
    assert abs(z.mean() - mu) < 5 * np.sqrt(variance / n)
    assert abs(z.var() - variance) < 5 * variance * np.sqrt(2 / n), (
        f"sample variance {z.var():.4g}, expected exp(log_var) = {variance:.4g} (exp(log_var)^2 would be {variance**2:.4g})")
    np.testing.assert_allclose(std, np.exp(0.5 * log_var), rtol=1e-15)


def _cases(prop):
    return pytest.mark.parametrize("case", prop.cases, ids=prop.case_ids())


@_cases(P.REPARAMETERIZE_GRADIENTS)
def test_reparameterize_backward_matches_central_differences(case):
    verify(P.REPARAMETERIZE_GRADIENTS, gaussian, case=case)


@_cases(P.KL_GRADIENTS)
def test_kl_backward_matches_central_differences(case):
    verify(P.KL_GRADIENTS, gaussian, case=case)


def test_kl_is_non_negative():
    verify(P.KL_NON_NEGATIVE, gaussian)
    verify(P.KL_NON_NEGATIVE_NEAR_PRIOR, gaussian)


def test_kl_is_zero_only_at_the_prior():
    verify(P.KL_POSITIVE_AWAY_FROM_PRIOR, gaussian)


@_cases(P.KL_NEAR_ZERO)
def test_kl_is_non_negative_and_accurate_for_log_var_near_zero(case):
    verify(P.KL_NEAR_ZERO, gaussian, case=case)


@_cases(P.KL_AT_PRIOR)
def test_kl_is_exactly_zero_at_the_prior(case):
    verify(P.KL_AT_PRIOR, gaussian, case=case)


@_cases(P.KL_DTYPE)
def test_kl_and_its_gradient_keep_the_dtype(case):
    verify(P.KL_DTYPE, gaussian, case=case)


def _kl_upcast(mu, log_var):
    return 0.5 * np.sum(mu * mu + (np.expm1(log_var) - log_var), axis=-1, dtype=np.float64)


def _kl_backward_downcast(d_kl, mu, log_var):
    return tuple(d.astype(np.float32) for d in gaussian.kl_standard_normal_backward(d_kl, mu, log_var))


def _kl_backward_zeros(d_kl, mu, log_var):
    d_mu, d_log_var = np.zeros(mu.shape), np.zeros(mu.shape)  # float64, whatever mu is
    d_mu += np.reshape(d_kl, (-1, 1)) * mu
    d_log_var += np.reshape(d_kl, (-1, 1)) * 0.5 * np.expm1(log_var)
    return d_mu, d_log_var


@pytest.mark.parametrize("forward, backward, dtype", [
    (_kl_upcast, gaussian.kl_standard_normal_backward, "float32"),
    (gaussian.kl_standard_normal, _kl_backward_downcast, "float64"),
    (gaussian.kl_standard_normal, _kl_backward_zeros, "float32"),
], ids=["forward_upcast", "backward_downcast", "backward_float64_zeros"])
def test_a_kl_that_changes_the_dtype_fails_the_dtype_property(forward, backward, dtype):
    impl = SimpleNamespace(kl_standard_normal=forward, kl_standard_normal_backward=backward)
    with pytest.raises(PropertyFailure, match=f"{dtype} in; out:") as failure:
        verify(P.KL_DTYPE, impl, case={"dtype": dtype})
    assert failure.value.hint.startswith("keep the input's dtype")
    verify(P.KL_GRADIENTS, impl, case=P.KL_GRADIENTS.cases[-1])  # right in float64: only the dtype is wrong


def test_kl_agrees_with_a_monte_carlo_estimate():
    verify(P.KL_MONTE_CARLO, gaussian)


def test_reparameterize_returns_std_exp_half_log_var_and_mu_plus_std_eps():
    verify(P.REPARAMETERIZE_VALUES, gaussian)


def test_reparameterized_samples_have_mean_mu_and_variance_exp_log_var():
    verify(P.SAMPLE_MOMENTS, gaussian)


@_cases(P.VARIANCE_NOT_SQUARED)
def test_reparameterized_variance_is_exp_log_var_not_its_square(case):
    verify(P.VARIANCE_NOT_SQUARED, gaussian, case=case)


def test_log_normal_matches_the_textbook_density():
    verify(P.LOG_NORMAL_DENSITY, gaussian)
