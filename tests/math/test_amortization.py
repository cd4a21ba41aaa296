"""The amortization gap's machinery: the ELBO's gradient in (mu, log_var), q* per image, log p(x) with q* as proposal.

A VAE with no hidden layer and a Gaussian decoder *is* the linear-Gaussian
model of ``numvae.linear_gaussian`` (decoder weights W.T, bias b), whose best
diagonal q, ELBO and log p(x) are exact: the optimiser and the estimates are
checked against them.
"""

import numpy as np
import pytest

from numvae import VAE, linear_gaussian
from numvae.amortization import fit_local_posterior, iw_log_likelihood, negative_elbo_and_gradient
from numvae.gradcheck import check_gradients


def test_negative_elbo_gradient_matches_central_differences():
    model = VAE(input_dim=6, hidden_dims=(5,), latent_dim=3, activation="tanh", seed=2)
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(4, 6))
    mu, log_var = rng.standard_normal((4, 3)), rng.uniform(-2, 1, (4, 3))
    eps = rng.standard_normal((7, 4, 3))  # (samples, n, latent_dim), fixed
    _, d_mu, d_log_var = negative_elbo_and_gradient(model, x, mu, log_var, eps)
    report = check_gradients(lambda: float(np.sum(negative_elbo_and_gradient(model, x, mu, log_var, eps)[0])),
                             {"mu": mu, "log_var": log_var}, {"mu": d_mu.copy(), "log_var": d_log_var.copy()})
    assert report.worst.relative_error < 1e-6, str(report.worst)


@pytest.fixture
def linear_model():
    model = VAE(input_dim=5, hidden_dims=(), latent_dim=2, likelihood="gaussian", sigma=0.5, seed=1)
    W, b = model.decoder.dense[0].params["W"].T, model.decoder.dense[0].params["b"]  # x = W z + b + σ ν
    b += np.array([0.3, -0.2, 0.1, 0.0, 0.5])
    x = np.random.default_rng(3).normal(size=(3, 5))
    return model, W, b, x


def test_fitted_q_is_the_best_diagonal_gaussian_of_the_linear_model(linear_model):
    model, W, b, x = linear_model
    mu0, log_var0 = np.zeros((3, 2)), np.zeros((3, 2))
    mu, log_var = fit_local_posterior(model, x, mu0, log_var0, np.random.default_rng(0), steps=2000, samples=20)
    for i in range(3):
        best_mu, best_log_var = linear_gaussian.best_diagonal(x[i], W, b, 0.5)
        np.testing.assert_allclose(mu[i], best_mu, atol=0.02)
        np.testing.assert_allclose(log_var[i], best_log_var, atol=0.05)
        gap = linear_gaussian.elbo(x[i], W, b, 0.5, best_mu, best_log_var) - linear_gaussian.elbo(x[i], W, b, 0.5, mu[i], log_var[i])
        assert 0 <= gap < 2e-3, f"image {i}: ELBO {gap:.2g} nats below the best diagonal q's"


def test_iw_log_likelihood_with_a_fixed_proposal_finds_log_evidence(linear_model):
    model, W, b, x = linear_model
    exact = np.array([linear_gaussian.log_evidence(row, W, b, 0.5) for row in x])
    best = [linear_gaussian.best_diagonal(row, W, b, 0.5) for row in x]
    mu, log_var = (np.array(a) for a in zip(*best))
    log_px, ess = iw_log_likelihood(model, x, mu, log_var, 5000, np.random.default_rng(1))
    standard_error = np.sqrt(1 / ess - 1 / 5000)
    assert np.all(np.abs(log_px - exact) < 5 * standard_error + 1e-3), (log_px - exact, standard_error)
    assert np.all((ess > 1) & (ess <= 5000))


def test_elbo_estimate_is_the_negative_of_the_loss_the_optimiser_uses(linear_model):
    from numvae.amortization import elbo

    model, W, b, x = linear_model
    rng = np.random.default_rng(4)
    mu, log_var, eps = rng.standard_normal((3, 2)), rng.uniform(-1, 0, (3, 2)), rng.standard_normal((50, 3, 2))
    loss, _, _ = negative_elbo_and_gradient(model, x, mu, log_var, eps)
    np.testing.assert_allclose(elbo(model, x, mu, log_var, eps), -loss, rtol=1e-12)
    # and, on average over draws, the linear model's exact ELBO (to 5 standard errors of the mean)
    draws = np.array([elbo(model, x, mu, log_var, rng.standard_normal((1, 3, 2))) for _ in range(4000)])  # (4000, 3)
    exact = [linear_gaussian.elbo(x[i], W, b, 0.5, mu[i], log_var[i]) for i in range(3)]
    standard_error = draws.std(axis=0, ddof=1) / np.sqrt(len(draws))
    assert np.all(np.abs(draws.mean(axis=0) - exact) < 5 * standard_error), (draws.mean(axis=0) - exact, standard_error)
