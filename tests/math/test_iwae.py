"""Training with the importance-weighted bound: numvae.iwae, and the derivatives it adds.

The first test is the whole gradient check, written out: IWAE.loss is a
deterministic function of the parameters once the K samples' noise is fixed,
and IWAE.backward must agree with its central differences. The tests after it
apply the properties of ``numvae.course.properties.iwae``, one test per
property, named after it.
"""

import numpy as np
import pytest

from numvae import evaluate, gaussian, iwae
from numvae.course.properties import iwae as P
from numvae.course.properties import verify
from numvae.gradcheck import check_gradients
from numvae.iwae import IWAE


def test_iwae_backward_matches_central_differences_written_out():
    model = IWAE(input_dim=8, hidden_dims=(6,), latent_dim=3, k=5, activation="tanh", seed=0)
    rng = np.random.default_rng(1)
    for p in model.parameters().values():  # biases start at 0, where a wrong bias gradient can hide
        p += 0.1 * rng.standard_normal(p.shape)
    x = (rng.uniform(size=(4, 8)) > 0.5).astype(float)  # (batch, input_dim): binary, as the IWAE is trained
    eps = rng.standard_normal((5, 4, 3))  # (k, batch, latent_dim), replayed on every evaluation

    model.loss(x, 5, eps)
    analytic = {name: g.copy() for name, g in model.backward().items()}
    report = check_gradients(lambda: model.loss(x, 5, eps).loss, model.parameters(), analytic)
    print(report)
    assert report.worst.relative_error < 1e-6, str(report.worst)


def _cases(prop):
    return pytest.mark.parametrize("case", prop.cases, ids=prop.case_ids())


@_cases(P.LOG_NORMAL_GRADIENTS)
def test_log_normal_backward_matches_central_differences(case):
    verify(P.LOG_NORMAL_GRADIENTS, gaussian, case=case)


@_cases(P.LOG_Q_THROUGH_ITS_SAMPLE)
def test_log_q_of_its_own_sample_depends_on_log_var_only(case):
    verify(P.LOG_Q_THROUGH_ITS_SAMPLE, gaussian, case=case)


@_cases(P.IW_BOUND_GRADIENTS)
def test_iw_bound_backward_matches_central_differences(case):
    verify(P.IW_BOUND_GRADIENTS, evaluate, case=case)


def test_normalized_weights_sum_to_one_stably():
    verify(P.NORMALIZED_WEIGHTS, evaluate)


@_cases(P.IWAE_GRADIENTS)
def test_iwae_backward_matches_central_differences(case):
    verify(P.IWAE_GRADIENTS, iwae, case=case)


@_cases(P.IWAE_LOSS_IS_THE_BOUND)
def test_iwae_loss_is_the_evaluation_bound(case):
    verify(P.IWAE_LOSS_IS_THE_BOUND, iwae, case=case)


@_cases(P.IWAE_AT_K1)
def test_iwae_at_k1_is_the_vae_with_a_one_sample_kl(case):
    verify(P.IWAE_AT_K1, iwae, case=case)


def test_same_seed_gives_the_vae_s_initial_weights():
    # So that an IWAE and a VAE compared in a lecture start from the same point.
    vae = __import__("numvae").VAE(input_dim=7, hidden_dims=(5,), latent_dim=2, seed=3)
    model = IWAE(input_dim=7, hidden_dims=(5,), latent_dim=2, seed=3)
    for name, p in vae.parameters().items():
        np.testing.assert_array_equal(model.parameters()[name], p)


def test_arguments_are_checked_at_the_door():
    model = IWAE(input_dim=4, hidden_dims=(3,), latent_dim=2, k=3)
    x = np.full((2, 4), 0.5)
    with pytest.raises(ValueError, match="k: expected a positive integer"):
        IWAE(input_dim=4, hidden_dims=(3,), latent_dim=2, k=0)
    with pytest.raises(ValueError, match="k: expected a positive integer"):
        model.loss(x, 0)
    with pytest.raises(ValueError, match=r"eps: expected shape \(k, batch, latent_dim\) = \(3, 2, 2\), got \(2, 2\)"):
        model.loss(x, 3, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="beta: the IWAE's bound has no KL weight"):
        model.beta = 2.0
    with pytest.raises(RuntimeError, match="backward\\(\\) called before loss\\(\\)"):
        model.backward()
    model.beta = 1.0  # allowed: the Trainer sets it
    terms = model.loss(x)  # k defaults to model.k
    assert 1.0 <= terms.ess <= 3.0 and terms.loss <= -terms.elbo + 1e-12
