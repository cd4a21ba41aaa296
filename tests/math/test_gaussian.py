"""Tests of ``numvae.gaussian``: the properties of ``numvae.course.properties.gaussian`` applied to it.

The gradient checks prove each backward matches its forward; only the
statistical properties can prove the forward itself uses the right
parameterization (variance exp(log_var), not exp(log_var)²).
"""

from types import SimpleNamespace

import numpy as np
import pytest

from numvae import gaussian
from numvae.course.properties import gaussian as P
from numvae.course.properties import PropertyFailure, verify


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
