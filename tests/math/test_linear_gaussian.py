"""Tests of ``numvae.linear_gaussian``: the exact model behind lecture 01.

The central property is the identity log p(x) = ELBO(q) + KL(q ‖ p(z|x)) for
*every* q: ``elbo`` and ``kl_to_posterior`` are computed by different formulas
(an expected log-likelihood against a Gaussian KL through the posterior
precision), and ``log_evidence`` by a third (a Cholesky factor of WWᵀ + σ²I),
so a mistake in any one of them breaks the sum.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from numvae import linear_gaussian as lg
from numvae.gaussian import log_normal
from numvae.gradcheck import check_gradients

seeds = st.integers(0, 2**32 - 1)


def random_problem(seed, D, J):
    """A random model (W, b, σ), an input x from it, and an arbitrary diagonal q (m, s)."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((D, J)) * rng.uniform(0.2, 2.0)
    b = rng.standard_normal(D)
    sigma = float(rng.uniform(0.2, 2.0))
    x = W @ rng.standard_normal(J) + b + sigma * rng.standard_normal(D)
    m = 2 * rng.standard_normal(J)
    s = rng.uniform(-3, 2, size=J)
    return x, W, b, sigma, m, s


@given(seed=seeds, D=st.integers(1, 6), J=st.integers(1, 4))
def test_evidence_equals_elbo_plus_kl_to_posterior(seed, D, J):
    x, W, b, sigma, m, s = random_problem(seed, D, J)
    log_px = lg.log_evidence(x, W, b, sigma)
    gap = lg.kl_to_posterior(x, W, b, sigma, m, s)
    assert gap >= 0
    assert abs(log_px - lg.elbo(x, W, b, sigma, m, s) - gap) < 1e-10 * max(1.0, abs(log_px), gap)


@given(seed=seeds, D=st.integers(1, 6), J=st.integers(1, 4))
def test_bayes_rule_holds_at_any_z(seed, D, J):
    # log p(x) = log p(x, z) − log p(z | x) for every z: ties log_evidence,
    # log_joint and posterior together without the ELBO.
    x, W, b, sigma, _, _ = random_problem(seed, D, J)
    z = np.random.default_rng(seed + 1).standard_normal((3, J))
    mean, precision = lg.posterior(x, W, b, sigma)
    cov = np.linalg.inv(precision)
    _, log_det = np.linalg.slogdet(cov)
    diff = z - mean
    log_post = -0.5 * (J * np.log(2 * np.pi) + log_det + np.einsum("kj,jl,kl->k", diff, precision, diff))
    np.testing.assert_allclose(lg.log_joint(x, z, W, b, sigma) - log_post, lg.log_evidence(x, W, b, sigma),
                               rtol=1e-10, atol=1e-10)


@given(seed=seeds, D=st.integers(1, 6), J=st.integers(1, 4))
def test_elbo_gradient_matches_central_differences(seed, D, J):
    x, W, b, sigma, m, s = random_problem(seed, D, J)
    d_m, d_s = lg.elbo_backward(x, W, b, sigma, m, s)
    report = check_gradients(lambda: lg.elbo(x, W, b, sigma, m, s), {"m": m, "s": s}, {"m": d_m, "s": d_s})
    assert all(np.isfinite(c.relative_error) for c in report.checks), str(report)
    report.assert_close(1e-6)


@given(seed=seeds, D=st.integers(1, 6), J=st.integers(1, 4))
def test_best_diagonal_is_a_stationary_point_with_the_predicted_gap(seed, D, J):
    x, W, b, sigma, _, _ = random_problem(seed, D, J)
    m, s = lg.best_diagonal(x, W, b, sigma)
    d_m, d_s = lg.elbo_backward(x, W, b, sigma, m, s)
    scale = 1 + np.sum(W * W) / sigma**2
    assert np.max(np.abs(d_m)) < 1e-9 * scale and np.max(np.abs(d_s)) < 1e-9 * scale
    _, precision = lg.posterior(x, W, b, sigma)
    predicted = 0.5 * (np.sum(np.log(np.diag(precision))) - np.linalg.slogdet(precision)[1])
    assert lg.kl_to_posterior(x, W, b, sigma, m, s) == pytest.approx(predicted, rel=1e-9, abs=1e-10)


def test_gap_is_zero_for_an_uncorrelated_posterior():
    # Orthogonal columns of W make Λ = I + WᵀW/σ² diagonal: a diagonal q is then exact.
    rng = np.random.default_rng(0)
    W = np.linalg.qr(rng.standard_normal((5, 3)))[0] * np.array([2.0, 1.0, 0.5])
    b, sigma = rng.standard_normal(5), 0.7
    x = rng.standard_normal(5)
    m, s = lg.best_diagonal(x, W, b, sigma)
    assert abs(lg.kl_to_posterior(x, W, b, sigma, m, s)) < 1e-12
    assert lg.elbo(x, W, b, sigma, m, s) == pytest.approx(lg.log_evidence(x, W, b, sigma), abs=1e-12)


def test_elbo_agrees_with_monte_carlo():
    # The closed-form ELBO against the mean of log p(x, z) − log q(z) over draws from q.
    x, W, b, sigma, m, s = random_problem(7, 4, 2)
    rng = np.random.default_rng(1)
    z = m + np.exp(0.5 * s) * rng.standard_normal((200_000, 2))
    values = lg.log_joint(x, z, W, b, sigma) - log_normal(z, m, s)
    standard_error = values.std() / np.sqrt(len(values))
    assert abs(values.mean() - lg.elbo(x, W, b, sigma, m, s)) < 5 * standard_error


def _all_functions(x, W, b, sigma, m, s):
    """Every public function of the module on one set of arguments."""
    return {
        "log_evidence": lambda: lg.log_evidence(x, W, b, sigma),
        "log_joint": lambda: lg.log_joint(x, m, W, b, sigma),
        "posterior": lambda: lg.posterior(x, W, b, sigma),
        "elbo": lambda: lg.elbo(x, W, b, sigma, m, s),
        "elbo_backward": lambda: lg.elbo_backward(x, W, b, sigma, m, s),
        "kl_to_posterior": lambda: lg.kl_to_posterior(x, W, b, sigma, m, s),
        "best_diagonal": lambda: lg.best_diagonal(x, W, b, sigma),
    }


@pytest.mark.parametrize("sigma", [0.0, -0.5, float("nan"), float("inf")])
def test_a_sigma_that_is_not_finite_and_positive_is_refused_by_name(sigma):
    # The formulas use only σ², so a negative σ would silently give the answer for |σ|.
    x, W, b, _, m, s = random_problem(0, D=3, J=2)
    for name, call in _all_functions(x, W, b, sigma, m, s).items():
        with pytest.raises(ValueError, match=r"^sigma: expected a finite number > 0, got "):
            call()
            pytest.fail(f"{name} accepted sigma={sigma}")


@pytest.mark.parametrize("argument, replace, shape_shown", [
    ("x", lambda x, W, b, m, s: (np.stack([x, x]), W, b, m, s), "(2, 3)"),
    ("W", lambda x, W, b, m, s: (x, W.T, b, m, s), "(2, 3)"),
    ("b", lambda x, W, b, m, s: (x, W, b[:2], m, s), "(2,)"),
    ("m", lambda x, W, b, m, s: (x, W, b, np.zeros(3), s), "(3,)"),
    ("s", lambda x, W, b, m, s: (x, W, b, m, np.zeros((2, 1))), "(2, 1)"),
])
def test_mismatched_shapes_are_refused_naming_the_argument(argument, replace, shape_shown):
    x, W, b, sigma, m, s = random_problem(1, D=3, J=2)
    x, W, b, m, s = replace(x, W, b, m, s)
    calls = _all_functions(x, W, b, sigma, m, s)
    if argument in ("m", "s"):  # only the functions of q take them (log_joint's z is m here)
        calls = {k: v for k, v in calls.items() if k in ("elbo", "elbo_backward", "kl_to_posterior")}
    for name, call in calls.items():
        with pytest.raises(ValueError, match=rf"^{argument}: expected ") as excinfo:
            call()
            pytest.fail(f"{name} accepted {argument} of shape {shape_shown}")
        assert f"got shape {shape_shown}" in str(excinfo.value), (name, str(excinfo.value))


def test_log_joint_refuses_codes_of_the_wrong_width():
    x, W, b, sigma, _, _ = random_problem(2, D=3, J=2)
    with pytest.raises(ValueError, match=r"^z: expected shape \(\.\.\., 2\), .*got shape \(5, 3\)$"):
        lg.log_joint(x, np.zeros((5, 3)), W, b, sigma)
