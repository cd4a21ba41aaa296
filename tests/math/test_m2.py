"""Tests of ``numvae.m2``: M2's unlabelled loss and the whole model's gradient.

The unlabelled loss u(x) = Σ_y q(y|x) L(x, y) − H(q(y|x)) is checked where its
value is known without it: equal to L(x, y) when q(y|x) is one-hot on y, and
never below −log p(x) on the linear-Gaussian model with a label, where log p(x)
is exact (and equal to it at the exact posteriors). Its backward, and the
backward of the whole model, match central differences in float64.
"""

from types import SimpleNamespace

import numpy as np
import pytest

from numvae import categorical, m2
from numvae.course.properties import m2 as P
from numvae.course.properties import PropertyFailure, verify
from numvae.gradcheck import check_gradients


def _cases(prop):
    return pytest.mark.parametrize("case", prop.cases, ids=prop.case_ids())


@_cases(P.UNLABELLED_GRADIENTS)
def test_unlabelled_loss_backward_matches_central_differences(case):
    verify(P.UNLABELLED_GRADIENTS, m2, case=case)


@_cases(P.ONE_HOT_Q)
def test_unlabelled_loss_equals_the_labelled_loss_when_q_is_one_hot(case):
    verify(P.ONE_HOT_Q, m2, case=case)


@_cases(P.BOUND_BELOW_EVIDENCE)
def test_unlabelled_bound_lies_below_the_exact_log_evidence(case):
    verify(P.BOUND_BELOW_EVIDENCE, m2, case=case)


@_cases(P.BOUND_TIGHT)
def test_unlabelled_bound_equals_the_log_evidence_at_the_exact_posteriors(case):
    verify(P.BOUND_TIGHT, m2, case=case)


@_cases(P.MODEL_GRADIENTS)
def test_m2_loss_gradient_matches_central_differences(case):
    verify(P.MODEL_GRADIENTS, m2, case=case)


def test_m2_gradient_check_read_top_to_bottom():
    """The whole check in one place: build, replay ε, compare every parameter with central differences."""
    rng = np.random.default_rng(0)
    model = m2.M2(input_dim=5, n_classes=3, hidden_dims=(4,), latent_dim=2, alpha=2.0, seed=3)
    x_labelled, y_labelled = rng.uniform(size=(3, 5)), np.array([0, 1, 2])  # (3, 5), (3,)
    x_unlabelled = rng.uniform(size=(2, 5))  # (2, 5): each paired with all 3 classes
    eps_labelled, eps_unlabelled = rng.standard_normal((3, 2)), rng.standard_normal((2, 3, 2))

    def loss():
        return model.loss(x_labelled, y_labelled, x_unlabelled, eps_labelled, eps_unlabelled).loss

    loss()
    analytic = {name: g.copy() for name, g in model.backward().items()}
    report = check_gradients(loss, model.parameters(), analytic)
    assert report.worst.relative_error < 1e-6, str(report.worst)


def test_m2_with_a_one_hot_classifier_has_unlabelled_loss_equal_to_labelled_loss():
    """The model, not just the function: a classifier that is sure of class 1 makes u(x) = L(x, 1)."""
    rng = np.random.default_rng(1)
    model = m2.M2(input_dim=4, n_classes=3, hidden_dims=(3,), latent_dim=2, seed=0)
    last = model.classifier.dense[-1].params
    last["W"][...] = 0
    last["b"][...] = [-1e3, 1e3, -1e3]  # q(y|x) one-hot on class 1 for every x
    x = rng.uniform(size=(1, 4))
    eps = rng.standard_normal((1, 2))
    eps_all = np.zeros((1, 3, 2))
    eps_all[0, 1] = eps[0]  # the same ε for the pair (x, 1)
    terms = model.loss(x, np.array([1]), x, eps, eps_all)
    assert terms.unlabelled == pytest.approx(terms.labelled, rel=1e-14)


@pytest.mark.parametrize("kwargs, message", [
    ({"input_dim": 0}, "input_dim: expected a positive integer"),
    ({"input_dim": 4, "n_classes": 1}, "n_classes: expected at least 2"),
    ({"input_dim": 4, "alpha": -1.0}, "alpha: expected a finite number >= 0"),
    ({"input_dim": 4, "sigma": 0.5}, "sigma: only used with likelihood='gaussian'"),
    ({"input_dim": 4, "likelihood": "poisson"}, "likelihood: expected one of"),
])
def test_m2_constructor_names_the_bad_argument(kwargs, message):
    with pytest.raises(ValueError, match=message):
        m2.M2(**kwargs)


@pytest.mark.parametrize("y, message", [
    (np.array([0, 3]), "y: expected 2 integer labels in 0..2"),
    (np.array([0.0, 1.0]), "y: expected 2 integer labels"),
    (np.array([0]), "y: expected 2 integer labels in 0..2, got shape"),
])
def test_m2_loss_names_bad_labels(y, message):
    model = m2.M2(input_dim=4, n_classes=3, hidden_dims=(3,), latent_dim=2)
    with pytest.raises(ValueError, match=message):
        model.loss(np.full((2, 4), 0.5), y, np.full((2, 4), 0.5))


def test_m2_loss_names_bad_images_and_noise():
    model = m2.M2(input_dim=4, n_classes=3, hidden_dims=(3,), latent_dim=2)
    x = np.full((2, 4), 0.5)
    with pytest.raises(ValueError, match="x_unlabelled: expected values in"):
        model.loss(x, np.array([0, 1]), x + 1)
    with pytest.raises(ValueError, match=r"eps_unlabelled: expected shape \(2, 3, 2\)"):
        model.loss(x, np.array([0, 1]), x, eps_unlabelled=np.zeros((2, 2)))


def test_m2_backward_before_loss_fails_clearly():
    with pytest.raises(RuntimeError, match="backward\\(\\) called before loss\\(\\)"):
        m2.M2(input_dim=4, n_classes=3, hidden_dims=(3,), latent_dim=2).backward()


@pytest.mark.parametrize("mistake", [
    lambda losses, logits: np.sum(categorical.softmax(logits) * losses, axis=-1),  # the entropy forgotten
    lambda losses, logits: losses[np.arange(len(losses)), np.argmax(logits, axis=-1)],  # argmax, not the expectation
], ids=["entropy_forgotten", "argmax_instead_of_expectation"])
def test_the_tight_bound_catches_what_the_inequality_cannot(mistake):
    """Both mistakes give a *looser* bound, still <= log p(x): only the equality at the exact posteriors sees them."""
    impl = SimpleNamespace(unlabelled_loss=mistake)
    verify(P.BOUND_BELOW_EVIDENCE, impl)
    with pytest.raises(PropertyFailure, match="at the exact posteriors"):
        verify(P.BOUND_TIGHT, impl)
