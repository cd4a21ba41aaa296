"""Tests of numvae.evaluate: log-mean-exp, the ELBO and the importance-weighted log p(x)."""

import numpy as np
import pytest

from numvae import VAE, evaluate
from numvae.evaluate import elbo_terms, importance_weighted_log_likelihood, log_importance_weights, log_mean_exp
from numvae.course.properties import evaluate as P
from numvae.course.properties import verify


@pytest.mark.parametrize("prop", [P.LOG_MEAN_EXP_DIRECT, P.LOG_MEAN_EXP_OVERFLOW], ids=["direct", "overflow"])
def test_log_mean_exp_properties(prop):
    verify(prop, evaluate)


@pytest.mark.parametrize("prop", [P.IW_BOUND_DEFINITION, P.IW_BOUND_EQUAL_WEIGHTS, P.IW_BOUND_JENSEN],
                         ids=["definition", "equal_weights", "jensen"])
def test_the_importance_weighted_bound_has_its_properties(prop):
    verify(prop, evaluate)


def _tiny_gaussian_vae(seed):
    # latent_dim = 1 so that log p(x) = log ∫ p(x|z) p(z) dz can be computed by quadrature.
    model = VAE(input_dim=5, hidden_dims=(8,), latent_dim=1, likelihood="gaussian", sigma=0.7,
                activation="tanh", seed=seed)
    # A proposal q wider than the posterior (std 2) keeps the importance
    # weights bounded, so the estimate converges quickly: an untrained
    # encoder's narrow q would make this a test of patience, not of the code.
    params = model.parameters()
    params["encoder.1.W"][:, 1] = 0.0
    params["encoder.1.b"][1] = np.log(4.0)
    return model


def _log_px_by_quadrature(model, x):
    """log p(x) for each row of x, by the trapezoid rule over z in [-12, 12]."""
    z = np.linspace(-12, 12, 24001)[:, None]  # (grid, 1)
    log_prior = -0.5 * (np.log(2 * np.pi) + z[:, 0] ** 2)
    out = []
    for row in x:
        log_joint = model.log_px_given_z(np.repeat(row[None, :], len(z), axis=0), z) + log_prior
        m = log_joint.max()
        weights = np.exp(log_joint - m)
        integral = np.sum(0.5 * (weights[1:] + weights[:-1]) * np.diff(z[:, 0]))  # trapezoid rule
        out.append(m + np.log(integral))
    return np.array(out)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_importance_weighted_estimate_converges_to_quadrature(seed):
    model = _tiny_gaussian_vae(seed)
    rng = np.random.default_rng(100 + seed)
    x = rng.normal(size=(6, 5))
    exact = _log_px_by_quadrature(model, x)
    iw = importance_weighted_log_likelihood(model, x, k=20000, rng=rng)
    # With K = 20000 the estimator's bias and spread are far below 0.05 nats
    # for these well-behaved 1-D posteriors; the ELBO is a lower bound.
    np.testing.assert_allclose(iw, exact, atol=0.05, err_msg="IW estimate far from quadrature log p(x)")
    # The ELBO (its reconstruction term averaged over 4000 draws) lies below
    # log p(x); 1e-3 nats leaves room for that average's own noise only.
    elbo = _elbo_mean_over_many_eps(model, x, rng)
    assert np.all(elbo <= exact + 1e-3), (elbo, exact)


def _elbo_mean_over_many_eps(model, x, rng, draws=4000):
    rec = np.zeros(len(x))
    for _ in range(draws // 100):
        x_rep = np.repeat(x, 100, axis=0)
        r, kl = model.per_example_terms(x_rep, rng.standard_normal((len(x_rep), 1)))
        rec += r.reshape(len(x), 100).sum(axis=1)
    return -(rec / draws + kl.reshape(len(x), 100)[:, 0])


def test_importance_weighted_estimate_grows_with_k():
    model = VAE(input_dim=12, hidden_dims=(10,), latent_dim=3, seed=4)
    x = (np.random.default_rng(5).uniform(size=(300, 12)) > 0.5).astype(float)
    estimates = {k: importance_weighted_log_likelihood(model, x, k, np.random.default_rng(k)) for k in (1, 10, 100)}
    for small, large in [(1, 10), (10, 100)]:
        gain = estimates[large] - estimates[small]
        standard_error = gain.std(ddof=1) / np.sqrt(len(gain))
        assert gain.mean() > 3 * standard_error, f"L_{large} - L_{small} = {gain.mean():.4f} ± {standard_error:.4f}"
    elbo = elbo_terms(model, x, np.random.default_rng(9))
    assert np.mean(estimates[100]) > -elbo["loss"]


def test_elbo_terms_match_per_example_terms_and_leave_model_rng_alone():
    model = VAE(input_dim=6, hidden_dims=(4,), latent_dim=2, seed=1)
    x = np.random.default_rng(2).uniform(size=(23, 6))
    state = model.rng.bit_generator.state
    terms = elbo_terms(model, x, np.random.default_rng(3), batch_size=5)
    eps = np.random.default_rng(3)
    rec, kl = [], []
    for start in range(0, 23, 5):
        part = x[start : start + 5]
        r, k = model.per_example_terms(part, eps.standard_normal((len(part), 2)))
        rec.append(r), kl.append(k)
    assert terms["reconstruction"] == pytest.approx(np.concatenate(rec).mean(), rel=1e-12)
    assert terms["kl"] == pytest.approx(np.concatenate(kl).mean(), rel=1e-12)
    assert terms["loss"] == pytest.approx(terms["reconstruction"] + model.beta * terms["kl"], rel=1e-12)
    assert model.rng.bit_generator.state == state


def test_importance_weighted_estimate_is_log_mean_exp_of_the_weights_per_chunk():
    model = VAE(input_dim=6, hidden_dims=(4,), latent_dim=2, seed=1)
    x = np.random.default_rng(2).uniform(size=(9, 6))
    # max_rows = k: one example per chunk, so the same Generator stream can be
    # replayed example by example.
    got = importance_weighted_log_likelihood(model, x, 7, np.random.default_rng(0), max_rows=7)
    rng = np.random.default_rng(0)
    expected = [log_mean_exp(log_importance_weights(model, x[i : i + 1], 7, rng), axis=0)[0] for i in range(9)]
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    with pytest.raises(ValueError, match="k: expected a positive integer, got 0"):
        importance_weighted_log_likelihood(model, x, 0, np.random.default_rng(0))


def test_log_importance_weights_formula():
    model = VAE(input_dim=4, hidden_dims=(3,), latent_dim=2, likelihood="gaussian", sigma=0.5, seed=0)
    x = np.random.default_rng(1).normal(size=(3, 4))
    log_w = log_importance_weights(model, x, 5, np.random.default_rng(7))
    eps = np.random.default_rng(7).standard_normal((5, 3, 2))
    mu, log_var = model.encode(x)
    z = mu + np.exp(0.5 * log_var) * eps  # (5, 3, 2)
    for k in range(5):
        log_px = model.log_px_given_z(x, z[k])
        log_pz = -0.5 * np.sum(np.log(2 * np.pi) + z[k] ** 2, axis=1)
        log_q = -0.5 * np.sum(np.log(2 * np.pi) + log_var + eps[k] ** 2, axis=1)
        np.testing.assert_allclose(log_w[k], log_px + log_pz - log_q, rtol=1e-10)


ESTIMATORS = {
    "elbo_terms": lambda model, x, rng: elbo_terms(model, x, rng),
    "importance_weighted": lambda model, x, rng: importance_weighted_log_likelihood(model, x, 3, rng),
    "log_importance_weights": lambda model, x, rng: log_importance_weights(model, x, 3, rng),
}


@pytest.mark.parametrize("estimate", list(ESTIMATORS.values()), ids=list(ESTIMATORS))
def test_an_estimate_of_no_examples_is_refused_by_name(estimate):
    # Before: elbo_terms divided by zero, the importance-weighted bound returned an empty array.
    model = VAE(input_dim=6, hidden_dims=(4,), latent_dim=2)
    with pytest.raises(ValueError, match=r"^x: expected an array of shape \(batch, 6\) with batch >= 1, got shape \(0, 6\)$"):
        estimate(model, np.zeros((0, 6)), np.random.default_rng(0))


@pytest.mark.parametrize("estimate", list(ESTIMATORS.values()), ids=list(ESTIMATORS))
@pytest.mark.parametrize("rng", [None, 3], ids=["None", "int"])
def test_an_estimate_refuses_an_rng_that_is_not_a_generator(estimate, rng):
    model = VAE(input_dim=6, hidden_dims=(4,), latent_dim=2)
    with pytest.raises(ValueError, match=rf"^rng: expected a numpy\.random\.Generator .*, got {rng!r}$"):
        estimate(model, np.full((2, 6), 0.5), rng)
