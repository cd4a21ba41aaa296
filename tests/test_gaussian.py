"""Tests of ``numvae.gaussian``: the sampler, the KL and the log densities.

The gradient checks prove each backward matches its forward; only the
statistical tests below can prove the forward itself uses the right
parameterization (variance exp(log_var), not exp(log_var)^2).

Statistical tolerances are 5 standard errors of the estimate, computed from
the sampling distribution (a two-sided 5-sigma band is exceeded with
probability 5.7e-7 per comparison when the code is right).
"""

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from numvae.gaussian import (
    kl_standard_normal,
    kl_standard_normal_backward,
    log_normal,
    log_standard_normal,
    reparameterize,
    reparameterize_backward,
)
from numvae.gradcheck import check_gradients

seeds = st.integers(0, 2**32 - 1)
latent_dims = st.integers(1, 4)


def vectors(size, low, high):
    return arrays(np.float64, size, elements=st.floats(low, high))


# --------------------------------------------------------------------------
# Gradient checks
# --------------------------------------------------------------------------


@pytest.mark.parametrize("batch, latent_dim", [(1, 1), (3, 2), (5, 4)])
def test_reparameterize_backward_matches_central_differences(batch, latent_dim, assert_gradients):
    rng = np.random.default_rng(10 * batch + latent_dim)
    mu = rng.standard_normal((batch, latent_dim))
    log_var = rng.uniform(-2, 2, size=(batch, latent_dim))
    eps = rng.standard_normal((batch, latent_dim))  # fixed: z is a deterministic function of (mu, log_var)
    d_z = rng.standard_normal((batch, latent_dim))  # a random upstream gradient

    _, std = reparameterize(mu, log_var, eps)
    d_mu, d_log_var = reparameterize_backward(d_z, eps, std)

    def f():
        return float(np.sum(d_z * reparameterize(mu, log_var, eps)[0]))

    report = check_gradients(f, {"mu": mu, "log_var": log_var}, {"mu": d_mu, "log_var": d_log_var})
    assert_gradients(report)


@pytest.mark.parametrize("upstream", ["per_example", "scalar"])
@pytest.mark.parametrize("batch, latent_dim", [(1, 1), (4, 3)])
def test_kl_backward_matches_central_differences(batch, latent_dim, upstream, assert_gradients):
    rng = np.random.default_rng(7 * batch + latent_dim)
    mu = rng.standard_normal((batch, latent_dim))
    log_var = rng.uniform(-2, 2, size=(batch, latent_dim))
    d_kl = rng.standard_normal(batch) if upstream == "per_example" else 0.37

    d_mu, d_log_var = kl_standard_normal_backward(d_kl, mu, log_var)

    def f():
        return float(np.sum(d_kl * kl_standard_normal(mu, log_var)))

    report = check_gradients(f, {"mu": mu, "log_var": log_var}, {"mu": d_mu, "log_var": d_log_var})
    assert_gradients(report)


# --------------------------------------------------------------------------
# KL divergence
# --------------------------------------------------------------------------


@given(mu=vectors((3, 4), -10, 10), log_var=vectors((3, 4), -10, 10))
@example(mu=np.zeros((3, 4)), log_var=np.full((3, 4), 1e-8))  # found by Hypothesis: KL < 0 by round-off
def test_kl_is_non_negative(mu, log_var):
    kl = kl_standard_normal(mu, log_var)
    assert kl.shape == (3,)
    assert np.all(kl >= 0), f"KL = {kl} for mu = {mu}, log_var = {log_var}"


@pytest.mark.parametrize("log_var", [1e-3, 1e-6, 1e-8, -1e-8])
def test_kl_is_non_negative_and_accurate_for_log_var_near_zero(log_var):
    # Per dimension, KL = (exp(t) - 1 - t) / 2 = t^2/4 + t^3/12 + t^4/48 + ... for t = log_var.
    expected = log_var**2 / 4 + log_var**3 / 12 + log_var**4 / 48
    kl = kl_standard_normal(np.zeros((1, 1)), np.full((1, 1), log_var))[0]
    assert kl >= 0, f"KL({log_var}) = {kl!r} < 0"
    assert kl == pytest.approx(expected, rel=1e-6, abs=0), f"KL({log_var}) = {kl!r}, expected {expected!r}"


@pytest.mark.parametrize("latent_dim", [1, 2, 20])
def test_kl_is_exactly_zero_at_the_prior(latent_dim):
    zeros = np.zeros((2, latent_dim))
    np.testing.assert_array_equal(kl_standard_normal(zeros, zeros), [0.0, 0.0])


@given(latent_dim=latent_dims, seed=seeds, data=st.data())
def test_kl_agrees_with_a_monte_carlo_estimate(latent_dim, seed, data):
    mu = data.draw(vectors(latent_dim, -3, 3), label="mu")
    log_var = data.draw(vectors(latent_dim, -3, 3), label="log_var")
    rng = np.random.default_rng(seed)
    n = 20_000
    var = np.exp(log_var)
    z = mu + np.sqrt(var) * rng.standard_normal((n, latent_dim))  # z ~ q = N(mu, var)

    # log q(z) - log p(z), both densities written out here, summed over dimensions.
    log_q = np.sum(-0.5 * np.log(2 * np.pi * var) - (z - mu) ** 2 / (2 * var), axis=1)
    log_p = np.sum(-0.5 * np.log(2 * np.pi) - z**2 / 2, axis=1)
    samples = log_q - log_p
    mc_mean = samples.mean()
    mc_se = samples.std(ddof=1) / np.sqrt(n)

    kl = kl_standard_normal(mu[None], log_var[None])[0]
    # 5 SE of the MC mean; 1e-9 absolute covers the round-off of the
    # per-sample terms when q is (nearly) the prior and the SE is ~0.
    assert abs(kl - mc_mean) < 5 * mc_se + 1e-9, f"analytic KL {kl:.6g}, MC {mc_mean:.6g} +- {mc_se:.2g}"


# --------------------------------------------------------------------------
# Reparameterization
# --------------------------------------------------------------------------


def test_reparameterize_returns_std_exp_half_log_var_and_mu_plus_std_eps():
    rng = np.random.default_rng(0)
    mu, log_var, eps = rng.standard_normal((3, 2, 4))
    z, std = reparameterize(mu, log_var, eps)
    np.testing.assert_allclose(std**2, np.exp(log_var), rtol=1e-14)  # std is sigma, std^2 the variance
    np.testing.assert_allclose(z, mu + np.sqrt(np.exp(log_var)) * eps, rtol=1e-14, atol=1e-15)
    np.testing.assert_array_equal(reparameterize(mu, log_var, np.zeros_like(eps))[0], mu)


def _assert_mean_and_variance(z, mu, log_var):
    """Each column of z (n, latent_dim) has mean mu and variance exp(log_var), to 5 SE.

    For n normal samples with variance s2, the sample mean has SE sqrt(s2 / n)
    and the sample variance has SE s2 * sqrt(2 / (n - 1)).
    """
    n = z.shape[0]
    expected_var = np.exp(log_var)
    mean_se = np.sqrt(expected_var / n)
    var_se = expected_var * np.sqrt(2 / (n - 1))
    sample_mean, sample_var = z.mean(axis=0), z.var(axis=0, ddof=1)
    assert np.all(np.abs(sample_mean - mu) < 5 * mean_se), f"mean {sample_mean}, expected {mu} (SE {mean_se})"
    assert np.all(np.abs(sample_var - expected_var) < 5 * var_se), (
        f"variance {sample_var}, expected exp(log_var) = {expected_var} (SE {var_se}); "
        f"exp(log_var)^2 would be {expected_var**2}"
    )


@given(latent_dim=latent_dims, seed=seeds, data=st.data())
def test_reparameterized_samples_have_mean_mu_and_variance_exp_log_var(latent_dim, seed, data):
    mu = data.draw(vectors(latent_dim, -5, 5), label="mu")
    log_var = data.draw(vectors(latent_dim, -4, 4), label="log_var")
    rng = np.random.default_rng(seed)
    n = 20_000
    eps = rng.standard_normal((n, latent_dim))
    z, _ = reparameterize(np.broadcast_to(mu, (n, latent_dim)), np.broadcast_to(log_var, (n, latent_dim)), eps)
    _assert_mean_and_variance(z, mu, log_var)


@pytest.mark.parametrize("seed", [0, 1])
def test_reparameterized_variance_is_exp_log_var_not_its_square(seed):
    # Variances 4 and 1/4: a sampler with std = exp(log_var) would give 16 and
    # 1/16, hundreds of standard errors away with 100 000 samples.
    log_var = np.log([4.0, 0.25])
    mu = np.array([1.0, -2.0])
    n = 100_000
    eps = np.random.default_rng(seed).standard_normal((n, 2))
    z, _ = reparameterize(np.tile(mu, (n, 1)), np.tile(log_var, (n, 1)), eps)
    _assert_mean_and_variance(z, mu, log_var)


# --------------------------------------------------------------------------
# Log densities
# --------------------------------------------------------------------------


@given(latent_dim=latent_dims, data=st.data())
def test_log_normal_matches_the_textbook_density(latent_dim, data):
    z = data.draw(vectors((2, latent_dim), -3, 3), label="z")
    mu = data.draw(vectors((2, latent_dim), -3, 3), label="mu")
    log_var = data.draw(vectors((2, latent_dim), -2, 2), label="log_var")
    var = np.exp(log_var)
    # The product of the 1-D densities (no underflow for these bounds), then its log.
    density = np.prod(np.exp(-((z - mu) ** 2) / (2 * var)) / np.sqrt(2 * np.pi * var), axis=1)
    np.testing.assert_allclose(log_normal(z, mu, log_var), np.log(density), rtol=1e-12, atol=1e-12)
    standard = np.prod(np.exp(-(z**2) / 2) / np.sqrt(2 * np.pi), axis=1)
    np.testing.assert_allclose(log_standard_normal(z), np.log(standard), rtol=1e-12, atol=1e-12)
