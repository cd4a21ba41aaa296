"""The Bernoulli loss computes exp(-|l|) once for softplus and sigmoid: same numbers as computing it twice."""

import numpy as np

from numvae.activations import sigmoid, softplus
from numvae.likelihoods import Bernoulli, bernoulli_nll, bernoulli_nll_backward


def test_a_given_exp_neg_abs_changes_nothing():
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=30, size=(5, 7))  # extreme values too: both branches of the stable forms
    x = rng.random((5, 7))
    e = np.exp(-np.abs(logits))
    assert np.array_equal(sigmoid(logits, e), sigmoid(logits))
    assert np.array_equal(softplus(logits, e), softplus(logits))
    assert np.array_equal(bernoulli_nll(x, logits, e), bernoulli_nll(x, logits))
    d_nll = rng.random(5)
    assert np.array_equal(bernoulli_nll_backward(d_nll, x, logits, e), bernoulli_nll_backward(d_nll, x, logits))


def test_the_bernoulli_class_matches_the_pure_functions():
    rng = np.random.default_rng(1)
    logits, x, d_nll = rng.normal(scale=5, size=(4, 6)), rng.random((4, 6)), rng.random(4)
    likelihood = Bernoulli()
    assert np.array_equal(likelihood.nll(x, logits), bernoulli_nll(x, logits))
    assert np.array_equal(likelihood.backward(d_nll), bernoulli_nll_backward(d_nll, x, logits))
